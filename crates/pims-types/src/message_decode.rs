//! Decoding a message: the authoritative decoder, a walk over a `serde_json::Value` whose
//! errors name the JSON path that broke (`$.error.code`) and which takes the documentation's
//! leniencies (a code written as a string, a missing label, a single sub-code, a success
//! without `result`). `message_fast` and `steps_wire` decode the common answers quicker and
//! hand anything else to it.

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::Value;

use crate::api_error::ApiError;
use crate::catalogue::ErrorCode;
use crate::decode::{Path, expect_object, json_error_kind, type_name};
use crate::error::Error;
use crate::message::Message;
use crate::status::Status;
use crate::transaction_id::TransactionId;

impl Message {
    /// Decodes an envelope from JSON bytes; the error names the JSON path that broke.
    ///
    /// ```
    /// let e = pims_types::Message::from_slice(br#"{"transactionId":"a","status":"FAILED"}"#).unwrap_err();
    /// assert!(e.to_string().contains("$.error"));
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        if let Some(m) = crate::message_fast::decode(bytes) {
            return Ok(m);
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            Error::decode(
                "$",
                format!(
                    "not JSON ({} at line {} column {})",
                    json_error_kind(&e),
                    e.line(),
                    e.column()
                ),
            )
        })?;
        // Move the result out of the parsed document instead of copying it.
        let mut value = value;
        let result = value
            .as_object_mut()
            .map(|m| m.remove("result").unwrap_or(Value::Null));
        Message::decode(&value, result)
    }

    /// [`Message::from_slice`] for the answer to a steps call (`pims.subscription.steps`): the
    /// same message, or the same error, for any input. The common answer (SUCCEEDED, a step
    /// list written as the documentation writes it: `stepsID` first, each step keyed by its
    /// name with its `name`, `status` and `order`, in ascending order) is decoded straight into
    /// a [`StepsList`](crate::StepsList), without a `Value`; anything else takes [`Message::from_slice`].
    ///
    /// ```
    /// let text = br#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":{"stepsID":132324,
    ///     "trusterPhoneNumber":{"name":"trusterPhoneNumber","status":"alreadyDone","order":1}}}"#;
    /// let steps = pims_types::Message::from_slice_steps(text).unwrap();
    /// assert_eq!(Some(steps), pims_types::Message::from_slice(text).ok());
    /// ```
    pub fn from_slice_steps(bytes: &[u8]) -> Result<Self, Error> {
        match crate::steps_wire::decode(bytes) {
            Some((transaction_id, list)) => Ok(Message::succeeded_steps(transaction_id, list)),
            None => Message::from_slice(bytes),
        }
    }

    /// Decodes an envelope from a JSON value. Unknown keys are ignored; a SUCCEEDED or RESULT
    /// message without `result` is read as one with a null result (lenient: the documentation
    /// says it is present).
    ///
    /// ```
    /// let v = serde_json::json!({"transactionId": "953cfefb-bc72", "status": "SUCCEEDED", "result": null, "extra": 1});
    /// assert!(pims_types::Message::from_value(&v).is_ok());
    /// ```
    pub fn from_value(value: &Value) -> Result<Self, Error> {
        Message::decode(value, None)
    }

    /// Decodes `value`; `owned_result` is its `result`, taken out of an owned document so it
    /// is not copied (`None`: copy it from `value`).
    fn decode(value: &Value, owned_result: Option<Value>) -> Result<Self, Error> {
        let root = Path::root();
        let map = expect_object(value, &root)?;
        let tid_path = root.key("transactionId");
        let transaction_id = match map.get("transactionId") {
            Some(Value::String(s)) => TransactionId::parse(s)
                .map_err(|_| Error::decode(tid_path.render(), "not a transaction id"))?,
            Some(other) => {
                return Err(Error::decode(
                    tid_path.render(),
                    format!("expected a string, found {}", type_name(other)),
                ));
            }
            None => return Err(Error::decode(tid_path.render(), "missing")),
        };
        let status_path = root.key("status");
        let status = match map.get("status") {
            Some(Value::String(s)) => match s.as_str() {
                "SUCCEEDED" => Status::Succeeded,
                "FAILED" => Status::Failed,
                "RESULT" => Status::Result,
                _ => {
                    return Err(Error::decode(
                        status_path.render(),
                        "expected SUCCEEDED, FAILED or RESULT",
                    ));
                }
            },
            Some(other) => {
                return Err(Error::decode(
                    status_path.render(),
                    format!("expected a string, found {}", type_name(other)),
                ));
            }
            None => return Err(Error::decode(status_path.render(), "missing")),
        };
        let result = match owned_result {
            Some(r) => r,
            None => map.get("result").cloned().unwrap_or(Value::Null),
        };
        let error = match map.get("error") {
            None | Some(Value::Null) => None,
            Some(v) => Some(api_error_from_value(v, &root.key("error"))?),
        };
        match (status, error) {
            (Status::Failed, Some(e)) => {
                if !result.is_null() {
                    return Err(Error::decode(
                        root.key("result").render(),
                        "a FAILED message carries no result",
                    ));
                }
                Ok(Message::failed(transaction_id, e))
            }
            (Status::Failed, None) => Err(Error::decode(
                root.key("error").render(),
                "missing on a FAILED message",
            )),
            (_, Some(_)) => Err(Error::decode(
                root.key("error").render(),
                "only a FAILED message carries an error",
            )),
            (Status::Succeeded, None) => Ok(Message::succeeded(transaction_id, result)),
            (Status::Result, None) => Ok(Message::event(transaction_id, result)),
        }
    }
}

