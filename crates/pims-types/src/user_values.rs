//! The values a user types, validated once: [`Pin`], [`SmsCode`], [`PhoneNumber`] (a VIN is
//! [`Vin`](crate::Vin)). Each is built only through its rule in `formats.rs` (activation-apis.md,
//! "Formats"), so holding one means it is well formed; a bad value is 2102 naming the parameter
//! and never quoting it. PINs and SMS codes are secrets: `Debug` hides them and there is no
//! `Display`; a phone number is shown masked by `Debug`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::formats::{
    PHONE_NUMBER_REASON, PIN_DIGITS, SMS_CODE_DIGITS, digits_reason, is_phone_number, is_pin,
    is_sms_code,
};
use crate::keys;
use crate::redact::{Secret, mask};

/// A PIN: 4 to 8 ASCII digits ([`is_pin`]), held as a [`Secret`].
///
/// ```
/// use pims_types::Pin;
/// let pin = Pin::parse("0123").unwrap();
/// assert_eq!(pin.expose(), "0123");
/// assert_eq!(format!("{pin:?}"), "Pin([REDACTED])");
/// assert_eq!(Pin::parse("123").unwrap_err().to_string(), "Invalid pinCode parameter");
/// // oldPIN and newPIN hold PINs too: the error names the key given.
/// assert_eq!(Pin::parse_as("newPIN", "12345678901").unwrap_err().to_string(), "Invalid newPIN parameter");
/// let typed: Pin = pims_types::Secret::new("4321").try_into().unwrap();
/// assert_eq!(typed.expose(), "4321");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Secret);

impl Pin {
    /// Validates a PIN given as `pinCode`.
    pub fn parse(s: &str) -> Result<Pin, Error> {
        Pin::parse_as(keys::PIN_CODE, s)
    }

    /// Validates a PIN given under `key` (`pinCode`, `oldPIN`, `newPIN`): the error names it.
    pub fn parse_as(key: &str, s: &str) -> Result<Pin, Error> {
        if is_pin(s) {
            Ok(Pin(Secret::new(s)))
        } else {
            Err(Error::invalid(key, digits_reason(&PIN_DIGITS)))
        }
    }
}

/// An SMS code as the SDK accepts it: 4 to 10 ASCII digits ([`is_sms_code`]; the backend
/// decides whether it is the one it sent), held as a [`Secret`].
///
/// ```
/// use pims_types::SmsCode;
/// let code = SmsCode::parse("123456").unwrap();
/// assert_eq!(code.expose(), "123456");
/// assert!(!format!("{code:?}").contains("123456"));
/// assert_eq!(SmsCode::parse("12 34").unwrap_err().to_string(), "Invalid smsCode parameter");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode(Secret);

impl SmsCode {
    /// Validates an SMS code (`smsCode`).
    pub fn parse(s: &str) -> Result<SmsCode, Error> {
        if is_sms_code(s) {
            Ok(SmsCode(Secret::new(s)))
        } else {
            Err(Error::invalid(
                keys::SMS_CODE,
                digits_reason(&SMS_CODE_DIGITS),
            ))
        }
    }
}

