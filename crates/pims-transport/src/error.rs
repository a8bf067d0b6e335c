//! The one error type of this crate, [`TransportError`], classified by where the call failed,
//! and the pieces it carries ([`Deadline`], [`AnswerProblem`], [`Detail`]).
//!
//! Nothing here holds a dependency's error type: causes are kept as text ([`Detail`]) so that
//! reqwest, hyper or serde_json never leak through the public API, and so that no error can
//! carry a request header (the token) or body (a PIN) by accident.

use std::fmt;
use std::time::Duration;

use pims_types::{ApiError, ErrorCode, TransactionId};

/// The text of a lower-level cause (an I/O error, a TLS failure, a token provider's reason).
///
/// It is plain text on purpose: it never holds a request, a header or a dependency's error type.
///
/// ```
/// use pims_transport::Detail;
/// let d = Detail::new("tcp connect error: Connection refused");
/// assert_eq!(d.to_string(), "tcp connect error: Connection refused");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Detail(String);

impl Detail {
    /// A detail from any text.
    ///
    /// ```
    /// assert_eq!(pims_transport::Detail::new("x").as_str(), "x");
    /// ```
    pub fn new(text: impl Into<String>) -> Self {
        Detail(text.into())
    }

    /// A detail from an error and its chain of sources, joined with `": "` (repeated texts, as
    /// wrappers often repeat their cause, are shown once).
    ///
    /// ```
    /// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    /// assert_eq!(pims_transport::Detail::from_error(&io).as_str(), "refused");
    /// ```
    pub fn from_error(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut parts: Vec<String> = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = next {
            let text = e.to_string();
            let repeated = parts.last().is_some_and(|last| last.contains(&text));
            if !text.is_empty() && !repeated {
                parts.push(text);
            }
            next = e.source();
        }
        Detail(parts.join(": "))
    }

    /// The text.
    ///
    /// ```
    /// assert!(pims_transport::Detail::new("").as_str().is_empty());
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Detail {}

/// Which deadline passed (all of them give 2201).
///
/// ```
/// assert_eq!(pims_transport::Deadline::Overall.to_string(), "overall deadline");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Deadline {
    /// Opening the connection (TCP + TLS) took too long; the request never left.
    Connect,
    /// One attempt (sending and reading the whole answer) took too long.
    Attempt,
    /// The whole call, retries and waits included, took too long.
    Overall,
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Deadline::Connect => "connect deadline",
            Deadline::Attempt => "attempt deadline",
            Deadline::Overall => "overall deadline",
        })
    }
}

/// What was wrong with an answer that arrived but cannot be used (2203). `Display` is the
/// label the app receives: it names what was wrong (and where, for a decoding error).
///
/// ```
/// use pims_transport::AnswerProblem;
/// let p = AnswerProblem::Decode(pims_types::Error::decode("$.status", "missing"));
/// assert_eq!(p.to_string(), "Invalid return Parsing error at $.status: missing");
/// assert_eq!(AnswerProblem::TooLarge { limit: 1024 }.to_string(),
///     "Invalid return invalid Data: answer larger than 1024 bytes");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnswerProblem {
    /// The body is not an envelope (not JSON, wrong types, missing keys); names the JSON path.
    Decode(pims_types::Error),
    /// The answer has no body.
    Empty,
    /// The body ended before its declared end (the connection closed or reset mid-body).
    Truncated,
    /// The body is larger than the response cap; reading stopped there.
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The envelope answers another call.
    TransactionIdMismatch {
        /// The request's transaction id.
        expected: TransactionId,
        /// The answer's.
        found: TransactionId,
    },
    /// An HTTP status the contract does not have (a redirect, which is never followed, or a
    /// status without an envelope).
    UnexpectedStatus {
        /// The HTTP status code.
        status: u16,
    },
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerProblem::Decode(e) => write!(f, "{e}"),
            AnswerProblem::Empty => f.write_str("Invalid return No data: empty body"),
            AnswerProblem::Truncated => {
                f.write_str("Invalid return No data: the body ended before its declared end")
            }
            AnswerProblem::TooLarge { limit } => {
                write!(
                    f,
                    "Invalid return invalid Data: answer larger than {limit} bytes"
                )
            }
            AnswerProblem::TransactionIdMismatch { .. } => f.write_str(
                "Invalid return invalid Data: the answer's transactionId is not the request's",
            ),
            AnswerProblem::UnexpectedStatus { status } => {
                write!(
                    f,
                    "Invalid return invalid Data: unexpected HTTP status {status}"
                )
            }
        }
    }
}

