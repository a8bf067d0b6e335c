//! The facade's policies and answer checks, against scripted transports (pims-transport's
//! `test-util` fakes) so every call the facade makes is counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pims::{Pims, PinProvider, Policies};
use pims_transport::fakes::{Expected, NeverTransport, ReplayTransport, Reply};
use pims_transport::{SharedTransport, TransportError};
use pims_types::{ApiError, ErrorCode, Parameters, StepsSelector, Verb};
use serde_json::json;

fn list(status: &str) -> serde_json::Value {
    json!({"stepsID": 132324,
        "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "alreadyDone", "order": 1},
        "deviceActivation": {"name": "deviceActivation", "status": status, "order": 2}})
}

fn facade(transport: SharedTransport, policies: Policies) -> Pims {
    Pims::builder()
        .transport(transport)
        .cache_store(Arc::new(pims_cache::MemoryStore::new()))
        .policies(policies)
        .build()
        .unwrap()
}

#[derive(Debug)]
struct Pin;

#[async_trait]
impl PinProvider for Pin {
    async fn pin(&self) -> Option<pims::Pin> {
        pims::Pin::parse("1234").ok()
    }
}

#[tokio::test]
async fn with_a_pin_provider_2302_gets_an_otp_and_retries_once() {
    let replay = ReplayTransport::new()
        .expect(
            Expected::get("pims.vehicle.carkey"),
            Reply::failed(ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION)),
        )
        .expect(
            Expected::get("pims.authentication.otp").with_parameters(
                Parameters::new()
                    .with("action", "withPIN")
                    .with("pinCode", "1234"),
            ),
            Reply::succeeded(json!({"otp": "otp_code"})),
        )
        .expect(
            Expected::get("pims.vehicle.carkey"),
            Reply::succeeded(json!({"isCarKeyVerified": true, "cvsStatus": "active"})),
        );
    let pims = facade(
        SharedTransport::new(replay.clone()),
        Policies::default().pin_provider(Arc::new(Pin)),
    );
    let m = pims
        .get_async("pims.vehicle.carkey", Parameters::new())
        .await;
    assert!(m.is_success(), "{}", m.to_json_string());
    replay.assert_all_used();
}

#[tokio::test]
async fn without_a_pin_provider_2302_is_handed_on() {
    let replay = ReplayTransport::new().expect(
        Expected::get("pims.vehicle.carkey"),
        Reply::failed(ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION)),
    );
    let pims = facade(SharedTransport::new(replay.clone()), Policies::default());
    let m = pims
        .get_async("pims.vehicle.carkey", Parameters::new())
        .await;
    let e = m.error().unwrap();
    assert_eq!(
        (e.code, e.label.as_str()),
        (ErrorCode(2302), "Need Strong Authentication")
    );
    replay.assert_all_used();
}

#[tokio::test]
async fn offline_fallback_answers_from_the_cache_and_says_it_is_stale() {
    let replay = ReplayTransport::new()
        .expect(
            Expected::get("pims.subscription.steps"),
            Reply::succeeded(list("alreadyDone")),
        )
        .expect(
            Expected::get("pims.subscription.steps"),
            Reply::error(TransportError::not_sent("connection refused")),
        )
        .expect(
            Expected::get("pims.subscription.steps"),
            Reply::error(TransportError::not_sent("connection refused")),
        );
    let pims = facade(
        SharedTransport::new(replay.clone()),
        Policies::default().offline_fallback(true),
    );
    let by_car = StepsSelector::car_association_id("987654").unwrap();
    let fresh = pims.steps(by_car.clone()).send().await.unwrap();
    assert!(!fresh.stale);
    let stale = pims.steps(by_car).send().await.unwrap();
    assert!(stale.stale);
    assert_eq!(stale.list, fresh.list);
    // A list the cache never saw: the transport error goes through.
    let e = pims
        .steps(StepsSelector::car_association_id("111").unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NETWORK);
    replay.assert_all_used();
}

#[tokio::test]
async fn without_offline_fallback_an_outage_is_2202() {
    let replay = ReplayTransport::new()
        .expect(
            Expected::get("pims.subscription.steps"),
            Reply::succeeded(list("todo")),
        )
        .expect(
            Expected::get("pims.subscription.steps"),
            Reply::error(TransportError::not_sent("connection refused")),
        );
    let pims = facade(SharedTransport::new(replay.clone()), Policies::default());
    let by_car = StepsSelector::car_association_id("987654").unwrap();
    pims.steps(by_car.clone()).send().await.unwrap();
    let e = pims.steps(by_car).send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NETWORK);
    assert_eq!(e.label(), "Network problem : No internet");
}

