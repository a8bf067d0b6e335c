//! The message envelope every answer has: `{"transactionId", "status", "result" | "error"}`.
//!
//! The constructors make an invalid envelope unrepresentable: a FAILED message has an error and
//! no result, a SUCCEEDED or RESULT message has no error. Decoding is `message_decode`'s.

use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::api_error::ApiError;
use crate::error::Error;
use crate::redact::RedactedJson;
use crate::status::Status;
use crate::steps::StepsList;
use crate::transaction_id::TransactionId;

/// What a message carries, by status. A SUCCEEDED or RESULT message always has a `result`
/// (possibly null): the documentation says it is present on success.
#[derive(Clone, PartialEq)]
enum Body {
    Succeeded(Payload),
    Failed(ApiError),
    Result(Payload),
}

/// A result: the JSON value, or a step list decoded straight from a steps answer
/// ([`Message::from_slice_steps`]) whose value is built only if someone asks for it. Such a
/// list is canonical (its [`StepsList::to_value`] is the document it was read from), so both
/// forms give the same value.
#[derive(Clone)]
enum Payload {
    Value(Value),
    Steps(StepsList, OnceLock<Value>),
}

impl Payload {
    fn value(&self) -> &Value {
        match self {
            Payload::Value(v) => v,
            Payload::Steps(list, v) => v.get_or_init(|| list.to_value()),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Payload::Value(v) => v,
            Payload::Steps(list, v) => v.into_inner().unwrap_or_else(|| list.to_value()),
        }
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl From<Value> for Payload {
    fn from(v: Value) -> Self {
        Payload::Value(v)
    }
}

/// A message: the envelope of every answer the SDK gives and the backend sends.
///
/// ```
/// use pims_types::{Message, TransactionId, Status};
/// let id = TransactionId::from_u64(0x953cfefbbc72);
/// let m = Message::succeeded(id, serde_json::json!({"otp": "x"}));
/// assert_eq!(m.status(), Status::Succeeded);
/// let text = m.to_json_string();
/// assert_eq!(Message::from_slice(text.as_bytes()).unwrap(), m);
///
/// // `Message::succeeded`
/// let m = pims_types::Message::succeeded(pims_types::TransactionId::generate(), serde_json::Value::Null);
/// assert!(m.to_json_string().contains("\"result\":null"));
/// // `Message::succeeded_empty`
/// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::generate());
/// assert_eq!(m.result(), Some(&serde_json::Value::Null));
/// // `Message::failed`
/// {
///     use pims_types::{ApiError, ErrorCode, Message, TransactionId};
///     let m = Message::failed(TransactionId::generate(), ApiError::from_code(ErrorCode::API_NOT_SUPPORTED));
///     assert_eq!(m.error().unwrap().code, ErrorCode(2002));
/// }
/// // `Message::event`
/// let m = pims_types::Message::event(pims_types::TransactionId::generate(), serde_json::json!(1));
/// assert_eq!(m.status(), pims_types::Status::Result);
/// // `Message::transaction_id`
/// let id = pims_types::TransactionId::generate();
/// assert_eq!(pims_types::Message::succeeded_empty(id.clone()).transaction_id(), &id);
/// // `Message::status`
/// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::generate());
/// assert_eq!(m.status(), pims_types::Status::Succeeded);
/// // `Message::is_success`
/// assert!(pims_types::Message::succeeded_empty(pims_types::TransactionId::generate()).is_success());
/// // `Message::result`
/// let m = pims_types::Message::succeeded(pims_types::TransactionId::generate(), serde_json::Value::Null);
/// assert_eq!(m.result(), Some(&serde_json::Value::Null));
/// // `Message::error`
/// assert!(pims_types::Message::succeeded_empty(pims_types::TransactionId::generate()).error().is_none());
/// // `Message::with_transaction_id`
/// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::from_u64(1));
/// let id = pims_types::TransactionId::from_u64(2);
/// assert_eq!(m.with_transaction_id(id.clone()).transaction_id(), &id);
/// // `Message::into_result`
/// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::generate());
/// assert_eq!(m.into_result().unwrap(), serde_json::Value::Null);
/// // `Message::into_steps_list`
/// let text = br#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":{"stepsID":7}}"#;
/// let m = pims_types::Message::from_slice_steps(text).unwrap();
/// assert_eq!(m.into_steps_list().unwrap().steps_id().as_str(), "7");
/// let failed = pims_types::Message::failed(pims_types::TransactionId::from_u64(1),
///     pims_types::ApiError::from_code(pims_types::ErrorCode::TIMEOUT));
/// assert!(failed.into_steps_list().unwrap_err().to_string().contains("found null"));
/// // `Message::to_value`
/// let v = pims_types::Message::succeeded_empty(pims_types::TransactionId::from_u64(1)).to_value();
/// assert_eq!(v["status"], "SUCCEEDED");
/// // `Message::to_json_string`
/// let t = pims_types::Message::succeeded_empty(pims_types::TransactionId::from_u64(1)).to_json_string();
/// assert_eq!(t, r#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":null}"#);
/// ```
#[derive(Clone, PartialEq)]
pub struct Message {
    transaction_id: TransactionId,
    body: Body,
}

impl Message {
    /// A SUCCEEDED message with a result (which may be `Value::Null`).
    pub fn succeeded(transaction_id: TransactionId, result: Value) -> Self {
        Message {
            transaction_id,
            body: Body::Succeeded(result.into()),
        }
    }

    /// A SUCCEEDED message whose `result` is null (operations whose output is "none").
    pub fn succeeded_empty(transaction_id: TransactionId) -> Self {
        Message::succeeded(transaction_id, Value::Null)
    }

    /// A FAILED message.
    pub fn failed(transaction_id: TransactionId, error: ApiError) -> Self {
        Message {
            transaction_id,
            body: Body::Failed(error),
        }
    }

    /// A RESULT message (a subscription event).
    pub fn event(transaction_id: TransactionId, result: Value) -> Self {
        Message {
            transaction_id,
            body: Body::Result(result.into()),
        }
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// The status.
    pub fn status(&self) -> Status {
        match self.body {
            Body::Succeeded(_) => Status::Succeeded,
            Body::Failed(_) => Status::Failed,
            Body::Result(_) => Status::Result,
        }
    }

    /// Whether the status is SUCCEEDED.
    pub fn is_success(&self) -> bool {
        matches!(self.body, Body::Succeeded(_))
    }

    /// The `result`: `None` on FAILED, else the result (`Some(Value::Null)` for a null one).
    pub fn result(&self) -> Option<&Value> {
        match &self.body {
            Body::Succeeded(r) | Body::Result(r) => Some(r.value()),
            Body::Failed(_) => None,
        }
    }

    /// The `error` of a FAILED message.
    pub fn error(&self) -> Option<&ApiError> {
        match &self.body {
            Body::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The same message with another transaction id (the facade answers with the app's id).
    pub fn with_transaction_id(mut self, transaction_id: TransactionId) -> Self {
        self.transaction_id = transaction_id;
        self
    }

    /// Consumes the message: `Ok(result)` or `Err(error)`.
    pub fn into_result(self) -> Result<Value, ApiError> {
        match self.body {
            Body::Succeeded(r) | Body::Result(r) => Ok(r.into_value()),
            Body::Failed(e) => Err(e),
        }
    }

    /// Consumes the message: its result read as a step list, exactly as
    /// [`StepsList::from_value`] reads `into_result()` (a FAILED message reads as a null result,
    /// which is not a list). A list [`Message::from_slice_steps`] decoded is handed over as it is.
    pub fn into_steps_list(self) -> Result<StepsList, Error> {
        match self.body {
            Body::Succeeded(Payload::Steps(list, _)) | Body::Result(Payload::Steps(list, _)) => {
                Ok(list)
            }
            Body::Succeeded(r) | Body::Result(r) => StepsList::from_value(r.value()),
            Body::Failed(_) => StepsList::from_value(&Value::Null),
        }
    }

    /// The envelope as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "transactionId".into(),
            Value::String(self.transaction_id.as_str().to_owned()),
        );
        map.insert(
            "status".into(),
            Value::String(self.status().as_str().into()),
        );
        match &self.body {
            Body::Succeeded(r) | Body::Result(r) => {
                map.insert("result".into(), r.value().clone());
            }
            Body::Failed(e) => {
                map.insert("error".into(), e.to_value());
            }
        }
        Value::Object(map)
    }

    /// The envelope as compact JSON text.
    pub fn to_json_string(&self) -> String {
        // Serialising a Message cannot fail (string keys, JSON values); keep the Value path as
        // a fallback rather than panic.
        serde_json::to_string(self).unwrap_or_else(|_| self.to_value().to_string())
    }

    /// A SUCCEEDED message whose result is a step list `steps_wire` decoded: its value is
    /// built only if someone asks for it.
    pub(crate) fn succeeded_steps(transaction_id: TransactionId, list: StepsList) -> Self {
        Message {
            transaction_id,
            body: Body::Succeeded(Payload::Steps(list, OnceLock::new())),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Results may hold secrets (`otp`): show them through the redacting view.
        let mut d = f.debug_struct("Message");
        d.field("transaction_id", &self.transaction_id.as_str())
            .field("status", &self.status());
        match &self.body {
            Body::Succeeded(r) | Body::Result(r) => {
                d.field("result", &RedactedJson(r.value()));
            }
            Body::Failed(e) => {
                d.field("error", e);
            }
        }
        d.finish()
    }
}

impl Serialize for Message {
    /// Written field by field (no intermediate `Value`: the result is not copied), in the
    /// documentation's key order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(3))?;
        out.serialize_entry("transactionId", self.transaction_id.as_str())?;
        out.serialize_entry("status", self.status().as_str())?;
        match &self.body {
            Body::Succeeded(r) | Body::Result(r) => out.serialize_entry("result", r.value())?,
            Body::Failed(e) => out.serialize_entry("error", e)?,
        }
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_redacts_results() {
        let m = Message::succeeded(
            TransactionId::from_u64(0x953c_fefb_bc72),
            json!({"otp": "CANARY-OTP"}),
        );
        assert!(!format!("{m:?}").contains("CANARY"));
    }
}
