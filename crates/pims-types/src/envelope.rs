//! The message envelope every answer has: `{"transactionId", "status", "result" | "error"}`.
//!
//! The constructors make an invalid envelope unrepresentable: a FAILED message has an error and
//! no result, a SUCCEEDED or RESULT message has no error.

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalogue::ErrorCode;
use crate::decode::{Path, expect_object, type_name};
use crate::error::Error;
use crate::redact::RedactedJson;
use crate::steps::StepsList;

/// The longest transaction id accepted when decoding (ids are echoed, so bound them).
const MAX_TRANSACTION_ID_LEN: usize = 64;

/// A transaction id. Generated ids have the documentation's shape (`953cfefb-bc72`: 8 + 4
/// lowercase hex digits); decoding accepts any 1–64 printable ASCII characters, so a backend
/// with longer ids still works.
///
/// ```
/// use pims_types::TransactionId;
/// let id = TransactionId::generate();
/// assert!(id.has_documented_shape());
/// assert!(TransactionId::parse("953cfefb-bc72").is_ok());
/// assert!(TransactionId::parse("").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(String);

impl TransactionId {
    /// A fresh id in the documentation's shape. Randomness comes from std's per-process random
    /// hasher keys mixed with a counter and the clock: unique within a process, unpredictable
    /// enough for correlation ids (they are not secrets).
    ///
    /// ```
    /// let a = pims_types::TransactionId::generate();
    /// let b = pims_types::TransactionId::generate();
    /// assert_ne!(a, b);
    /// ```
    pub fn generate() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(nanos);
        // The counter keeps ids of one process distinct even if the hash collides on 48 bits
        // for nearby counters: mix it into the low bits.
        let bits = (h.finish() ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) & 0xFFFF_FFFF_FFFF;
        TransactionId::from_u64(bits)
    }

    /// The id whose 48 low bits are `bits`, in the documentation's shape.
    ///
    /// ```
    /// assert_eq!(pims_types::TransactionId::from_u64(0x953cfefbbc72).as_str(), "953cfefb-bc72");
    /// ```
    pub fn from_u64(bits: u64) -> Self {
        let bits = bits & 0xFFFF_FFFF_FFFF;
        TransactionId(format!("{:08x}-{:04x}", bits >> 16, bits & 0xFFFF))
    }

    /// Reads an id: 1–64 printable ASCII characters (no spaces).
    ///
    /// ```
    /// assert!(pims_types::TransactionId::parse("a b").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.is_empty()
            || s.len() > MAX_TRANSACTION_ID_LEN
            || !s.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::invalid(
                "transactionId",
                "expected 1-64 printable ASCII characters",
            ));
        }
        Ok(TransactionId(s.to_owned()))
    }

    /// Whether the id has the documentation's shape (8 + 4 lowercase hex digits).
    ///
    /// ```
    /// assert!(!pims_types::TransactionId::parse("ABC").unwrap().has_documented_shape());
    /// ```
    pub fn has_documented_shape(&self) -> bool {
        let b = self.0.as_bytes();
        let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
        b.len() == 13 && b[8] == b'-' && b[..8].iter().all(hex) && b[9..].iter().all(hex)
    }

    /// The id as text.
    ///
    /// ```
    /// assert_eq!(pims_types::TransactionId::from_u64(1).as_str(), "00000000-0001");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TransactionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TransactionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TransactionId::parse(&s).map_err(de::Error::custom)
    }
}

/// The `status` of a message.
///
/// ```
/// let s: pims_types::Status = serde_json::from_str("\"SUCCEEDED\"").unwrap();
/// assert_eq!(s, pims_types::Status::Succeeded);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The call succeeded; `result` holds the answer (possibly null).
    Succeeded,
    /// The call failed; `error` says why.
    Failed,
    /// An event of a subscription.
    Result,
}

impl Status {
    /// The wire text: `SUCCEEDED`, `FAILED` or `RESULT`.
    ///
    /// ```
    /// assert_eq!(pims_types::Status::Failed.as_str(), "FAILED");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::Result => "RESULT",
        }
    }
}

/// The `error` object of a FAILED message.
///
/// ```
/// use pims_types::{ApiError, ErrorCode};
/// let e = ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION);
/// assert_eq!(e.label, "Need Strong Authentication");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The catalogue code (unknown codes are kept as they are).
    pub code: ErrorCode,
    /// The label, placeholders filled.
    pub label: String,
    /// The optional `subCode` array (2204, 2205, 2209).
    pub sub_code: Option<Vec<Value>>,
}

