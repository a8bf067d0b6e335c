//! The trusted phone number and SMS codes: `pims.authentication.trustedphonenumber`,
//! `get` / `set pims.authentication.smscode`.

use pims_types::{
    AccountBlocked, ActivationResult, ApiError, EnrollmentStatus, ErrorCode, Operation, Parameters,
    SmsCodeAction, SmsPurpose, TrustedPhoneNumber,
};

use super::{Answer, CallContext, phone_param, sms_code_param};

/// `get pims.authentication.trustedphonenumber`.
pub(super) fn trusted_phone_number(ctx: &mut CallContext<'_>) -> Answer {
    let phone_number = ctx.trusted_phone()?;
    Ok(Some(TrustedPhoneNumber { phone_number }.to_result()))
}

/// `get pims.authentication.smscode {type}`: sends a code.
pub(super) fn send_code(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    let purpose = SmsPurpose::from_parameters(params)?;
    // A number to certify is given; the other codes go to the trusted number.
    let phone = match purpose {
        SmsPurpose::PhoneNumberCertification => phone_param(params)?.into(),
        _ => ctx.trusted_phone()?,
    };
    // Even a refused send may have pruned old codes: write the state back either way.
    ctx.changed = true;
    ctx.model.send_sms(&phone, purpose, ctx.now)?;
    Ok(None)
}

/// `set pims.authentication.smscode {action}`: checks a code (enrollment) or uses it
/// (addPhoneNumber, modifyPhoneNumber).
pub(super) fn use_code(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    match SmsCodeAction::from_parameters(params)? {
        SmsCodeAction::Enrollment => {
            let code = sms_code_param(params)?;
            let phone = ctx.trusted_phone()?;
            if ctx.enrolment_blocked() {
                return Err(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION).into());
            }
            // Checked, not consumed: the enrolment sends the same code again with the PIN.
            ctx.model
                .check_sms(&phone, SmsPurpose::Enrollment, code.as_secret(), ctx.now)?;
            let status = if ctx.model.accounts[ctx.account].has_pin() {
                EnrollmentStatus::AlreadyEnrolled
            } else {
                EnrollmentStatus::NotEnrolled
            };
            Ok(Some(status.to_result()))
        }
        SmsCodeAction::AddPhoneNumber => {
            let code = sms_code_param(params)?;
            let phone = phone_param(params)?;
            if ctx.model.accounts[ctx.account]
                .trusted_phone_number
                .is_some()
            {
                return Err(ApiError::from_code(ErrorCode::PHONE_ALREADY_REGISTERED).into());
            }
            let i = ctx.model.check_sms(
                phone.as_str(),
                SmsPurpose::PhoneNumberCertification,
                code.as_secret(),
                ctx.now,
            )?;
            ctx.model.consume_sms(i);
            ctx.model.accounts[ctx.account].trusted_phone_number = Some(phone.as_str().into());
            ctx.changed = true;
            tracing::info!(phone = %phone.masked(), "trusted phone number registered");
            Ok(None)
        }
        SmsCodeAction::ModifyPhoneNumber => {
            let code = sms_code_param(params)?;
            let phone = phone_param(params)?;
            ctx.trusted_phone()?;
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
                phone.as_str(),
                SmsPurpose::PhoneNumberCertification,
                code.as_secret(),
                ctx.now,
            )?;
            ctx.model.consume_sms(i);
            ctx.model.accounts[ctx.account].trusted_phone_number = Some(phone.as_str().into());
            ctx.changed = true;
            tracing::info!(phone = %phone.masked(), "trusted phone number modified");
            Ok(None)
        }
    }
}
