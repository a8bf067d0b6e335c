//! The trusted phone number and SMS codes: `pims.authentication.trustedphonenumber`,
//! `get` / `set pims.authentication.smscode`.

use serde_json::json;

use pims_types::{ApiError, ErrorCode, Parameters, mask};

use super::{
    Answer, Ctx, Failure, discriminator, enrollment::enrolment_blocked, phone_param, sms_code_param,
};
use crate::scenario::{AccountBlocked, SmsPurpose};

/// The account's trusted number, or 2307.
pub(super) fn trusted_phone(ctx: &Ctx<'_>) -> Result<String, Failure> {
    ctx.model.accounts[ctx.account]
        .trusted_phone_number
        .clone()
        .ok_or_else(|| ApiError::from_code(ErrorCode::NO_PHONE_NUMBER).into())
}

/// `get pims.authentication.trustedphonenumber`.
pub(super) fn trusted_phone_number(ctx: &mut Ctx<'_>) -> Answer {
    let phone = trusted_phone(ctx)?;
    Ok(Some(json!({ "phoneNumber": phone })))
}

/// `get pims.authentication.smscode {type}`: sends a code.
pub(super) fn send_code(ctx: &mut Ctx<'_>, params: &Parameters) -> Answer {
    let kind = discriminator(
        params,
        "type",
        "action",
        &["phoneNumberCertification", "enrollment", "resetPIN"],
    )?;
    let (phone, purpose) = match kind {
        "phoneNumberCertification" => (phone_param(params)?, SmsPurpose::PhoneNumberCertification),
        "enrollment" => (trusted_phone(ctx)?, SmsPurpose::Enrollment),
        _ => (trusted_phone(ctx)?, SmsPurpose::ResetPin),
    };
    // Even a refused send may have pruned old codes: write the state back either way.
    ctx.changed = true;
    ctx.model.send_sms(&phone, purpose, ctx.now)?;
    Ok(None)
}

/// `set pims.authentication.smscode {action}`: checks a code (enrollment) or uses it
/// (addPhoneNumber, modifyPhoneNumber).
pub(super) fn use_code(ctx: &mut Ctx<'_>, params: &Parameters) -> Answer {
    let action = discriminator(
        params,
        "action",
        "type",
        &["enrollment", "addPhoneNumber", "modifyPhoneNumber"],
    )?;
    match action {
        "enrollment" => {
            let code = sms_code_param(params)?;
            let phone = trusted_phone(ctx)?;
            if enrolment_blocked(ctx) {
                return Err(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION).into());
            }
            // Checked, not consumed: the enrolment sends the same code again with the PIN.
            ctx.model
                .check_sms(&phone, SmsPurpose::Enrollment, &code, ctx.now)?;
            let status = if ctx.model.accounts[ctx.account].has_pin() {
                "AlreadyEnrolled"
            } else {
                "NotEnrolled"
            };
            Ok(Some(json!({ "status": status })))
        }
        "addPhoneNumber" => {
            let code = sms_code_param(params)?;
            let phone = phone_param(params)?;
            if ctx.model.accounts[ctx.account]
                .trusted_phone_number
                .is_some()
            {
                return Err(ApiError::from_code(ErrorCode::PHONE_ALREADY_REGISTERED).into());
            }
            let i = ctx.model.check_sms(
                &phone,
                SmsPurpose::PhoneNumberCertification,
                &code,
                ctx.now,
            )?;
            ctx.model.consume_sms(i);
            ctx.model.accounts[ctx.account].trusted_phone_number = Some(phone.clone());
            ctx.changed = true;
            tracing::info!(phone = %mask(&phone), "trusted phone number registered");
            Ok(None)
        }
        _ => {
            let code = sms_code_param(params)?;
            let phone = phone_param(params)?;
            trusted_phone(ctx)?;
            let account = &ctx.model.accounts[ctx.account];
            // Once the account has strong authentication, changing the number needs it.
            if account.has_pin() {
                let id = account.id.clone();
                if !ctx.model.is_enrolled(ctx.device, &id) {
                    return Err(ApiError::from_code(ErrorCode::DEVICE_DISABLED).into());
                }
                if ctx.model.accounts[ctx.account].blocked == AccountBlocked::PinBlocked {
                    return Err(ApiError::from_code(ErrorCode::ACCOUNT_BLOCKED).into());
                }
            }
            let i = ctx.model.check_sms(
                &phone,
                SmsPurpose::PhoneNumberCertification,
                &code,
                ctx.now,
            )?;
            ctx.model.consume_sms(i);
            ctx.model.accounts[ctx.account].trusted_phone_number = Some(phone.clone());
            ctx.changed = true;
            tracing::info!(phone = %mask(&phone), "trusted phone number modified");
            Ok(None)
        }
    }
}
