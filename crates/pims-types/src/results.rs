//! The results of the activation APIs, typed: read from the `result` of an answer (a bad one is
//! 2203 naming the field, `$.result.isCarKeyVerified`) and written back to it (the simulator
//! answers with these). `Debug` never shows a secret, and shows identifiers masked.
//!
//! Reading is as lenient as the SDK has always been where the documentation is vague: a boolean
//! may come as `"true"`/`"false"`; an `isAccountBlocked` this SDK does not know reads as
//! `Unknown`; a missing `cvsStatus` reads as `unknown`; the optional texts of a CarKey are
//! ignored when they are not strings.

use std::fmt;

use serde_json::{Map, Value};

use crate::activation::{AccountBlocked, CvsStatus, EnrollmentStatus};
use crate::decode::Path;
use crate::error::Error;
use crate::keys;
use crate::params::boolean_from_value;
use crate::redact::{Secret, mask};

/// A result of an activation API: read from, and written to, the `result` of an answer.
///
/// ```
/// use pims_types::{ActivationResult, CarKeyStatus, CvsStatus};
/// let status = CarKeyStatus::from_result(&serde_json::json!(
///     {"isCarKeyVerified": true, "cvsStatus": "active"})).unwrap();
/// assert!(status.verified && status.cvs_status == CvsStatus::Active);
/// let e = CarKeyStatus::from_result(&serde_json::json!({"isCarKeyVerified": 1})).unwrap_err();
/// assert_eq!(e.to_string(), "Invalid return Parsing error at $.result.isCarKeyVerified: expected a boolean");
/// assert_eq!(status.to_result(), serde_json::json!({"isCarKeyVerified": true, "cvsStatus": "active"}));
/// ```
pub trait ActivationResult: Sized {
    /// Reads the `result` of an answer (`Value::Null` when it had none): 2203 naming the field
    /// at fault.
    fn from_result(result: &Value) -> Result<Self, Error>;

    /// The `result` of an answer carrying this value (secrets included: this is what is sent).
    fn to_result(&self) -> Value;
}

/// `$.result.<key>`.
fn path(key: &str) -> String {
    let root = Path::root();
    let result = root.key("result");
    result.key(key).render()
}

fn field<'v>(result: &'v Value, key: &str) -> Option<&'v Value> {
    result.as_object().and_then(|m| m.get(key))
}

fn string_field<'v>(result: &'v Value, key: &str) -> Result<&'v str, Error> {
    field(result, key)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::decode(path(key), "expected a string"))
}

fn bool_field(result: &Value, key: &str) -> Result<bool, Error> {
    field(result, key)
        .and_then(boolean_from_value)
        .ok_or_else(|| Error::decode(path(key), "expected a boolean"))
}

fn optional_text(result: &Value, key: &str) -> Option<String> {
    field(result, key)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn object(entries: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = entries
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    Value::Object(map)
}

/// An answer that needed a result and had none.
fn no_data(what: &str) -> Error {
    Error::decode(
        Path::root().key("result").render(),
        format!("no {what} in the answer"),
    )
}

/// `get pims.authentication.trustedphonenumber`: `{"phoneNumber"}`. The number is read as the
/// backend gives it (not judged by the E.164 rule of parameters); `Debug` masks it.
///
/// ```
/// use pims_types::{ActivationResult, TrustedPhoneNumber};
/// let r = TrustedPhoneNumber::from_result(&serde_json::json!({"phoneNumber": "+33612345678"})).unwrap();
/// assert_eq!(r.phone_number, "+33612345678");
/// assert_eq!(format!("{r:?}"), "TrustedPhoneNumber { phone_number: \"*********678\" }");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TrustedPhoneNumber {
    /// `phoneNumber`.
    pub phone_number: String,
}

impl ActivationResult for TrustedPhoneNumber {
    fn from_result(result: &Value) -> Result<Self, Error> {
        Ok(TrustedPhoneNumber {
            phone_number: string_field(result, keys::PHONE_NUMBER)?.to_owned(),
        })
    }

    fn to_result(&self) -> Value {
        object([(keys::PHONE_NUMBER, Some(self.phone_number.clone().into()))])
    }
}

impl fmt::Debug for TrustedPhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedPhoneNumber")
            .field("phone_number", &mask(&self.phone_number))
            .finish()
    }
}

