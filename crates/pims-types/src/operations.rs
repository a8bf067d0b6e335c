//! The discriminators of the activation APIs ("API - sub" in activation-apis.md): the parameter
//! that picks the operation of an API, and its values. [`Operation`] reads one from a request
//! (2101 when absent, 2102 for a value the API does not have) and writes it into one.

use crate::activation::SmsPurpose;
use crate::error::Error;
use crate::keys;
use crate::params::Parameters;
use crate::wire_enum::wire_enum;

/// A discriminator: the parameter that picks one operation of an API, read under [`KEY`] or
/// one of its [`ALIASES`] (the documentation spells some either way).
///
/// [`KEY`]: Operation::KEY
/// [`ALIASES`]: Operation::ALIASES
///
/// ```
/// use pims_types::{Operation, OtpAction, Parameters};
/// let request = OtpAction::WithPin.to_parameters();
/// assert_eq!(request.to_value(), serde_json::json!({"action": "withPIN"}));
/// assert_eq!(OtpAction::from_parameters(&request).unwrap(), OtpAction::WithPin);
/// // The documented alias, and the errors an app gets.
/// let aliased = Parameters::new().with("type", "withoutPIN");
/// assert_eq!(OtpAction::from_parameters(&aliased).unwrap(), OtpAction::WithoutPin);
/// let e = OtpAction::from_parameters(&Parameters::new()).unwrap_err();
/// assert_eq!(e.to_string(), "Missing action parameter");
/// let e = OtpAction::from_parameters(&Parameters::new().with("action", "withPin")).unwrap_err();
/// assert_eq!(e.to_string(), "Invalid action parameter");
/// ```
pub trait Operation: Sized + Copy + 'static {
    /// The parameter key errors name, read first.
    const KEY: &'static str;
    /// Other keys the value is accepted under, in order.
    const ALIASES: &'static [&'static str];

    /// The wire text of this operation.
    fn as_str(self) -> &'static str;

    /// Reads the wire text (exact spelling).
    fn parse(s: &str) -> Option<Self>;

    /// The key this operation is sent under (the documentation's spelling for it).
    fn key(self) -> &'static str {
        Self::KEY
    }

    /// Reads the operation of a request: 2101 `Missing <KEY> parameter` when absent, 2102
    /// `Invalid <KEY> parameter` when it is not a string or names no operation of this API.
    fn from_parameters(params: &Parameters) -> Result<Self, Error> {
        let value = params.required_string(Self::KEY, Self::ALIASES)?;
        Self::parse(&value).ok_or_else(|| Error::invalid(Self::KEY, "unknown operation"))
    }

    /// The discriminating parameters of a request for this operation (what the SDK sends
    /// before the operation's own parameters).
    fn to_parameters(self) -> Parameters {
        Parameters::new().with(self.key(), self.as_str())
    }
}

/// Implements [`Operation`] for a `wire_enum!` enum.
macro_rules! operation {
    ($name:ident, $key:expr, [$($alias:expr),*]) => {
        impl Operation for $name {
            const KEY: &'static str = $key;
            const ALIASES: &'static [&'static str] = &[$($alias),*];
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
        }
    };
}

// `get pims.authentication.smscode {type}` (alias `action`).
operation!(SmsPurpose, keys::TYPE, [keys::ACTION]);

wire_enum! {
    /// The operation of `set pims.authentication.smscode`: `action` (alias `type`).
    ///
    /// ```
    /// use pims_types::{Operation, SmsCodeAction};
    /// assert_eq!(SmsCodeAction::AddPhoneNumber.to_parameters().to_value(), serde_json::json!({"action": "addPhoneNumber"}));
    /// // The documentation sends modifyPhoneNumber under `type`.
    /// assert_eq!(SmsCodeAction::ModifyPhoneNumber.to_parameters().to_value(), serde_json::json!({"type": "modifyPhoneNumber"}));
    /// ```
    pub enum SmsCodeAction {
        /// `addPhoneNumber`: registers a trusted phone number (`smsCode`, `phoneNumber`).
        AddPhoneNumber = "addPhoneNumber",
        /// `modifyPhoneNumber`: replaces the trusted phone number (`smsCode`, `phoneNumber`).
        ModifyPhoneNumber = "modifyPhoneNumber",
        /// `enrollment`: checks an enrolment code (`smsCode`), answers `status`.
        Enrollment = "enrollment",
    }
}

