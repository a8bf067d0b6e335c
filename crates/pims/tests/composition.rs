//! The builder is the only way to compose the layers: the HTTP options reach the transport,
//! `open_cache` opens (and locks) the cache before `build`, and the cache's administration
//! handle sees and wipes what the facade cached. Every call's failure carries its transaction
//! id and the layer error behind it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pims::cache::MemoryStore;
use pims::transport::{Call, RetryPolicy, SharedTransport, fakes::FnTransport};
use pims::{
    ApiError, CacheScope, ErrorCode, ErrorKind, HttpOptions, Message, Parameters, Pims, Secret,
    TransactionId,
};
use support::{by_car, sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_options_reach_the_transport() {
    // A backend that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let pims = Pims::builder()
        .base_url(url)
        .token(Secret::new("t"))
        .cache_dir(dir.path())
        .http(
            HttpOptions::default()
                .attempt_timeout(Duration::from_millis(100))
                .overall_timeout(Duration::from_millis(300))
                .retry_policy(RetryPolicy::none()),
        )
        // Later than the options' deadlines, earlier than the transport's defaults (10 s per
        // attempt, 30 s overall): a 2201 with a transport error as its source can only come
        // from the deadlines given here.
        .call_timeout(Duration::from_secs(8))
        .build()
        .unwrap();
    let e = pims.steps(by_car()).send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::TIMEOUT);
    assert_eq!(e.kind(), ErrorKind::Transport);
    let transport = e.transport_error().expect("the transport's own timeout");
    assert!(transport.may_have_been_sent());
    assert!(std::error::Error::source(&e).is_some());
    held.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_cache_locks_the_directory_before_build_and_the_facade_uses_that_store() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let builder = Pims::builder()
        .cache_dir(&cache)
        .account("demo")
        .open_cache()
        .unwrap();
    // Opened and locked now, before any backend is known.
    assert!(cache.join(pims::cache::LOCK_FILE).exists());
    let admin = builder.cache_admin().unwrap();
    assert!(
        admin
            .lists(CacheScope::AllAccounts)
            .await
            .unwrap()
            .is_empty()
    );
    let pims = builder
        .base_url(sim.base_url())
        .token(Secret::new(pims_sim::DEMO_TOKEN))
        .build()
        .unwrap();
    pims.steps(by_car()).send().await.unwrap();
    // The handle opened before `build` sees what the facade cached: one store.
    assert_eq!(admin.lists(CacheScope::Account).await.unwrap().len(), 1);
    assert_eq!(
        admin.device_id().await.unwrap(),
        support::device_id(&pims).await
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_handle_lists_and_wipes_by_scope_and_keeps_the_device_id() {
    let sim = sim().await;
    // One directory for two accounts (the store is opened once per path per process).
    let dir = tempfile::tempdir().unwrap();
    let facade = |account: &str| {
        Pims::builder()
            .base_url(sim.base_url())
            .token(Secret::new(pims_sim::DEMO_TOKEN))
            .cache_dir(dir.path())
            .account(account)
            .build()
            .unwrap()
    };
    let (alice, bob) = (facade("alice"), facade("bob"));
    alice.steps(by_car()).send().await.unwrap();
    bob.steps(by_car()).send().await.unwrap();
    let admin = alice.cache().unwrap();
    let device = admin.device_id().await.unwrap();
    assert_eq!(admin.lists(CacheScope::Account).await.unwrap().len(), 1);
    assert_eq!(admin.lists(CacheScope::AllAccounts).await.unwrap().len(), 2);
    assert!(!admin.health().is_degraded());

    let removed = admin.wipe(CacheScope::Account).await.unwrap();
    assert_eq!((removed.lists, removed.durable_lists), (1, 1));
    let left = admin.lists(CacheScope::AllAccounts).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].account, "bob");

    let removed = admin.wipe(CacheScope::AllAccounts).await.unwrap();
    assert_eq!((removed.lists, removed.durable_lists), (1, 1));
    assert!(
        admin
            .lists(CacheScope::AllAccounts)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(support::device_id(&bob).await, device);
    sim.shutdown().await;
}

#[test]
fn the_cache_handle_works_without_a_runtime_or_a_backend() {
    let dir = tempfile::tempdir().unwrap();
    let admin = Pims::builder().cache_dir(dir.path()).cache_admin().unwrap();
    assert!(tokio::runtime::Handle::try_current().is_err());
    let lists = poll_once(admin.lists(CacheScope::AllAccounts)).unwrap();
    assert!(lists.is_empty());
    assert!(!poll_once(admin.device_id()).unwrap().is_empty());
}

/// Polls a future once on this thread, with no runtime and no waker to wake: it must be done.
fn poll_once<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the cache handle waited for a runtime"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_carries_the_transaction_id_the_backend_saw() {
    let seen: Arc<Mutex<Vec<TransactionId>>> = Arc::default();
    let record = seen.clone();
    let transport = FnTransport::new(move |call: Call| {
        record.lock().unwrap().push(call.transaction_id.clone());
        async move {
            Ok(Message::failed(
                call.transaction_id,
                ApiError::from_code(ErrorCode(2346)),
            ))
        }
    });
    let pims = Pims::builder()
        .transport(SharedTransport::new(transport))
        .cache_store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    let e = pims.steps(by_car()).send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert_eq!(e.to_string(), format!("error 2346: {}", e.label()));
    let sent = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(e.transaction_id(), Some(&sent));
    assert_eq!(e.to_message().transaction_id(), &sent);

    // Refused at the edge: nothing sent, yet the error names its call.
    let before = seen.lock().unwrap().len();
    let e = pims.next_step("").send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::INVALID_PARAMETER);
    assert!(e.transaction_id().is_some());
    assert!(e.wire_error().is_some());
    assert_eq!(seen.lock().unwrap().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_answer_and_its_envelope_come_from_one_call() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = support::facade(&sim, dir.path());
    let answered = pims.steps(by_car()).send_with_envelope().await.unwrap();
    assert!(answered.message.is_success());
    assert_eq!(
        answered.message.result(),
        Some(&answered.value.list.to_value())
    );
    // The same envelope as the verb API's, but for its transaction id.
    let verb = pims
        .get_async(
            "pims.subscription.steps",
            Parameters::new().with("carAssociationID", "987654"),
        )
        .await;
    assert_eq!(
        support::without_tid(&verb),
        support::without_tid(&answered.message)
    );
    assert_ne!(verb.transaction_id(), answered.message.transaction_id());

    let status = pims
        .activation()
        .trusted_phone_number()
        .send_with_envelope()
        .await
        .unwrap();
    assert_eq!(
        status.message.result().unwrap()["phoneNumber"],
        status.value.clone().unwrap()
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_too_large_for_a_body_names_its_largest_parameter_and_is_not_sent() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = support::facade(&sim, dir.path());
    // Any call that reaches the backend would use this fault up.
    let spec = pims_sim::FaultSpec {
        status: Some(500),
        count: Some(1),
        ..Default::default()
    };
    sim.set_faults(&spec).unwrap();
    let m = oversized_call(&pims).await;
    let error = m.error().expect("refused");
    assert_eq!(error.code, ErrorCode::INVALID_PARAMETER);
    assert_eq!(error.label, "Invalid note parameter");
    assert_eq!(
        sim.faults().and_then(|f| f.count),
        Some(1),
        "nothing reached the backend"
    );
    sim.shutdown().await;
}

/// `set pims.vehicle.vin` with a `note` too large for any call body.
async fn oversized_call(pims: &Pims) -> Message {
    let note = "x".repeat(pims::types::MAX_CALL_BODY_BYTES);
    let params = Parameters::new()
        .with("vin", pims_sim::DEMO_VIN)
        .with("note", note);
    pims.set_async("pims.vehicle.vin", params).await
}

/// A facade on a transport of the app's, answering with `answer` and recording what it saw.
fn on_transport<F>(answer: F) -> (Pims, Arc<Mutex<Vec<Call>>>)
where
    F: Fn(&Call) -> Message + Send + Sync + 'static,
{
    let seen: Arc<Mutex<Vec<Call>>> = Arc::default();
    let record = seen.clone();
    let answer = Arc::new(answer);
    let transport = FnTransport::new(move |call: Call| {
        record.lock().unwrap().push(call.clone());
        let answer = answer.clone();
        async move { Ok(answer(&call)) }
    });
    let pims = Pims::builder()
        .transport(SharedTransport::new(transport))
        .cache_store(Arc::new(MemoryStore::new()))
        .policies(pims::Policies::default().pin_provider(Arc::new(GoodPin)))
        .build()
        .unwrap();
    (pims, seen)
}

#[derive(Debug)]
struct GoodPin;

#[async_trait::async_trait]
impl pims::PinProvider for GoodPin {
    async fn pin(&self) -> Option<pims::Pin> {
        pims::Pin::parse("1234").ok()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_of_the_apps_gets_the_echo_checked_on_every_path() {
    // Every answer is for another call.
    let (pims, _) = on_transport(|_| Message::succeeded_empty(TransactionId::generate()));
    let e = pims.steps(by_car()).send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode(2203));
    assert!(e.transport_error().is_some());
    let m = pims
        .get_async("pims.vehicle.carkey", Parameters::new())
        .await;
    assert_eq!(m.error().unwrap().code, ErrorCode(2203));

    // The 2302 recovery's OTP call too: its foreign answer is refused, and the failure names
    // the OTP call (the one the backend saw).
    let (pims, seen) = on_transport(|call| {
        if call.api == "pims.authentication.otp" {
            Message::succeeded(TransactionId::generate(), serde_json::json!({"otp": "1"}))
        } else {
            Message::failed(
                call.transaction_id.clone(),
                ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION),
            )
        }
    });
    let e = pims.activation().car_key_status().send().await.unwrap_err();
    assert_eq!(e.code(), ErrorCode(2203));
    let calls = seen.lock().unwrap().clone();
    assert_eq!(
        calls.len(),
        2,
        "the call, then the OTP; never the call again"
    );
    assert_eq!(calls[1].api, "pims.authentication.otp");
    assert_eq!(e.transaction_id(), Some(&calls[1].transaction_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_of_the_apps_never_gets_a_call_too_large_for_a_body() {
    let (pims, seen) = on_transport(|call| Message::succeeded_empty(call.transaction_id.clone()));
    let m = oversized_call(&pims).await;
    let error = m.error().expect("refused");
    assert_eq!(error.label, "Invalid note parameter");
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_that_is_an_answer_comes_back_with_its_envelope() {
    let (pims, _) = on_transport(|call| {
        Message::failed(
            call.transaction_id.clone(),
            ApiError::from_code(ErrorCode::NO_PHONE_NUMBER),
        )
    });
    assert_eq!(
        pims.activation()
            .trusted_phone_number()
            .send()
            .await
            .unwrap(),
        None
    );
    let answered = pims
        .activation()
        .trusted_phone_number()
        .send_with_envelope()
        .await
        .unwrap();
    assert_eq!(answered.value, None);
    assert_eq!(
        answered.message.error().map(|e| e.code),
        Some(ErrorCode::NO_PHONE_NUMBER)
    );
}
