//! [`JsonValue`]: the JSON value parameters and results cross the boundary as.
//!
//! Its variant names are no type name nor keyword of Kotlin, Swift or Python (a variant named
//! `List` or `String` breaks the generated Kotlin), and objects are a list of members so that
//! the documentation's key order survives.

use serde_json::{Map, Number, Value};

use crate::error::PimsError;

/// A JSON value.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum JsonValue {
    /// `null`.
    JsonNull,
    /// `true` or `false`.
    JsonBool {
        /// The value.
        value: bool,
    },
    /// An integer (a JSON number without fraction nor exponent that fits in 64 bits, signed).
    JsonInt {
        /// The value.
        value: i64,
    },
    /// Any other number (finite: JSON has no NaN nor infinity).
    JsonFloat {
        /// The value.
        value: f64,
    },
    /// A string.
    JsonText {
        /// The value.
        value: String,
    },
    /// An array.
    JsonArray {
        /// The items, in order.
        items: Vec<JsonValue>,
    },
    /// An object.
    JsonObject {
        /// The members, in order.
        members: Vec<JsonMember>,
    },
}

/// One member of a [`JsonValue::JsonObject`].
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct JsonMember {
    /// The key.
    pub key: String,
    /// The value.
    pub value: JsonValue,
}

impl From<&Value> for JsonValue {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => JsonValue::JsonNull,
            Value::Bool(b) => JsonValue::JsonBool { value: *b },
            Value::Number(n) => match n.as_i64() {
                Some(i) => JsonValue::JsonInt { value: i },
                // u64 above i64::MAX, or a fraction: as a float (the nearest one).
                None => JsonValue::JsonFloat {
                    value: n.as_f64().unwrap_or(0.0),
                },
            },
            Value::String(s) => JsonValue::JsonText { value: s.clone() },
            Value::Array(a) => JsonValue::JsonArray {
                items: a.iter().map(JsonValue::from).collect(),
            },
            Value::Object(o) => JsonValue::JsonObject {
                members: o
                    .iter()
                    .map(|(k, v)| JsonMember {
                        key: k.clone(),
                        value: JsonValue::from(v),
                    })
                    .collect(),
            },
        }
    }
}

/// Why a [`JsonValue`] is not JSON: the path of the number that is not finite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotJson {
    /// `$.key[2].inner`.
    pub(crate) path: String,
}

impl JsonValue {
    /// The serde value; a NaN or an infinity (which JSON cannot carry) is refused with its path.
    pub(crate) fn to_value(&self) -> Result<Value, NotJson> {
        self.to_value_at(&mut String::from("$"))
    }

    fn to_value_at(&self, path: &mut String) -> Result<Value, NotJson> {
        Ok(match self {
            JsonValue::JsonNull => Value::Null,
            JsonValue::JsonBool { value } => Value::Bool(*value),
            JsonValue::JsonInt { value } => Value::from(*value),
            JsonValue::JsonFloat { value } => Value::Number(
                Number::from_f64(*value).ok_or_else(|| NotJson { path: path.clone() })?,
            ),
            JsonValue::JsonText { value } => Value::String(value.clone()),
            JsonValue::JsonArray { items } => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    out.push(item.to_value_at(path)?);
                    path.truncate(len);
                }
                Value::Array(out)
            }
            JsonValue::JsonObject { members } => {
                let mut out = Map::new();
                for m in members {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&m.key);
                    out.insert(m.key.clone(), m.value.to_value_at(path)?);
                    path.truncate(len);
                }
                Value::Object(out)
            }
        })
    }
}

/// Reads JSON text (for fixtures, stored answers): 2102 naming `json` when it is not JSON.
#[uniffi::export]
pub fn json_parse(text: String) -> Result<JsonValue, PimsError> {
    serde_json::from_str::<Value>(&text)
        .map(|v| JsonValue::from(&v))
        .map_err(|_| PimsError::invalid_parameter("json"))
}

/// Writes a value as compact JSON text, keys in order: 2102 naming the path of a number that is
/// not finite.
#[uniffi::export]
pub fn json_render(value: JsonValue) -> Result<String, PimsError> {
    value
        .to_value()
        .map(|v| v.to_string())
        .map_err(|e| PimsError::invalid_parameter(&e.path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn values_round_trip_with_their_key_order() {
        let v = json!({"stepsID": 132324, "z": {"b": [1.5, true, null], "a": "x"}, "big": 18446744073709551615u64});
        let back = JsonValue::from(&v).to_value().unwrap();
        assert_eq!(back["stepsID"], json!(132324));
        assert_eq!(back["z"], v["z"]);
        assert_eq!(back["big"], json!(18446744073709551615.0f64));
        let text = json_render(JsonValue::from(&v)).unwrap();
        assert!(
            text.starts_with(r#"{"stepsID":132324,"z":{"b":[1.5,true,null],"a":"x"}"#),
            "{text}"
        );
        assert_eq!(json_parse(text.clone()).unwrap(), JsonValue::from(&back));
    }

    #[test]
    fn a_number_json_cannot_carry_is_refused_with_its_path() {
        let v = JsonValue::JsonObject {
            members: vec![JsonMember {
                key: "a".into(),
                value: JsonValue::JsonArray {
                    items: vec![
                        JsonValue::JsonInt { value: 1 },
                        JsonValue::JsonFloat { value: f64::NAN },
                    ],
                },
            }],
        };
        assert_eq!(v.to_value().unwrap_err().path, "$.a[1]");
        let PimsError::Failed { code, label, .. } = json_render(v).unwrap_err();
        assert_eq!((code, label.as_str()), (2102, "Invalid $.a[1] parameter"));
        let PimsError::Failed { code, label, .. } = json_parse("{".into()).unwrap_err();
        assert_eq!((code, label.as_str()), (2102, "Invalid json parameter"));
    }
}
