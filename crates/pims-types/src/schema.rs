//! JSON Schemas (2020-12, as OpenAPI 3.1 uses) of what each API takes and gives, built from
//! the tables the getters read: the parameter [`keys`] and their aliases, the operations'
//! wire texts ([`Operation`]), the format rules ([`PIN_DIGITS`], [`SMS_CODE_DIGITS`],
//! [`is_phone_number`](crate::is_phone_number), [`Vin`](crate::Vin)), so that a document
//! written from them cannot say one thing while the decoding does another.
//!
//! The schemas say exactly what [`Parameters`](crate::Parameters) accepts, leniencies
//! included: a `null` parameter counts as absent, a key is read before its aliases, a PIN or
//! an SMS code may be an integer, a boolean may be the string `"true"`. Strings are measured
//! in UTF-8 bytes by the decoding and in characters by JSON Schema: the two agree on ASCII,
//! which is what the length limits are written for.
//!
//! Only with the `schema` feature (which also gives the wire enums a
//! [`schemars::JsonSchema`] implementation).
//!
//! ```
//! let calls = pims_types::schema::calls();
//! assert!(calls.iter().any(|c| c.names.contains(&"pims.vehicle.steps")));
//! ```

use std::ops::RangeInclusive;

use serde_json::{Map, Value, json};

use crate::activation::{AccountBlocked, EnrollmentStatus, SmsPurpose};
use crate::api::{Api, Verb, names};
use crate::formats::{PIN_DIGITS, SMS_CODE_DIGITS};
use crate::keys;
use crate::operations::{
    AccountCheck, ActionType, EnrollmentAction, Operation, OtpAction, PinCodeAction, SmsCodeAction,
};
use crate::params::MAX_IDENTIFIER_LEN;

/// The pattern of a VIN: 17 characters of `A-H`, `J-N`, `P`, `R-Z`, `0-9`.
pub const VIN_PATTERN: &str = "^[A-HJ-NPR-Z0-9]{17}$";

/// The pattern of a phone number in E.164 form: `+`, a first digit that is not 0, 8 to 15
/// digits in all.
pub const PHONE_NUMBER_PATTERN: &str = "^\\+[1-9][0-9]{7,14}$";

/// The pattern of a transaction id: 1 to 64 printable ASCII characters.
pub const TRANSACTION_ID_PATTERN: &str = "^[!-~]{1,64}$";

/// One API and verb: the names it is called by, its parameters and its result.
#[derive(Debug, Clone)]
pub struct CallSchema {
    /// The API.
    pub api: Api,
    /// The verb.
    pub verb: Verb,
    /// The names the API is called by (the canonical one first, then the documented aliases).
    pub names: Vec<&'static str>,
    /// What it does, in a sentence.
    pub summary: &'static str,
    /// The schema of `parameters`.
    pub parameters: Value,
    /// The schema of a SUCCEEDED `result`.
    pub result: Value,
    /// Whether `parameters` may be left out (or null): the API reads none it requires.
    pub parameters_optional: bool,
}

/// Every supported API and verb, in [`Api::ALL`] order.
///
/// ```
/// use pims_types::{Api, Verb};
/// let calls = pims_types::schema::calls();
/// for api in Api::ALL {
///     for verb in [Verb::Get, Verb::Set, Verb::Subscribe, Verb::Unsubscribe] {
///         let described = calls.iter().any(|c| c.api == api && c.verb == verb);
///         assert_eq!(described, api.supports(verb), "{api} {verb}");
///     }
/// }
/// ```
pub fn calls() -> Vec<CallSchema> {
    let mut out = Vec::new();
    for api in Api::ALL {
        for verb in [Verb::Get, Verb::Set] {
            if !api.supports(verb) {
                continue;
            }
            let (summary, parameters, result) = describe(api, verb);
            let mut names = vec![api.name()];
            if api == Api::SubscriptionSteps {
                names.push(names::VEHICLE_STEPS_ALIAS);
            }
            out.push(CallSchema {
                api,
                verb,
                names,
                summary,
                parameters: with_formats(parameters),
                result,
                parameters_optional: matches!(api, Api::TrustedPhoneNumber | Api::CarKey),
            });
        }
    }
    out
}

/// The schema of a string enum from its wire texts.
///
/// ```
/// let s = pims_types::schema::string_enum(["a", "b"]);
/// assert_eq!(s, serde_json::json!({"type": "string", "enum": ["a", "b"]}));
/// ```
pub fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    json!({"type": "string", "enum": values.into_iter().collect::<Vec<_>>()})
}

fn wire<O: Operation>(all: &[O]) -> Value {
    string_enum(all.iter().map(|o| o.as_str()))
}

