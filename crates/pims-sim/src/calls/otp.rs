//! `get pims.authentication.otp {action: withPIN | withoutPIN}`: strong authentication on demand.

use pims_types::{
    AccountBlocked, ActivationResult, ApiError, ErrorCode, Operation, Otp, OtpAction, Parameters,
    Secret, keys,
};

use super::{Answer, CallContext, enrollment::verify_pin, pin_param, random_digits};

/// An OTP: the device must be enrolled (2312), the account not PIN-blocked (2310), and for
/// `withPIN` the PIN right (2308, counted towards the block).
pub(super) fn otp(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    // A malformed PIN is 2102 here, before any check: it never counts as a wrong one.
    let pin = match OtpAction::from_parameters(params)? {
        OtpAction::WithPin => Some(pin_param(params, keys::PIN_CODE)?),
        OtpAction::WithoutPin => None,
    };
    let account = ctx.account_id();
    if !ctx.model.is_enrolled(ctx.device, &account) {
        return Err(ApiError::from_code(ErrorCode::DEVICE_DISABLED).into());
    }
    if ctx.model.accounts[ctx.account].blocked == AccountBlocked::PinBlocked {
        return Err(ApiError::from_code(ErrorCode::ACCOUNT_BLOCKED).into());
    }
    if let Some(pin) = pin {
        verify_pin(ctx, &pin)?;
    }
    Ok(Some(Otp::new(Secret::new(random_digits(8))).to_result()))
}
