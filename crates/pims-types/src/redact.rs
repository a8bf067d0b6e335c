//! Redaction: a wrapper for secrets, masking of identifiers, and a Debug view of JSON values that
//! never shows a secret.
//!
//! Secrets (PIN, OTP, SMS codes, tokens) must never reach logs, `Debug` output, errors or disk.
//! Phone numbers and VINs are shown masked (last 3 characters).

use std::fmt;

use serde_json::Value;

/// The placeholder printed instead of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// A secret string (PIN, OTP, SMS code, token). `Debug` prints a placeholder, there is no
/// `Display`, and the value is reached only through [`Secret::expose`].
///
/// ```
/// use pims_types::Secret;
/// let pin = Secret::new("1234");
/// assert_eq!(format!("{pin:?}"), "Secret([REDACTED])");
/// assert_eq!(pin.expose(), "1234");
///
/// // `Secret::new`
/// let token = pims_types::Secret::new(String::from("abc"));
/// assert_eq!(token.len(), 3);
/// // `Secret::expose`
/// assert_eq!(pims_types::Secret::new("x").expose(), "x");
/// // `Secret::len`
/// assert_eq!(pims_types::Secret::new("1234").len(), 4);
/// // `Secret::is_empty`
/// assert!(pims_types::Secret::new("").is_empty());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: call this only where it is sent to the backend.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its length in bytes (safe to log).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

/// Masks an identifier for logs: everything but the last 3 characters becomes `*`.
///
/// ```
/// assert_eq!(pims_types::mask("VR1AB12C3D4567890"), "**************890");
/// assert_eq!(pims_types::mask("12"), "**");
/// ```
pub fn mask(value: &str) -> String {
    let count = value.chars().count();
    if count <= 3 {
        return "*".repeat(count);
    }
    let keep: String = value.chars().skip(count - 3).collect();
    format!("{}{keep}", "*".repeat(count - 3))
}

/// Whether a parameter or result key holds a secret whose value must never be shown.
///
/// ```
/// assert!(pims_types::is_secret_key("pinCode"));
/// assert!(pims_types::is_secret_key("access_token"));
/// assert!(!pims_types::is_secret_key("stepsID"));
/// ```
pub fn is_secret_key(key: &str) -> bool {
    const SECRET_KEYS: &[&str] = &[
        "pincode",
        "oldpin",
        "newpin",
        "pin",
        "smscode",
        "otp",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "password",
        "credential",
        "securitycode",
        "authorization",
        "clientsecret",
    ];
    let len = spelling_len(key);
    SECRET_KEYS
        .iter()
        .any(|s| s.len() == len && is_spelling_of(key, s))
}

/// The length in bytes of `key` in one spelling (see [`is_spelling_of`]): spellings of another
/// length are not compared at all.
fn spelling_len(key: &str) -> usize {
    key.bytes().filter(|b| *b != b'_' && *b != b'-').count()
}

/// Whether `key` is `spelling` (lowercase ASCII) once in one spelling: lowercase, without `_`
/// and `-` (`pin_code`, `pinCode`, `PIN-CODE`). Compared byte by byte, without building the
/// normalised key: it runs for every parameter of every call (the transport's retry rule). A
/// non-ASCII character is bytes over 0x7F, which never equal an ASCII spelling's.
fn is_spelling_of(key: &str, spelling: &str) -> bool {
    key.bytes()
        .filter(|b| *b != b'_' && *b != b'-')
        .map(|b| b.to_ascii_lowercase())
        .eq(spelling.bytes())
}

/// Whether a key holds an identifier that is shown only masked (phone numbers, VINs).
///
/// ```
/// assert!(pims_types::is_masked_key("phoneNumber"));
/// assert!(pims_types::is_masked_key("vin"));
/// ```
pub fn is_masked_key(key: &str) -> bool {
    const MASKED_KEYS: &[&str] = &["phonenumber", "vin", "email"];
    let len = spelling_len(key);
    MASKED_KEYS
        .iter()
        .any(|s| s.len() == len && is_spelling_of(key, s))
}

/// `value` with every secret-valued key ([`is_secret_key`]) replaced by [`REDACTED`], at any
/// depth (a null stays null): what may be shown of an envelope a program reads (`pims --json`).
/// Identifiers are kept; [`redacted_masked`] masks them too.
///
/// ```
/// let v = serde_json::json!({"otp": "81726354", "list": [{"securityCode": "1"}], "vin": "VR1AB12C3D4567890"});
/// assert_eq!(pims_types::redacted(&v), serde_json::json!(
///     {"otp": "[REDACTED]", "list": [{"securityCode": "[REDACTED]"}], "vin": "VR1AB12C3D4567890"}));
/// ```
pub fn redacted(value: &Value) -> Value {
    walk(value, None, Identifiers::Kept)
}

/// [`redacted`], and every identifier ([`is_masked_key`]: phone numbers, VINs) masked with
/// [`mask`], strings in an array under such a key included: what a person or a log may see.
///
/// ```
/// let v = serde_json::json!({"phoneNumber": "+33612345678", "pinCode": "1234"});
/// assert_eq!(pims_types::redacted_masked(&v), serde_json::json!(
///     {"phoneNumber": "*********678", "pinCode": "[REDACTED]"}));
/// ```
pub fn redacted_masked(value: &Value) -> Value {
    walk(value, None, Identifiers::Masked)
}

