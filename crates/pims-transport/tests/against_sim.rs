//! The HTTP transport against the real simulator (`pims-sim`) on 127.0.0.1:0, with its fault
//! injection (`POST /admin/faults`). Counted faults (`count`) tell how many calls reached it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pims_sim::{
    DEMO_CAR_ASSOCIATION_ID, DEMO_FIRST_STEPS_ID, DEMO_TOKEN, DEMO_VIN, SimConfig, SimServer,
};
use pims_transport::{AnswerProblem, Call, HttpTransport, RetryPolicy, Transport, TransportError};
use pims_types::{ErrorCode, Message, Parameters, Secret, TransactionId, Verb};
use serde_json::{Value, json};

const MS: Duration = Duration::from_millis(1);

async fn sim() -> SimServer {
    SimServer::start(SimConfig::default()).await.unwrap()
}

fn transport(sim: &SimServer) -> HttpTransport {
    HttpTransport::builder(sim.base_url())
        .static_token(Secret::new(DEMO_TOKEN))
        .attempt_timeout(MS * 2000)
        .overall_timeout(MS * 6000)
        .retry_policy(
            RetryPolicy::new()
                .initial_backoff(MS * 5)
                .max_backoff(MS * 20),
        )
        .build()
        .unwrap()
}

fn steps() -> Call {
    Call::new(
        Verb::Get,
        "pims.subscription.steps",
        Parameters::new()
            .with("carAssociationID", DEMO_CAR_ASSOCIATION_ID)
            .with("stepsStatus", "all"),
        TransactionId::generate(),
        "device-sim-1",
    )
}

fn pin_set() -> Call {
    Call::new(
        Verb::Set,
        "pims.authentication.pincode",
        Parameters::new()
            .with("action", "update")
            .with_secret("oldPIN", &Secret::new("1234"))
            .with_secret("newPIN", &Secret::new("5678")),
        TransactionId::generate(),
        "device-sim-1",
    )
}

fn select_vin() -> Call {
    Call::new(
        Verb::Set,
        "pims.vehicle.vin",
        Parameters::new().with("vin", DEMO_VIN),
        TransactionId::generate(),
        "device-sim-1",
    )
}

async fn admin(sim: &SimServer, method: reqwest::Method, body: Option<Value>) -> Value {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method, format!("{}/admin/faults", sim.base_url()))
        .bearer_auth(sim.admin_token());
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

async fn set_faults(sim: &SimServer, spec: Value) {
    admin(sim, reqwest::Method::POST, Some(spec)).await;
}

/// Calls the counted fault has left (`None` once it is used up and cleared).
async fn fault_calls_left(sim: &SimServer) -> Option<u64> {
    admin(sim, reqwest::Method::GET, None).await["faults"]["count"].as_u64()
}

async fn call(t: &HttpTransport, c: Call) -> Result<Message, TransportError> {
    tokio::time::timeout(Duration::from_secs(30), t.call(c))
        .await
        .expect("the call hung")
}

#[tokio::test]
async fn the_demo_steps_come_back() {
    let sim = sim().await;
    let t = transport(&sim);
    let c = steps();
    let id = c.transaction_id.clone();
    let answer = call(&t, c).await.unwrap();
    assert_eq!(answer.transaction_id(), &id);
    assert!(answer.is_success(), "{answer:?}");
    let result = answer.result().unwrap();
    assert_eq!(result["stepsID"], json!(DEMO_FIRST_STEPS_ID));
    let list = pims_types::StepsList::from_value(result).unwrap();
    assert!(!list.is_empty());
}

#[tokio::test]
async fn business_errors_are_answers_not_transport_errors() {
    let sim = sim().await;
    let stranger = HttpTransport::builder(sim.base_url())
        .static_token(Secret::new("not-a-token"))
        .build()
        .unwrap();
    let answer = call(&stranger, steps()).await.unwrap();
    assert_eq!(
        answer.error().unwrap().code,
        ErrorCode::NEED_BASIC_AUTHENTICATION
    );

    let t = transport(&sim);
    let mut missing = steps();
    missing.parameters = Parameters::new();
    let answer = call(&t, missing).await.unwrap();
    assert_eq!(answer.error().unwrap().code, ErrorCode::MISSING_PARAMETER);

    let mut unknown = steps();
    unknown.api = "pims.nothing.here".into();
    let answer = call(&t, unknown).await.unwrap();
    assert_eq!(answer.error().unwrap().code, ErrorCode::API_NOT_SUPPORTED);
}

#[tokio::test]
async fn a_get_is_retried_through_two_503() {
    let sim = sim().await;
    set_faults(
        &sim,
        json!({"status": 503, "count": 2, "apis": ["pims.subscription.steps"]}),
    )
    .await;
    let answer = call(&transport(&sim), steps()).await.unwrap();
    assert!(answer.is_success(), "{answer:?}");
    assert_eq!(fault_calls_left(&sim).await, None, "both 503 were used");
}

