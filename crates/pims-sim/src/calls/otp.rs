//! `get pims.authentication.otp {action: withPIN | withoutPIN}`: strong authentication on demand.

use serde_json::json;

use pims_types::{ApiError, ErrorCode, Parameters};

use super::{Answer, Ctx, discriminator, enrollment::verify_pin, pin_param, random_digits};
use crate::scenario::AccountBlocked;

/// An OTP: the device must be enrolled (2312), the account not PIN-blocked (2310), and for
/// `withPIN` the PIN right (2308, counted towards the block).
pub(super) fn otp(ctx: &mut Ctx<'_>, params: &Parameters) -> Answer {
    let action = discriminator(params, "action", "type", &["withPIN", "withoutPIN"])?;
    // A malformed PIN is 2102 here, before any check: it never counts as a wrong one.
    let pin = if action == "withPIN" {
        Some(pin_param(params, "pinCode")?)
    } else {
        None
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
    Ok(Some(json!({ "otp": random_digits(8) })))
}