impl ApiError {
    /// An error with an explicit label.
    ///
    /// ```
    /// let e = pims_types::ApiError::new(pims_types::ErrorCode(2204), "Server Error");
    /// assert!(e.sub_code.is_none());
    /// ```
    pub fn new(code: ErrorCode, label: impl Into<String>) -> Self {
        ApiError {
            code,
            label: label.into(),
            sub_code: None,
        }
    }

    /// An error whose label is the catalogue's, placeholders left as they are.
    ///
    /// ```
    /// let e = pims_types::ApiError::from_code(pims_types::ErrorCode::TIMEOUT);
    /// assert_eq!(e.label, "Timeout");
    /// ```
    pub fn from_code(code: ErrorCode) -> Self {
        ApiError::new(code, code.label_with(&[]))
    }

    /// An error whose label is the catalogue's with placeholders filled by `values`.
    ///
    /// ```
    /// use pims_types::{ApiError, ErrorCode};
    /// let e = ApiError::with_values(ErrorCode::NO_STEP_FOR_STEPS_ID, &["132324"]);
    /// assert_eq!(e.label, "No Step for this stepsID 132324");
    /// ```
    pub fn with_values(code: ErrorCode, values: &[&str]) -> Self {
        ApiError::new(code, code.label_with(values))
    }

    /// Adds a `subCode` array.
    ///
    /// ```
    /// let e = pims_types::ApiError::from_code(pims_types::ErrorCode::SERVER_ERROR)
    ///     .with_sub_code(vec![serde_json::json!(503)]);
    /// assert_eq!(e.sub_code.unwrap().len(), 1);
    /// ```
    pub fn with_sub_code(mut self, sub_code: Vec<Value>) -> Self {
        self.sub_code = Some(sub_code);
        self
    }

    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("code".into(), Value::from(self.code.0));
        map.insert("label".into(), Value::String(self.label.clone()));
        if let Some(sub) = &self.sub_code {
            map.insert("subCode".into(), Value::Array(sub.clone()));
        }
        Value::Object(map)
    }

    fn from_value(value: &Value, path: &Path<'_>) -> Result<Self, Error> {
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
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.code, self.label)
    }
}

impl std::error::Error for ApiError {}

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
/// ```
#[derive(Clone, PartialEq)]
pub struct Message {
    transaction_id: TransactionId,
    body: Body,
}

impl Message {
    /// A SUCCEEDED message with a result (which may be `Value::Null`).
    ///
    /// ```
    /// let m = pims_types::Message::succeeded(pims_types::TransactionId::generate(), serde_json::Value::Null);
    /// assert!(m.to_json_string().contains("\"result\":null"));
    /// ```
    pub fn succeeded(transaction_id: TransactionId, result: Value) -> Self {
        Message {
            transaction_id,
            body: Body::Succeeded(result.into()),
        }
    }

    /// A SUCCEEDED message whose `result` is null (operations whose output is "none").
    ///
    /// ```
    /// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::generate());
    /// assert_eq!(m.result(), Some(&serde_json::Value::Null));
    /// ```
    pub fn succeeded_empty(transaction_id: TransactionId) -> Self {
        Message::succeeded(transaction_id, Value::Null)
    }

    /// A FAILED message.
    ///
    /// ```
    /// use pims_types::{ApiError, ErrorCode, Message, TransactionId};
    /// let m = Message::failed(TransactionId::generate(), ApiError::from_code(ErrorCode::API_NOT_SUPPORTED));
    /// assert_eq!(m.error().unwrap().code, ErrorCode(2002));
    /// ```
    pub fn failed(transaction_id: TransactionId, error: ApiError) -> Self {
        Message {
            transaction_id,
            body: Body::Failed(error),
        }
    }

    /// A RESULT message (a subscription event).
    ///
    /// ```
    /// let m = pims_types::Message::event(pims_types::TransactionId::generate(), serde_json::json!(1));
    /// assert_eq!(m.status(), pims_types::Status::Result);
    /// ```
    pub fn event(transaction_id: TransactionId, result: Value) -> Self {
        Message {
            transaction_id,
            body: Body::Result(result.into()),
        }
    }

    /// The transaction id.
    ///
    /// ```
    /// let id = pims_types::TransactionId::generate();
    /// assert_eq!(pims_types::Message::succeeded_empty(id.clone()).transaction_id(), &id);
    /// ```
    pub fn transaction_id(&self) -> &TransactionId {
        &self.transaction_id
    }

