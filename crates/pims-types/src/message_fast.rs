//! The common envelope decoded without building a `Value` for it (serde derive): what
//! [`Message::from_slice`](crate::Message::from_slice) tries first. It only ever answers
//! `None` or the message the authoritative decoder (`message_decode`) would give.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use crate::message::Message;
use crate::transaction_id::TransactionId;

/// The common case, decoded without building a `Value` for the envelope: an object of
/// exactly the known keys whose status is SUCCEEDED or RESULT, with a valid transaction id
/// and no error. Anything else (a FAILED message, a wrong type, a duplicate or unknown
/// key, bad JSON) is `None`, and the `Value` path decodes it, with its precise errors.
pub(crate) fn decode(bytes: &[u8]) -> Option<Message> {
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
    match fast.status.as_ref() {
        "SUCCEEDED" => Some(Message::succeeded(transaction_id, result)),
        "RESULT" => Some(Message::event(transaction_id, result)),
        _ => None,
    }
}