#[tokio::test]
async fn answers_that_do_not_match_or_do_not_parse_are_2203_and_not_cached() {
    let replay = ReplayTransport::new()
        // Asked by stepsID 5, the backend answers another list.
        .expect(Expected::get("pims.subscription.steps"), Reply::succeeded(list("alreadyDone")))
        // A step with a wrong-typed status.
        .expect(
            Expected::get("pims.subscription.steps"),
            Reply::succeeded(json!({"stepsID": 5, "deviceActivation": {"name": "deviceActivation", "status": 7, "order": 2}})),
        )
        // Then the backend is right: nothing of the bad answers was cached.
        .expect(Expected::get("pims.subscription.steps"), Reply::succeeded(json!({"stepsID": 5,
            "deviceActivation": {"name": "deviceActivation", "status": "todo", "order": 2}})));
    let pims = facade(SharedTransport::new(replay.clone()), Policies::default());
    let by_id = StepsSelector::steps_id("5").unwrap();
    let e = pims.steps(by_id.clone()).send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::INVALID_RETURN);
    assert!(e.label().contains("$.result.stepsID"), "{}", e.label());
    let e = pims.steps(by_id.clone()).send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::INVALID_RETURN);
    assert!(
        e.label().contains("$.result.deviceActivation.status"),
        "{}",
        e.label()
    );
    let ok = pims.steps(by_id).send().await.unwrap();
    assert_eq!(ok.list.steps()[0].status, pims_types::StepStatus::Todo);
    replay.assert_all_used();
}

#[tokio::test]
async fn every_set_carries_a_fresh_idempotency_key_and_is_sent_once() {
    let replay = ReplayTransport::new()
        .expect(
            Expected::set("pims.authentication.enrollment"),
            Reply::succeeded(json!(null)),
        )
        .expect(
            Expected::set("pims.authentication.enrollment"),
            Reply::succeeded(json!(null)),
        )
        .expect(
            Expected::get("pims.authentication.trustedphonenumber"),
            Reply::succeeded(json!({"phoneNumber": "+33612345678"})),
        );
    let pims = facade(SharedTransport::new(replay.clone()), Policies::default());
    pims.activation()
        .enroll(
            pims::Pin::parse("1234").unwrap(),
            pims::SmsCode::parse("123456").unwrap(),
        )
        .send()
        .await
        .unwrap();
    pims.activation()
        .enroll(
            pims::Pin::parse("1234").unwrap(),
            pims::SmsCode::parse("123456").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        pims.activation()
            .trusted_phone_number()
            .send()
            .await
            .unwrap()
            .as_deref(),
        Some("+33612345678")
    );
    let calls = replay.calls();
    assert_eq!(calls.len(), 3);
    let (k1, k2) = (
        calls[0].idempotency_key.clone().unwrap(),
        calls[1].idempotency_key.clone().unwrap(),
    );
    assert_ne!(k1, k2);
    assert_eq!(calls[2].verb, Verb::Get);
    assert!(calls[2].idempotency_key.is_none());
    // One device id for every call.
    assert!(calls.iter().all(|c| c.device_id == calls[0].device_id));
    replay.assert_all_used();
}

#[tokio::test]
async fn a_transport_that_never_answers_gets_2201_at_the_call_deadline() {
    let never = NeverTransport::new();
    let pims = Pims::builder()
        .transport(SharedTransport::new(never))
        .cache_store(Arc::new(pims_cache::MemoryStore::new()))
        .call_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    pims.get(
        "pims.subscription.steps",
        Parameters::new().with("carAssociationID", "987654"),
        move |m| {
            let _ = tx.send(m);
        },
    );
    let m = rx.await.unwrap();
    assert_eq!(m.error().unwrap().code, ErrorCode::TIMEOUT);
}

#[tokio::test]
async fn initialize_without_a_backend_is_2006_and_bad_values_2102() {
    let pims = Pims::new();
    let m = pims.initialize(Parameters::new().with("credential", "t"));
    assert_eq!(m.error().unwrap().code, ErrorCode::CORE_NOT_CONFIGURED);
    let m = pims.initialize(Parameters::new().with("environnement", "http://10.1.2.3:80"));
    assert_eq!(
        m.error().unwrap().label,
        "Invalid environnement parameter",
        "http:// off loopback is refused"
    );
    let m = pims.initialize(Parameters::new().with("mode", 3));
    assert_eq!(m.error().unwrap().label, "Invalid mode parameter");
    assert!(!pims.is_initialized());
}

#[derive(Debug)]
struct HangingPin;

#[async_trait]
impl PinProvider for HangingPin {
    async fn pin(&self) -> Option<pims::Pin> {
        std::future::pending().await
    }
}

