//! The APIs of `POST /v1/calls`: one handler per API, all working on the [`Model`] under the
//! state lock. A handler answers a result (or none) or a [`Failure`], and says whether it
//! changed the state (so that it is written back).

mod enrollment;
mod otp;
mod phone;
mod steps;
mod vehicle;

use serde_json::Value;

use pims_types::{
    AccountBlocked, Api, ApiError, ErrorCode, Parameters, PhoneNumber, Pin, SmsCode, Verb, keys,
};

use crate::failure::Failure;
use crate::model::Model;

/// What a handler answers.
pub(crate) type Answer = Result<Option<Value>, Failure>;

/// Who is calling, and when.
pub(crate) struct Caller<'a> {
    /// Index of the authenticated account in the model.
    pub(crate) account: usize,
    /// The `Pims-Device-Id`.
    pub(crate) device: &'a str,
    /// The simulator clock, in ms since the epoch.
    pub(crate) now: u64,
}

/// The state a handler works on, and whether it changed it.
pub(crate) struct CallContext<'a> {
    pub(crate) model: &'a mut Model,
    pub(crate) account: usize,
    pub(crate) device: &'a str,
    pub(crate) now: u64,
    pub(crate) changed: bool,
}

impl CallContext<'_> {
    /// The caller's account id.
    fn account_id(&self) -> String {
        self.model.accounts[self.account].id.clone()
    }

    fn changed(&mut self, changed: bool) {
        self.changed |= changed;
    }

    /// The account's trusted number, or 2307.
    fn trusted_phone(&self) -> Result<String, Failure> {
        self.model.accounts[self.account]
            .trusted_phone_number
            .clone()
            .ok_or_else(|| ApiError::from_code(ErrorCode::NO_PHONE_NUMBER).into())
    }

    /// Whether this device may not enrol: the account is PIN-blocked, or enrolling it would
    /// exceed the account's device limit.
    fn enrolment_blocked(&self) -> bool {
        self.model.accounts[self.account].blocked == AccountBlocked::PinBlocked
            || self.model.device_limit_reached(self.account, self.device)
    }
}

/// Runs one call. The API and verb are already known to be supported.
pub(crate) fn dispatch(
    model: &mut Model,
    caller: &Caller<'_>,
    api: Api,
    verb: Verb,
    params: &Parameters,
) -> (Answer, bool) {
    let mut ctx = CallContext {
        model,
        account: caller.account,
        device: caller.device,
        now: caller.now,
        changed: false,
    };
    // One format rule each for PINs, SMS codes, phone numbers and VINs, whatever the API
    // (activation-apis.md, "Formats"): a typo is 2102 before anything is looked at, so a
    // malformed PIN never counts as a wrong one.
    if let Err(e) = params.check_formats() {
        return (Err(e.into()), false);
    }
    let answer = match (api, verb) {
        (Api::SubscriptionSteps, _) => steps::list(&mut ctx, params),
        (Api::SubscriptionStep, _) => steps::next(&mut ctx, params),
        (Api::SubscriptionServices, _) => steps::services(&mut ctx, params),
        (Api::TrustedPhoneNumber, _) => phone::trusted_phone_number(&mut ctx),
        (Api::SmsCode, Verb::Get) => phone::send_code(&mut ctx, params),
        (Api::SmsCode, _) => phone::use_code(&mut ctx, params),
        (Api::Account, _) => enrollment::account(&mut ctx, params),
        (Api::Enrollment, _) => enrollment::enrollment(&mut ctx, params),
        (Api::PinCode, _) => enrollment::pincode(&mut ctx, params),
        (Api::Otp, _) => otp::otp(&mut ctx, params),
        (Api::VehicleVin, _) => vehicle::select(&mut ctx, params),
        (Api::CarKey, Verb::Get) => vehicle::car_key_status(&mut ctx, params),
        (Api::CarKey, _) => vehicle::activate_car_key(&mut ctx, params),
        // `Api` is non-exhaustive: an API added to the types crate is not served here yet.
        _ => Err(Failure::code(ErrorCode::API_NOT_SUPPORTED)),
    };
    let changed = ctx.changed;
    (answer, changed)
}

/// A required PIN parameter (`pinCode`, `oldPIN`, `newPIN`): pims-types' one rule.
fn pin_param(params: &Parameters, name: &str) -> Result<Pin, Failure> {
    Ok(params
        .get_pin(name)?
        .ok_or_else(|| pims_types::Error::missing(name))?)
}

/// The required `smsCode` parameter: pims-types' one rule (4 to 10 digits).
fn sms_code_param(params: &Parameters) -> Result<SmsCode, Failure> {
    Ok(params
        .get_sms_code()?
        .ok_or_else(|| pims_types::Error::missing(keys::SMS_CODE))?)
}

/// The required `phoneNumber` parameter: pims-types' one rule (E.164).
fn phone_param(params: &Parameters) -> Result<PhoneNumber, Failure> {
    Ok(params
        .get_phone_number()?
        .ok_or_else(|| pims_types::Error::missing(keys::PHONE_NUMBER))?)
}

/// A random string of `n` digits (OTPs, security codes).
fn random_digits(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}