/// Whether [`walk`] masks identifiers.
#[derive(Clone, Copy, PartialEq)]
enum Identifiers {
    Kept,
    Masked,
}

/// The one redaction walker: `key` is the key `value` is found under (array items inherit it,
/// so `{"vin": ["..."]}` is masked like `{"vin": "..."}`).
fn walk(value: &Value, key: Option<&str>, identifiers: Identifiers) -> Value {
    if let Some(k) = key {
        if is_secret_key(k) && !value.is_null() {
            return Value::String(REDACTED.to_owned());
        }
        if identifiers == Identifiers::Masked
            && is_masked_key(k)
            && let Value::String(s) = value
        {
            return Value::String(mask(s));
        }
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), walk(v, Some(k), identifiers)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| walk(v, key, identifiers)).collect())
        }
        other => other.clone(),
    }
}

/// A `Debug` view of a JSON value with secret values replaced by [`REDACTED`] and identifiers
/// masked, at any depth ([`redacted_masked`]).
///
/// ```
/// let v = serde_json::json!({"pinCode": "1234", "stepsID": "7"});
/// let shown = format!("{:?}", pims_types::RedactedJson(&v));
/// assert!(!shown.contains("1234"));
/// assert!(shown.contains("\"stepsID\": \"7\""));
/// ```
pub struct RedactedJson<'a>(pub &'a Value);

impl fmt::Debug for RedactedJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_json(f, &redacted_masked(self.0))
    }
}

/// A JSON value in a readable Debug form: `{"k": "v", "n": [1, 2]}`.
fn write_json(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::Object(map) => {
            f.write_str("{")?;
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k:?}: ")?;
                write_json(f, v)?;
            }
            f.write_str("}")
        }
        Value::Array(items) => {
            f.write_str("[")?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_json(f, v)?;
            }
            f.write_str("]")
        }
        Value::String(s) => write!(f, "{s:?}"),
        other => write!(f, "{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_secrets_are_hidden() {
        let v = json!({"a": {"otp": "CANARY1"}, "list": [{"smsCode": "CANARY2"}], "token": ["CANARY3"],
                       "phoneNumber": "+33612345678"});
        let shown = format!("{:?}", RedactedJson(&v));
        for canary in ["CANARY1", "CANARY2", "CANARY3", "+3361234"] {
            assert!(!shown.contains(canary), "{canary} in {shown}");
        }
        assert!(shown.contains("678"));
    }

    /// The spelling rule as it was first written (a normalised copy of the key), the reference
    /// the allocation-free comparison must agree with.
    fn normalised(key: &str) -> String {
        key.chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn spellings_compare_like_the_normalised_copy(
            key in "(?i)[a-z_\\-é\u{130}K]{0,16}|(?i)(pin_?code|access-token|o_t_p|VIN|phone_Number)",
            spelling in "pincode|accesstoken|otp|vin|phonenumber|pin|[a-z]{0,6}",
        ) {
            proptest::prop_assert_eq!(is_spelling_of(&key, &spelling), normalised(&key) == spelling);
            proptest::prop_assert_eq!(spelling_len(&key), normalised(&key).len());
        }
    }

    #[test]
    fn spellings_of_secret_and_masked_keys() {
        for key in [
            "pinCode",
            "PIN_CODE",
            "pin-code",
            "Otp",
            "ACCESS_TOKEN",
            "client-Secret",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "pinCodes", "pin code", "pínCode", "stepsID", "", "_", "tokens",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
        assert!(is_masked_key("PHONE_number") && is_masked_key("e-mail"));
        assert!(!is_masked_key("vins"));
    }

    #[test]
    fn one_walker_for_values_and_debug() {
        let v = json!({"a": {"otp": "CANARY1", "n": null}, "list": [{"smsCode": 1234}],
                       "token": ["CANARY3"], "pinCode": null,
                       "phoneNumber": "+33612345678", "vin": ["VR1AB12C3D4567890", 5]});
        assert_eq!(
            redacted(&v),
            json!({"a": {"otp": REDACTED, "n": null}, "list": [{"smsCode": REDACTED}],
                   "token": REDACTED, "pinCode": null,
                   "phoneNumber": "+33612345678", "vin": ["VR1AB12C3D4567890", 5]})
        );
        let masked = redacted_masked(&v);
        assert_eq!(masked["phoneNumber"], "*********678");
        assert_eq!(masked["vin"], json!(["**************890", 5]));
        assert_eq!(
            format!("{:?}", RedactedJson(&v)),
            r#"{"a": {"otp": "[REDACTED]", "n": null}, "list": [{"smsCode": "[REDACTED]"}], "token": "[REDACTED]", "pinCode": null, "phoneNumber": "*********678", "vin": ["**************890", 5]}"#
        );
    }

    #[test]
    fn mask_handles_multibyte() {
        assert_eq!(mask("ééééé"), "**ééé");
        assert_eq!(mask(""), "");
    }
}