impl std::error::Error for AnswerProblem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AnswerProblem::Decode(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a call did not give an envelope, classified by where it failed.
///
/// An envelope with status FAILED is *not* a `TransportError`: the backend answered, and the
/// answer is handed on as a [`pims_types::Message`]. `Display` is short; the detail is in
/// [`source()`](std::error::Error::source). Nothing here ever holds a token, a parameter value or
/// a dependency's error type.
///
/// | variant | [`code()`](TransportError::code) | [`is_retryable()`](TransportError::is_retryable) |
/// |---|---|---|
/// | [`NotSent`](TransportError::NotSent) | 2202 | yes |
/// | [`TimedOut`](TransportError::TimedOut) | 2201 | yes |
/// | [`NoAnswer`](TransportError::NoAnswer) | 2202 | yes |
/// | [`InvalidAnswer`](TransportError::InvalidAnswer) | 2203 | no |
/// | [`ServerError`](TransportError::ServerError) | 2204 (or the backend's code) | yes |
/// | [`NoToken`](TransportError::NoToken) | 2301 | no |
/// | [`InvalidRequest`](TransportError::InvalidRequest) | 2101 / 2102 | no |
/// | [`InvalidConfig`](TransportError::InvalidConfig) | 2006 | no |
///
/// ```
/// use pims_transport::{Deadline, TransportError};
/// let e = TransportError::timed_out(Deadline::Overall, true);
/// assert_eq!(e.code().as_u32(), 2201);
/// assert!(e.is_retryable());
/// assert_eq!(e.to_api_error().label, "Timeout");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The request provably never left: connection refused, DNS failure, no route, TLS
    /// handshake failure, or a local problem before sending (2202).
    #[error("request not sent")]
    #[non_exhaustive]
    NotSent {
        /// The cause.
        #[source]
        source: Detail,
    },
    /// A deadline passed (2201).
    #[error("timed out ({deadline})")]
    #[non_exhaustive]
    TimedOut {
        /// Which one.
        deadline: Deadline,
        /// Whether the request may have reached the backend (false only when it timed out
        /// while connecting).
        sent: bool,
    },
    /// The request was sent but no answer came: the connection was reset or closed before an
    /// answer began (2202).
    #[error("no answer from the backend")]
    #[non_exhaustive]
    NoAnswer {
        /// The cause.
        #[source]
        source: Detail,
    },
    /// An answer came but cannot be used (2203).
    #[error("invalid answer from the backend")]
    #[non_exhaustive]
    InvalidAnswer {
        /// What was wrong with it.
        #[source]
        problem: AnswerProblem,
    },
    /// The backend answered 5xx or 429 (after the retries the call was allowed) (2204, or the
    /// backend's own error when its answer carried one).
    #[error("server error (HTTP {status})")]
    #[non_exhaustive]
    ServerError {
        /// The HTTP status of the last answer.
        status: u16,
        /// The error of the backend's envelope, when its answer was a FAILED envelope for this
        /// call.
        error: Option<ApiError>,
        /// The backend's `Retry-After`, if it gave one in seconds.
        retry_after: Option<Duration>,
    },
    /// The token provider could not give a token; nothing was sent (2301).
    #[error("no access token")]
    #[non_exhaustive]
    NoToken {
        /// The provider's reason.
        #[source]
        source: Detail,
    },
    /// The call cannot be sent as it is (a header value that is not valid, a body over the
    /// backend's limit, a verb this endpoint does not carry); nothing was sent (2101/2102,
    /// naming the parameter).
    #[error("invalid request")]
    #[non_exhaustive]
    InvalidRequest {
        /// The parameter error (its `Display` is the catalogue label).
        #[source]
        source: pims_types::Error,
    },
    /// The transport's configuration is unusable (an `http://` URL for a remote host, a zero
    /// timeout, ...) (2006).
    #[error("invalid transport configuration")]
    #[non_exhaustive]
    InvalidConfig {
        /// What is wrong.
        #[source]
        source: Detail,
    },
}

impl TransportError {
    /// A [`NotSent`](TransportError::NotSent) error.
    ///
    /// ```
    /// let e = pims_transport::TransportError::not_sent("connection refused");
    /// assert_eq!(e.code().as_u32(), 2202);
    /// assert!(!e.may_have_been_sent());
    /// ```
    pub fn not_sent(detail: impl Into<String>) -> Self {
        TransportError::NotSent {
            source: Detail::new(detail),
        }
    }

    /// A [`TimedOut`](TransportError::TimedOut) error.
    ///
    /// ```
    /// use pims_transport::{Deadline, TransportError};
    /// assert!(!TransportError::timed_out(Deadline::Connect, false).may_have_been_sent());
    /// ```
    pub fn timed_out(deadline: Deadline, sent: bool) -> Self {
        TransportError::TimedOut { deadline, sent }
    }

