//! The body of `POST /v1/calls`, shared by the transport (which sends it) and the simulator
//! (which reads it). See `docs/protocol.md`.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::api::Verb;
use crate::decode::{Path, expect_object, type_name};
use crate::error::Error;
use crate::params::Parameters;
use crate::transaction_id::TransactionId;

/// The largest call body the backend accepts (64 KiB).
pub const MAX_CALL_BODY_BYTES: usize = 64 * 1024;

/// Header carrying the installation's device id.
pub const DEVICE_ID_HEADER: &str = "Pims-Device-Id";

/// Header carrying the idempotency key of a `set` call.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The path of the call endpoint.
pub const CALLS_PATH: &str = "/v1/calls";

/// One call as sent on the wire: `{"transactionId", "verb", "api", "parameters"}`. The API name
/// is carried as given (the backend answers 2002 for one it does not serve). `Debug` hides
/// secret parameters.
///
/// ```
/// use pims_types::{CallBody, Parameters, TransactionId, Verb};
/// let call = CallBody::new(TransactionId::from_u64(1), Verb::Get, "pims.subscription.steps",
///     Parameters::new().with("carAssociationID", "987654"));
/// let back = CallBody::from_slice(call.to_json_string().as_bytes()).unwrap();
/// assert_eq!(back, call);
///
/// // `CallBody::new`
/// let c = pims_types::CallBody::new(pims_types::TransactionId::generate(), pims_types::Verb::Set,
///     "pims.vehicle.vin", pims_types::Parameters::new());
/// assert_eq!(c.verb, pims_types::Verb::Set);
/// // `CallBody::to_value`
/// let c = pims_types::CallBody::new(pims_types::TransactionId::from_u64(1), pims_types::Verb::Get,
///     "a", pims_types::Parameters::new());
/// assert_eq!(c.to_value()["verb"], "get");
/// // `CallBody::to_json_string`
/// let c = pims_types::CallBody::new(pims_types::TransactionId::from_u64(1), pims_types::Verb::Get,
///     "a", pims_types::Parameters::new());
/// assert!(c.to_json_string().starts_with("{\"transactionId\""));
/// // `CallBody::json_of`
/// {
///     use pims_types::{CallBody, Parameters, TransactionId, Verb};
///     let tid = TransactionId::from_u64(1);
///     let params = Parameters::new().with("carAssociationID", "987654");
///     let text = CallBody::json_of(&tid, Verb::Get, "pims.subscription.steps", &params);
///     assert_eq!(text, CallBody::new(tid, Verb::Get, "pims.subscription.steps", params).to_json_string());
/// }
/// // `CallBody::from_slice`
/// let e = pims_types::CallBody::from_slice(br#"{"transactionId":"a","verb":"get"}"#).unwrap_err();
/// assert_eq!(e.to_string(), "Missing api parameter");
/// // `CallBody::from_value`
/// let v = serde_json::json!({"transactionId": "a", "verb": "fly", "api": "x"});
/// assert_eq!(pims_types::CallBody::from_value(&v).unwrap_err().to_string(), "Invalid verb parameter");
/// ```
#[derive(Clone, PartialEq)]
pub struct CallBody {
    /// Made by the SDK per call; echoed in the answer.
    pub transaction_id: TransactionId,
    /// `get` or `set`.
    pub verb: Verb,
    /// The API name.
    pub api: String,
    /// The parameters.
    pub parameters: Parameters,
}

impl CallBody {
    /// A call body.
    pub fn new(
        transaction_id: TransactionId,
        verb: Verb,
        api: impl Into<String>,
        parameters: Parameters,
    ) -> Self {
        CallBody {
            transaction_id,
            verb,
            api: api.into(),
            parameters,
        }
    }

