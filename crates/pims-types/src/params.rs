//! `Parameters`: the dynamic dictionary apps pass with each call, with typed getters that give
//! the SDK's 2101/2102 errors naming the parameter.
//!
//! A JSON `null` counts as absent (apps' dictionaries often carry nil for "not given").

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::redact::{RedactedJson, Secret};

/// The longest string a getter accepts (bigger ones are refused with 2102, never copied around).
pub const MAX_STRING_LEN: usize = 1024;

/// The longest identifier (carAssociationID, stepsID) a getter accepts.
pub const MAX_IDENTIFIER_LEN: usize = 64;

/// A parameter dictionary. `Debug` never shows secret values (PIN, SMS code, OTP, tokens).
///
/// ```
/// use pims_types::Parameters;
/// let p = Parameters::from_value(serde_json::json!({"stepsID": 132324, "resetSteps": "false"})).unwrap();
/// assert_eq!(p.identifier("stepsID", &[]).unwrap().as_deref(), Some("132324"));
/// assert_eq!(p.boolean("resetSteps", &[]).unwrap(), Some(false));
///
/// // `Parameters::new`
/// assert!(pims_types::Parameters::new().is_empty());
/// // `Parameters::from_value`
/// assert!(pims_types::Parameters::from_value(serde_json::json!([1])).is_err());
/// // `Parameters::with`
/// let p = pims_types::Parameters::new().with("vin", "VR1AB12C3D4567890");
/// assert!(p.contains("vin"));
/// // `Parameters::insert`
/// let mut p = pims_types::Parameters::new();
/// p.insert("stepsStatus", "todo");
/// assert_eq!(p.len(), 1);
/// // `Parameters::with_secret`
/// let p = pims_types::Parameters::new().with_secret("pinCode", &pims_types::Secret::new("1234"));
/// assert!(!format!("{p:?}").contains("1234"));
/// // `Parameters::get`
/// let p = pims_types::Parameters::new().with("a", serde_json::Value::Null);
/// assert!(p.get("a").is_none());
/// // `Parameters::contains`
/// assert!(!pims_types::Parameters::new().contains("vin"));
/// // `Parameters::lookup`
/// let p = pims_types::Parameters::new().with("stepsId", "1");
/// assert_eq!(p.lookup("stepsID", &["stepsId"]).map(|(k, _)| k), Some("stepsId"));
/// // `Parameters::len`
/// assert_eq!(pims_types::Parameters::new().len(), 0);
/// // `Parameters::is_empty`
/// assert!(pims_types::Parameters::default().is_empty());
/// // `Parameters::as_map`
/// assert!(pims_types::Parameters::new().as_map().is_empty());
/// // `Parameters::to_value`
/// assert!(pims_types::Parameters::new().to_value().is_object());
/// // `Parameters::string`
/// let p = pims_types::Parameters::new().with("type", 5);
/// assert_eq!(p.string("type", &[]).unwrap_err().to_string(), "Invalid type parameter");
/// // `Parameters::required_string`
/// let p = pims_types::Parameters::new();
/// assert_eq!(p.required_string("action", &[]).unwrap_err().to_string(), "Missing action parameter");
/// // `Parameters::identifier`
/// let p = pims_types::Parameters::new().with("carAssociationID", 987654);
/// assert_eq!(p.identifier("carAssociationID", &[]).unwrap().as_deref(), Some("987654"));
/// // `Parameters::boolean`
/// let p = pims_types::Parameters::new().with("resetSteps", "yes");
/// assert!(p.boolean("resetSteps", &[]).is_err());
/// // `Parameters::digits`
/// let p = pims_types::Parameters::new().with("pinCode", 1234);
/// assert_eq!(p.digits("pinCode", &[]).unwrap().unwrap().expose(), "1234");
/// let bad = pims_types::Parameters::new().with("pinCode", "12a4");
/// assert_eq!(bad.digits("pinCode", &[]).unwrap_err().to_string(), "Invalid pinCode parameter");
/// // `Parameters::secret`
/// let p = pims_types::Parameters::new().with("credential", "tok");
/// assert_eq!(p.secret("credential", &[]).unwrap().unwrap().expose(), "tok");
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Parameters(Map<String, Value>);

impl Parameters {
    /// An empty dictionary.
    pub fn new() -> Self {
        Parameters(Map::new())
    }