    /// A [`NoAnswer`](TransportError::NoAnswer) error.
    ///
    /// ```
    /// let e = pims_transport::TransportError::no_answer("connection reset by peer");
    /// assert_eq!(e.to_api_error().label, "Network problem : No internet");
    /// ```
    pub fn no_answer(detail: impl Into<String>) -> Self {
        TransportError::NoAnswer {
            source: Detail::new(detail),
        }
    }

    /// An [`InvalidAnswer`](TransportError::InvalidAnswer) error.
    ///
    /// ```
    /// use pims_transport::{AnswerProblem, TransportError};
    /// let e = TransportError::invalid_answer(AnswerProblem::Empty);
    /// assert_eq!(e.to_api_error().label, "Invalid return No data: empty body");
    /// ```
    pub fn invalid_answer(problem: AnswerProblem) -> Self {
        TransportError::InvalidAnswer { problem }
    }

    /// A [`ServerError`](TransportError::ServerError) error.
    ///
    /// ```
    /// let e = pims_transport::TransportError::server_error(503, None);
    /// assert_eq!(e.to_string(), "server error (HTTP 503)");
    /// ```
    pub fn server_error(status: u16, error: Option<ApiError>) -> Self {
        TransportError::ServerError {
            status,
            error,
            retry_after: None,
        }
    }

    /// A [`NoToken`](TransportError::NoToken) error, for [`TokenProvider`](crate::TokenProvider)
    /// implementations.
    ///
    /// ```
    /// let e = pims_transport::TransportError::no_token("the session expired");
    /// assert_eq!(e.code().as_u32(), 2301);
    /// ```
    pub fn no_token(detail: impl Into<String>) -> Self {
        TransportError::NoToken {
            source: Detail::new(detail),
        }
    }

    /// An [`InvalidRequest`](TransportError::InvalidRequest) error.
    ///
    /// ```
    /// let e = pims_transport::TransportError::invalid_request(
    ///     pims_types::Error::invalid("Pims-Device-Id", "not a header value"));
    /// assert_eq!(e.to_api_error().label, "Invalid Pims-Device-Id parameter");
    /// ```
    pub fn invalid_request(source: pims_types::Error) -> Self {
        TransportError::InvalidRequest { source }
    }

    /// An [`InvalidConfig`](TransportError::InvalidConfig) error.
    ///
    /// ```
    /// let e = pims_transport::TransportError::invalid_config("zero timeout");
    /// assert_eq!(e.code().as_u32(), 2006);
    /// ```
    pub fn invalid_config(detail: impl Into<String>) -> Self {
        TransportError::InvalidConfig {
            source: Detail::new(detail),
        }
    }

    /// The catalogue code: 2201 (timeout), 2202 (network), 2203 (invalid answer), 2204 (server
    /// error, or the code of the backend's own error), and for errors raised before sending 2301
    /// (no token), 2101/2102 (invalid request), 2006 (configuration).
    ///
    /// ```
    /// use pims_transport::{AnswerProblem, TransportError};
    /// assert_eq!(TransportError::invalid_answer(AnswerProblem::Empty).code().as_u32(), 2203);
    /// assert_eq!(TransportError::server_error(502, None).code().as_u32(), 2204);
    /// ```
    pub fn code(&self) -> ErrorCode {
        match self {
            TransportError::NotSent { .. } | TransportError::NoAnswer { .. } => ErrorCode::NETWORK,
            TransportError::TimedOut { .. } => ErrorCode::TIMEOUT,
            TransportError::InvalidAnswer { .. } => ErrorCode::INVALID_RETURN,
            TransportError::ServerError { error, .. } => error
                .as_ref()
                .map_or(ErrorCode::SERVER_ERROR, |backend| backend.code),
            TransportError::NoToken { .. } => ErrorCode::NEED_BASIC_AUTHENTICATION,
            TransportError::InvalidRequest { source } => source.code(),
            TransportError::InvalidConfig { .. } => ErrorCode::CORE_NOT_CONFIGURED,
        }
    }

