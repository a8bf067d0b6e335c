//! Device enrolment and the PIN: `pims.authentication.account`,
//! `pims.authentication.enrollment`, `pims.authentication.pincode`.

use pims_types::{
    AccountBlocked, AccountCheck, ActivationResult, ApiError, DeviceActivated, EnrollmentAction,
    ErrorCode, Operation, Parameters, Pin, PinCodeAction, SmsPurpose, keys,
};

use super::{Answer, CallContext, Failure, phone_param, pin_param, sms_code_param};
use crate::pin_hash::PinHash;
use crate::scenario::DeviceStatus;

/// Checks a PIN against the account's hash. Right: the wrong-PIN counter goes back to 0. Wrong:
/// 2308, and the account is `PinBlocked` once the counter reaches `settings.maxWrongPins`.
/// The account must have a PIN.
pub(super) fn verify_pin(ctx: &mut CallContext<'_>, given: &Pin) -> Result<(), Failure> {
    let max = ctx.model.settings.max_wrong_pins;
    let account = &mut ctx.model.accounts[ctx.account];
    if account
        .pin_hash
        .as_ref()
        .is_some_and(|h| h.verify(given.as_secret()))
    {
        if account.wrong_pin_count != 0 {
            account.wrong_pin_count = 0;
            ctx.changed = true;
        }
        return Ok(());
    }
    account.wrong_pin_count = account.wrong_pin_count.saturating_add(1);
    if account.wrong_pin_count >= max {
        account.blocked = AccountBlocked::PinBlocked;
        tracing::warn!(account = %account.id, "account PIN-blocked after wrong PINs");
    }
    ctx.changed = true;
    Err(ApiError::from_code(ErrorCode::ACCESS_REFUSED).into())
}

/// Registers the PIN when the account has none, or checks it when it has one.
fn register_or_verify_pin(ctx: &mut CallContext<'_>, pin: &Pin) -> Result<(), Failure> {
    if ctx.model.accounts[ctx.account].has_pin() {
        verify_pin(ctx, pin)
    } else {
        let account = &mut ctx.model.accounts[ctx.account];
        account.pin_hash = Some(PinHash::of(pin.as_secret()));
        account.wrong_pin_count = 0;
        ctx.changed = true;
        Ok(())
    }
}

/// Enrols the calling device for the account.
fn enrol_device(ctx: &mut CallContext<'_>) {
    let account = ctx.account_id();
    ctx.model
        .set_device_status(ctx.device, Some(&account), DeviceStatus::Enrolled);
    ctx.changed = true;
    tracing::info!(account = %account, "device enrolled");
}

/// `get pims.authentication.account {actionType: strong, type}`.
pub(super) fn account(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    match AccountCheck::from_parameters(params)? {
        AccountCheck::IsDeviceActivated => {
            let id = ctx.account_id();
            let activated = ctx.model.is_enrolled(ctx.device, &id);
            Ok(Some(DeviceActivated(activated).to_result()))
        }
        // `Unknown` is never answered: the simulator knows.
        AccountCheck::IsAccountBlocked => {
            let blocked = if ctx.enrolment_blocked() {
                AccountBlocked::PinBlocked
            } else {
                AccountBlocked::NotBlocked
            };
            Ok(Some(blocked.to_result()))
        }
    }
}