    /// The body as a JSON value.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "transactionId".into(),
            Value::String(self.transaction_id.as_str().to_owned()),
        );
        map.insert("verb".into(), Value::String(self.verb.as_str().into()));
        map.insert("api".into(), Value::String(self.api.clone()));
        map.insert("parameters".into(), self.parameters.to_value());
        Value::Object(map)
    }

    /// The body as compact JSON text.
    pub fn to_json_string(&self) -> String {
        CallBody::json_of(&self.transaction_id, self.verb, &self.api, &self.parameters)
    }

    /// The compact JSON text of a call body made of these parts, without building (or
    /// cloning into) a `CallBody`: what a transport sends.
    pub fn json_of(
        transaction_id: &TransactionId,
        verb: Verb,
        api: &str,
        parameters: &Parameters,
    ) -> String {
        let parts = Parts {
            transaction_id,
            verb,
            api,
            parameters,
        };
        // Sized for a typical call (about 160 bytes) so the buffer is not regrown as it fills.
        let mut out = Vec::with_capacity(256);
        match serde_json::to_writer(&mut out, &parts).map(|()| String::from_utf8(out)) {
            Ok(Ok(text)) => text,
            // Cannot happen (string keys, JSON values); the Value path rather than a panic.
            _ => CallBody::new(transaction_id.clone(), verb, api, parameters.clone())
                .to_value()
                .to_string(),
        }
    }

    /// Reads a call body. Errors are parameter errors (2101/2102) naming the field, since for
    /// the backend a bad body is bad input.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            Error::invalid(
                "body",
                format!(
                    "not JSON ({} at line {} column {})",
                    crate::decode::json_error_kind(&e),
                    e.line(),
                    e.column()
                ),
            )
        })?;
        // Move the parameters out of the parsed document instead of copying them.
        let mut value = value;
        let parameters = value.as_object_mut().map(|m| m.remove("parameters"));
        CallBody::decode(&value, parameters)
    }

    /// Reads a call body from a JSON value (unknown keys ignored).
    pub fn from_value(value: &Value) -> Result<Self, Error> {
        CallBody::decode(value, None)
    }

    /// Decodes `value`; `owned_parameters` is its `parameters` entry, taken out of an owned
    /// document so it is not copied (`None`: read it from `value`; `Some(None)`: absent).
    fn decode(value: &Value, owned_parameters: Option<Option<Value>>) -> Result<Self, Error> {
        let root = Path::root();
        let map =
            expect_object(value, &root).map_err(|_| Error::invalid("body", "not an object"))?;
        let text = |key: &str| -> Result<String, Error> {
            match map.get(key) {
                None | Some(Value::Null) => Err(Error::missing(key)),
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(other) => Err(Error::invalid(
                    key,
                    format!("expected a non-empty string, found {}", type_name(other)),
                )),
            }
        };
        let transaction_id = TransactionId::parse(&text("transactionId")?)?;
        let verb = Verb::parse(&text("verb")?)
            .ok_or_else(|| Error::invalid("verb", "expected get, set, subscribe or unsubscribe"))?;
        let api = text("api")?;
        let parameters = match owned_parameters.unwrap_or_else(|| map.get("parameters").cloned()) {
            None => Parameters::new(),
            Some(v) => Parameters::from_value(v)?,
        };
        Ok(CallBody {
            transaction_id,
            verb,
            api,
            parameters,
        })
    }
}

/// A call body's parts, borrowed: what [`CallBody::json_of`] writes, field by field (no
/// intermediate `Value`), in the documentation's key order.
struct Parts<'a> {
    transaction_id: &'a TransactionId,
    verb: Verb,
    api: &'a str,
    parameters: &'a Parameters,
}

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_map(Some(4))?;
        out.serialize_entry("transactionId", self.transaction_id.as_str())?;
        out.serialize_entry("verb", self.verb.as_str())?;
        out.serialize_entry("api", self.api)?;
        out.serialize_entry("parameters", self.parameters.as_map())?;
        out.end()
    }
}

impl fmt::Debug for CallBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallBody")
            .field("transaction_id", &self.transaction_id.as_str())
            .field("verb", &self.verb)
            .field("api", &self.api)
            .field("parameters", &self.parameters)
            .finish()
    }
}
