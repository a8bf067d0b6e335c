//! [`PimsMessage`]: the envelope a verb answers with, in a form every language reads.

use pims::{Message, Status};

use crate::json::JsonValue;

/// A verb's answer: `transactionId`, `status`, and `result` (SUCCEEDED, RESULT) or `error`
/// (FAILED). `envelope` is the whole message as the JSON dictionary the mobile SDK hands over.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PimsMessage {
    /// The call's transaction id (a subscription's events carry the subscription's).
    pub transaction_id: String,
    /// SUCCEEDED, FAILED, or RESULT (an event of a subscription).
    pub status: MessageStatus,
    /// The result (a JSON `null` for operations without output); absent on FAILED.
    pub result: Option<JsonValue>,
    /// The error of a FAILED message.
    pub error: Option<ApiErrorInfo>,
    /// The dictionary form: `{"transactionId", "status", "result" | "error"}`, keys in order.
    pub envelope: JsonValue,
}

/// A message's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum MessageStatus {
    /// The call succeeded.
    Succeeded,
    /// The call failed: `error` says why.
    Failed,
    /// An event of a subscription.
    Result,
}

/// The `error` object of a FAILED message.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ApiErrorInfo {
    /// The catalogue code.
    pub code: i64,
    /// The label, placeholders filled.
    pub label: String,
    /// What to do about it, when the catalogue says.
    pub remedy: Option<String>,
}

impl From<&Message> for PimsMessage {
    fn from(m: &Message) -> Self {
        let status = match m.status() {
            Status::Succeeded => MessageStatus::Succeeded,
            Status::Failed => MessageStatus::Failed,
            Status::Result => MessageStatus::Result,
        };
        PimsMessage {
            transaction_id: m.transaction_id().as_str().to_owned(),
            status,
            result: m.result().map(JsonValue::from),
            error: m.error().map(|e| ApiErrorInfo {
                code: i64::from(e.code.as_u32()),
                label: e.label.clone(),
                remedy: e.code.remedy().map(|r| r.advice().to_owned()),
            }),
            envelope: JsonValue::from(&m.to_value()),
        }
    }
}