/// The `isDeviceActivated` account check: `{"isDeviceActivated": bool}`.
///
/// ```
/// use pims_types::{ActivationResult, DeviceActivated};
/// let r = DeviceActivated::from_result(&serde_json::json!({"isDeviceActivated": "false"})).unwrap();
/// assert_eq!(r, DeviceActivated(false));
/// assert_eq!(DeviceActivated(true).to_result(), serde_json::json!({"isDeviceActivated": true}));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceActivated(pub bool);

impl ActivationResult for DeviceActivated {
    fn from_result(result: &Value) -> Result<Self, Error> {
        bool_field(result, keys::IS_DEVICE_ACTIVATED).map(DeviceActivated)
    }

    fn to_result(&self) -> Value {
        object([(keys::IS_DEVICE_ACTIVATED, Some(self.0.into()))])
    }
}

/// The `isAccountBlocked` account check: a string is required; one this SDK does not know is
/// `Unknown`.
impl ActivationResult for AccountBlocked {
    fn from_result(result: &Value) -> Result<Self, Error> {
        let text = string_field(result, keys::IS_ACCOUNT_BLOCKED)?;
        Ok(AccountBlocked::parse(text).unwrap_or(AccountBlocked::Unknown))
    }

    fn to_result(&self) -> Value {
        object([(keys::IS_ACCOUNT_BLOCKED, Some(self.as_str().into()))])
    }
}

/// `set pims.authentication.smscode` enrollment: `{"status"}`, one of the two values.
impl ActivationResult for EnrollmentStatus {
    fn from_result(result: &Value) -> Result<Self, Error> {
        let text = string_field(result, keys::STATUS)?;
        EnrollmentStatus::parse(text).ok_or_else(|| {
            Error::decode(
                path(keys::STATUS),
                "expected NotEnrolled or AlreadyEnrolled",
            )
        })
    }

    fn to_result(&self) -> Value {
        object([(keys::STATUS, Some(self.as_str().into()))])
    }
}

/// `get pims.authentication.otp`: `{"otp"}`, a secret.
///
/// ```
/// use pims_types::{ActivationResult, Otp};
/// let otp = Otp::from_result(&serde_json::json!({"otp": "81726354"})).unwrap();
/// assert_eq!(otp.expose(), "81726354");
/// assert_eq!(format!("{otp:?}"), "Otp([REDACTED])");
/// assert!(Otp::from_result(&serde_json::Value::Null).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Otp(Secret);

impl Otp {
    /// An OTP (the simulator makes them).
    pub fn new(otp: Secret) -> Otp {
        Otp(otp)
    }

    /// The OTP itself: call this only where it is sent.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The OTP as a [`Secret`].
    pub fn into_secret(self) -> Secret {
        self.0
    }
}

impl ActivationResult for Otp {
    fn from_result(result: &Value) -> Result<Self, Error> {
        string_field(result, keys::OTP).map(|s| Otp(Secret::new(s)))
    }

    fn to_result(&self) -> Value {
        object([(keys::OTP, Some(self.expose().into()))])
    }
}

impl fmt::Debug for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Otp({})", crate::REDACTED)
    }
}

/// `get pims.vehicle.carkey`: `{"isCarKeyVerified", "cvsStatus", "maxReactivationDate"?}`.
///
/// ```
/// use pims_types::{ActivationResult, CarKeyStatus, CvsStatus};
/// let r = CarKeyStatus::from_result(&serde_json::json!({"isCarKeyVerified": false,
///     "cvsStatus": "suspended", "maxReactivationDate": "2025-01-31T00:00:00Z"})).unwrap();
/// assert_eq!(r.cvs_status, CvsStatus::Suspended);
/// assert_eq!(r.max_reactivation_date.as_deref(), Some("2025-01-31T00:00:00Z"));
/// let e = CarKeyStatus::from_result(&serde_json::Value::Null).unwrap_err();
/// assert_eq!(e.to_string(), "Invalid return Parsing error at $.result: no carkey in the answer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarKeyStatus {
    /// `isCarKeyVerified`.
    pub verified: bool,
    /// `cvsStatus` (`unknown` when absent).
    pub cvs_status: CvsStatus,
    /// `maxReactivationDate`, when suspended.
    pub max_reactivation_date: Option<String>,
}

