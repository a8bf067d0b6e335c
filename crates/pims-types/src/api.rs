//! API names, their documented aliases, and the verbs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The API name strings, exactly as apps pass them.
pub mod names {
    /// The step list.
    pub const SUBSCRIPTION_STEPS: &str = "pims.subscription.steps";
    /// The next step only.
    pub const SUBSCRIPTION_STEP: &str = "pims.subscription.step";
    /// The connected services of a vehicle.
    pub const SUBSCRIPTION_SERVICES: &str = "pims.subscription.services";
    /// The alias the documentation's cache section uses for the step list.
    pub const VEHICLE_STEPS_ALIAS: &str = "pims.vehicle.steps";
    /// The trusted phone number of the account.
    pub const AUTHENTICATION_TRUSTED_PHONE_NUMBER: &str = "pims.authentication.trustedphonenumber";
    /// SMS codes: request (get) and check (set).
    pub const AUTHENTICATION_SMS_CODE: &str = "pims.authentication.smscode";
    /// Account checks (isDeviceActivated, isAccountBlocked).
    pub const AUTHENTICATION_ACCOUNT: &str = "pims.authentication.account";
    /// Device enrolment (enroll, enrollWithPhoneNumber, remove).
    pub const AUTHENTICATION_ENROLLMENT: &str = "pims.authentication.enrollment";
    /// PIN reset and update.
    pub const AUTHENTICATION_PIN_CODE: &str = "pims.authentication.pincode";
    /// OTP with or without PIN.
    pub const AUTHENTICATION_OTP: &str = "pims.authentication.otp";
    /// Selects the vehicle of the next vehicle calls.
    pub const VEHICLE_VIN: &str = "pims.vehicle.vin";
    /// CarKey status (get) and activation (set).
    pub const VEHICLE_CAR_KEY: &str = "pims.vehicle.carkey";
}

/// An API of the Steps component or of the activation procedures that resolve its steps.
///
/// ```
/// use pims_types::{Api, Verb};
/// let api = Api::parse("pims.authentication.otp").unwrap();
/// assert_eq!(api, Api::Otp);
/// assert!(api.supports(Verb::Get));
///
/// // `Api::ALL`
/// assert_eq!(pims_types::Api::ALL.len(), 11);
/// // `Api::name`
/// assert_eq!(pims_types::Api::SubscriptionSteps.name(), "pims.subscription.steps");
/// // `Api::parse`
/// {
///     use pims_types::Api;
///     assert_eq!(Api::parse("pims.vehicle.steps"), Some(Api::SubscriptionSteps));
///     assert_eq!(Api::parse("pims.nothing"), None);
/// }
/// // `Api::supports`
/// {
///     use pims_types::{Api, Verb};
///     assert!(Api::SubscriptionSteps.supports(Verb::Get));
///     assert!(!Api::SubscriptionSteps.supports(Verb::Set));
///     assert!(!Api::SubscriptionSteps.supports(Verb::Subscribe));
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Api {
    /// `pims.subscription.steps` (alias `pims.vehicle.steps`).
    SubscriptionSteps,
    /// `pims.subscription.step`.
    SubscriptionStep,
    /// `pims.subscription.services`.
    SubscriptionServices,
    /// `pims.authentication.trustedphonenumber`.
    TrustedPhoneNumber,
    /// `pims.authentication.smscode`.
    SmsCode,
    /// `pims.authentication.account`.
    Account,
    /// `pims.authentication.enrollment`.
    Enrollment,
    /// `pims.authentication.pincode`.
    PinCode,
    /// `pims.authentication.otp`.
    Otp,
    /// `pims.vehicle.vin`.
    VehicleVin,
    /// `pims.vehicle.carkey`.
    CarKey,
}

impl Api {
    /// Every API, in a stable order.
    pub const ALL: [Api; 11] = [
        Api::SubscriptionSteps,
        Api::SubscriptionStep,
        Api::SubscriptionServices,
        Api::TrustedPhoneNumber,
        Api::SmsCode,
        Api::Account,
        Api::Enrollment,
        Api::PinCode,
        Api::Otp,
        Api::VehicleVin,
        Api::CarKey,
    ];

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Api::SubscriptionSteps => names::SUBSCRIPTION_STEPS,
            Api::SubscriptionStep => names::SUBSCRIPTION_STEP,
            Api::SubscriptionServices => names::SUBSCRIPTION_SERVICES,
            Api::TrustedPhoneNumber => names::AUTHENTICATION_TRUSTED_PHONE_NUMBER,
            Api::SmsCode => names::AUTHENTICATION_SMS_CODE,
            Api::Account => names::AUTHENTICATION_ACCOUNT,
            Api::Enrollment => names::AUTHENTICATION_ENROLLMENT,
            Api::PinCode => names::AUTHENTICATION_PIN_CODE,
            Api::Otp => names::AUTHENTICATION_OTP,
            Api::VehicleVin => names::VEHICLE_VIN,
            Api::CarKey => names::VEHICLE_CAR_KEY,
        }
    }

    /// Resolves a name, documented aliases included; `None` for an API this component does not
    /// have (the dispatcher answers 2002).
    pub fn parse(name: &str) -> Option<Api> {
        if name == names::VEHICLE_STEPS_ALIAS {
            return Some(Api::SubscriptionSteps);
        }
        Api::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether a verb applies to this API (the reference's table); others answer 2002.
    pub fn supports(self, verb: Verb) -> bool {
        match self {
            Api::SubscriptionSteps
            | Api::SubscriptionStep
            | Api::SubscriptionServices
            | Api::TrustedPhoneNumber
            | Api::Account
            | Api::Otp => verb == Verb::Get,
            Api::SmsCode | Api::CarKey => matches!(verb, Verb::Get | Verb::Set),
            Api::Enrollment | Api::PinCode | Api::VehicleVin => verb == Verb::Set,
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The dispatcher's verbs.
///
/// ```
/// let v: pims_types::Verb = serde_json::from_str("\"get\"").unwrap();
/// assert_eq!(v, pims_types::Verb::Get);
///
/// // `Verb::as_str`
/// assert_eq!(pims_types::Verb::Set.as_str(), "set");
/// // `Verb::parse`
/// assert_eq!(pims_types::Verb::parse("get"), Some(pims_types::Verb::Get));
/// assert_eq!(pims_types::Verb::parse("GET"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// Read something.
    Get,
    /// Do or change something.
    Set,
    /// Receive events.
    Subscribe,
    /// Stop receiving events.
    Unsubscribe,
}

impl Verb {
    /// The verb in lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Set => "set",
            Verb::Subscribe => "subscribe",
            Verb::Unsubscribe => "unsubscribe",
        }
    }

    /// Reads a verb (lowercase, as on the wire).
    pub fn parse(s: &str) -> Option<Verb> {
        [Verb::Get, Verb::Set, Verb::Subscribe, Verb::Unsubscribe]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for api in Api::ALL {
            assert_eq!(Api::parse(api.name()), Some(api));
        }
    }
}
