//! From an HTTP exchange to an [`Outcome`]: the status mapping of the wire protocol, decoding
//! of the envelope, and the classification of errors raised while sending.
//!
//! The body is authoritative: an envelope answering this call is handed on whatever the status
//! (except 429/5xx, which are retried, and redirects, which are never followed).

use std::time::Duration;

use bytes::Bytes;
use pims_types::{ApiError, ErrorCode, Message, Secret, TransactionId};
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::body::read_capped;
use super::retry::{Outcome, RetryWhen};
use crate::error::{AnswerProblem, Deadline, Detail, TransportError};

/// Retry-After values above this are treated as this (they fail fast anyway: no deadline is
/// a day long).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The outcome of a response. `steps`: the call is a steps call, whose answer is decoded
/// straight into a step list when it can be ([`Message::from_slice_steps`]).
pub(crate) async fn outcome(
    response: reqwest::Response,
    expected: &TransactionId,
    token: Option<Secret>,
    cap: usize,
    steps: bool,
) -> Outcome {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    tracing::debug!(status, "answer");
    match status {
        429 | 500..=599 => {
            // Keep the backend's own error when it sent one for this call.
            let error = match read_capped(response, cap).await {
                Ok(body) => decode(&body, expected)
                    .ok()
                    .and_then(|m| m.error().cloned()),
                Err(_) => None,
            };
            Outcome::Failed {
                error: TransportError::ServerError {
                    status,
                    error,
                    retry_after,
                },
                when: RetryWhen::Repeatable,
                retry_after,
            }
        }
        100..=199 | 300..=399 => unusable(AnswerProblem::UnexpectedStatus { status }),
        413 => {
            let answer = match read_capped(response, cap).await {
                Ok(body) => decode(&body, expected).ok().filter(|m| m.error().is_some()),
                Err(_) => None,
            };
            Outcome::Answer(answer.unwrap_or_else(|| {
                let refused = pims_types::Error::invalid(
                    "parameters",
                    "the backend refused the call body as too large (HTTP 413)",
                );
                Message::failed(expected.clone(), refused.to_api_error())
            }))
        }
        _ => {
            let body = match read_capped(response, cap).await {
                Ok(body) => body,
                Err(problem) => return unusable(problem),
            };
            let decoded = if steps {
                decode_steps(&body, expected)
            } else {
                decode(&body, expected)
            };
            match (decoded, status) {
                (Ok(message), 401) => Outcome::Unauthorized { message, token },
                (Ok(message), _) => Outcome::Answer(message),
                (Err(p @ AnswerProblem::TransactionIdMismatch { .. }), _) => unusable(p),
                // A gateway's 401/403 without an envelope still means what the contract says.
                (Err(_), 401) => Outcome::Unauthorized {
                    message: synthesized(expected, ErrorCode::NEED_BASIC_AUTHENTICATION),
                    token,
                },
                (Err(_), 403) => {
                    Outcome::Answer(synthesized(expected, ErrorCode::NEED_STRONG_AUTHENTICATION))
                }
                (Err(p), 200..=299 | 400) => unusable(p),
                (Err(_), _) => unusable(AnswerProblem::UnexpectedStatus { status }),
            }
        }
    }
}

/// The outcome of an error raised by the HTTP client before an answer began.
pub(crate) fn send_error(error: reqwest::Error) -> Outcome {
    let failed = |error, when| Outcome::Failed {
        error,
        when,
        retry_after: None,
    };
    let (connect, builder, timeout) = (error.is_connect(), error.is_builder(), error.is_timeout());
    // The URL is not secret, but it is noise in every message.
    let detail = Detail::from_error(&error.without_url());
    if connect {
        // Nothing of the request left: even a set without a key may be tried again.
        if timeout {
            return failed(
                TransportError::timed_out(Deadline::Connect, false),
                RetryWhen::NotSent,
            );
        }
        return failed(
            TransportError::NotSent { source: detail },
            RetryWhen::NotSent,
        );
    }
    if builder {
        return failed(TransportError::NotSent { source: detail }, RetryWhen::Never);
    }
    if timeout {
        return failed(
            TransportError::timed_out(Deadline::Attempt, true),
            RetryWhen::Repeatable,
        );
    }
    failed(
        TransportError::NoAnswer { source: detail },
        RetryWhen::Repeatable,
    )
}

fn unusable(problem: AnswerProblem) -> Outcome {
    Outcome::Failed {
        error: TransportError::invalid_answer(problem),
        when: RetryWhen::Never,
        retry_after: None,
    }
}

fn synthesized(id: &TransactionId, code: ErrorCode) -> Message {
    Message::failed(id.clone(), ApiError::from_code(code))
}

/// Decodes an envelope and checks that it answers `expected`.
pub(crate) fn decode(body: &Bytes, expected: &TransactionId) -> Result<Message, AnswerProblem> {
    decode_with(body, expected, Message::from_slice)
}

/// [`decode`] for a steps call: the same message or problem, its list decoded without a
/// `Value` when the answer is written the usual way.
pub(crate) fn decode_steps(
    body: &Bytes,
    expected: &TransactionId,
) -> Result<Message, AnswerProblem> {
    decode_with(body, expected, Message::from_slice_steps)
}

fn decode_with(
    body: &Bytes,
    expected: &TransactionId,
    from_slice: fn(&[u8]) -> Result<Message, pims_types::Error>,
) -> Result<Message, AnswerProblem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AnswerProblem::Empty);
    }
    let message = from_slice(body).map_err(AnswerProblem::Decode)?;
    crate::call::check_echo(expected, &message)?;
    Ok(message)
}

/// `Retry-After` in delta-seconds (an HTTP date is ignored: the backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: u64 = text.parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999999999999"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn decode_names_what_was_wrong() {
        let id = TransactionId::from_u64(1);
        let cases: [(&[u8], &str); 6] = [
            (b"", "No data"),
            (b"  \n", "No data"),
            (b"{\"transactionId\":", "truncated"),
            (b"<html>", "not JSON"),
            (
                br#"{"transactionId":"00000000-0001","status":7}"#,
                "$.status",
            ),
            (
                br#"{"transactionId":"00000000-0002","status":"SUCCEEDED"}"#,
                "transactionId is not the request's",
            ),
        ];
        for (body, expected) in cases {
            let p = decode(&Bytes::copy_from_slice(body), &id).unwrap_err();
            assert!(p.to_string().contains(expected), "{p}");
            let s = decode_steps(&Bytes::copy_from_slice(body), &id).unwrap_err();
            assert_eq!(s.to_string(), p.to_string());
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let p = decode(&Bytes::from(deep), &id).unwrap_err();
        assert!(p.to_string().contains("Parsing error at $"), "{p}");
        let nan = br#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":NaN}"#;
        assert!(matches!(
            decode(&Bytes::from_static(nan), &id),
            Err(AnswerProblem::Decode(_))
        ));
        let ok = br#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":{"x":1}}"#;
        assert!(decode(&Bytes::from_static(ok), &id).is_ok());
        let list =
            br#"{"transactionId":"00000000-0001","status":"SUCCEEDED","result":{"stepsID":1}}"#;
        let general = decode(&Bytes::from_static(list), &id).unwrap();
        assert_eq!(
            decode_steps(&Bytes::from_static(list), &id).unwrap(),
            general
        );
        let other =
            br#"{"transactionId":"00000000-0002","status":"SUCCEEDED","result":{"stepsID":1}}"#;
        assert!(matches!(
            decode_steps(&Bytes::from_static(other), &id),
            Err(AnswerProblem::TransactionIdMismatch { .. })
        ));
    }
}
