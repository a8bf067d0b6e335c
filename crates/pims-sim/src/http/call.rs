//! `POST /v1/calls`: read the body (64 KiB at most), apply the faults, authenticate, check the
//! headers, replay keyed calls (`Idempotency-Key`), run the API under the state lock, write the
//! state back.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use pims_types::{
    Api, ApiError, CallBody, DEVICE_ID_HEADER, ErrorCode, IDEMPOTENCY_KEY_HEADER,
    MAX_CALL_BODY_BYTES, TransactionId, Verb,
};

use super::reply::Reply;
use super::serve::ConnControl;
use crate::answer_cache::{self, CallKey, succeeded_envelope};
use crate::calls::{self, Caller};
use crate::faults::{Mode, Plan};
use crate::idempotency::{self, Lookup};
use crate::identifiers::is_identifier;
use crate::state::{Shared, Snapshot};

/// A body over the limit is still read (and dropped) up to this size, so that the client gets
/// to read the 413 instead of a reset connection; beyond it the connection is closed.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// How long reading a body may take.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The body of a garbage-body fault.
const GARBAGE: &str = "<!doctype html><title>502</title>upstream said: this is not JSON {\"";

enum BodyError {
    TooLarge,
    Unreadable,
}

async fn read_body(headers: &HeaderMap, mut body: Body) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT as u64) {
        return Err(BodyError::TooLarge);
    }
    let read = async {
        let mut buf = BytesMut::new();
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Unreadable)?;
            if let Ok(data) = frame.into_data() {
                total = total.saturating_add(data.len());
                if total > DRAIN_LIMIT {
                    return Err(BodyError::TooLarge);
                }
                if total <= MAX_CALL_BODY_BYTES {
                    buf.extend_from_slice(&data);
                }
            }
        }
        if total > MAX_CALL_BODY_BYTES {
            Err(BodyError::TooLarge)
        } else {
            Ok(buf.freeze())
        }
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or(Err(BodyError::Unreadable))
}

/// The transaction id of a body that is not a valid call, when it has a usable one.
fn salvage_transaction_id(bytes: &[u8]) -> Option<TransactionId> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let text = value.get("transactionId")?.as_str()?;
    TransactionId::parse(text).ok()
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The handler of `POST /v1/calls`.
pub(crate) async fn calls(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    // Taken apart rather than extracted: the header map is not copied.
    let (mut parts, body) = request.into_parts();
    let conn = parts.extensions.remove::<ConnControl>();
    let headers = &parts.headers;
    let bytes = match read_body(headers, body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let (status, reason) = match e {
                BodyError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "over 64 KiB"),
                BodyError::Unreadable => (StatusCode::BAD_REQUEST, "could not be read"),
            };
            tracing::debug!(reason, "call body refused");
            let error = ApiError::with_values(ErrorCode::INVALID_PARAMETER, &["body"]);
            return Reply::failed_with(status, TransactionId::generate(), error).into_response();
        }
    };
    let key = CallKey::read(&bytes);
    // Faults see the API of a decoded call; with none active nothing needs it yet.
    let (plan, parsed) = if shared.faults.is_active() {
        let parsed = CallBody::from_slice(&bytes);
        let api = parsed.as_ref().ok().and_then(|c| Api::parse(&c.api));
        (shared.faults.plan(api), Some(parsed))
    } else {
        (Plan::default(), None)
    };
    // A keyed call takes the full path: its key is checked and recorded there.
    if plan.is_nothing()
        && !headers.contains_key(IDEMPOTENCY_KEY_HEADER)
        && let Some(key) = &key
        && let Some(response) = cached_answer(&shared, headers, key)
    {
        return response;
    }
    let parsed = parsed.unwrap_or_else(|| CallBody::from_slice(&bytes));
    let transaction_id = match &parsed {
        Ok(call) => call.transaction_id.clone(),
        Err(_) => salvage_transaction_id(&bytes).unwrap_or_else(TransactionId::generate),
    };

    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    if !plan.after_processing
        && let Some(mode) = plan.failure
    {
        return fault_response(mode, &transaction_id, conn).await;
    }

    let (reply, snapshot) = process(
        &shared,
        parsed,
        key.as_ref(),
        headers,
        transaction_id.clone(),
    );
    let reply = match shared.persist(snapshot).await {
        Ok(()) => reply,
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "state file not written");
            let error = ApiError::from_code(ErrorCode::SERVER_ERROR).with_sub_code(vec![json!({
                "code": "STATE_NOT_WRITTEN",
                "label": "the simulator could not write its state file",
            })]);
            Reply::failed(transaction_id.clone(), error)
        }
    };
    if plan.after_processing
        && let Some(mode) = plan.failure
    {
        return fault_response(mode, &transaction_id, conn).await;
    }
    reply.into_response()
}

