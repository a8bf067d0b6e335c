//! What an API handler answers when it fails: the FAILED envelope's error and, for an HTTP 429,
//! the `Retry-After` seconds. Shared by the handlers (`calls`) and the SMS outbox (`sms`, whose
//! quota answers one), so that neither has to reach into the other for it.

use pims_types::{ApiError, ErrorCode};

/// A FAILED answer, with the `Retry-After` seconds when the HTTP answer is a 429.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: ApiError,
    pub(crate) retry_after: Option<u64>,
}

impl Failure {
    /// The answer with the catalogue's message for `code`.
    pub(crate) fn code(code: ErrorCode) -> Failure {
        ApiError::from_code(code).into()
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

impl From<pims_types::Error> for Failure {
    fn from(e: pims_types::Error) -> Self {
        e.to_api_error().into()
    }
}