impl Operation for SmsCodeAction {
    const KEY: &'static str = keys::ACTION;
    const ALIASES: &'static [&'static str] = &[keys::TYPE];
    fn as_str(self) -> &'static str {
        SmsCodeAction::as_str(self)
    }
    fn parse(s: &str) -> Option<Self> {
        SmsCodeAction::parse(s)
    }
    fn key(self) -> &'static str {
        match self {
            SmsCodeAction::ModifyPhoneNumber => keys::TYPE,
            _ => keys::ACTION,
        }
    }
}

wire_enum! {
    /// The operation of `set pims.authentication.enrollment`: `action` (alias `type`).
    ///
    /// ```
    /// use pims_types::{EnrollmentAction, Operation, Parameters};
    /// let p = Parameters::new().with("action", "enrollWithPhoneNumber");
    /// assert_eq!(EnrollmentAction::from_parameters(&p).unwrap(), EnrollmentAction::EnrollWithPhoneNumber);
    /// ```
    pub enum EnrollmentAction {
        /// `enroll` (`pinCode`, `smsCode`): registers the PIN if none, enrols this device.
        Enroll = "enroll",
        /// `enrollWithPhoneNumber` (`pinCode`, `smsCode`, `phoneNumber`): phone, PIN and device
        /// in one go.
        EnrollWithPhoneNumber = "enrollWithPhoneNumber",
        /// `remove`: removes every enrolment of the account.
        Remove = "remove",
    }
}
operation!(EnrollmentAction, keys::ACTION, [keys::TYPE]);

wire_enum! {
    /// The operation of `set pims.authentication.pincode`: `action` (alias `type`).
    ///
    /// ```
    /// use pims_types::{Operation, PinCodeAction};
    /// assert_eq!(PinCodeAction::parse("update"), Some(PinCodeAction::Update));
    /// assert_eq!(PinCodeAction::Reset.to_parameters().get("action"), Some(&"reset".into()));
    /// ```
    pub enum PinCodeAction {
        /// `reset` (`pinCode`, `smsCode` of a resetPIN SMS).
        Reset = "reset",
        /// `update` (`oldPIN`, `newPIN`).
        Update = "update",
    }
}
operation!(PinCodeAction, keys::ACTION, [keys::TYPE]);

wire_enum! {
    /// The operation of `get pims.authentication.otp`: `action` (alias `type`).
    ///
    /// ```
    /// assert_eq!(pims_types::OtpAction::WithPin.as_str(), "withPIN");
    /// ```
    pub enum OtpAction {
        /// `withPIN` (`pinCode`).
        WithPin = "withPIN",
        /// `withoutPIN`.
        WithoutPin = "withoutPIN",
    }
}
operation!(OtpAction, keys::ACTION, [keys::TYPE]);

wire_enum! {
    /// The level of `get pims.authentication.account`: `actionType`, always `strong`.
    ///
    /// ```
    /// use pims_types::{ActionType, Operation, Parameters};
    /// let e = ActionType::from_parameters(&Parameters::new().with("actionType", "weak")).unwrap_err();
    /// assert_eq!(e.to_string(), "Invalid actionType parameter");
    /// ```
    pub enum ActionType {
        /// `strong`.
        Strong = "strong",
    }
}
operation!(ActionType, keys::ACTION_TYPE, []);

wire_enum! {
    /// The check of `get pims.authentication.account`: `type` (with `actionType`: `strong`).
    ///
    /// ```
    /// use pims_types::{AccountCheck, Operation, Parameters};
    /// let p = AccountCheck::IsAccountBlocked.to_parameters();
    /// assert_eq!(p.to_value(), serde_json::json!({"actionType": "strong", "type": "isAccountBlocked"}));
    /// assert_eq!(AccountCheck::from_parameters(&p).unwrap(), AccountCheck::IsAccountBlocked);
    /// // actionType is checked first.
    /// let e = AccountCheck::from_parameters(&Parameters::new().with("type", "isAccountBlocked")).unwrap_err();
    /// assert_eq!(e.to_string(), "Missing actionType parameter");
    /// ```
    pub enum AccountCheck {
        /// `isDeviceActivated`: answers `isDeviceActivated` (bool).
        IsDeviceActivated = "isDeviceActivated",
        /// `isAccountBlocked`: answers `isAccountBlocked` ([`AccountBlocked`](crate::AccountBlocked)).
        IsAccountBlocked = "isAccountBlocked",
    }
}

