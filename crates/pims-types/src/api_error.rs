//! The `error` object of a FAILED message: [`ApiError`] (its decoder is `message_decode`'s,
//! beside the envelope's, so that the error type and the decoding errors are not in a circle).

use std::fmt;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::catalogue::ErrorCode;

/// The `error` object of a FAILED message.
///
/// ```
/// use pims_types::{ApiError, ErrorCode};
/// let e = ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION);
/// assert_eq!(e.label, "Need Strong Authentication");
///
/// // `ApiError::new`
/// let e = pims_types::ApiError::new(pims_types::ErrorCode(2204), "Server Error");
/// assert!(e.sub_code.is_none());
/// // `ApiError::from_code`
/// let e = pims_types::ApiError::from_code(pims_types::ErrorCode::TIMEOUT);
/// assert_eq!(e.label, "Timeout");
/// // `ApiError::with_values`
/// {
///     use pims_types::{ApiError, ErrorCode};
///     let e = ApiError::with_values(ErrorCode::NO_STEP_FOR_STEPS_ID, &["132324"]);
///     assert_eq!(e.label, "No Step for this stepsID 132324");
/// }
/// // `ApiError::with_sub_code`
/// let e = pims_types::ApiError::from_code(pims_types::ErrorCode::SERVER_ERROR)
///     .with_sub_code(vec![serde_json::json!(503)]);
/// assert_eq!(e.sub_code.unwrap().len(), 1);
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
    pub fn new(code: ErrorCode, label: impl Into<String>) -> Self {
        ApiError {
            code,
            label: label.into(),
            sub_code: None,
        }
    }

    /// An error whose label is the catalogue's, placeholders left as they are.
    pub fn from_code(code: ErrorCode) -> Self {
        ApiError::new(code, code.label_with(&[]))
    }

    /// An error whose label is the catalogue's with placeholders filled by `values`.
    pub fn with_values(code: ErrorCode, values: &[&str]) -> Self {
        ApiError::new(code, code.label_with(values))
    }

    /// Adds a `subCode` array.
    pub fn with_sub_code(mut self, sub_code: Vec<Value>) -> Self {
        self.sub_code = Some(sub_code);
        self
    }

    /// The error as a JSON value (`code`, `label`, `subCode` when there is one).
    pub(crate) fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("code".into(), Value::from(self.code.0));
        map.insert("label".into(), Value::String(self.label.clone()));
        if let Some(sub) = &self.sub_code {
            map.insert("subCode".into(), Value::Array(sub.clone()));
        }
        Value::Object(map)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.code, self.label)
    }
}

impl std::error::Error for ApiError {}

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
