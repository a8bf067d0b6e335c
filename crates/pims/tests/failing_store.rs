//! A store that fails (a shared store that is down does not degrade to a local copy: it fails
//! every call). Once the facade knows its device id, such a store never fails a call: the
//! answer is the backend's and a warning is traced. Before, a call fails with the cache's error
//! rather than carry an id of no store's (the backend would see another device). The
//! synchronous `build()` reads nothing from the store; `build_async()` reads the device id, so it
//! fails on such a store with the cache's error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};

use pims::cache::MemoryStore;
use pims::transport::fakes::FnTransport;
use pims::transport::{Call, SharedTransport};
use pims::{
    ApiError, ErrorCode, ErrorKind, Message, Pims, PimsBuilder, StepName, StepStatus, StepsSelector,
};
use pims_cache::testkit::Forwarding;
use serde_json::json;
use support::capture_logs;

/// The facade's store: memory behind the kit's forwarding wrapper, which can fail every call
/// and counts them.
type Switch = Forwarding<MemoryStore>;

fn store_up() -> Arc<Switch> {
    Arc::new(Forwarding::new(MemoryStore::new()))
}

fn store_down() -> Arc<Switch> {
    let store = store_up();
    store.fail_calls(true);
    store
}

/// A backend answering the steps of list 132324 (its deviceActivation as `device` says), 2312
/// to an OTP withPIN, and success to anything else; it records every call.
struct Backend {
    device: Arc<Mutex<&'static str>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Backend {
    fn new() -> Backend {
        Backend {
            device: Arc::new(Mutex::new("todo")),
            calls: Arc::default(),
        }
    }

    fn answers(&self, status: &'static str) {
        *self.device.lock().unwrap() = status;
    }

    fn device_ids(&self) -> Vec<String> {
        let calls = self.calls.lock().unwrap();
        calls.iter().map(|c| c.device_id.clone()).collect()
    }

    fn builder(&self, store: Arc<Switch>) -> PimsBuilder {
        let (device, calls) = (self.device.clone(), self.calls.clone());
        let transport = FnTransport::new(move |call: Call| {
            calls.lock().unwrap().push(call.clone());
            let status = *device.lock().unwrap();
            async move {
                let tid = call.transaction_id;
                Ok(match call.api.as_str() {
                    "pims.subscription.steps" => Message::succeeded(
                        tid,
                        json!({"stepsID": 132324,
                            "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "alreadyDone", "order": 1},
                            "deviceActivation": {"name": "deviceActivation", "status": status, "order": 2}}),
                    ),
                    "pims.authentication.otp" => {
                        Message::failed(tid, ApiError::from_code(ErrorCode::DEVICE_DISABLED))
                    }
                    _ => Message::succeeded_empty(tid),
                })
            }
        });
        Pims::builder()
            .transport(SharedTransport::new(transport))
            .cache_store(store)
            .account("alice")
    }
}

fn by_car() -> StepsSelector {
    StepsSelector::car_association_id("987654").unwrap()
}

/// An OTP withPIN: the backend answers 2312 (the call the 2312/2317 cure follows).
fn device_activation(list: &pims::StepsList) -> StepStatus {
    list.step(&StepName::DeviceActivation).unwrap().status
}

#[tokio::test]
async fn a_store_down_before_the_device_id_is_read_fails_the_call_and_sends_nothing() {
    let (logs, _guard) = capture_logs();
    let store = store_down();
    let backend = Backend::new();
    let pims = backend.builder(store.clone()).build().unwrap();
    assert_eq!(store.calls(), 0, "build read the store");

    let e = pims.steps(by_car()).send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cache);
    assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
    assert!(e.cache_error().is_some_and(|c| c.is_retryable()), "{e:?}");
    let message = support::otp_with_pin(&pims).await;
    assert_eq!(
        message.error().unwrap().code,
        ErrorCode::CORE_NOT_CONFIGURED
    );
    assert!(store.calls() > 0, "the store was never tried");
    assert!(
        backend.device_ids().is_empty(),
        "a call went out with an invented device id: {:?}",
        backend.device_ids()
    );
    assert!(
        logs.text().contains("the call is not sent"),
        "{}",
        logs.text()
    );

    // Back up: the store's own device id, on every call from then on.
    store.fail_calls(false);
    pims.steps(by_car()).send().await.unwrap();
    let device = pims.cache().unwrap().device_id().await.unwrap();
    assert_eq!(backend.device_ids(), [device]);
}