    /// The status.
    ///
    /// ```
    /// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::generate());
    /// assert_eq!(m.status(), pims_types::Status::Succeeded);
    /// ```
    pub fn status(&self) -> Status {
        match self.body {
            Body::Succeeded(_) => Status::Succeeded,
            Body::Failed(_) => Status::Failed,
            Body::Result(_) => Status::Result,
        }
    }

    /// Whether the status is SUCCEEDED.
    ///
    /// ```
    /// assert!(pims_types::Message::succeeded_empty(pims_types::TransactionId::generate()).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        matches!(self.body, Body::Succeeded(_))
    }

    /// The `result`: `None` on FAILED, else the result (`Some(Value::Null)` for a null one).
    ///
    /// ```
    /// let m = pims_types::Message::succeeded(pims_types::TransactionId::generate(), serde_json::Value::Null);
    /// assert_eq!(m.result(), Some(&serde_json::Value::Null));
    /// ```
    pub fn result(&self) -> Option<&Value> {
        match &self.body {
            Body::Succeeded(r) | Body::Result(r) => Some(r.value()),
            Body::Failed(_) => None,
        }
    }

    /// The `error` of a FAILED message.
    ///
    /// ```
    /// assert!(pims_types::Message::succeeded_empty(pims_types::TransactionId::generate()).error().is_none());
    /// ```
    pub fn error(&self) -> Option<&ApiError> {
        match &self.body {
            Body::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The same message with another transaction id (the facade answers with the app's id).
    ///
    /// ```
    /// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::from_u64(1));
    /// let id = pims_types::TransactionId::from_u64(2);
    /// assert_eq!(m.with_transaction_id(id.clone()).transaction_id(), &id);
    /// ```
    pub fn with_transaction_id(mut self, transaction_id: TransactionId) -> Self {
        self.transaction_id = transaction_id;
        self
    }

    /// Consumes the message: `Ok(result)` or `Err(error)`.
    ///
    /// ```
    /// let m = pims_types::Message::succeeded_empty(pims_types::TransactionId::generate());
    /// assert_eq!(m.into_result().unwrap(), serde_json::Value::Null);
    /// ```
    pub fn into_result(self) -> Result<Value, ApiError> {
        match self.body {
            Body::Succeeded(r) | Body::Result(r) => Ok(r.into_value()),
            Body::Failed(e) => Err(e),
        }
    }

    /// Consumes the message: its result read as a step list, exactly as
    /// [`StepsList::from_value`] reads `into_result()` (a FAILED message reads as a null result,
    /// which is not a list). A list [`Message::from_slice_steps`] decoded is handed over as it is.
    ///
    /// ```
    /// let text = br#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":{"stepsID":7}}"#;
    /// let m = pims_types::Message::from_slice_steps(text).unwrap();
    /// assert_eq!(m.into_steps_list().unwrap().steps_id().as_str(), "7");
    /// let failed = pims_types::Message::failed(pims_types::TransactionId::from_u64(1),
    ///     pims_types::ApiError::from_code(pims_types::ErrorCode::TIMEOUT));
    /// assert!(failed.into_steps_list().unwrap_err().to_string().contains("found null"));
    /// ```
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
    ///
    /// ```
    /// let v = pims_types::Message::succeeded_empty(pims_types::TransactionId::from_u64(1)).to_value();
    /// assert_eq!(v["status"], "SUCCEEDED");
    /// ```
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "transactionId".into(),
            Value::String(self.transaction_id.0.clone()),
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
    ///
    /// ```
    /// let t = pims_types::Message::succeeded_empty(pims_types::TransactionId::from_u64(1)).to_json_string();
    /// assert_eq!(t, r#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":null}"#);
    /// ```
    pub fn to_json_string(&self) -> String {
        // Serialising a Message cannot fail (string keys, JSON values); keep the Value path as
        // a fallback rather than panic.
        serde_json::to_string(self).unwrap_or_else(|_| self.to_value().to_string())
    }

    /// Decodes an envelope from JSON bytes; the error names the JSON path that broke.
    ///
    /// ```
    /// let e = pims_types::Message::from_slice(br#"{"transactionId":"a","status":"FAILED"}"#).unwrap_err();
    /// assert!(e.to_string().contains("$.error"));
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        if let Some(m) = Message::from_slice_fast(bytes) {
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
    /// a [`StepsList`], without a `Value`; anything else takes [`Message::from_slice`].
    ///
    /// ```
    /// let text = br#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":{"stepsID":132324,
    ///     "trusterPhoneNumber":{"name":"trusterPhoneNumber","status":"alreadyDone","order":1}}}"#;
    /// let steps = pims_types::Message::from_slice_steps(text).unwrap();
    /// assert_eq!(Some(steps), pims_types::Message::from_slice(text).ok());
    /// ```
    pub fn from_slice_steps(bytes: &[u8]) -> Result<Self, Error> {
        match crate::steps_wire::decode(bytes) {
            Some((transaction_id, list)) => Ok(Message {
                transaction_id,
                body: Body::Succeeded(Payload::Steps(list, OnceLock::new())),
            }),
            None => Message::from_slice(bytes),
        }
    }

    /// The common case, decoded without building a `Value` for the envelope: an object of
    /// exactly the known keys whose status is SUCCEEDED or RESULT, with a valid transaction id
    /// and no error. Anything else (a FAILED message, a wrong type, a duplicate or unknown
    /// key, bad JSON) is `None`, and the `Value` path decodes it, with its precise errors.
    fn from_slice_fast(bytes: &[u8]) -> Option<Message> {
        // Unknown fields are refused, not skipped: serde skips them without the checks the
        // Value path makes (nesting depth, UTF-8, number range), so they take that path.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fast<'a> {
            #[serde(rename = "transactionId", borrow)]
            transaction_id: Cow<'a, str>,
            #[serde(borrow)]
            status: Cow<'a, str>,
            #[serde(default)]
            result: Option<Value>,
            #[serde(default)]
            error: Option<Value>,
        }
        // A derived struct also reads arrays: only objects are envelopes.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return None;
        }
        let fast: Fast<'_> = serde_json::from_slice(bytes).ok()?;
        if fast.error.is_some() {
            return None; // (a null error reads as None: absent)
        }
        let transaction_id = TransactionId::parse(&fast.transaction_id).ok()?;
        let result = fast.result.unwrap_or(Value::Null);
        let body = match fast.status.as_ref() {
            "SUCCEEDED" => Body::Succeeded(result.into()),
            "RESULT" => Body::Result(result.into()),
            _ => return None,
        };
        Some(Message {
            transaction_id,
            body,
        })
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
            Some(v) => Some(ApiError::from_value(v, &root.key("error"))?),
        };
        let body = match (status, error) {
            (Status::Failed, Some(e)) => {
                if !result.is_null() {
                    return Err(Error::decode(
                        root.key("result").render(),
                        "a FAILED message carries no result",
                    ));
                }
                Body::Failed(e)
            }
            (Status::Failed, None) => {
                return Err(Error::decode(
                    root.key("error").render(),
                    "missing on a FAILED message",
                ));
            }
            (_, Some(_)) => {
                return Err(Error::decode(
                    root.key("error").render(),
                    "only a FAILED message carries an error",
                ));
            }
            (Status::Succeeded, None) => Body::Succeeded(result.into()),
            (Status::Result, None) => Body::Result(result.into()),
        };
        Ok(Message {
            transaction_id,
            body,
        })
    }
}

