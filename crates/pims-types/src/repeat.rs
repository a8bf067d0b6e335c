//! Whether a call may be sent again: a property of the call (API + discriminating parameter),
//! not of its verb. `get pims.authentication.otp` counts a PIN attempt and `get
//! pims.authentication.smscode` sends an SMS, so "a get is safe to repeat" is false here. The one
//! table below is read by the transport (retries) and the facade (idempotency keys, recoveries);
//! docs/protocol.md lists it, and a test keeps the two in step.

use serde_json::Value;

use crate::api::{Api, Verb};
use crate::keys;
use crate::operations::AccountCheck;
use crate::params::Parameters;
use crate::redact::is_secret_key;

/// A call that only reads, so repeating it after a failure that may have reached the backend
/// changes nothing: one row of [`PURE_READS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PureRead {
    /// The verb.
    pub verb: Verb,
    /// The API.
    pub api: Api,
    /// The discriminating parameter and the values that make the call a pure read; `None`: any
    /// call of this API and verb.
    pub only_when: Option<(&'static str, &'static [&'static str])>,
}

/// Every pure read, and nothing else: a call not matched here is sent at most once.
///
/// ```
/// use pims_types::{Api, PURE_READS};
/// assert!(PURE_READS.iter().any(|r| r.api == Api::SubscriptionSteps));
/// assert!(!PURE_READS.iter().any(|r| r.api == Api::Otp || r.api == Api::SmsCode));
/// ```
pub const PURE_READS: [PureRead; 6] = [
    read(Api::SubscriptionSteps, None),
    read(Api::SubscriptionStep, None),
    read(Api::SubscriptionServices, None),
    read(
        Api::Account,
        Some((
            keys::TYPE,
            &[
                AccountCheck::IsDeviceActivated.as_str(),
                AccountCheck::IsAccountBlocked.as_str(),
            ],
        )),
    ),
    read(Api::TrustedPhoneNumber, None),
    read(Api::CarKey, None),
];

const fn read(api: Api, only_when: Option<(&'static str, &'static [&'static str])>) -> PureRead {
    PureRead {
        verb: Verb::Get,
        api,
        only_when,
    }
}

/// How often a call may reach the backend.
///
/// ```
/// use pims_types::{Parameters, Repeat, Verb};
/// let steps = Parameters::new().with("carAssociationID", "987654");
/// assert_eq!(Repeat::of(Verb::Get, "pims.subscription.steps", &steps), Repeat::PureRead);
///
/// let otp = Parameters::new().with("action", "withPIN").with("pinCode", "1234");
/// let rule = Repeat::of(Verb::Get, "pims.authentication.otp", &otp);
/// assert_eq!(rule, Repeat::AtMostOnce);
/// assert!(rule.needs_idempotency_key());
///
/// // `Repeat::of`
/// {
///     use pims_types::{Parameters, Repeat, Verb};
///     let blocked = Parameters::new().with("actionType", "strong").with("type", "isAccountBlocked");
///     assert_eq!(Repeat::of(Verb::Get, "pims.authentication.account", &blocked), Repeat::PureRead);
///     assert_eq!(Repeat::of(Verb::Get, "pims.unknown", &Parameters::new()), Repeat::AtMostOnce);
/// }
/// // `Repeat::is_pure_read`
/// assert!(pims_types::Repeat::PureRead.is_pure_read());
/// // `Repeat::needs_idempotency_key`
/// assert!(!pims_types::Repeat::PureRead.needs_idempotency_key());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Repeat {
    /// A pure read: retried after a failure with capped backoff, within the call's deadline.
    PureRead,
    /// A call carrying a secret, with a side effect, or not known to be a pure read: sent at
    /// most once, unless the request provably never left (connection refused, DNS failure).
    AtMostOnce,
}

impl Repeat {
    /// The rule of one call. `api` may be any name (documented aliases included); an API or
    /// an operation this table does not know is [`Repeat::AtMostOnce`]: unknown means not
    /// retried.
    pub fn of(verb: Verb, api: &str, params: &Parameters) -> Repeat {
        let Some(api) = Api::parse(api) else {
            return Repeat::AtMostOnce;
        };
        let pure = PURE_READS.iter().any(|row| {
            row.verb == verb
                && row.api == api
                && row.only_when.is_none_or(|(key, values)| {
                    matches!(params.get(key), Some(Value::String(v)) if values.contains(&v.as_str()))
                })
        });
        if pure && !carries_secret(params) {
            Repeat::PureRead
        } else {
            Repeat::AtMostOnce
        }
    }

    /// Whether the call may be sent again after a failure that may have reached the backend.
    pub fn is_pure_read(self) -> bool {
        self == Repeat::PureRead
    }

    /// Whether the call carries an `Idempotency-Key`: every call that is not a pure read, so a
    /// backend can answer a resend the app makes without doing the work twice.
    pub fn needs_idempotency_key(self) -> bool {
        !self.is_pure_read()
    }
}

/// Whether any parameter holds a secret (a PIN, an OTP, an SMS code, a token): such a call is
/// never sent twice for one user action, by a retry or by a recovery.
///
/// ```
/// use pims_types::{Parameters, carries_secret};
/// assert!(carries_secret(&Parameters::new().with("smsCode", "123456")));
/// assert!(!carries_secret(&Parameters::new().with("vin", "VR1AB12C3D4567890")));
/// ```
pub fn carries_secret(params: &Parameters) -> bool {
    params.as_map().keys().any(|k| is_secret_key(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verb: Verb, api: &str, params: &[(&str, &str)]) -> Repeat {
        let p = params
            .iter()
            .fold(Parameters::new(), |p, (k, v)| p.with(*k, *v));
        Repeat::of(verb, api, &p)
    }

    #[test]
    fn every_activation_call_with_an_effect_or_a_secret_is_sent_once() {
        use Verb::{Get, Set};
        let once = [
            (
                Get,
                "pims.authentication.smscode",
                vec![("type", "enrollment")],
            ),
            (
                Get,
                "pims.authentication.smscode",
                vec![("type", "resetPIN")],
            ),
            (
                Get,
                "pims.authentication.smscode",
                vec![
                    ("type", "phoneNumberCertification"),
                    ("phoneNumber", "+33612345678"),
                ],
            ),
            (
                Set,
                "pims.authentication.smscode",
                vec![("action", "enrollment"), ("smsCode", "123456")],
            ),
            (
                Get,
                "pims.authentication.otp",
                vec![("action", "withPIN"), ("pinCode", "1234")],
            ),
            (
                Get,
                "pims.authentication.otp",
                vec![("action", "withoutPIN")],
            ),
            (
                Set,
                "pims.authentication.enrollment",
                vec![("action", "remove")],
            ),
            (
                Set,
                "pims.authentication.pincode",
                vec![("action", "update")],
            ),
            (Set, "pims.vehicle.vin", vec![("vin", "VR1AB12C3D4567890")]),
            (Set, "pims.vehicle.carkey", vec![]),
            // Not in the table: an unknown operation of a known API, an unknown API.
            (
                Get,
                "pims.authentication.account",
                vec![("type", "somethingNew")],
            ),
            (Get, "pims.authentication.account", vec![]),
            (Get, "pims.vehicle.informations", vec![]),
            // A pure read that carries a secret anyway is not repeated either.
            (Get, "pims.subscription.steps", vec![("pinCode", "1234")]),
        ];
        for (verb, api, params) in once {
            assert_eq!(
                rule(verb, api, &params),
                Repeat::AtMostOnce,
                "{verb} {api} {params:?}"
            );
        }
    }

    #[test]
    fn the_pure_reads_are_repeatable() {
        use Verb::Get;
        let reads = [
            ("pims.subscription.steps", vec![("carAssociationID", "1")]),
            ("pims.vehicle.steps", vec![("stepsID", "1")]),
            ("pims.subscription.step", vec![("stepsID", "1")]),
            (
                "pims.subscription.services",
                vec![("vin", "VR1AB12C3D4567890")],
            ),
            ("pims.authentication.trustedphonenumber", vec![]),
            (
                "pims.authentication.account",
                vec![("actionType", "strong"), ("type", "isDeviceActivated")],
            ),
            (
                "pims.authentication.account",
                vec![("type", "isAccountBlocked")],
            ),
            ("pims.vehicle.carkey", vec![]),
        ];
        for (api, params) in reads {
            assert_eq!(
                rule(Get, api, &params),
                Repeat::PureRead,
                "{api} {params:?}"
            );
        }
        // The same APIs with another verb are not reads.
        assert_eq!(
            rule(Verb::Set, "pims.vehicle.carkey", &[]),
            Repeat::AtMostOnce
        );
    }

    #[test]
    fn the_protocol_guide_lists_exactly_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
        let guide = std::fs::read_to_string(path).expect("docs/protocol.md");
        let start = guide.find("<!-- pure-reads").expect("the pure-reads table");
        let end = guide.find("<!-- /pure-reads -->").expect("its end marker");
        let rows: Vec<&str> = guide[start..end]
            .lines()
            .filter(|l| l.starts_with("| get") || l.starts_with("| set"))
            .collect();
        assert_eq!(rows.len(), PURE_READS.len(), "{rows:#?}");
        for (row, read) in rows.iter().zip(PURE_READS) {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert_eq!(cells[1], read.verb.as_str(), "{row}");
            assert!(
                cells[2].starts_with(&format!("`{}`", read.api.name())),
                "{row}"
            );
            match read.only_when {
                None => assert_eq!(cells[3], "", "{row}"),
                Some((key, values)) => {
                    assert!(cells[3].starts_with(&format!("`{key}`")), "{row}");
                    for v in values {
                        assert!(cells[3].contains(&format!("`{v}`")), "{row}");
                    }
                }
            }
        }
    }
}
