//! The HTTP transport against hand-written misbehaving servers on 127.0.0.1:0: the status
//! mapping, the retry rules (with the number of requests that reached the server), deadlines,
//! the response cap and decoding errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use pims_transport::{
    AnswerProblem, Call, Deadline, HttpTransport, HttpTransportBuilder, RetryPolicy, TokenProvider,
    Transport, TransportError,
};
use pims_types::{ApiError, ErrorCode, Message, Parameters, Secret, TransactionId, Verb};
use support::{Action, FakeServer, Request, bare, did_not_hang, envelope, http, ok_for, respond};

const MS: Duration = Duration::from_millis(1);

/// A transport with short real deadlines and tiny backoffs, for servers that answer at once.
fn fast(server: &FakeServer) -> HttpTransportBuilder {
    HttpTransport::builder(server.base_url())
        .static_token(Secret::new("test-token"))
        .connect_timeout(MS * 500)
        .attempt_timeout(MS * 1500)
        .overall_timeout(MS * 5000)
        .retry_policy(
            RetryPolicy::new()
                .initial_backoff(MS * 5)
                .max_backoff(MS * 20),
        )
}

fn get_steps() -> Call {
    Call::new(
        Verb::Get,
        "pims.subscription.steps",
        Parameters::new()
            .with("carAssociationID", "987654")
            .with("stepsStatus", "all"),
        TransactionId::generate(),
        "device-1",
    )
}

fn pin_set() -> Call {
    Call::new(
        Verb::Set,
        "pims.authentication.pincode",
        Parameters::new()
            .with("action", "update")
            .with_secret("newPIN", &Secret::new("2468")),
        TransactionId::generate(),
        "device-1",
    )
}

async fn call(transport: &HttpTransport, call: Call) -> Result<Message, TransportError> {
    did_not_hang(transport.call(call)).await
}

fn problem(result: Result<Message, TransportError>) -> AnswerProblem {
    match result {
        Err(TransportError::InvalidAnswer { problem, .. }) => problem,
        other => panic!("expected an invalid answer, got {other:?}"),
    }
}

