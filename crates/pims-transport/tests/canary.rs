//! Secrets never leak: every public type and error is built with canary token and PIN values
//! (and an OTP in an answer), the flows run at TRACE level, and neither the captured logs nor
//! any `Debug`/`Display` output or error chain holds a canary, raw, base64 or hex encoded. On
//! the wire, the token appears only in the `Authorization` header and the PIN only in the body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use pims_transport::fakes::{Expected, FnTransport, NeverTransport, ReplayTransport, Reply};
use pims_transport::{
    Call, HttpTransport, RetryPolicy, SharedTransport, StaticToken, TokenProvider, Transport,
    TransportError,
};
use pims_types::{Message, Parameters, Secret, TransactionId, Verb};
use support::{Action, FakeServer, Request, bare, envelope, http, ok_for};

const TOKEN: &str = "CANARY-TOKEN-5b1f9c";
const RENEWED_TOKEN: &str = "CANARY-RENEWED-77e2a0";
const PIN: &str = "73918246";
const OTP: &str = "CANARY-OTP-0c4d11";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Refuses its first token once, then gives the renewed one.
#[derive(Debug, Default)]
struct Renewing {
    renewed: AtomicBool,
}

#[async_trait]
impl TokenProvider for Renewing {
    async fn token(&self) -> Result<Secret, TransportError> {
        Ok(Secret::new(if self.renewed.load(Ordering::SeqCst) {
            RENEWED_TOKEN
        } else {
            TOKEN
        }))
    }
    async fn invalidate(&self, _rejected: &Secret) -> bool {
        self.renewed.store(true, Ordering::SeqCst);
        true
    }
}

fn pin_set() -> Call {
    Call::new(
        Verb::Set,
        "pims.authentication.pincode",
        Parameters::new()
            .with("action", "update")
            .with_secret("pinCode", &Secret::new(PIN))
            .with_secret("newPIN", &Secret::new(PIN)),
        TransactionId::generate(),
        "device-1",
    )
}

fn otp_get() -> Call {
    Call::new(
        Verb::Get,
        "pims.authentication.otp",
        Parameters::new().with_secret("pinCode", &Secret::new(PIN)),
        TransactionId::generate(),
        "device-1",
    )
}

/// Every way a result can be shown.
fn shown(result: &Result<Message, TransportError>) -> Vec<String> {
    let mut out = vec![format!("{result:?}")];
    match result {
        Ok(m) => out.push(format!("{m:?}")),
        Err(e) => {
            out.push(format!("{e}"));
            out.push(format!("{e:#?}"));
            let api = e.to_api_error();
            out.push(format!("{api} {api:?}"));
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                out.push(format!("{s} {s:?}"));
                source = s.source();
            }
        }
    }
    out
}

fn encodings(canary: &str) -> Vec<String> {
    vec![
        canary.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(canary),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(canary),
        hex::encode(canary),
    ]
}