/// A string of digits, or a non-negative integer with as many digits.
fn digits(range: &RangeInclusive<usize>) -> Value {
    let (lo, hi) = (*range.start(), *range.end());
    let min = 10u64.saturating_pow(u32::try_from(lo.saturating_sub(1)).unwrap_or(u32::MAX));
    let max = 10u64
        .saturating_pow(u32::try_from(hi).unwrap_or(u32::MAX))
        .saturating_sub(1);
    json!({"anyOf": [
        {"type": "string", "pattern": format!("^[0-9]{{{lo},{hi}}}$")},
        {"type": "integer", "minimum": min, "maximum": max},
    ]})
}

/// The schema of a PIN parameter.
///
/// ```
/// let pin = pims_types::schema::pin();
/// assert_eq!(pin["anyOf"][0]["pattern"], "^[0-9]{4,8}$");
/// ```
pub fn pin() -> Value {
    digits(&PIN_DIGITS)
}

fn sms_code() -> Value {
    digits(&SMS_CODE_DIGITS)
}

fn phone_number() -> Value {
    json!({"type": "string", "pattern": PHONE_NUMBER_PATTERN})
}

fn vin() -> Value {
    json!({"type": "string", "pattern": VIN_PATTERN})
}

/// An identifier: 1 to 64 characters, no whitespace nor control character, or a
/// non-negative integer.
fn identifier() -> Value {
    json!({"anyOf": [
        {"type": "string", "minLength": 1, "maxLength": MAX_IDENTIFIER_LEN,
         "pattern": "^[^\\s\\x00-\\x1f\\x7f-\\x9f]+$"},
        {"type": "integer", "minimum": 0},
    ]})
}

/// A boolean, or its spelling as a string.
fn boolean() -> Value {
    json!({"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]})
}

fn null_schema() -> Value {
    json!({"type": "null"})
}

fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, null_schema()]})
}

fn object(properties: Vec<(&str, Value)>, required: &[&str]) -> Value {
    let mut props = Map::new();
    for (k, v) in properties {
        props.insert(k.to_owned(), v);
    }
    let mut o = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

/// The value read under `name` or, when it is absent or null, under the first alias that is
/// not: present and valid.
fn present(name: &str, aliases: &[&str], value: &Value) -> Value {
    let keys: Vec<&str> = std::iter::once(name)
        .chain(aliases.iter().copied())
        .collect();
    let branches: Vec<Value> = (0..keys.len())
        .map(|i| {
            let mut props: Vec<(&str, Value)> =
                keys[..i].iter().map(|k| (*k, null_schema())).collect();
            props.push((keys[i], value.clone()));
            object(props, &[keys[i]])
        })
        .collect();
    if branches.len() == 1 {
        branches.into_iter().next().unwrap_or_default()
    } else {
        json!({"anyOf": branches})
    }
}

/// Absent (every key absent or null), or present and valid.
fn optional(name: &str, aliases: &[&str], value: &Value) -> Value {
    let absent = object(
        std::iter::once(name)
            .chain(aliases.iter().copied())
            .map(|k| (k, null_schema()))
            .collect(),
        &[],
    );
    json!({"anyOf": [absent, present(name, aliases, value)]})
}

fn absent(keys_: &[&str]) -> Value {
    object(keys_.iter().map(|k| (*k, null_schema())).collect(), &[])
}

fn all_of(parts: Vec<Value>) -> Value {
    json!({"allOf": parts})
}

/// The operation picked by `O`'s key (or an alias), being `op`.
fn operation<O: Operation>(op: O) -> Value {
    present(O::KEY, O::ALIASES, &json!({"const": op.as_str()}))
}

/// Every API checks the formatted parameters present, whatever it reads
/// ([`Parameters::check_formats`](crate::Parameters::check_formats)); other parameters are
/// ignored unless the API reads them.
fn with_formats(parameters: Value) -> Value {
    let formats = object(
        vec![
            (keys::PIN_CODE, nullable(pin())),
            (keys::OLD_PIN, nullable(pin())),
            (keys::NEW_PIN, nullable(pin())),
            (keys::SMS_CODE, nullable(sms_code())),
            (keys::PHONE_NUMBER, nullable(phone_number())),
            (keys::VIN, nullable(vin())),
        ],
        &[],
    );
    all_of(vec![formats, parameters])
}

fn any_object() -> Value {
    json!({"type": "object"})
}

fn step() -> Value {
    json!({"type": "object", "required": ["name", "status", "order"], "properties": {
        "name": {"type": "string"},
        "status": {"enum": ["todo", "alreadyDone"]},
        "order": {"type": "integer", "minimum": 0}}})
}

fn steps_id() -> Value {
    json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "minLength": 1}]})
}