    /// A dictionary from a JSON value, which must be an object (or null, read as empty).
    pub fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Object(map) => Ok(Parameters(map)),
            Value::Null => Ok(Parameters::new()),
            _ => Err(Error::invalid("parameters", "expected an object")),
        }
    }

    /// Adds or replaces a parameter; builder style.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(key, value);
        self
    }

    /// Adds or replaces a parameter.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(key.into(), value.into());
    }

    /// Adds a secret parameter (its value leaves the wrapper only here, into the dictionary
    /// that is sent; `Debug` of the dictionary still hides it).
    pub fn with_secret(mut self, key: impl Into<String>, secret: &Secret) -> Self {
        self.0
            .insert(key.into(), Value::String(secret.expose().to_owned()));
        self
    }

    /// The raw value of a parameter; `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// Whether a parameter is present (and not null).
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The first of `name` and its `aliases` that is present, with the key it was found under.
    pub fn lookup<'a>(
        &'a self,
        name: &'a str,
        aliases: &[&'a str],
    ) -> Option<(&'a str, &'a Value)> {
        std::iter::once(name)
            .chain(aliases.iter().copied())
            .find_map(|k| self.get(k).map(|v| (k, v)))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying JSON object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The dictionary as a JSON value.
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// A string parameter (under `name` or an alias); 2102 when it is not a string, is empty or
    /// is longer than [`MAX_STRING_LEN`].
    pub fn string(&self, name: &str, aliases: &[&str]) -> Result<Option<String>, Error> {
        match self.lookup(name, aliases) {
            None => Ok(None),
            Some((_, Value::String(s))) => {
                check_text(name, s, MAX_STRING_LEN)?;
                Ok(Some(s.clone()))
            }
            Some(_) => Err(Error::invalid(name, "expected a string")),
        }
    }

    /// A required string parameter: 2101 when absent.
    pub fn required_string(&self, name: &str, aliases: &[&str]) -> Result<String, Error> {
        self.string(name, aliases)?
            .ok_or_else(|| Error::missing(name))
    }

    /// An identifier: a non-empty string of at most [`MAX_IDENTIFIER_LEN`] printable characters,
    /// or a non-negative integer normalised to its decimal string.
    pub fn identifier(&self, name: &str, aliases: &[&str]) -> Result<Option<String>, Error> {
        match self.lookup(name, aliases) {
            None => Ok(None),
            Some((_, value)) => identifier_from_value(name, value).map(Some),
        }
    }

    /// A boolean: `true`/`false`, or the strings `"true"`/`"false"`.
    pub fn boolean(&self, name: &str, aliases: &[&str]) -> Result<Option<bool>, Error> {
        match self.lookup(name, aliases) {
            None => Ok(None),
            Some((_, value)) => boolean_from_value(value)
                .map(Some)
                .ok_or_else(|| Error::invalid(name, "expected a boolean")),
        }
    }

    /// A secret made of digits (PIN, SMS code): a string of 1–32 ASCII digits, or a
    /// non-negative integer (read as its decimal digits). The value never appears in the error.
    pub fn digits(&self, name: &str, aliases: &[&str]) -> Result<Option<Secret>, Error> {
        let text = match self.lookup(name, aliases) {
            None => return Ok(None),
            Some((_, Value::String(s))) => s.clone(),
            Some((_, Value::Number(n))) if n.is_u64() => n.to_string(),
            Some(_) => return Err(Error::invalid(name, "expected a string of digits")),
        };
        if text.is_empty() || text.len() > 32 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(name, "expected 1-32 digits"));
        }
        Ok(Some(Secret::new(text)))
    }

    /// A secret string (token, OTP): non-empty, at most [`MAX_STRING_LEN`] bytes.
    pub fn secret(&self, name: &str, aliases: &[&str]) -> Result<Option<Secret>, Error> {
        match self.lookup(name, aliases) {
            None => Ok(None),
            Some((_, Value::String(s))) if !s.is_empty() && s.len() <= MAX_STRING_LEN => {
                Ok(Some(Secret::new(s.clone())))
            }
            Some(_) => Err(Error::invalid(name, "expected a non-empty string")),
        }
    }
}

/// Reads a boolean from a JSON value: `true`/`false`, or the strings `"true"`/`"false"` (the
/// leniency of parameters, and of the booleans of activation results).
pub(crate) fn boolean_from_value(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Reads an identifier from a JSON value (see [`Parameters::identifier`]).
pub(crate) fn identifier_from_value(name: &str, value: &Value) -> Result<String, Error> {
    match value {
        Value::String(s) => {
            check_text(name, s, MAX_IDENTIFIER_LEN)?;
            if s.chars().any(char::is_whitespace) {
                return Err(Error::invalid(name, "contains whitespace"));
            }
            Ok(s.clone())
        }
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        _ => Err(Error::invalid(
            name,
            "expected a string or a non-negative integer",
        )),
    }
}

fn check_text(name: &str, s: &str, max: usize) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::invalid(name, "empty"));
    }
    if s.len() > max {
        return Err(Error::invalid(name, format!("longer than {max} bytes")));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::invalid(name, "contains control characters"));
    }
    Ok(())
}

impl fmt::Debug for Parameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = Value::Object(self.0.clone());
        write!(f, "Parameters({:?})", RedactedJson(&value))
    }
}

impl From<Map<String, Value>> for Parameters {
    fn from(map: Map<String, Value>) -> Self {
        Parameters(map)
    }
}

impl From<Parameters> for Value {
    fn from(p: Parameters) -> Self {
        Value::Object(p.0)
    }
}

impl Serialize for Parameters {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Parameters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Parameters::from_value(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn huge_strings_are_refused_without_echo() {
        let big = "7".repeat(1 << 20);
        let p = Parameters::new()
            .with("carAssociationID", big.clone())
            .with("phoneNumber", big);
        let e = p.identifier("carAssociationID", &[]).unwrap_err();
        assert_eq!(e.to_string(), "Invalid carAssociationID parameter");
        assert!(p.string("phoneNumber", &[]).is_err());
        assert!(format!("{e:?}").len() < 200);
    }

    #[test]
    fn identifiers() {
        for bad in [
            json!(""),
            json!(-1),
            json!(1.5),
            json!(true),
            json!([]),
            json!("a b"),
        ] {
            let p = Parameters::new().with("stepsID", bad.clone());
            assert!(p.identifier("stepsID", &[]).is_err(), "{bad}");
        }
    }

    #[test]
    fn null_is_absent() {
        let p = Parameters::from_value(json!({"vin": null})).unwrap();
        assert_eq!(p.string("vin", &[]).unwrap(), None);
    }
}