#[test]
fn a_pin_provider_that_never_answers_still_gets_one_callback_at_the_deadline() {
    let replay = ReplayTransport::new().expect(
        Expected::get("pims.vehicle.carkey"),
        Reply::failed(ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION)),
    );
    let pims = Pims::builder()
        .transport(SharedTransport::new(replay))
        .cache_store(Arc::new(pims_cache::MemoryStore::new()))
        .call_timeout(Duration::from_millis(200))
        .policies(Policies::default().pin_provider(Arc::new(HangingPin)))
        .build()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    pims.get("pims.vehicle.carkey", Parameters::new(), move |m| {
        tx.send(m).unwrap()
    });
    // Generous bound: the point is that the callback comes at all.
    let m = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("no callback");
    assert_eq!(m.error().unwrap().code, ErrorCode::TIMEOUT);
}

#[tokio::test]
async fn typed_calls_honour_the_call_deadline() {
    let pims = Pims::builder()
        .transport(SharedTransport::new(NeverTransport::new()))
        .cache_store(Arc::new(pims_cache::MemoryStore::new()))
        .call_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let e = pims
        .steps(StepsSelector::car_association_id("1").unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TIMEOUT);
    let e = pims.next_step("1").send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::TIMEOUT);
    let e = pims
        .activation()
        .is_device_activated()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TIMEOUT);
}

#[tokio::test]
async fn typed_helpers_get_the_2302_recovery_too() {
    let replay = ReplayTransport::new()
        .expect(
            Expected::get("pims.vehicle.carkey"),
            Reply::failed(ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION)),
        )
        .expect(
            Expected::get("pims.authentication.otp"),
            Reply::succeeded(json!({"otp": "x"})),
        )
        .expect(
            Expected::get("pims.vehicle.carkey"),
            Reply::succeeded(json!({"isCarKeyVerified": true, "cvsStatus": "active"})),
        );
    let pims = facade(
        SharedTransport::new(replay.clone()),
        Policies::default().pin_provider(Arc::new(Pin)),
    );
    let status = pims.activation().car_key_status().send().await.unwrap();
    assert!(status.verified);
    replay.assert_all_used();
}

#[tokio::test]
async fn the_2302_retry_never_resends_secrets() {
    // A PIN change refused with 2302: retrying would send the PINs twice.
    let replay = ReplayTransport::new().expect(
        Expected::set("pims.authentication.pincode"),
        Reply::failed(ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION)),
    );
    let pims = facade(
        SharedTransport::new(replay.clone()),
        Policies::default().pin_provider(Arc::new(Pin)),
    );
    let e = pims
        .activation()
        .update_pin(
            pims::Pin::parse("1234").unwrap(),
            pims::Pin::parse("4321").unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NEED_STRONG_AUTHENTICATION);
    assert_eq!(replay.calls().len(), 1);
    replay.assert_all_used();
}

#[tokio::test]
async fn offline_fallback_applies_to_the_facades_own_deadline() {
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = answered.clone();
    let transport = pims_transport::fakes::FnTransport::new(move |call: pims_transport::Call| {
        let first = !flag.swap(true, std::sync::atomic::Ordering::SeqCst);
        async move {
            if first {
                Ok(pims_types::Message::succeeded(
                    call.transaction_id,
                    list("alreadyDone"),
                ))
            } else {
                std::future::pending().await
            }
        }
    });
    let pims = Pims::builder()
        .transport(SharedTransport::new(transport))
        .cache_store(Arc::new(pims_cache::MemoryStore::new()))
        .call_timeout(Duration::from_millis(200))
        .policies(Policies::default().offline_fallback(true))
        .build()
        .unwrap();
    let params = || Parameters::new().with("carAssociationID", "987654");
    assert!(
        pims.get_async("pims.subscription.steps", params())
            .await
            .is_success()
    );
    let m = pims.get_async("pims.subscription.steps", params()).await;
    assert!(m.is_success(), "{}", m.to_json_string());
    let typed = pims
        .steps(StepsSelector::car_association_id("987654").unwrap())
        .send()
        .await
        .unwrap();
    assert!(typed.stale);
}

#[tokio::test]
async fn oversized_unknown_extras_do_not_fail_a_steps_call() {
    let replay = ReplayTransport::new().expect(
        Expected::get("pims.subscription.steps"),
        Reply::succeeded(list("todo")),
    );
    let pims = facade(SharedTransport::new(replay.clone()), Policies::default());
    let m = pims
        .get_async(
            "pims.subscription.steps",
            Parameters::new()
                .with("carAssociationID", "987654")
                .with("junk", "x".repeat(100_000)),
        )
        .await;
    assert!(m.is_success(), "{}", m.to_json_string());
    // The backend got only the canonical parameters.
    assert!(replay.calls()[0].parameters.get("junk").is_none());
}