/// The answer of a steps read from the answer cache, when it holds it (`None`: the full path
/// answers, including every error).
fn cached_answer(shared: &Shared, headers: &HeaderMap, key: &CallKey<'_>) -> Option<Response> {
    let tid = key.transaction_id()?;
    let token = bearer(headers)?;
    let device = headers
        .get(DEVICE_ID_HEADER)?
        .to_str()
        .ok()
        .filter(|d| is_identifier(d))?;
    let clock_offset = shared.clock.offset().as_millis();
    let result = {
        let mut guard = shared.lock();
        let backend = &mut *guard;
        let account = backend.model.account_for_token(token)?;
        backend
            .answers
            .get(&shared.hasher, clock_offset, account, device, key)?
    };
    let body = succeeded_envelope(&tid, &result)?;
    tracing::debug!(
        transaction_id = %tid,
        api = key.api(),
        verb = "get",
        code = 0,
        changed = false,
        cached = true,
        "call"
    );
    Some(
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
    )
}

/// Everything that happens under the state lock.
fn process(
    shared: &Shared,
    parsed: Result<CallBody, pims_types::Error>,
    cache_key: Option<&CallKey<'_>>,
    headers: &HeaderMap,
    transaction_id: TransactionId,
) -> (Reply, Option<Snapshot>) {
    let tid = transaction_id;
    let mut call = match parsed {
        Ok(call) => call,
        Err(e) => {
            tracing::debug!(transaction_id = %tid, error = %e, "invalid call body");
            return (Reply::failed(tid, e.to_api_error()), None);
        }
    };
    // A whole number written 5.0 is the integer 5 (JSON Schema's reading, the document's):
    // copied only when there is one.
    if crate::whole_numbers::any_in_map(call.parameters.as_map()) {
        let mut map = call.parameters.as_map().clone();
        crate::whole_numbers::normalize_map(&mut map);
        call.parameters = pims_types::Parameters::from(map);
    }
    let mut backend = shared.lock();
    let Some(account) = bearer(headers).and_then(|t| backend.model.account_for_token(t)) else {
        tracing::debug!(transaction_id = %tid, "missing or unknown bearer token");
        let error = ApiError::from_code(ErrorCode::NEED_BASIC_AUTHENTICATION);
        return (Reply::failed(tid, error), None);
    };
    let device = match headers.get(DEVICE_ID_HEADER) {
        None => {
            let error = ApiError::with_values(ErrorCode::MISSING_PARAMETER, &[DEVICE_ID_HEADER]);
            return (Reply::failed(tid, error), None);
        }
        Some(v) => match v.to_str() {
            Ok(s) if is_identifier(s) => s.to_owned(),
            _ => {
                let error =
                    ApiError::with_values(ErrorCode::INVALID_PARAMETER, &[DEVICE_ID_HEADER]);
                return (Reply::failed(tid, error), None);
            }
        },
    };
    let Some(api) = Api::parse(&call.api).filter(|a| a.supports(call.verb)) else {
        tracing::debug!(transaction_id = %tid, verb = %call.verb, "API not supported");
        let error = ApiError::from_code(ErrorCode::API_NOT_SUPPORTED);
        return (Reply::failed(tid, error), None);
    };

    // Idempotency-Key, whatever the verb: a `get` may send an SMS or count a PIN attempt too
    // (`get smscode`, `get otp`), and the SDK keys every call that is not a pure read.
    let key = match headers.get(IDEMPOTENCY_KEY_HEADER) {
        Some(v) => match v.to_str() {
            Ok(k) if idempotency::is_valid_key(k) => Some(k.to_owned()),
            _ => {
                let error =
                    ApiError::with_values(ErrorCode::INVALID_PARAMETER, &[IDEMPOTENCY_KEY_HEADER]);
                return (Reply::failed(tid, error), None);
            }
        },
        None => None,
    };
    let account_id = backend.model.accounts[account].id.clone();
    let fingerprint = key.as_ref().map(|_| {
        idempotency::fingerprint(
            &shared.hasher,
            &device,
            call.verb.as_str(),
            api.name(),
            &call.parameters.to_value(),
        )
    });
    if let (Some(key), Some(fp)) = (&key, fingerprint) {
        match backend.idempotency.lookup(&account_id, key, fp) {
            Lookup::Replay(first) => {
                let mut reply = first.clone();
                reply.message = reply.message.with_transaction_id(tid.clone());
                reply.replayed = true;
                tracing::debug!(transaction_id = %tid, api = api.name(), "idempotent replay");
                return (reply, None);
            }
            Lookup::Conflict => {
                let error =
                    ApiError::with_values(ErrorCode::INVALID_PARAMETER, &[IDEMPOTENCY_KEY_HEADER]);
                return (Reply::failed(tid, error), None);
            }
            Lookup::New => {}
        }
    }

    // Read before the call's time: a cached answer must not outlive a clock moved during it.
    let clock_offset = shared.clock.offset().as_millis();
    let caller = Caller {
        account,
        device: &device,
        now: shared.clock.now_ms(),
    };
    let (answer, changed) = calls::dispatch(
        &mut backend.model,
        &caller,
        api,
        call.verb,
        &call.parameters,
    );
    let pure_read = call.verb == Verb::Get && answer_cache::is_cacheable(api) && !changed;
    if !pure_read {
        // Whatever the call reports, it had the state to change.
        backend.answers.clear();
    } else if let (Some(cache_key), Ok(Some(result))) = (cache_key, &answer)
        && let Ok(text) = serde_json::to_vec(result)
    {
        backend.answers.insert(
            &shared.hasher,
            clock_offset,
            account,
            &device,
            cache_key,
            Bytes::from(text),
        );
    }
    let reply = Reply::from_answer(tid.clone(), answer);
    if let (Some(key), Some(fp)) = (key, fingerprint) {
        backend
            .idempotency
            .record(&account_id, &key, fp, reply.clone());
    }
    let snapshot = if changed {
        shared.changed(&mut backend)
    } else {
        None
    };
    tracing::debug!(
        transaction_id = %tid,
        api = api.name(),
        verb = %call.verb,
        code = reply.code(),
        changed,
        "call"
    );
    (reply, snapshot)
}

