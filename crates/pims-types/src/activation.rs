//! The values of the activation APIs (activation-apis.md): what an SMS code is for, whether the
//! account already has a PIN, whether it is blocked, and the CVS status of a CarKey. Each
//! serialises to exactly its wire text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::wire_enum::wire_enum;

wire_enum! {
    /// What an SMS code is requested for: the `type` of `get pims.authentication.smscode`.
    ///
    /// ```
    /// use pims_types::SmsPurpose;
    /// assert_eq!(SmsPurpose::ResetPin.as_str(), "resetPIN");
    /// assert_eq!(SmsPurpose::parse("phoneNumberCertification"), Some(SmsPurpose::PhoneNumberCertification));
    /// assert_eq!(serde_json::to_value(SmsPurpose::Enrollment).unwrap(), "enrollment");
    /// assert!(serde_json::from_value::<SmsPurpose>("resetPin".into()).is_err()); // exact spelling
    /// ```
    #[non_exhaustive]
    pub enum SmsPurpose {
        /// `phoneNumberCertification`: proves a phone number before it is registered
        /// (addPhoneNumber, modifyPhoneNumber, enrollWithPhoneNumber); needs `phoneNumber`.
        PhoneNumberCertification = "phoneNumberCertification",
        /// `enrollment`: sent to the trusted number, to enrol this device.
        Enrollment = "enrollment",
        /// `resetPIN`: sent to the trusted number, to reset the PIN.
        ResetPin = "resetPIN",
    }
}

wire_enum! {
    /// Whether the account already has a PIN: the `status` of `set pims.authentication.smscode`
    /// enrollment.
    ///
    /// ```
    /// use pims_types::EnrollmentStatus;
    /// assert_eq!(EnrollmentStatus::parse("AlreadyEnrolled"), Some(EnrollmentStatus::AlreadyEnrolled));
    /// assert_eq!(serde_json::to_value(EnrollmentStatus::NotEnrolled).unwrap(), "NotEnrolled");
    /// ```
    pub enum EnrollmentStatus {
        /// `NotEnrolled`: no PIN yet; the enrolment registers the one given.
        NotEnrolled = "NotEnrolled",
        /// `AlreadyEnrolled`: a PIN exists; the enrolment checks the one given.
        AlreadyEnrolled = "AlreadyEnrolled",
    }
}

wire_enum! {
    /// Whether the account is blocked: the `isAccountBlocked` of the account check.
    ///
    /// ```
    /// use pims_types::AccountBlocked;
    /// assert_eq!(AccountBlocked::PinBlocked.to_string(), "PinBlocked");
    /// assert_eq!(serde_json::from_value::<AccountBlocked>("NotBlocked".into()).unwrap(), AccountBlocked::NotBlocked);
    /// ```
    pub enum AccountBlocked {
        /// `Unknown`: the backend does not know.
        Unknown = "Unknown",
        /// `PinBlocked`: too many wrong PINs, or too many enrolled devices: remove all enrolments
        /// first.
        PinBlocked = "PinBlocked",
        /// `NotBlocked`: fine.
        NotBlocked = "NotBlocked",
    }
}

/// The CVS status of a CarKey: `cvsStatus` of `get pims.vehicle.carkey`.
///
/// A status this SDK does not know is kept as [`CvsStatus::Other`] when read, not refused: a
/// backend may add one. (The simulator's scenario documents accept only the four known ones.)
///
/// ```
/// use pims_types::CvsStatus;
/// assert_eq!(CvsStatus::parse("suspended"), CvsStatus::Suspended);
/// assert_eq!(CvsStatus::parse("revoked"), CvsStatus::Other("revoked".into()));
/// assert_eq!(serde_json::to_value(CvsStatus::Active).unwrap(), "active");
/// let read: CvsStatus = serde_json::from_value("revoked".into()).unwrap();
/// assert!(!read.is_known());
/// assert_eq!(read.as_str(), "revoked");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum CvsStatus {
    /// `unknown` (also what an answer without `cvsStatus` means).
    #[default]
    Unknown,
    /// `active`: with `isCarKeyVerified`, the step `mediumCarKey` is done.
    Active,
    /// `suspended` (see `maxReactivationDate`).
    Suspended,
    /// `disabled`.
    Disabled,
    /// A status this SDK does not know, as the backend spelled it.
    Other(String),
}

