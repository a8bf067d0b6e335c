//! Whole numbers written with a fraction (`5.0`). JSON Schema, and so the OpenAPI document,
//! reads `5.0` as the integer 5; serde reads it as a float, which a `u64` field or a
//! parameter read as an integer refuses. The simulator reads both spellings alike: a body
//! refused as it is is read again, the same way, with its whole floats written as integers,
//! so nothing else changes (a duplicate member, a trailing character stay refused).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The largest magnitude a float spells exactly (2^53): beyond, `5.0`-style values are left
/// as they are.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// Rewrites every whole float of `value` (within ±2^53) as an integer; whether any was.
pub(crate) fn normalize(value: &mut Value) -> bool {
    match value {
        Value::Number(n) if !n.is_u64() && !n.is_i64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => {
                // Exact: |f| <= 2^53 and whole.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *value = Value::from(i);
                true
            }
            _ => false,
        },
        Value::Array(items) => items.iter_mut().fold(false, |acc, v| normalize(v) | acc),
        Value::Object(map) => normalize_map(map),
        _ => false,
    }
}

/// [`normalize`] on every member of an object.
pub(crate) fn normalize_map(map: &mut Map<String, Value>) -> bool {
    map.values_mut().fold(false, |acc, v| normalize(v) | acc)
}

/// Whether `map` holds a whole float anywhere (without copying it).
pub(crate) fn any_in_map(map: &Map<String, Value>) -> bool {
    map.values().any(any)
}

fn any(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            !n.is_u64()
                && !n.is_i64()
                && n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() <= EXACT)
        }
        Value::Array(items) => items.iter().any(any),
        Value::Object(map) => any_in_map(map),
        _ => false,
    }
}

/// Why a body could not be read: the JSON path at fault (`$` for the whole body) and why.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) field: String,
    pub(crate) message: String,
}

/// Reads `bytes` as a `T` (the error naming the JSON path); when that fails and the body has
/// whole floats, reads it again, the same way, with them written as integers.
pub(crate) fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let first = read(bytes);
    if first.is_ok() {
        return first;
    }
    match rewrite(bytes) {
        Some(rewritten) => read(&rewritten).or(first),
        None => first,
    }
}

fn read<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        // Trailing characters after the document.
        Ok(t) => de.end().map(|()| t).map_err(|e| Refusal {
            field: "$".to_owned(),
            message: e.to_string(),
        }),
        Err(e) => Err(Refusal {
            field: crate::error::json_field(e.path().to_string()),
            message: e.into_inner().to_string(),
        }),
    }
}

/// The JSON text with each whole float outside strings written as an integer (`5.0`, `5e0`:
/// `5`); `None` when there is none. Anything else is copied as it is, so a reading of the
/// result refuses what a reading of the original refuses for any other reason.
fn rewrite(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            // Copy the string, escapes included.
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            out.extend_from_slice(&bytes[start..i]);
        } else if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            let token = &bytes[start..i];
            match whole(token) {
                Some(n) => {
                    out.extend_from_slice(n.to_string().as_bytes());
                    changed = true;
                }
                None => out.extend_from_slice(token),
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    changed.then_some(out)
}

/// The integer a number token spells with a fraction or an exponent, when it is whole.
fn whole(token: &[u8]) -> Option<i64> {
    if !token.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        return None;
    }
    let f: f64 = std::str::from_utf8(token).ok()?.parse().ok()?;
    if f.fract() != 0.0 || f.abs() > EXACT {
        return None;
    }
    // Exact: |f| <= 2^53 and whole.
    #[allow(clippy::cast_possible_truncation)]
    Some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_floats_become_integers_and_nothing_else_changes() {
        let mut v: Value =
            serde_json::from_str(r#"{"a": 5.0, "b": [2.5, -3.0, 7], "c": {"d": 1e3}, "e": "5.0"}"#)
                .unwrap();
        assert!(normalize(&mut v));
        assert_eq!(
            v,
            json!({"a": 5, "b": [2.5, -3, 7], "c": {"d": 1000}, "e": "5.0"})
        );
        let mut plain = json!({"a": 5, "b": 2.5});
        assert!(!normalize(&mut plain));
        assert!(!any_in_map(plain.as_object().unwrap()));
    }

    #[test]
    fn a_body_is_read_again_only_when_the_first_reading_fails() {
        #[derive(serde::Deserialize, Debug)]
        struct B {
            n: u64,
        }
        assert_eq!(deserialize::<B>(br#"{"n": 5.0}"#).unwrap().n, 5);
        assert_eq!(deserialize::<B>(br#"{"n": 5}"#).unwrap().n, 5);
        let e = deserialize::<B>(br#"{"n": 5.5}"#).unwrap_err();
        assert_eq!(e.field, "n");
        // A duplicate member stays refused (the second reading would keep the last one).
        assert!(deserialize::<B>(br#"{"n": 5, "n": 6.0}"#).is_err());
        assert!(deserialize::<B>(br#"{"n": 5.0} x"#).is_err());
        // Only numbers outside strings are rewritten.
        assert_eq!(
            rewrite(br#"{"a": "5.0 \"6.0\"", "b": [1e2, -2.0, 0.5]}"#).unwrap(),
            br#"{"a": "5.0 \"6.0\"", "b": [100, -2, 0.5]}"#
        );
        assert!(rewrite(br#"{"a": 5, "b": "1.0"}"#).is_none());
    }
}