/// The answer of an injected failure.
async fn fault_response(
    mode: Mode,
    transaction_id: &TransactionId,
    conn: Option<ConnControl>,
) -> Response {
    tracing::debug!(transaction_id = %transaction_id, ?mode, "fault injected");
    match mode {
        Mode::Drop => {
            if let Some(conn) = conn {
                conn.kill();
                // The connection task drops the socket; this answer is never sent.
                return std::future::pending::<Response>().await;
            }
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Mode::Garbage => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            GARBAGE,
        )
            .into_response(),
        Mode::Status {
            status,
            retry_after,
        } => {
            let http = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let error = match status {
                401 => ApiError::from_code(ErrorCode::NEED_BASIC_AUTHENTICATION),
                403 => ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION),
                _ => ApiError::from_code(ErrorCode::SERVER_ERROR).with_sub_code(vec![json!({
                    "code": "FAULT_INJECTED",
                    "label": format!("fault injected by the simulator: HTTP {status}"),
                })]),
            };
            let mut reply = Reply::failed_with(http, transaction_id.clone(), error);
            if status == 429 {
                reply.retry_after = Some(retry_after);
            }
            reply.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn transaction_ids_are_salvaged_from_bad_calls() {
        let id = salvage_transaction_id(br#"{"transactionId": "953cfefb-bc72", "verb": 5}"#);
        assert_eq!(id.unwrap().as_str(), "953cfefb-bc72");
        assert!(salvage_transaction_id(b"{").is_none());
        assert!(salvage_transaction_id(br#"{"transactionId": "a b"}"#).is_none());
    }
}