#[tokio::test]
async fn a_get_against_a_lasting_503_gives_the_backends_2204() {
    let sim = sim().await;
    set_faults(&sim, json!({"status": 503, "count": 10})).await;
    let e = call(&transport(&sim), steps()).await.unwrap_err();
    assert!(
        matches!(e, TransportError::ServerError { status: 503, .. }),
        "{e:?}"
    );
    let api = e.to_api_error();
    assert_eq!(api.code, ErrorCode::SERVER_ERROR);
    // The simulator's own error, with its sub-code, is kept.
    assert!(
        api.sub_code
            .is_some_and(|s| s[0]["code"] == "FAULT_INJECTED")
    );
    assert_eq!(fault_calls_left(&sim).await, Some(7), "three attempts");
}

#[tokio::test]
async fn a_pin_set_reaches_the_simulator_once_against_503_and_drops() {
    let sim = sim().await;
    set_faults(&sim, json!({"status": 503, "count": 10})).await;
    let t = transport(&sim);
    let e = call(&t, pin_set()).await.unwrap_err();
    assert_eq!(e.code().as_u32(), 2204);
    assert_eq!(fault_calls_left(&sim).await, Some(9));

    set_faults(&sim, json!({"dropConnection": true, "count": 10})).await;
    let e = call(&t, pin_set()).await.unwrap_err();
    assert!(matches!(e, TransportError::NoAnswer { .. }), "{e:?}");
    assert_eq!(e.code().as_u32(), 2202);
    assert_eq!(fault_calls_left(&sim).await, Some(9));

    // A get against the same fault is retried (three attempts).
    let e = call(&t, steps()).await.unwrap_err();
    assert_eq!(e.code().as_u32(), 2202);
    assert_eq!(fault_calls_left(&sim).await, Some(6));
}

#[tokio::test]
async fn a_set_whose_answer_was_lost_is_sent_once_and_replayed_when_the_app_resends_its_key() {
    let sim = sim().await;
    // The work is done, then the answer is lost (503): the transport does not send it again.
    set_faults(
        &sim,
        json!({"status": 503, "afterProcessing": true, "count": 1, "apis": ["pims.vehicle.vin"]}),
    )
    .await;
    let t = transport(&sim);
    let first = select_vin().with_idempotency_key("5f0c6d1e-8d5c-4b47-9a43-2f4b4f1b2c3d");
    let e = call(&t, first.clone()).await.unwrap_err();
    assert_eq!(e.code().as_u32(), 2204);
    assert_eq!(fault_calls_left(&sim).await, None);
    // The app resends the same call with the same key: the backend answers it from the first
    // send, without doing the work again.
    let answer = call(&t, first).await;
    assert!(answer.unwrap().is_success());

    // A fresh call (its own key) under five lost answers reaches the backend once.
    set_faults(
        &sim,
        json!({"status": 503, "afterProcessing": true, "count": 5, "apis": ["pims.vehicle.vin"]}),
    )
    .await;
    let e = call(&t, select_vin()).await.unwrap_err();
    assert_eq!(e.code().as_u32(), 2204);
    assert_eq!(fault_calls_left(&sim).await, Some(4));
}

#[tokio::test]
async fn a_garbage_body_is_2203() {
    let sim = sim().await;
    set_faults(&sim, json!({"garbageBody": true})).await;
    let e = call(&transport(&sim), steps()).await.unwrap_err();
    match &e {
        TransportError::InvalidAnswer {
            problem: AnswerProblem::Decode(_),
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_api_error()
            .label
            .starts_with("Invalid return Parsing error")
    );
}

#[tokio::test]
async fn latency_past_the_deadlines_is_2201() {
    let sim = sim().await;
    set_faults(&sim, json!({"latencyMs": 2000})).await;
    let t = HttpTransport::builder(sim.base_url())
        .static_token(Secret::new(DEMO_TOKEN))
        .attempt_timeout(MS * 150)
        .overall_timeout(MS * 400)
        .build()
        .unwrap();
    let e = call(&t, steps()).await.unwrap_err();
    assert!(matches!(e, TransportError::TimedOut { .. }), "{e:?}");
    assert_eq!(e.to_api_error().label, "Timeout");
}

#[tokio::test]
async fn retry_after_past_the_deadline_fails_fast() {
    let sim = sim().await;
    set_faults(
        &sim,
        json!({"status": 429, "retryAfterSecs": 600, "count": 10}),
    )
    .await;
    let e = call(&transport(&sim), steps()).await.unwrap_err();
    match &e {
        TransportError::ServerError {
            status: 429,
            retry_after,
            ..
        } => assert_eq!(*retry_after, Some(Duration::from_secs(600))),
        other => panic!("{other:?}"),
    }
    assert_eq!(fault_calls_left(&sim).await, Some(9), "no retry was made");
}

#[tokio::test]
async fn a_device_id_that_is_not_a_header_value_is_refused_before_sending() {
    let sim = sim().await;
    let mut c = steps();
    c.device_id = "has space".into();
    let e = call(&transport(&sim), c).await.unwrap_err();
    assert_eq!(e.to_api_error().label, "Invalid Pims-Device-Id parameter");
    assert!(!e.may_have_been_sent());
}
