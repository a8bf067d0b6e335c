//! The vehicle and its CarKey: `set pims.vehicle.vin`, `get` / `set pims.vehicle.carkey`.

use serde_json::Value;

use pims_types::{
    ActivationResult, ApiError, CarKeyActivation, CarKeyStatus, CvsStatus, ErrorCode, Parameters,
    Secret, Vin, keys,
};

use super::{Answer, CallContext, Failure, random_digits};
use crate::clock::rfc3339;

/// How long the security code of a CarKey activation is valid.
const SECURITY_CODE_VALIDITY_MS: u64 = 24 * 3_600_000;

/// A `vin` parameter, if given (2102 when malformed).
fn vin_param(params: &Parameters) -> Result<Option<Vin>, Failure> {
    match params.get(keys::VIN) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(Vin::parse(s)?)),
        Some(_) => Err(pims_types::Error::invalid(keys::VIN, "expected a string").into()),
    }
}

/// The vehicle of a CarKey call: the `vin` parameter (v2.0-2.2) or the selected one.
fn target_vin(ctx: &CallContext<'_>, params: &Parameters) -> Result<String, Failure> {
    if let Some(vin) = vin_param(params)? {
        return Ok(vin.as_str().to_owned());
    }
    let account = ctx.account_id();
    ctx.model
        .selection(&account, ctx.device)
        .map(str::to_owned)
        .ok_or_else(|| pims_types::Error::missing(keys::VIN).into())
}

/// `set pims.vehicle.vin {vin}`: selects the vehicle of the next vehicle calls of this device.
pub(super) fn select(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    let vin = vin_param(params)?.ok_or_else(|| pims_types::Error::missing(keys::VIN))?;
    let account = ctx.account_id();
    let changed = ctx.model.select_vehicle(&account, ctx.device, vin.as_str());
    ctx.changed |= changed;
    Ok(None)
}

/// `get pims.vehicle.carkey`: the CarKey status of the vehicle for the account.
pub(super) fn car_key_status(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    let vin = target_vin(ctx, params)?;
    let account = ctx.account_id();
    let status = match ctx.model.car_key(&account, &vin) {
        Some(key) => CarKeyStatus {
            verified: key.verified,
            cvs_status: key.cvs_status.clone(),
            // The date is shown only while it means something.
            max_reactivation_date: (key.cvs_status == CvsStatus::Suspended)
                .then(|| key.max_reactivation_date.clone())
                .flatten(),
        },
        None => CarKeyStatus {
            verified: false,
            cvs_status: CvsStatus::Unknown,
            max_reactivation_date: None,
        },
    };
    Ok(Some(status.to_result()))
}

/// `set pims.vehicle.carkey`: activates the CarKey when the vehicle is paired with this device
/// over Bluetooth (2342 otherwise).
pub(super) fn activate_car_key(ctx: &mut CallContext<'_>, params: &Parameters) -> Answer {
    let vin = target_vin(ctx, params)?;
    let paired = ctx.model.vehicle_index(&vin).is_some_and(|i| {
        ctx.model.vehicles[i]
            .paired_devices
            .iter()
            .any(|d| d == ctx.device)
    });
    if !paired {
        return Err(ApiError::from_code(ErrorCode::NOT_PAIRED).into());
    }
    let account = ctx.account_id();
    let key = ctx.model.car_key_mut(&account, &vin);
    key.verified = true;
    key.cvs_status = CvsStatus::Active;
    key.max_reactivation_date = None;
    ctx.changed = true;
    tracing::info!(vin = %pims_types::mask(&vin), "CarKey activated");
    let activation = CarKeyActivation {
        has_car_key: true,
        vin: Some(vin),
        security_code: Some(Secret::new(random_digits(6))),
        security_expiration: Some(rfc3339(ctx.now.saturating_add(SECURITY_CODE_VALIDITY_MS))),
    };
    Ok(Some(activation.to_result()))
}