#[tokio::test]
async fn no_canary_reaches_logs_formatted_values_errors_or_urls() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut texts: Vec<String> = Vec::new();
    let mut servers: Vec<FakeServer> = Vec::new();
    let policy = RetryPolicy::new()
        .initial_backoff(Duration::from_millis(2))
        .max_backoff(Duration::from_millis(5));
    let transport_for = |server: &FakeServer| {
        HttpTransport::builder(server.base_url())
            .static_token(Secret::new(TOKEN))
            .attempt_timeout(Duration::from_millis(300))
            .overall_timeout(Duration::from_millis(800))
            .retry_policy(policy.clone())
            .build()
            .unwrap()
    };

    // Answers that carry the OTP, echo the request (as some proxies do), fail, or misbehave.
    let behaviours: Vec<fn(&Request) -> Action> = vec![
        ok_for,
        |r| {
            envelope(
                200,
                &Message::succeeded(r.transaction_id(), serde_json::json!({"otp": OTP})),
            )
        },
        |_| bare(503),
        |_| Action::Reset,
        |_| Action::Never,
        |r| {
            Action::Reply(http(
                200,
                &[],
                &[b"<html>blocked: ".as_slice(), &r.body].concat(),
            ))
        },
        |r| Action::Reply(http(500, &[], &r.body)),
        |r| {
            let echoed = String::from_utf8_lossy(&r.body).into_owned();
            let body = serde_json::json!({"transactionId": r.transaction_id().as_str(),
                "status": "FAILED", "error": {"code": "bad", "label": echoed}});
            Action::Reply(http(400, &[], body.to_string().as_bytes()))
        },
        |_| {
            envelope(
                200,
                &Message::succeeded(TransactionId::from_u64(9), serde_json::json!({"otp": OTP})),
            )
        },
        |_| Action::EndlessChunked,
    ];
    for behave in behaviours {
        let server = FakeServer::always(behave).await;
        let transport = transport_for(&server);
        texts.push(format!("{transport:?}"));
        // A pure read too, so that retries (and their logs) happen.
        let steps = Call::new(
            Verb::Get,
            "pims.subscription.steps",
            Parameters::new().with("carAssociationID", "987654"),
            TransactionId::generate(),
            "device-1",
        );
        for call in [
            pin_set(),
            otp_get(),
            pin_set().with_idempotency_key("k-1"),
            steps,
        ] {
            texts.push(format!("{call:?}"));
            let result = transport.call(call).await;
            texts.extend(shown(&result));
        }
        servers.push(server);
    }

    // A refused token renewed once (both tokens are canaries).
    let server = FakeServer::always(|r: &Request| {
        if r.header("authorization") == Some(&format!("Bearer {RENEWED_TOKEN}")) {
            ok_for(r)
        } else {
            envelope(
                401,
                &Message::failed(
                    r.transaction_id(),
                    pims_types::ApiError::from_code(pims_types::ErrorCode(2301)),
                ),
            )
        }
    })
    .await;
    let renewing = HttpTransport::builder(server.base_url())
        .token_provider(Arc::new(Renewing::default()))
        .build()
        .unwrap();
    // A 401 is a refusal before any work: a call without a secret is sent once more with the
    // renewed token (a call carrying a PIN never is: see the retry unit tests).
    let otp_without_pin = Call::new(
        Verb::Get,
        "pims.authentication.otp",
        Parameters::new().with("action", "withoutPIN"),
        TransactionId::generate(),
        "device-1",
    );
    let result = renewing.call(otp_without_pin).await;
    assert!(result.as_ref().unwrap().is_success());
    texts.extend(shown(&renewing.call(otp_get()).await));
    texts.extend(shown(&result));
    texts.push(format!("{renewing:?}"));
    servers.push(server);

    // Refused connection; a URL carrying the token; the builder itself.
    let refused = HttpTransport::builder("http://127.0.0.1:1")
        .static_token(Secret::new(TOKEN))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    texts.extend(shown(&refused.call(pin_set()).await));
    for base in [
        format!("https://user:{TOKEN}@api.example.com"),
        format!("https://api.example.com/?token={TOKEN}"),
    ] {
        let builder = HttpTransport::builder(base).static_token(Secret::new(TOKEN));
        texts.push(format!("{builder:?}"));
        let e = builder.build().unwrap_err();
        texts.extend(shown(&Err(e)));
    }

    // The other public types.
    texts.push(format!("{:?}", StaticToken::new(Secret::new(TOKEN))));
    texts.push(format!(
        "{:?}",
        SharedTransport::new(transport_for(&servers[0]))
    ));
    texts.push(format!("{policy:?}"));
    let replay = ReplayTransport::new().expect(
        Expected::set("pims.authentication.pincode")
            .with_parameters(Parameters::new().with_secret("pinCode", &Secret::new(PIN))),
        Reply::succeeded(serde_json::json!({"otp": OTP})),
    );
    texts.extend(shown(&replay.call(otp_get()).await));
    texts.push(format!("{replay:?}"));
    texts.push(replay.check().unwrap_err());
    texts.push(format!("{:?}", replay.calls()));
    let never = NeverTransport::new();
    texts.push(format!("{never:?}"));
    let f = FnTransport::new(|call: Call| async move {
        Ok::<_, TransportError>(Message::succeeded(
            call.transaction_id,
            serde_json::json!({"otp": OTP}),
        ))
    });
    texts.extend(shown(&f.call(pin_set()).await));
    texts.push(format!("{f:?}"));
    texts.extend(shown(&Err(TransportError::no_token("provider failed"))));

    drop(_guard);
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The capture works and shows what a call span holds.
    assert!(logs.contains("pims_transport.call"), "{logs}");
    assert!(logs.contains("api=pims.authentication.pincode"), "{logs}");
    assert!(logs.contains("attempt=3"), "{logs}");
    assert!(logs.contains("transaction_id="), "{logs}");

    for canary in [TOKEN, RENEWED_TOKEN, PIN, OTP] {
        for encoded in encodings(canary) {
            assert!(!logs.contains(&encoded), "{canary} in the logs:\n{logs}");
            for text in &texts {
                assert!(!text.contains(&encoded), "{canary} in {text}");
            }
        }
    }

    // On the wire: the token only in Authorization, the PIN only in the body, neither in a URL.
    let mut saw_token = false;
    let mut saw_pin = false;
    for server in &servers {
        for r in server.requests() {
            for canary in [TOKEN, RENEWED_TOKEN, PIN] {
                assert!(!r.target.contains(canary), "{canary} in {}", r.target);
            }
            for (name, value) in &r.headers {
                if value.contains(TOKEN) || value.contains(RENEWED_TOKEN) {
                    assert_eq!(name, "authorization");
                    saw_token = true;
                }
                assert!(!value.contains(PIN), "PIN in header {name}");
            }
            let body = String::from_utf8_lossy(&r.body);
            assert!(!body.contains(TOKEN) && !body.contains(RENEWED_TOKEN));
            saw_pin |= body.contains(PIN);
        }
    }
    assert!(saw_token && saw_pin);
}