fn describe(api: Api, verb: Verb) -> (&'static str, Value, Value) {
    let result_of = |props: Vec<(&str, Value)>, required: &[&str]| object(props, required);
    match (api, verb) {
        (Api::SubscriptionSteps, _) => {
            let selector = json!({"oneOf": [
                all_of(vec![present(keys::CAR_ASSOCIATION_ID, &[], &identifier()),
                    absent(&[keys::STEPS_ID, keys::STEPS_ID_ALIASES[0], keys::VIN])]),
                all_of(vec![present(keys::STEPS_ID, keys::STEPS_ID_ALIASES, &identifier()),
                    absent(&[keys::CAR_ASSOCIATION_ID, keys::VIN])]),
                all_of(vec![present(keys::VIN, &[], &vin()),
                    absent(&[keys::CAR_ASSOCIATION_ID, keys::STEPS_ID, keys::STEPS_ID_ALIASES[0]])]),
            ]});
            let params = all_of(vec![
                selector,
                optional(keys::RESET_STEPS, keys::RESET_STEPS_ALIASES, &boolean()),
                optional(
                    keys::STEPS_STATUS,
                    keys::STEPS_STATUS_ALIASES,
                    &string_enum(["all", "todo", "alreadyDone"]),
                ),
            ]);
            let result = json!({"type": "object", "required": ["stepsID"],
                "properties": {"stepsID": steps_id()},
                "additionalProperties": step()});
            (
                "The steps of a car association for this device: by carAssociationID (issues a \
                 stepsID), by stepsID, or by vin; exactly one of the three",
                params,
                result,
            )
        }
        (Api::SubscriptionStep, _) => (
            "The next step to do of a step list (null when none is left)",
            present(keys::STEPS_ID, keys::STEPS_ID_ALIASES, &identifier()),
            json!({"anyOf": [null_schema(), {"type": "object", "minProperties": 1,
                "maxProperties": 1, "additionalProperties": step()}]}),
        ),
        (Api::SubscriptionServices, _) => (
            "The connected services of a vehicle",
            present(keys::VIN, &[], &vin()),
            result_of(
                vec![(
                    "services",
                    json!({"type": "array", "items": {"type": "object",
                    "required": ["code", "name"], "properties": {
                        "code": {"type": "string"}, "name": {"type": "string"}}}}),
                )],
                &["services"],
            ),
        ),
        (Api::TrustedPhoneNumber, _) => (
            "The account's trusted phone number",
            any_object(),
            result_of(
                vec![(keys::PHONE_NUMBER, phone_number())],
                &[keys::PHONE_NUMBER],
            ),
        ),
        (Api::SmsCode, Verb::Get) => {
            let certification = all_of(vec![
                operation(SmsPurpose::PhoneNumberCertification),
                present(keys::PHONE_NUMBER, &[], &phone_number()),
            ]);
            let to_trusted: Vec<Value> = SmsPurpose::ALL
                .iter()
                .filter(|p| **p != SmsPurpose::PhoneNumberCertification)
                .map(|p| operation(*p))
                .collect();
            let mut branches = vec![certification];
            branches.extend(to_trusted);
            (
                "Send an SMS code: to phoneNumber (phoneNumberCertification), or to the trusted \
                 phone number (enrollment, resetPIN)",
                json!({"anyOf": branches}),
                null_schema(),
            )
        }
        (Api::SmsCode, _) => {
            let branches: Vec<Value> = SmsCodeAction::ALL
                .iter()
                .map(|a| {
                    let mut parts = vec![operation(*a), present(keys::SMS_CODE, &[], &sms_code())];
                    if *a != SmsCodeAction::Enrollment {
                        parts.push(present(keys::PHONE_NUMBER, &[], &phone_number()));
                    }
                    all_of(parts)
                })
                .collect();
            (
                "Check an SMS code: register (addPhoneNumber) or replace (modifyPhoneNumber) \
                 the trusted phone number, or check an enrolment code (enrollment: answers \
                 status)",
                json!({"anyOf": branches}),
                nullable(result_of(
                    vec![(keys::STATUS, wire_enrollment_status())],
                    &[keys::STATUS],
                )),
            )
        }
        (Api::Account, _) => (
            "Check the account: isDeviceActivated or isAccountBlocked (actionType strong)",
            all_of(vec![
                present(ActionType::KEY, ActionType::ALIASES, &wire(ActionType::ALL)),
                present(
                    AccountCheck::KEY,
                    AccountCheck::ALIASES,
                    &wire(AccountCheck::ALL),
                ),
            ]),
            json!({"oneOf": [
                result_of(vec![(keys::IS_DEVICE_ACTIVATED, json!({"type": "boolean"}))],
                    &[keys::IS_DEVICE_ACTIVATED]),
                result_of(vec![(keys::IS_ACCOUNT_BLOCKED,
                    string_enum(AccountBlocked::ALL.iter().map(|b| b.as_str())))],
                    &[keys::IS_ACCOUNT_BLOCKED]),
            ]}),
        ),
        (Api::Enrollment, _) => {
            let branches: Vec<Value> = EnrollmentAction::ALL
                .iter()
                .map(|a| {
                    let mut parts = vec![operation(*a)];
                    if *a != EnrollmentAction::Remove {
                        parts.push(present(keys::PIN_CODE, &[], &pin()));
                        parts.push(present(keys::SMS_CODE, &[], &sms_code()));
                    }
                    if *a == EnrollmentAction::EnrollWithPhoneNumber {
                        parts.push(present(keys::PHONE_NUMBER, &[], &phone_number()));
                    }
                    all_of(parts)
                })
                .collect();
            (
                "Enrol this device (enroll, enrollWithPhoneNumber) or remove every enrolment of \
                 the account (remove)",
                json!({"anyOf": branches}),
                null_schema(),
            )
        }
        (Api::PinCode, _) => (
            "Reset the PIN with a resetPIN SMS code (reset), or change it (update)",
            json!({"anyOf": [
                all_of(vec![operation(PinCodeAction::Reset),
                    present(keys::PIN_CODE, &[], &pin()),
                    present(keys::SMS_CODE, &[], &sms_code())]),
                all_of(vec![operation(PinCodeAction::Update),
                    present(keys::OLD_PIN, &[], &pin()),
                    present(keys::NEW_PIN, &[], &pin())]),
            ]}),
            null_schema(),
        ),
        (Api::Otp, _) => (
            "A one-time password, with the PIN (withPIN) or without (withoutPIN)",
            json!({"anyOf": [
                all_of(vec![operation(OtpAction::WithPin), present(keys::PIN_CODE, &[], &pin())]),
                operation(OtpAction::WithoutPin),
            ]}),
            result_of(
                vec![(keys::OTP, json!({"type": "string", "pattern": "^[0-9]+$"}))],
                &[keys::OTP],
            ),
        ),
        (Api::VehicleVin, _) => (
            "Select the vehicle of the next vehicle calls of this device",
            present(keys::VIN, &[], &vin()),
            null_schema(),
        ),
        (Api::CarKey, Verb::Get) => (
            "The CarKey status of a vehicle (vin, or the selected vehicle)",
            optional(keys::VIN, &[], &vin()),
            result_of(
                vec![
                    (keys::IS_CAR_KEY_VERIFIED, json!({"type": "boolean"})),
                    (keys::CVS_STATUS, json!({"type": "string"})),
                    (
                        keys::MAX_REACTIVATION_DATE,
                        json!({"type": "string", "format": "date-time"}),
                    ),
                ],
                &[keys::IS_CAR_KEY_VERIFIED, keys::CVS_STATUS],
            ),
        ),
        (Api::CarKey, _) => (
            "Activate the CarKey of a vehicle paired with this device (vin, or the selected \
             vehicle)",
            optional(keys::VIN, &[], &vin()),
            result_of(
                vec![
                    (keys::HAS_CAR_KEY, json!({"type": "boolean"})),
                    (keys::VIN, vin()),
                    (
                        keys::SECURITY_CODE,
                        json!({"type": "string", "pattern": "^[0-9]+$"}),
                    ),
                    (
                        keys::SECURITY_EXPIRATION,
                        json!({"type": "string", "format": "date-time"}),
                    ),
                ],
                &[keys::HAS_CAR_KEY],
            ),
        ),
    }
}

fn wire_enrollment_status() -> Value {
    string_enum(EnrollmentStatus::ALL.iter().map(|s| s.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_bounds_follow_the_ranges() {
        let pin = pin();
        assert_eq!(pin["anyOf"][1]["minimum"], 1000);
        assert_eq!(pin["anyOf"][1]["maximum"], 99_999_999);
        let sms = sms_code();
        assert_eq!(sms["anyOf"][1]["maximum"], 9_999_999_999u64);
    }

    #[test]
    fn a_key_is_read_before_its_aliases() {
        let p = present("action", &["type"], &json!({"const": "x"}));
        assert_eq!(
            p["anyOf"][1]["properties"]["action"],
            json!({"type": "null"})
        );
        assert_eq!(p["anyOf"][1]["required"], json!(["type"]));
    }
}