#[tokio::test]
async fn sends_the_documented_request() {
    let server = FakeServer::always(ok_for).await;
    let t = fast(&server).build().unwrap();

    let get = get_steps();
    let id = get.transaction_id.clone();
    let answer = call(&t, get).await.unwrap();
    assert_eq!(answer.transaction_id(), &id);
    assert!(answer.is_success());

    call(&t, pin_set()).await.unwrap();
    call(&t, pin_set().with_idempotency_key("key-1"))
        .await
        .unwrap();

    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    for r in &seen {
        assert_eq!(
            (r.method.as_str(), r.target.as_str()),
            ("POST", "/v1/calls")
        );
        assert_eq!(r.header("authorization"), Some("Bearer test-token"));
        assert_eq!(r.header("pims-device-id"), Some("device-1"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let ua = r.header("user-agent").unwrap();
        assert_eq!(ua, format!("pims-transport/{}", env!("CARGO_PKG_VERSION")));
    }
    let body = seen[0].json();
    assert_eq!(body["transactionId"], id.as_str());
    assert_eq!(body["verb"], "get");
    assert_eq!(body["api"], "pims.subscription.steps");
    assert_eq!(body["parameters"]["carAssociationID"], "987654");
    // A pure read carries no key; every other call does (its own, or the one given).
    assert_eq!(seen[0].header("idempotency-key"), None);
    assert_eq!(seen[1].header("idempotency-key").map(str::len), Some(36));
    assert_eq!(seen[2].header("idempotency-key"), Some("key-1"));
    assert_eq!(seen[1].json()["parameters"]["newPIN"], "2468");
}

#[tokio::test]
async fn connection_refused_is_2202_and_never_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let t = HttpTransport::builder(format!("http://{addr}"))
        .retry_policy(RetryPolicy::new().initial_backoff(MS))
        .build()
        .unwrap();
    for c in [get_steps(), pin_set()] {
        let e = call(&t, c).await.unwrap_err();
        assert!(matches!(e, TransportError::NotSent { .. }), "{e:?}");
        // The cause is kept for developers, as text.
        let cause = std::error::Error::source(&e).unwrap().to_string();
        assert!(cause.contains("refused"), "{cause}");
        assert_eq!(e.code(), ErrorCode::NETWORK);
        assert!(!e.may_have_been_sent());
        assert!(e.is_retryable());
    }
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_gives_2201_within_the_overall_deadline() {
    let server = FakeServer::always(|_| Action::Never).await;
    // Default deadlines (5 s / 10 s / 30 s), on tokio's paused clock.
    let t = HttpTransport::builder(server.base_url()).build().unwrap();
    let start = tokio::time::Instant::now();
    let e = t.call(get_steps()).await.unwrap_err();
    assert!(matches!(e, TransportError::TimedOut { .. }), "{e:?}");
    assert_eq!(e.code().as_u32(), 2201);
    assert_eq!(e.to_api_error().label, "Timeout");
    assert!(
        start.elapsed() <= Duration::from_secs(31),
        "{:?}",
        start.elapsed()
    );
    // The requests did reach it (on loopback the paused clock does not outrun the connect).
    assert!(server.count() >= 1);
}

#[tokio::test(start_paused = true)]
async fn an_unkeyed_set_to_a_silent_server_times_out_after_one_request() {
    let server = FakeServer::always(|_| Action::Never).await;
    let t = HttpTransport::builder(server.base_url()).build().unwrap();
    let start = tokio::time::Instant::now();
    let e = t.call(pin_set()).await.unwrap_err();
    // One attempt, cut by its own deadline, and not repeated.
    assert_eq!(e, TransportError::timed_out(Deadline::Attempt, true));
    assert!(e.may_have_been_sent());
    assert!(start.elapsed() <= Duration::from_secs(11));
    assert!(server.count() <= 1);
}

#[tokio::test(start_paused = true)]
async fn a_drip_fed_body_gives_2201() {
    let server = FakeServer::always(|_| Action::Drip {
        head: b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n".to_vec(),
        interval: Duration::from_millis(50),
    })
    .await;
    let t = HttpTransport::builder(server.base_url()).build().unwrap();
    let start = tokio::time::Instant::now();
    let e = t.call(get_steps()).await.unwrap_err();
    assert!(matches!(e, TransportError::TimedOut { .. }), "{e:?}");
    assert_eq!(e.code().as_u32(), 2201);
    assert!(start.elapsed() <= Duration::from_secs(31));
}

#[tokio::test]
async fn a_drip_fed_body_gives_2201_on_the_real_clock_too() {
    let server = FakeServer::always(|_| Action::Drip {
        head: b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n".to_vec(),
        interval: Duration::from_millis(20),
    })
    .await;
    let t = fast(&server)
        .attempt_timeout(MS * 200)
        .overall_timeout(MS * 300)
        .build()
        .unwrap();
    let e = call(&t, get_steps()).await.unwrap_err();
    assert!(matches!(e, TransportError::TimedOut { .. }), "{e:?}");
    assert!(server.count() >= 1);
}

#[tokio::test]
async fn a_get_succeeds_on_the_third_attempt_after_two_503() {
    let server = FakeServer::start(vec![
        respond(|_| bare(503)),
        respond(|_| bare(503)),
        respond(ok_for),
    ])
    .await;
    let t = fast(&server).build().unwrap();
    let answer = call(&t, get_steps()).await.unwrap();
    assert!(answer.is_success());
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_get_against_503s_gives_2204_after_three_attempts() {
    let server = FakeServer::always(|_| bare(503)).await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, get_steps()).await.unwrap_err();
    assert!(
        matches!(e, TransportError::ServerError { status: 503, .. }),
        "{e:?}"
    );
    assert_eq!(e.code(), ErrorCode::SERVER_ERROR);
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_pin_set_reaches_a_503_server_exactly_once() {
    let server = FakeServer::always(|_| bare(503)).await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, pin_set()).await.unwrap_err();
    assert!(
        matches!(e, TransportError::ServerError { status: 503, .. }),
        "{e:?}"
    );
    assert_eq!(e.code().as_u32(), 2204);
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_pin_set_reaches_a_resetting_server_exactly_once() {
    let server = FakeServer::always(|_| Action::Reset).await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, pin_set()).await.unwrap_err();
    assert!(matches!(e, TransportError::NoAnswer { .. }), "{e:?}");
    assert_eq!(e.code().as_u32(), 2202);
    assert!(e.may_have_been_sent());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_get_against_a_resetting_server_is_retried_then_2202() {
    let server = FakeServer::always(|_| Action::Reset).await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, get_steps()).await.unwrap_err();
    assert!(matches!(e, TransportError::NoAnswer { .. }), "{e:?}");
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_key_does_not_make_a_call_repeatable() {
    // The request reached the server, then the connection was reset: the PIN may have been
    // checked. A key lets a backend recognise a resend, but a real one may not deduplicate: the
    // call is sent once.
    let server = FakeServer::start(vec![respond(|_| Action::Reset), respond(ok_for)]).await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, pin_set().with_idempotency_key("k-42"))
        .await
        .unwrap_err();
    assert!(e.may_have_been_sent(), "{e:?}");
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("idempotency-key"), Some("k-42"));
}

#[tokio::test]
async fn retry_after_longer_than_the_deadline_fails_fast() {
    let server =
        FakeServer::always(|_| Action::Reply(http(429, &[("Retry-After", "120")], b"slow down")))
            .await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, get_steps()).await.unwrap_err();
    match &e {
        TransportError::ServerError {
            status: 429,
            retry_after,
            ..
        } => assert_eq!(*retry_after, Some(Duration::from_secs(120))),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.code().as_u32(), 2204);
    assert_eq!(server.count(), 1);
}