/// `set pims.authentication.enrollment {action: enroll | enrollWithPhoneNumber | remove}`.
pub(super) fn enrollment(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    match EnrollmentAction::from_parameters(params)? {
        EnrollmentAction::Enroll => {
            let pin = pin_param(params, keys::PIN_CODE)?;
            let code = sms_code_param(params)?;
            let phone = ctx.trusted_phone()?;
            if ctx.enrolment_blocked() {
                return Err(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION).into());
            }
            let sms =
                ctx.model
                    .check_sms(&phone, SmsPurpose::Enrollment, code.as_secret(), ctx.now)?;
            register_or_verify_pin(ctx, &pin)?;
            ctx.model.consume_sms(sms);
            enrol_device(ctx);
            Ok(None)
        }
        EnrollmentAction::EnrollWithPhoneNumber => {
            let pin = pin_param(params, keys::PIN_CODE)?;
            let code = sms_code_param(params)?;
            let phone = phone_param(params)?;
            if ctx.model.accounts[ctx.account]
                .trusted_phone_number
                .is_some()
            {
                return Err(ApiError::from_code(ErrorCode::PHONE_ALREADY_REGISTERED).into());
            }
            if ctx.enrolment_blocked() {
                return Err(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION).into());
            }
            let sms = ctx.model.check_sms(
                phone.as_str(),
                SmsPurpose::PhoneNumberCertification,
                code.as_secret(),
                ctx.now,
            )?;
            register_or_verify_pin(ctx, &pin)?;
            ctx.model.consume_sms(sms);
            ctx.model.accounts[ctx.account].trusted_phone_number = Some(phone.as_str().into());
            tracing::info!(phone = %phone.masked(), "trusted phone number registered");
            enrol_device(ctx);
            Ok(None)
        }
        EnrollmentAction::Remove => {
            let account = ctx.account_id();
            let mut removed = 0;
            for device in ctx.model.devices.values_mut() {
                if device.account_id.as_deref() == Some(account.as_str())
                    && device.status != DeviceStatus::Removed
                {
                    device.status = DeviceStatus::Removed;
                    removed += 1;
                }
            }
            // With no device left the account starts again: the PIN stays, the block goes.
            let acc = &mut ctx.model.accounts[ctx.account];
            acc.blocked = AccountBlocked::NotBlocked;
            acc.wrong_pin_count = 0;
            ctx.changed = true;
            tracing::info!(account = %account, removed, "enrolments removed");
            Ok(None)
        }
    }
}

/// `set pims.authentication.pincode {action: reset | update}`.
pub(super) fn pincode(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    if PinCodeAction::from_parameters(params)? == PinCodeAction::Reset {
        let pin = pin_param(params, keys::PIN_CODE)?;
        let code = sms_code_param(params)?;
        let phone = ctx.trusted_phone()?;
        let sms = ctx
            .model
            .check_sms(&phone, SmsPurpose::ResetPin, code.as_secret(), ctx.now)?;
        let current = ctx.model.accounts[ctx.account].pin_hash.as_ref();
        if current.is_some_and(|h| h.verify(pin.as_secret())) {
            return Err(ApiError::from_code(ErrorCode::SAME_PASSWORD).into());
        }
        ctx.model.consume_sms(sms);
        let account = &mut ctx.model.accounts[ctx.account];
        account.pin_hash = Some(PinHash::of(pin.as_secret()));
        account.wrong_pin_count = 0;
        account.blocked = AccountBlocked::NotBlocked;
        ctx.changed = true;
        tracing::info!(account = %account.id, "PIN reset");
        return Ok(None);
    }
    let old = pin_param(params, keys::OLD_PIN)?;
    let new = pin_param(params, keys::NEW_PIN)?;
    let account_id = ctx.account_id();
    if !ctx.model.accounts[ctx.account].has_pin() {
        return Err(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION).into());
    }
    if ctx.model.accounts[ctx.account].blocked == AccountBlocked::PinBlocked {
        return Err(ApiError::from_code(ErrorCode::ACCOUNT_BLOCKED).into());
    }
    if !ctx.model.is_enrolled(ctx.device, &account_id) {
        return Err(ApiError::from_code(ErrorCode::DEVICE_DISABLED).into());
    }
    verify_pin(ctx, &old)?;
    if old == new {
        return Err(ApiError::from_code(ErrorCode::SAME_PASSWORD).into());
    }
    ctx.model.accounts[ctx.account].pin_hash = Some(PinHash::of(new.as_secret()));
    ctx.changed = true;
    tracing::info!(account = %account_id, "PIN updated");
    Ok(None)
}