/// The kind of a serde_json error in words, without its message (which may quote the input).
pub(crate) fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "wrong data",
        serde_json::error::Category::Eof => "truncated",
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Results may hold secrets (`otp`): show them through the redacting view.
        let mut d = f.debug_struct("Message");
        d.field("transaction_id", &self.transaction_id.0)
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

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Message::from_value(&value).map_err(de::Error::custom)
    }
}

impl Serialize for ApiError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = if self.sub_code.is_some() { 3 } else { 2 };
        let mut out = s.serialize_map(Some(len))?;
        out.serialize_entry("code", &self.code.0)?;
        out.serialize_entry("label", &self.label)?;
        if let Some(sub) = &self.sub_code {
            out.serialize_entry("subCode", sub)?;
        }
        out.end()
    }
}

impl<'de> Deserialize<'de> for ApiError {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        ApiError::from_value(&value, &Path::root()).map_err(de::Error::custom)
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
    fn generated_ids_have_the_documented_shape_and_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let t = TransactionId::generate();
            assert!(t.has_documented_shape(), "{t}");
            assert!(seen.insert(t));
        }
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
    fn debug_redacts_results() {
        let m = Message::succeeded(id(), json!({"otp": "CANARY-OTP"}));
        assert!(!format!("{m:?}").contains("CANARY"));
    }

    #[test]
    fn not_json_does_not_echo_the_input() {
        let e = Message::from_slice(b"{\"otp\": SECRET-CANARY").unwrap_err();
        assert!(!e.to_string().contains("SECRET"));
    }
}