/// Real clock on purpose: on a paused clock the pending attempt deadline could fire while the
/// second request waits for its socket. The timing itself is tested on the paused clock in the
/// unit tests of the retry loop; here only the wiring (header read, second request sent).
#[tokio::test]
async fn retry_after_inside_the_deadline_is_honoured() {
    let server = FakeServer::start(vec![
        respond(|_| Action::Reply(http(429, &[("Retry-After", "1")], b""))),
        respond(ok_for),
    ])
    .await;
    let t = fast(&server).build().unwrap();
    let start = std::time::Instant::now();
    assert!(call(&t, get_steps()).await.unwrap().is_success());
    assert_eq!(server.count(), 2);
    // It waited (a lower bound is not a speed assertion).
    assert!(start.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_server_error_keeps_the_backends_error() {
    let server = FakeServer::always(|r: &Request| {
        let error = ApiError::from_code(ErrorCode::SERVER_ERROR)
            .with_sub_code(vec![serde_json::json!("quota")]);
        envelope(500, &Message::failed(r.transaction_id(), error))
    })
    .await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, get_steps()).await.unwrap_err();
    let api = e.to_api_error();
    assert_eq!(api.code.as_u32(), 2204);
    assert_eq!(api.sub_code, Some(vec![serde_json::json!("quota")]));
    assert_eq!(server.count(), 3);

    // Without an envelope, the HTTP status is the sub-code.
    let bare_server = FakeServer::always(|_| bare(504)).await;
    let t = fast(&bare_server)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let api = call(&t, get_steps()).await.unwrap_err().to_api_error();
    assert_eq!(api.sub_code, Some(vec![serde_json::json!(504)]));
    assert_eq!(bare_server.count(), 1);
}

#[tokio::test]
async fn a_truncated_body_is_2203_and_not_retried() {
    let server = FakeServer::always(|_| {
        Action::Reply(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{\"transactionId\":"
                .to_vec(),
        )
    })
    .await;
    let t = fast(&server).build().unwrap();
    let result = call(&t, get_steps()).await;
    assert_eq!(problem(result), AnswerProblem::Truncated);
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_short_lying_content_length_gives_a_parsing_error() {
    let server = FakeServer::always(|r: &Request| {
        let body =
            Message::succeeded(r.transaction_id(), serde_json::json!({"a": 1})).to_json_string();
        let mut raw =
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n".to_vec();
        raw.extend_from_slice(body.as_bytes());
        Action::Reply(raw)
    })
    .await;
    let t = fast(&server).build().unwrap();
    let p = problem(call(&t, get_steps()).await);
    assert!(matches!(p, AnswerProblem::Decode(_)), "{p:?}");
    assert!(p.to_string().contains("truncated"), "{p}");
}

#[tokio::test]
async fn garbage_is_2203_naming_what_was_wrong() {
    let server = FakeServer::always(|_| {
        Action::Reply(http(200, &[], b"<html><body>Bad gateway</body></html>"))
    })
    .await;
    let t = fast(&server).build().unwrap();
    let e = call(&t, get_steps()).await.unwrap_err();
    assert_eq!(e.code().as_u32(), 2203);
    let label = e.to_api_error().label;
    assert!(
        label.starts_with("Invalid return Parsing error at $"),
        "{label}"
    );
    assert!(label.contains("not JSON"), "{label}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn wrong_types_name_the_json_path() {
    type MakeBody = fn(&str) -> String;
    let bodies: Vec<(MakeBody, &str)> = vec![
        (
            |id| format!(r#"{{"transactionId":"{id}","status":5}}"#),
            "$.status",
        ),
        (
            |id| {
                format!(
                    r#"{{"transactionId":"{id}","status":"FAILED","error":{{"code":"x","label":"y"}}}}"#
                )
            },
            "$.error.code",
        ),
        (
            |_| r#"{"transactionId":7,"status":"SUCCEEDED"}"#.to_owned(),
            "$.transactionId",
        ),
        (|_| "[1,2,3]".to_owned(), "$"),
        (
            |id| format!(r#"{{"transactionId":"{id}","status":"SUCCEEDED","result":NaN}}"#),
            "not JSON",
        ),
        (
            |_| format!("{}{}", "[".repeat(5000), "]".repeat(5000)),
            "not JSON",
        ),
    ];
    for (make, expected) in bodies {
        let server = FakeServer::always(move |r: &Request| {
            let body = make(r.transaction_id().as_str());
            Action::Reply(http(200, &[], body.as_bytes()))
        })
        .await;
        let t = fast(&server).build().unwrap();
        let label = call(&t, get_steps())
            .await
            .unwrap_err()
            .to_api_error()
            .label;
        assert!(label.contains(expected), "{expected}: {label}");
    }
}

#[tokio::test]
async fn empty_and_unexpected_answers_are_2203() {
    let server = FakeServer::always(|_| bare(200)).await;
    let t = fast(&server).build().unwrap();
    assert_eq!(problem(call(&t, get_steps()).await), AnswerProblem::Empty);

    let server = FakeServer::always(|_| Action::Reply(http(404, &[], b"Not Found"))).await;
    let t = fast(&server).build().unwrap();
    assert_eq!(
        problem(call(&t, get_steps()).await),
        AnswerProblem::UnexpectedStatus { status: 404 }
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_ten_megabyte_body_is_refused_at_the_cap() {
    const TEN_MB: usize = 10 * 1024 * 1024;
    // Declared: refused before reading.
    let declared = FakeServer::always(|_| Action::Reply(http(200, &[], &vec![b' '; TEN_MB]))).await;
    let t = fast(&declared).build().unwrap();
    assert_eq!(
        problem(call(&t, get_steps()).await),
        AnswerProblem::TooLarge { limit: 256 * 1024 }
    );
    // Not declared (delimited by the connection's end): cut while reading.
    let undeclared = FakeServer::always(|_| {
        let mut raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b' ', TEN_MB));
        Action::Reply(raw)
    })
    .await;
    let t = fast(&undeclared)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    assert_eq!(
        problem(call(&t, get_steps()).await),
        AnswerProblem::TooLarge { limit: 64 * 1024 }
    );
    assert_eq!(undeclared.count(), 1);
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_at_the_cap_and_the_connection_dropped() {
    let server = FakeServer::always(|_| Action::EndlessChunked).await;
    let t = fast(&server).build().unwrap();
    assert_eq!(
        problem(call(&t, get_steps()).await),
        AnswerProblem::TooLarge { limit: 256 * 1024 }
    );
    // The client stopped reading: the server's writes fail soon, after at most the cap plus
    // what the kernel's socket buffers hold, not an unbounded amount.
    let written = did_not_hang(async {
        loop {
            if let Some(n) = server.endless_stopped_after() {
                break n;
            }
            tokio::time::sleep(MS * 10).await;
        }
    })
    .await;
    assert!(written < 64 * 1024 * 1024, "{written}");
}

#[tokio::test]
async fn a_mismatched_transaction_id_is_2203() {
    let server = FakeServer::always(|_| {
        envelope(
            200,
            &Message::succeeded(TransactionId::from_u64(0xdead_beef), serde_json::json!({})),
        )
    })
    .await;
    let t = fast(&server).build().unwrap();
    let call_ = get_steps();
    let expected = call_.transaction_id.clone();
    match problem(call(&t, call_).await) {
        AnswerProblem::TransactionIdMismatch { expected: e, found } => {
            assert_eq!(e, expected);
            assert_eq!(found, TransactionId::from_u64(0xdead_beef));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn failed_envelopes_are_answers_whatever_the_status() {
    for (status, code) in [(200, 2346), (400, 2102), (401, 2301), (403, 2302)] {
        let server = FakeServer::always(move |r: &Request| {
            envelope(
                status,
                &Message::failed(r.transaction_id(), ApiError::from_code(ErrorCode(code))),
            )
        })
        .await;
        let t = fast(&server).build().unwrap();
        let answer = call(&t, get_steps()).await.unwrap();
        assert_eq!(answer.error().map(|e| e.code.as_u32()), Some(code));
        assert_eq!(server.count(), 1, "HTTP {status} is not retried");
    }
}

#[tokio::test]
async fn gateway_401_403_and_413_without_an_envelope_keep_their_meaning() {
    for (status, code, label) in [
        (401, 2301, "Need Basic Authentication (to get CVS token)"),
        (403, 2302, "Need Strong Authentication"),
        (413, 2102, "Invalid parameters parameter"),
    ] {
        let server = FakeServer::always(move |_| bare(status)).await;
        let t = fast(&server).build().unwrap();
        let c = get_steps();
        let id = c.transaction_id.clone();
        let answer = call(&t, c).await.unwrap();
        assert_eq!(answer.transaction_id(), &id);
        let error = answer.error().unwrap();
        assert_eq!((error.code.as_u32(), error.label.as_str()), (code, label));
        assert_eq!(server.count(), 1);
    }
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let elsewhere = FakeServer::always(ok_for).await;
    let location = format!("{}/v1/calls", elsewhere.base_url());
    let server = FakeServer::always(move |_| {
        Action::Reply(http(307, &[("Location", location.as_str())], b""))
    })
    .await;
    let t = fast(&server).build().unwrap();
    assert_eq!(
        problem(call(&t, get_steps()).await),
        AnswerProblem::UnexpectedStatus { status: 307 }
    );
    assert_eq!(server.count(), 1);
    assert_eq!(elsewhere.count(), 0, "the token never went to another host");
}

/// Gives `old` until invalidated, then `new`.
#[derive(Debug, Default)]
struct Renewing {
    invalidated: AtomicU32,
}

#[async_trait]
impl TokenProvider for Renewing {
    async fn token(&self) -> Result<Secret, TransportError> {
        Ok(Secret::new(
            if self.invalidated.load(Ordering::SeqCst) == 0 {
                "old"
            } else {
                "new"
            },
        ))
    }
    async fn invalidate(&self, rejected: &Secret) -> bool {
        assert_eq!(rejected.expose(), "old");
        self.invalidated.fetch_add(1, Ordering::SeqCst);
        true
    }
}

fn unauthorized_unless_new(r: &Request) -> Action {
    if r.header("authorization") == Some("Bearer new") {
        ok_for(r)
    } else {
        envelope(
            401,
            &Message::failed(
                r.transaction_id(),
                ApiError::from_code(ErrorCode::NEED_BASIC_AUTHENTICATION),
            ),
        )
    }
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_for_a_get() {
    let server = FakeServer::always(unauthorized_unless_new).await;
    let provider = Arc::new(Renewing::default());
    let t = fast(&server)
        .token_provider(provider.clone())
        .build()
        .unwrap();
    assert!(call(&t, get_steps()).await.unwrap().is_success());
    let auth: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(auth, ["Bearer old", "Bearer new"]);
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refused_token_on_a_pin_set_is_handed_on_not_resent() {
    let server = FakeServer::always(unauthorized_unless_new).await;
    let provider = Arc::new(Renewing::default());
    let t = fast(&server)
        .token_provider(provider.clone())
        .build()
        .unwrap();
    let answer = call(&t, pin_set()).await.unwrap();
    assert_eq!(answer.error().map(|e| e.code.as_u32()), Some(2301));
    assert_eq!(server.count(), 1);
    // Invalidated anyway, so the next call carries the fresh token.
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);
    assert!(call(&t, pin_set()).await.unwrap().is_success());
}

#[derive(Debug)]
struct LoggedOut;

#[async_trait]
impl TokenProvider for LoggedOut {
    async fn token(&self) -> Result<Secret, TransportError> {
        Err(TransportError::no_token("nobody is logged in"))
    }
}

#[tokio::test]
async fn without_a_token_nothing_is_sent_or_no_header_is() {
    let server = FakeServer::always(ok_for).await;
    let t = fast(&server)
        .token_provider(Arc::new(LoggedOut))
        .build()
        .unwrap();
    let e = call(&t, get_steps()).await.unwrap_err();
    assert_eq!(e.code().as_u32(), 2301);
    assert!(!e.may_have_been_sent());
    assert_eq!(server.count(), 0);

    let t = HttpTransport::builder(server.base_url()).build().unwrap();
    call(&t, get_steps()).await.unwrap();
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn an_http_url_for_a_remote_host_is_a_build_error() {
    for base in ["http://api.example.com", "http://192.168.1.10:8080"] {
        let e = HttpTransport::builder(base).build().unwrap_err();
        assert!(matches!(e, TransportError::InvalidConfig { .. }), "{e:?}");
    }
    assert!(
        HttpTransport::builder("https://api.example.com")
            .build()
            .is_ok()
    );
    assert!(
        HttpTransport::builder("http://localhost:8080")
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn clones_share_the_retry_budget() {
    let server = FakeServer::always(|_| bare(503)).await;
    let t = fast(&server)
        .retry_policy(
            RetryPolicy::new()
                .initial_backoff(MS)
                .max_backoff(MS)
                .budget(2, 0.0),
        )
        .build()
        .unwrap();
    let clone = t.clone();
    // Two retries in the budget, none refilled: 3 + 1 + 1 requests for three calls.
    for transport in [&t, &clone, &t] {
        assert!(call(transport, get_steps()).await.is_err());
    }
    assert_eq!(server.count(), 5);
}