impl CvsStatus {
    /// The four statuses of the documentation.
    pub const KNOWN: [CvsStatus; 4] = [
        CvsStatus::Unknown,
        CvsStatus::Active,
        CvsStatus::Suspended,
        CvsStatus::Disabled,
    ];

    /// The wire texts of [`KNOWN`](CvsStatus::KNOWN), in the same order.
    pub const KNOWN_TEXTS: [&'static str; 4] = ["unknown", "active", "suspended", "disabled"];

    /// The wire text (an [`Other`](CvsStatus::Other) status as it was read).
    pub fn as_str(&self) -> &str {
        let [unknown, active, suspended, disabled] = CvsStatus::KNOWN_TEXTS;
        match self {
            CvsStatus::Unknown => unknown,
            CvsStatus::Active => active,
            CvsStatus::Suspended => suspended,
            CvsStatus::Disabled => disabled,
            CvsStatus::Other(s) => s,
        }
    }

    /// Reads the wire text: one of the four known statuses, else [`Other`](CvsStatus::Other).
    pub fn parse(s: &str) -> CvsStatus {
        CvsStatus::KNOWN
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or_else(|| CvsStatus::Other(s.to_owned()))
    }

    /// Whether it is one of the four documented statuses (not [`Other`](CvsStatus::Other)).
    pub fn is_known(&self) -> bool {
        !matches!(self, CvsStatus::Other(_))
    }
}

impl fmt::Display for CvsStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CvsStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CvsStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(CvsStatus::parse(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Every value with its exact wire text, both ways, through `as_str`/`parse` and serde.
    #[test]
    fn wire_texts_round_trip() {
        fn check<T>(value: T, wire: &str, as_str: fn(&T) -> String, parse: fn(&str) -> Option<T>)
        where
            T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
        {
            assert_eq!(as_str(&value), wire);
            assert_eq!(parse(wire).as_ref(), Some(&value));
            assert_eq!(serde_json::to_value(&value).unwrap(), json!(wire));
            assert_eq!(serde_json::from_value::<T>(json!(wire)).unwrap(), value);
        }
        let purposes = [
            (
                SmsPurpose::PhoneNumberCertification,
                "phoneNumberCertification",
            ),
            (SmsPurpose::Enrollment, "enrollment"),
            (SmsPurpose::ResetPin, "resetPIN"),
        ];
        assert_eq!(SmsPurpose::ALL.len(), purposes.len());
        for (v, w) in purposes {
            check(v, w, |v| v.as_str().into(), SmsPurpose::parse);
        }
        for (v, w) in [
            (EnrollmentStatus::NotEnrolled, "NotEnrolled"),
            (EnrollmentStatus::AlreadyEnrolled, "AlreadyEnrolled"),
        ] {
            check(v, w, |v| v.as_str().into(), EnrollmentStatus::parse);
        }
        for (v, w) in [
            (AccountBlocked::Unknown, "Unknown"),
            (AccountBlocked::PinBlocked, "PinBlocked"),
            (AccountBlocked::NotBlocked, "NotBlocked"),
        ] {
            check(v, w, |v| v.as_str().into(), AccountBlocked::parse);
        }
        assert_eq!(
            CvsStatus::KNOWN.map(|k| k.as_str().to_owned()),
            CvsStatus::KNOWN_TEXTS
        );
        for (v, w) in [
            (CvsStatus::Unknown, "unknown"),
            (CvsStatus::Active, "active"),
            (CvsStatus::Suspended, "suspended"),
            (CvsStatus::Disabled, "disabled"),
            (CvsStatus::Other("revoked".into()), "revoked"),
        ] {
            check(v, w, |v| v.as_str().into(), |s| Some(CvsStatus::parse(s)));
        }
    }

    #[test]
    fn closed_enums_refuse_other_spellings_by_name() {
        let e = serde_json::from_value::<AccountBlocked>(json!("pinBlocked")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown variant `pinBlocked`, expected one of `Unknown`, `PinBlocked`, `NotBlocked`"
        );
        assert!(serde_json::from_value::<SmsPurpose>(json!(1)).is_err());
        assert!(serde_json::from_value::<EnrollmentStatus>(Value::Null).is_err());
        assert_eq!(SmsPurpose::parse("Enrollment"), None);
    }
}