impl ActivationResult for CarKeyStatus {
    fn from_result(result: &Value) -> Result<Self, Error> {
        if result.is_null() {
            return Err(no_data("carkey"));
        }
        Ok(CarKeyStatus {
            verified: bool_field(result, keys::IS_CAR_KEY_VERIFIED)?,
            cvs_status: field(result, keys::CVS_STATUS)
                .and_then(Value::as_str)
                .map(CvsStatus::parse)
                .unwrap_or_default(),
            max_reactivation_date: optional_text(result, keys::MAX_REACTIVATION_DATE),
        })
    }

    fn to_result(&self) -> Value {
        object([
            (keys::IS_CAR_KEY_VERIFIED, Some(self.verified.into())),
            (keys::CVS_STATUS, Some(self.cvs_status.as_str().into())),
            (
                keys::MAX_REACTIVATION_DATE,
                self.max_reactivation_date.clone().map(Value::from),
            ),
        ])
    }
}

/// `set pims.vehicle.carkey`: `{"hasCarKey", "vin"?, "securityCode"?, "securityExpiration"?}`.
/// `Debug` hides the security code and masks the VIN.
///
/// ```
/// use pims_types::{ActivationResult, CarKeyActivation};
/// let r = CarKeyActivation::from_result(&serde_json::json!({"hasCarKey": true,
///     "vin": "VR1AB12C3D4567890", "securityCode": "493817",
///     "securityExpiration": "2025-01-02T00:00:00Z"})).unwrap();
/// assert!(r.has_car_key);
/// assert_eq!(r.security_code.as_ref().map(|c| c.expose()), Some("493817"));
/// let shown = format!("{r:?}");
/// assert!(!shown.contains("493817") && !shown.contains("VR1AB12C3D4567890"), "{shown}");
/// ```
#[derive(Clone, PartialEq)]
pub struct CarKeyActivation {
    /// `hasCarKey`.
    pub has_car_key: bool,
    /// `vin`.
    pub vin: Option<String>,
    /// `securityCode` (a secret).
    pub security_code: Option<Secret>,
    /// `securityExpiration` (date-time).
    pub security_expiration: Option<String>,
}

impl ActivationResult for CarKeyActivation {
    fn from_result(result: &Value) -> Result<Self, Error> {
        if result.is_null() {
            return Err(no_data("carkey"));
        }
        Ok(CarKeyActivation {
            has_car_key: bool_field(result, keys::HAS_CAR_KEY)?,
            vin: optional_text(result, keys::VIN),
            security_code: optional_text(result, keys::SECURITY_CODE).map(Secret::new),
            security_expiration: optional_text(result, keys::SECURITY_EXPIRATION),
        })
    }

    fn to_result(&self) -> Value {
        object([
            (keys::HAS_CAR_KEY, Some(self.has_car_key.into())),
            (keys::VIN, self.vin.clone().map(Value::from)),
            (
                keys::SECURITY_CODE,
                self.security_code.as_ref().map(|c| c.expose().into()),
            ),
            (
                keys::SECURITY_EXPIRATION,
                self.security_expiration.clone().map(Value::from),
            ),
        ])
    }
}