/// A phone number in E.164 form ([`is_phone_number`]: `+`, a country code not starting with 0,
/// 8 to 15 digits in all). `Debug` shows it masked; serde reads and writes the number itself,
/// refusing a malformed one.
///
/// ```
/// use pims_types::PhoneNumber;
/// let phone = PhoneNumber::parse("+33612345678").unwrap();
/// assert_eq!(phone.as_str(), "+33612345678");
/// assert_eq!(format!("{phone:?}"), "PhoneNumber(*********678)");
/// let e = PhoneNumber::parse("0612345678").unwrap_err();
/// assert_eq!(e.to_string(), "Invalid phoneNumber parameter");
/// assert!(!format!("{e:?}").contains("0612345678"));
/// assert_eq!(serde_json::to_value(&phone).unwrap(), "+33612345678");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Validates a phone number (`phoneNumber`).
    pub fn parse(s: &str) -> Result<PhoneNumber, Error> {
        if is_phone_number(s) {
            Ok(PhoneNumber(s.to_owned()))
        } else {
            Err(Error::invalid(keys::PHONE_NUMBER, PHONE_NUMBER_REASON))
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number masked for logs (last 3 characters).
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// What a secret value typed by a user has besides its rule: access to the secret (only where
/// it is sent or checked), a `Debug` that hides it, and conversions to and from [`Secret`].
macro_rules! secret_value {
    ($name:ident) => {
        impl $name {
            /// The value itself: call this only where it is sent or checked.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }

            /// The value as a [`Secret`].
            pub fn as_secret(&self) -> &Secret {
                &self.0
            }

            /// The value as a [`Secret`], consumed.
            pub fn into_secret(self) -> Secret {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), crate::REDACTED)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self, Error> {
                $name::parse(s)
            }
        }

        impl TryFrom<Secret> for $name {
            type Error = Error;
            fn try_from(s: Secret) -> Result<Self, Error> {
                $name::parse(s.expose())
            }
        }

        impl From<$name> for Secret {
            fn from(v: $name) -> Secret {
                v.0
            }
        }
    };
}

secret_value!(Pin);
secret_value!(SmsCode);

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl TryFrom<&str> for PhoneNumber {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        PhoneNumber::parse(s)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        if is_phone_number(&s) {
            Ok(PhoneNumber(s))
        } else {
            PhoneNumber::parse(&s)
        }
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // The error names the parameter, never the value.
        PhoneNumber::try_from(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parse_error_names_its_key_and_hides_the_value() {
        let canary = "98765432109876";
        let errors = [
            (Pin::parse(canary).unwrap_err(), "pinCode"),
            (Pin::parse_as("oldPIN", canary).unwrap_err(), "oldPIN"),
            (Pin::parse_as("newPIN", "12a4").unwrap_err(), "newPIN"),
            (SmsCode::parse(canary).unwrap_err(), "smsCode"),
            (SmsCode::parse("123").unwrap_err(), "smsCode"),
            (PhoneNumber::parse(canary).unwrap_err(), "phoneNumber"),
        ];
        for (e, key) in errors {
            assert_eq!(e.to_string(), format!("Invalid {key} parameter"));
            assert_eq!(e.code().as_u32(), 2102);
            assert_eq!(e.parameter(), Some(key));
            assert!(!format!("{e:?}").contains(canary), "{e:?}");
        }
        let e = serde_json::from_value::<PhoneNumber>(canary.into()).unwrap_err();
        assert_eq!(e.to_string(), "Invalid phoneNumber parameter");
    }

    #[test]
    fn the_rules_are_the_formats_rules() {
        for s in [
            "1234",
            "0000",
            "12345678",
            "123",
            "123456789",
            "12a4",
            "",
            "١٢٣٤",
        ] {
            assert_eq!(Pin::parse(s).is_ok(), is_pin(s), "{s}");
        }
        for s in ["1234", "1234567890", "12345678901", "123", " 1234"] {
            assert_eq!(SmsCode::parse(s).is_ok(), is_sms_code(s), "{s}");
        }
        for s in [
            "+33612345678",
            "+033612345678",
            "0612345678",
            "+1234567",
            "+33 612345678",
        ] {
            assert_eq!(PhoneNumber::parse(s).is_ok(), is_phone_number(s), "{s}");
        }
        assert_eq!(
            PhoneNumber::try_from(String::from("+12345678"))
                .unwrap()
                .as_str(),
            "+12345678"
        );
        assert!(SmsCode::try_from(Secret::new("12")).is_err());
        assert_eq!(
            Secret::from(SmsCode::parse("0042").unwrap()).expose(),
            "0042"
        );
    }
}