#[tokio::test]
async fn a_store_that_fails_once_the_device_id_is_known_never_fails_a_call() {
    let (logs, _guard) = capture_logs();
    let store = store_up();
    let backend = Backend::new();
    let pims = backend.builder(store.clone()).build().unwrap();
    backend.answers("alreadyDone");
    pims.steps(by_car()).send().await.unwrap();
    let device = pims.cache().unwrap().device_id().await.unwrap();

    // Down: the backend's answer, as it is (nothing is sticky without a store).
    store.fail_calls(true);
    backend.answers("alreadyDone");
    let steps = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(device_activation(&steps.list), StepStatus::AlreadyDone);
    assert!(!steps.stale);
    backend.answers("todo");
    let steps = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(device_activation(&steps.list), StepStatus::Todo);
    let steps = pims.steps(by_car()).reset(true).send().await.unwrap();
    assert_eq!(device_activation(&steps.list), StepStatus::Todo);
    let next = pims.next_step("132324").send().await.unwrap();
    assert_eq!(next.map(|s| s.name), Some(StepName::DeviceActivation));
    // The 2312 cure cannot reach the store: the backend's failure is the answer.
    let otp = support::otp_with_pin(&pims).await;
    assert_eq!(otp.error().unwrap().code, ErrorCode::DEVICE_DISABLED);
    assert!(
        logs.text().contains("answering from the backend"),
        "{}",
        logs.text()
    );
    // Every call carried the store's device id.
    let ids = backend.device_ids();
    assert_eq!(ids.len(), 6);
    assert!(ids.iter().all(|id| *id == device), "{ids:?}");
    // The handle still knows the id; the lists cannot be read.
    assert_eq!(pims.cache().unwrap().device_id().await.unwrap(), device);

    // Back up: sticky again.
    store.fail_calls(false);
    backend.answers("alreadyDone");
    pims.steps(by_car()).send().await.unwrap();
    backend.answers("todo");
    let steps = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(device_activation(&steps.list), StepStatus::AlreadyDone);
}

#[tokio::test]
async fn build_async_reads_the_device_id_and_fails_on_a_store_that_fails() {
    let backend = Backend::new();
    let e = backend
        .builder(store_down())
        .build_async()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cache);
    assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
    assert!(e.cache_error().is_some_and(|c| c.is_retryable()), "{e:?}");
    assert!(backend.device_ids().is_empty());

    let store = store_up();
    let pims = backend.builder(store.clone()).build_async().await.unwrap();
    assert!(store.calls() > 0, "the device id was not read");
    // Made once: the id the build read is the one every call carries.
    let device = pims.cache().unwrap().device_id().await.unwrap();
    pims.steps(by_car()).send().await.unwrap();
    assert_eq!(backend.device_ids(), [device]);
}

#[tokio::test]
async fn a_steps_call_that_changes_nothing_reads_nothing_from_the_store() {
    let store = store_up();
    let backend = Backend::new();
    let pims = backend.builder(store.clone()).build().unwrap();
    // Cached, then seen unchanged once (read, and remembered).
    pims.steps(by_car()).send().await.unwrap();
    pims.steps(by_car()).send().await.unwrap();
    let calls = store.calls();
    for _ in 0..3 {
        pims.steps(by_car()).send().await.unwrap();
    }
    assert_eq!(store.calls(), calls, "a no-change merge called the store");
}

#[tokio::test]
async fn an_account_the_cache_refuses_fails_the_build_before_the_store_is_read() {
    let backend = Backend::new();
    for account in [String::new(), "a\nb".to_owned(), "x".repeat(300)] {
        let store = store_up();
        let e = backend
            .builder(store.clone())
            .account(account)
            .build()
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::INVALID_PARAMETER);
        assert_eq!(e.label(), "Invalid account parameter");
        assert_eq!(store.calls(), 0);
    }
}