/// Decodes the `error` object at `path`: a code written as a string is read as an integer, a
/// missing label is the catalogue's, a single sub-code is a one-element array.
fn api_error_from_value(value: &Value, path: &Path<'_>) -> Result<ApiError, Error> {
    let map = expect_object(value, path)?;
    let code_path = path.key("code");
    let code = match map.get("code") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| Error::decode(code_path.render(), "not a code (0-4294967295)"))?,
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
            .parse()
            .map_err(|_| Error::decode(code_path.render(), "code out of range"))?,
        Some(other) => {
            return Err(Error::decode(
                code_path.render(),
                format!("expected an integer code, found {}", type_name(other)),
            ));
        }
        None => return Err(Error::decode(code_path.render(), "missing")),
    };
    let code = ErrorCode(code);
    let label = match map.get("label") {
        Some(Value::String(s)) => s.clone(),
        // A backend that omits the label still gives a usable error: fall back to the catalogue.
        None | Some(Value::Null) => code.label_with(&[]),
        Some(other) => {
            return Err(Error::decode(
                path.key("label").render(),
                format!("expected a string, found {}", type_name(other)),
            ));
        }
    };
    let sub_code = match map.get("subCode") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.clone()),
        // A single sub-code is read as a one-element array.
        Some(other @ (Value::Number(_) | Value::String(_))) => Some(vec![other.clone()]),
        Some(other) => {
            return Err(Error::decode(
                path.key("subCode").render(),
                format!("expected an array, found {}", type_name(other)),
            ));
        }
    };
    Ok(ApiError {
        code,
        label,
        sub_code,
    })
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Message::from_value(&value).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ApiError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        api_error_from_value(&value, &Path::root()).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> TransactionId {
        TransactionId::from_u64(0x953c_fefb_bc72)
    }

    #[test]
    fn invalid_envelopes_are_refused_with_a_path() {
        let cases = [
            (json!([]), "$"),
            (json!({"status": "SUCCEEDED"}), "$.transactionId"),
            (
                json!({"transactionId": 5, "status": "SUCCEEDED"}),
                "$.transactionId",
            ),
            (json!({"transactionId": "a", "status": "DONE"}), "$.status"),
            (json!({"transactionId": "a", "status": "FAILED"}), "$.error"),
            (
                json!({"transactionId": "a", "status": "FAILED", "error": {"code": 1, "label": "x"}, "result": {}}),
                "$.result",
            ),
            (
                json!({"transactionId": "a", "status": "SUCCEEDED", "error": {"code": 1, "label": "x"}}),
                "$.error",
            ),
            (
                json!({"transactionId": "a", "status": "FAILED", "error": {"code": "x1", "label": "x"}}),
                "$.error.code",
            ),
            (
                json!({"transactionId": "a", "status": "FAILED", "error": {"code": 1, "label": 5}}),
                "$.error.label",
            ),
        ];
        for (value, path) in cases {
            let err = Message::from_value(&value).unwrap_err();
            match &err {
                Error::Decode { path: p, .. } => assert_eq!(p, path, "{value}"),
                other => panic!("{other:?}"),
            }
            assert_eq!(err.code(), ErrorCode::INVALID_RETURN);
        }
    }

    #[test]
    fn code_as_string_is_read_as_integer() {
        let m = Message::from_value(&json!({"transactionId": "a", "status": "FAILED",
            "error": {"code": "2302", "label": "Need Strong Authentication"}}))
        .unwrap();
        assert_eq!(m.error().unwrap().code, ErrorCode(2302));
        assert_eq!(m.to_value()["error"]["code"], json!(2302));
    }

    #[test]
    fn unknown_codes_pass_through() {
        let m = Message::from_value(&json!({"transactionId": "a", "status": "FAILED",
            "error": {"code": 7777, "label": "new thing", "subCode": ["x"]}}))
        .unwrap();
        let e = m.error().unwrap();
        assert_eq!(e.code, ErrorCode(7777));
        assert_eq!(e.label, "new thing");
        assert_eq!(e.sub_code.as_deref(), Some(&[json!("x")][..]));
    }

    #[test]
    fn success_always_has_a_result() {
        let absent =
            Message::from_value(&json!({"transactionId": "a", "status": "SUCCEEDED"})).unwrap();
        assert_eq!(absent.result(), Some(&Value::Null));
        assert!(absent.to_json_string().contains(r#""result":null"#));
        let m = Message::succeeded_empty(id());
        assert_eq!(
            Message::from_slice(m.to_json_string().as_bytes()).unwrap(),
            m
        );
    }

    #[test]
    fn not_json_does_not_echo_the_input() {
        let e = Message::from_slice(b"{\"otp\": SECRET-CANARY").unwrap_err();
        assert!(!e.to_string().contains("SECRET"));
    }
}
