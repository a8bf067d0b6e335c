//! The `status` of a message: [`Status`].

use serde::{Deserialize, Serialize};

/// The `status` of a message.
///
/// ```
/// let s: pims_types::Status = serde_json::from_str("\"SUCCEEDED\"").unwrap();
/// assert_eq!(s, pims_types::Status::Succeeded);
///
/// // `Status::as_str`
/// assert_eq!(pims_types::Status::Failed.as_str(), "FAILED");
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
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::Result => "RESULT",
        }
    }
}