impl Operation for AccountCheck {
    const KEY: &'static str = keys::TYPE;
    const ALIASES: &'static [&'static str] = &[];
    fn as_str(self) -> &'static str {
        AccountCheck::as_str(self)
    }
    fn parse(s: &str) -> Option<Self> {
        AccountCheck::parse(s)
    }
    fn from_parameters(params: &Parameters) -> Result<Self, Error> {
        ActionType::from_parameters(params)?;
        let value = params.required_string(Self::KEY, Self::ALIASES)?;
        AccountCheck::parse(&value).ok_or_else(|| Error::invalid(Self::KEY, "unknown operation"))
    }
    fn to_parameters(self) -> Parameters {
        ActionType::Strong
            .to_parameters()
            .with(self.key(), self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<O: Operation + PartialEq + std::fmt::Debug>(all: &[O], wire: &[&str]) {
        assert_eq!(all.len(), wire.len());
        for (op, w) in all.iter().copied().zip(wire) {
            assert_eq!(op.as_str(), *w);
            assert_eq!(O::parse(w), Some(op));
            assert_eq!(O::from_parameters(&op.to_parameters()).unwrap(), op);
            // Under every accepted key.
            for key in std::iter::once(O::KEY).chain(O::ALIASES.iter().copied()) {
                let p = Parameters::new().with(key, *w);
                assert_eq!(O::from_parameters(&p).unwrap(), op, "{key}");
            }
        }
    }

    #[test]
    fn every_operation_has_its_wire_text() {
        round_trip(
            SmsPurpose::ALL,
            &["phoneNumberCertification", "enrollment", "resetPIN"],
        );
        round_trip(
            SmsCodeAction::ALL,
            &["addPhoneNumber", "modifyPhoneNumber", "enrollment"],
        );
        round_trip(
            EnrollmentAction::ALL,
            &["enroll", "enrollWithPhoneNumber", "remove"],
        );
        round_trip(PinCodeAction::ALL, &["reset", "update"]);
        round_trip(OtpAction::ALL, &["withPIN", "withoutPIN"]);
        round_trip(ActionType::ALL, &["strong"]);
        for check in AccountCheck::ALL {
            let p = check.to_parameters();
            assert_eq!(AccountCheck::from_parameters(&p).unwrap(), *check);
        }
        assert_eq!(
            serde_json::to_value(SmsCodeAction::ModifyPhoneNumber).unwrap(),
            json!("modifyPhoneNumber")
        );
        assert_eq!(
            serde_json::from_value::<OtpAction>(json!("withoutPIN")).unwrap(),
            OtpAction::WithoutPin
        );
    }

    #[test]
    fn the_keys_and_the_requests_sent() {
        assert_eq!(
            (SmsPurpose::KEY, SmsPurpose::ALIASES),
            ("type", &["action"][..])
        );
        assert_eq!(
            SmsPurpose::ResetPin.to_parameters().to_value(),
            json!({"type": "resetPIN"})
        );
        assert_eq!(
            SmsCodeAction::Enrollment.to_parameters().to_value(),
            json!({"action": "enrollment"})
        );
        assert_eq!(
            EnrollmentAction::Remove.to_parameters().to_value(),
            json!({"action": "remove"})
        );
        assert_eq!(
            AccountCheck::IsDeviceActivated.to_parameters().to_value(),
            json!({"actionType": "strong", "type": "isDeviceActivated"})
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (json!({}), "Missing action parameter"),
            (json!({"action": 5}), "Invalid action parameter"),
            (json!({"action": ""}), "Invalid action parameter"),
            (json!({"action": "Enroll"}), "Invalid action parameter"),
            // The key is read before its alias.
            (
                json!({"action": "x", "type": "enroll"}),
                "Invalid action parameter",
            ),
        ];
        for (p, label) in cases {
            let p = Parameters::from_value(p).unwrap();
            assert_eq!(
                EnrollmentAction::from_parameters(&p)
                    .unwrap_err()
                    .to_string(),
                label
            );
        }
        let p = Parameters::new()
            .with("actionType", "strong")
            .with("type", "isBlocked");
        assert_eq!(
            AccountCheck::from_parameters(&p).unwrap_err().to_string(),
            "Invalid type parameter"
        );
        assert_eq!(
            SmsPurpose::from_parameters(&Parameters::new())
                .unwrap_err()
                .to_string(),
            "Missing type parameter"
        );
    }
}
