//! The answer of `POST /v1/calls`: the envelope plus the HTTP status of the wire protocol.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use pims_types::{ApiError, ErrorCode, Message, TransactionId};

use crate::calls::Answer;

/// Response header set on an answer replayed for a repeated `Idempotency-Key`.
pub(crate) const REPLAYED_HEADER: &str = "pims-idempotent-replay";

/// An envelope and its HTTP status.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) message: Message,
    pub(crate) retry_after: Option<u64>,
    pub(crate) replayed: bool,
}

/// The HTTP status of a FAILED answer (wire-protocol.md): input errors 400, 2301 401, 2302
/// 403, server errors 500, business errors 200.
pub(crate) fn http_status(code: ErrorCode) -> StatusCode {
    match code.as_u32() {
        2002 | 2101 | 2102 => StatusCode::BAD_REQUEST,
        2301 => StatusCode::UNAUTHORIZED,
        2302 => StatusCode::FORBIDDEN,
        2000 | 2204 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    }
}

impl Reply {
    /// A FAILED answer with the status its code maps to.
    pub(crate) fn failed(transaction_id: TransactionId, error: ApiError) -> Reply {
        Reply {
            status: http_status(error.code),
            message: Message::failed(transaction_id, error),
            retry_after: None,
            replayed: false,
        }
    }

    /// A FAILED answer with an explicit status.
    pub(crate) fn failed_with(
        status: StatusCode,
        transaction_id: TransactionId,
        error: ApiError,
    ) -> Reply {
        Reply {
            status,
            message: Message::failed(transaction_id, error),
            retry_after: None,
            replayed: false,
        }
    }

    /// The answer of a handler.
    pub(crate) fn from_answer(transaction_id: TransactionId, answer: Answer) -> Reply {
        match answer {
            Ok(Some(result)) => Reply::ok(Message::succeeded(transaction_id, result)),
            Ok(None) => Reply::ok(Message::succeeded_empty(transaction_id)),
            Err(failure) => {
                let mut reply = Reply::failed(transaction_id, failure.error);
                if let Some(secs) = failure.retry_after {
                    reply.status = StatusCode::TOO_MANY_REQUESTS;
                    reply.retry_after = Some(secs);
                }
                reply
            }
        }
    }

    fn ok(message: Message) -> Reply {
        Reply {
            status: StatusCode::OK,
            message,
            retry_after: None,
            replayed: false,
        }
    }

    /// The result code for logs (0 on success).
    pub(crate) fn code(&self) -> u32 {
        self.message.error().map_or(0, |e| e.code.as_u32())
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.message.to_json_string(),
        )
            .into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.replayed {
            headers.insert(
                HeaderName::from_static(REPLAYED_HEADER),
                HeaderValue::from_static("true"),
            );
        }
        response
    }
}