impl fmt::Debug for CarKeyActivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CarKeyActivation")
            .field("has_car_key", &self.has_car_key)
            .field("vin", &self.vin.as_deref().map(mask))
            .field("security_code", &self.security_code)
            .field("security_expiration", &self.security_expiration)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<T: ActivationResult + PartialEq + fmt::Debug>(value: T, wire: Value) {
        assert_eq!(value.to_result(), wire);
        assert_eq!(T::from_result(&wire).unwrap(), value);
    }

    #[test]
    fn results_round_trip_with_their_wire_keys() {
        round_trip(
            TrustedPhoneNumber {
                phone_number: "+33612345678".into(),
            },
            json!({"phoneNumber": "+33612345678"}),
        );
        round_trip(DeviceActivated(true), json!({"isDeviceActivated": true}));
        round_trip(
            AccountBlocked::PinBlocked,
            json!({"isAccountBlocked": "PinBlocked"}),
        );
        round_trip(
            EnrollmentStatus::AlreadyEnrolled,
            json!({"status": "AlreadyEnrolled"}),
        );
        round_trip(
            Otp::new(Secret::new("12345678")),
            json!({"otp": "12345678"}),
        );
        round_trip(
            CarKeyStatus {
                verified: true,
                cvs_status: CvsStatus::Active,
                max_reactivation_date: None,
            },
            json!({"isCarKeyVerified": true, "cvsStatus": "active"}),
        );
        round_trip(
            CarKeyStatus {
                verified: false,
                cvs_status: CvsStatus::Suspended,
                max_reactivation_date: Some("2025-01-31T00:00:00Z".into()),
            },
            json!({"isCarKeyVerified": false, "cvsStatus": "suspended",
                   "maxReactivationDate": "2025-01-31T00:00:00Z"}),
        );
        round_trip(
            CarKeyActivation {
                has_car_key: true,
                vin: Some("VR1AB12C3D4567890".into()),
                security_code: Some(Secret::new("123456")),
                security_expiration: Some("2025-01-02T00:00:00Z".into()),
            },
            json!({"hasCarKey": true, "vin": "VR1AB12C3D4567890", "securityCode": "123456",
                   "securityExpiration": "2025-01-02T00:00:00Z"}),
        );
        // Keys in the documented order (the simulator's answers are compared byte for byte).
        let text = CarKeyActivation {
            has_car_key: true,
            vin: Some("V".into()),
            security_code: Some(Secret::new("1")),
            security_expiration: Some("E".into()),
        }
        .to_result()
        .to_string();
        assert_eq!(
            text,
            r#"{"hasCarKey":true,"vin":"V","securityCode":"1","securityExpiration":"E"}"#
        );
        let status = CarKeyStatus {
            verified: false,
            cvs_status: CvsStatus::Suspended,
            max_reactivation_date: Some("D".into()),
        };
        assert_eq!(
            status.to_result().to_string(),
            r#"{"isCarKeyVerified":false,"cvsStatus":"suspended","maxReactivationDate":"D"}"#
        );
    }

    #[test]
    fn decoding_errors_name_the_field() {
        let cases: [(Result<(), Error>, &str); 9] = [
            (
                TrustedPhoneNumber::from_result(&json!({"phoneNumber": 33})).map(drop),
                "$.result.phoneNumber: expected a string",
            ),
            (
                DeviceActivated::from_result(&json!({})).map(drop),
                "$.result.isDeviceActivated: expected a boolean",
            ),
            (
                AccountBlocked::from_result(&Value::Null).map(drop),
                "$.result.isAccountBlocked: expected a string",
            ),
            (
                EnrollmentStatus::from_result(&json!({"status": "Enrolled"})).map(drop),
                "$.result.status: expected NotEnrolled or AlreadyEnrolled",
            ),
            (
                EnrollmentStatus::from_result(&json!({"status": true})).map(drop),
                "$.result.status: expected a string",
            ),
            (
                Otp::from_result(&json!({"otp": null})).map(drop),
                "$.result.otp: expected a string",
            ),
            (
                CarKeyStatus::from_result(&json!("x")).map(drop),
                "$.result.isCarKeyVerified: expected a boolean",
            ),
            (
                CarKeyActivation::from_result(&json!({"vin": "V"})).map(drop),
                "$.result.hasCarKey: expected a boolean",
            ),
            (
                CarKeyActivation::from_result(&Value::Null).map(drop),
                "$.result: no carkey in the answer",
            ),
        ];
        for (r, shown) in cases {
            let e = r.unwrap_err();
            assert_eq!(e.code().as_u32(), 2203);
            assert_eq!(
                e.to_string(),
                format!("Invalid return Parsing error at {shown}")
            );
        }
    }

    #[test]
    fn reading_is_lenient_where_the_sdk_always_was() {
        assert_eq!(
            AccountBlocked::from_result(&json!({"isAccountBlocked": "Maybe"})).unwrap(),
            AccountBlocked::Unknown
        );
        let status = CarKeyStatus::from_result(
            &json!({"isCarKeyVerified": "true", "cvsStatus": 3, "maxReactivationDate": 1}),
        )
        .unwrap();
        assert_eq!(
            status,
            CarKeyStatus {
                verified: true,
                cvs_status: CvsStatus::Unknown,
                max_reactivation_date: None,
            }
        );
        let other =
            CarKeyStatus::from_result(&json!({"isCarKeyVerified": false, "cvsStatus": "revoked"}))
                .unwrap();
        assert_eq!(other.cvs_status, CvsStatus::Other("revoked".into()));
        let bare = CarKeyActivation::from_result(&json!({"hasCarKey": false, "vin": 7})).unwrap();
        assert_eq!((bare.vin, bare.security_code), (None, None));
    }
}