    /// Whether the failure is transient: the same call may succeed later (network, timeout,
    /// server error). It says nothing about whether repeating *this* call is safe: see
    /// [`may_have_been_sent`](TransportError::may_have_been_sent) before repeating a `set`.
    ///
    /// ```
    /// use pims_transport::{AnswerProblem, TransportError};
    /// assert!(TransportError::no_answer("reset").is_retryable());
    /// assert!(!TransportError::invalid_answer(AnswerProblem::Truncated).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TransportError::NotSent { .. }
                | TransportError::TimedOut { .. }
                | TransportError::NoAnswer { .. }
                | TransportError::ServerError { .. }
        )
    }

    /// Whether the request may have reached the backend (and so a `set` may have been done).
    /// `false` means it provably never left.
    ///
    /// ```
    /// use pims_transport::TransportError;
    /// assert!(!TransportError::not_sent("refused").may_have_been_sent());
    /// assert!(TransportError::no_answer("reset").may_have_been_sent());
    /// ```
    pub fn may_have_been_sent(&self) -> bool {
        match self {
            TransportError::NotSent { .. }
            | TransportError::NoToken { .. }
            | TransportError::InvalidRequest { .. }
            | TransportError::InvalidConfig { .. } => false,
            TransportError::TimedOut { sent, .. } => *sent,
            TransportError::NoAnswer { .. }
            | TransportError::InvalidAnswer { .. }
            | TransportError::ServerError { .. } => true,
        }
    }

    /// The envelope error an app receives for this failure: the catalogue label, or for 2203
    /// a label naming what was wrong, or the backend's own error for a server error that
    /// carried one. A 2204 made here carries the HTTP status as its `subCode`.
    ///
    /// ```
    /// use pims_transport::{AnswerProblem, TransportError};
    /// let e = TransportError::invalid_answer(AnswerProblem::Decode(
    ///     pims_types::Error::decode("$.transactionId", "missing")));
    /// assert_eq!(e.to_api_error().label, "Invalid return Parsing error at $.transactionId: missing");
    /// let s = TransportError::server_error(503, None).to_api_error();
    /// assert_eq!((s.code.as_u32(), s.label.as_str()), (2204, "Server Error"));
    /// assert_eq!(s.sub_code, Some(vec![serde_json::json!(503)]));
    /// ```
    pub fn to_api_error(&self) -> ApiError {
        match self {
            TransportError::InvalidAnswer { problem } => {
                ApiError::new(ErrorCode::INVALID_RETURN, problem.to_string())
            }
            TransportError::ServerError {
                error: Some(backend),
                ..
            } => backend.clone(),
            TransportError::ServerError {
                status,
                error: None,
                ..
            } => ApiError::from_code(ErrorCode::SERVER_ERROR)
                .with_sub_code(vec![serde_json::Value::from(*status)]),
            TransportError::InvalidRequest { source } => source.to_api_error(),
            other => ApiError::from_code(other.code()),
        }
    }
}

impl From<TransportError> for ApiError {
    fn from(e: TransportError) -> Self {
        e.to_api_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn every_variant_has_its_code_and_a_short_display() {
        let cases = [
            (TransportError::not_sent("x"), 2202, true, false),
            (
                TransportError::timed_out(Deadline::Attempt, true),
                2201,
                true,
                true,
            ),
            (TransportError::no_answer("x"), 2202, true, true),
            (
                TransportError::invalid_answer(AnswerProblem::Truncated),
                2203,
                false,
                true,
            ),
            (TransportError::server_error(500, None), 2204, true, true),
            (TransportError::no_token("x"), 2301, false, false),
            (
                TransportError::invalid_request(pims_types::Error::missing("Pims-Device-Id")),
                2101,
                false,
                false,
            ),
            (TransportError::invalid_config("x"), 2006, false, false),
        ];
        for (e, code, retryable, sent) in cases {
            assert_eq!(e.code().as_u32(), code, "{e:?}");
            assert_eq!(e.to_api_error().code.as_u32(), code, "{e:?}");
            assert_eq!(e.is_retryable(), retryable, "{e:?}");
            assert_eq!(e.may_have_been_sent(), sent, "{e:?}");
            assert!(e.to_string().len() < 40, "{e}");
            assert!(e.code().is_known());
        }
    }

    #[test]
    fn the_backend_error_of_a_server_error_is_kept() {
        let backend = ApiError::from_code(ErrorCode(2205)).with_sub_code(vec!["x".into()]);
        let e = TransportError::server_error(502, Some(backend.clone()));
        assert_eq!(e.code(), ErrorCode(2205));
        assert_eq!(e.to_api_error(), backend);
    }

    #[test]
    fn detail_is_in_the_source_chain() {
        let e = TransportError::not_sent("tcp connect error: Connection refused");
        let source = e.source().map(|s| s.to_string());
        assert_eq!(
            source.as_deref(),
            Some("tcp connect error: Connection refused")
        );
        let d = TransportError::invalid_answer(AnswerProblem::Decode(pims_types::Error::decode(
            "$.status", "missing",
        )));
        let chain: Vec<String> = std::iter::successors(d.source(), |s| (*s).source())
            .map(|s| s.to_string())
            .collect();
        assert_eq!(chain.len(), 2, "{chain:?}");
        assert!(chain[1].contains("$.status"));
    }

    #[test]
    fn detail_from_error_joins_the_chain_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "connect failed: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::other("refused"));
        assert_eq!(Detail::from_error(&e).as_str(), "connect failed: refused");
    }
}
