//! A store that fails (a shared store that is down does not degrade to a local copy: it fails
//! every call) never fails a facade's call: the answer is the backend's, a warning is traced,
//! and the calls carry one stand-in device id until the store answers again. The synchronous
//! `build()` reads nothing from the store; `build_async()` reads the device id, so it fails on
//! such a store with the cache's error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pims::cache::{
    BatchSwap, CacheError, DeviceId, Entry, Health, KeySwap, MemoryStore, StepStore, Swap,
};
use pims::transport::fakes::FnTransport;
use pims::transport::{Call, SharedTransport};
use pims::{
    ApiError, ErrorCode, ErrorKind, Message, Parameters, Pims, PimsBuilder, StepName, StepStatus,
    StepsSelector,
};
use serde_json::json;
use support::capture_logs;

/// A store that forwards to memory, or fails every call while it is down; it counts the calls
/// made to it, and its reads.
#[derive(Debug, Default)]
struct Switch {
    inner: MemoryStore,
    down: AtomicBool,
    calls: AtomicUsize,
    reads: AtomicUsize,
}

impl Switch {
    fn down() -> Arc<Switch> {
        let store = Arc::new(Switch::default());
        store.down.store(true, Ordering::SeqCst);
        store
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    fn enter(&self, operation: &'static str) -> Result<(), CacheError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(CacheError::storage(
                operation,
                std::io::Error::other("the shared store is down"),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl StepStore for Switch {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.enter("read")?;
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        self.enter("read")?;
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get_many(keys).await
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        self.enter("write")?;
        self.inner.compare_and_swap(key, expected, new).await
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        self.enter("write")?;
        self.inner.swap_all(swaps).await
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.enter("write")?;
        self.inner.remove(key).await
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        self.enter("scan")?;
        self.inner.scan(prefix, after, limit).await
    }

    async fn flush(&self) -> Result<(), CacheError> {
        self.enter("flush")?;
        self.inner.flush().await
    }

    fn health(&self) -> Health {
        self.inner.health()
    }

    fn generation(&self) -> Option<u64> {
        self.inner.generation()
    }

    async fn kept_device_id(&self) -> Result<Option<DeviceId>, CacheError> {
        self.enter("read")?;
        self.inner.kept_device_id().await
    }

    async fn keep_device_id(&self, id: &DeviceId) -> Result<Option<DeviceId>, CacheError> {
        self.enter("write")?;
        self.inner.keep_device_id(id).await
    }
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

fn device_activation(list: &pims::StepsList) -> StepStatus {
    list.step(&StepName::DeviceActivation).unwrap().status
}

#[tokio::test]
async fn a_store_that_fails_every_call_never_fails_a_call() {
    let (logs, _guard) = capture_logs();
    let store = Switch::down();
    let backend = Backend::new();
    let pims = backend.builder(store.clone()).build().unwrap();
    assert_eq!(store.calls(), 0, "build read the store");

    // The backend's answer, as it is: nothing is sticky without a store.
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
    let otp = pims
        .get_async(
            "pims.authentication.otp",
            Parameters::new()
                .with("action", "withPIN")
                .with("pinCode", support::PIN),
        )
        .await;
    assert_eq!(otp.error().unwrap().code, ErrorCode::DEVICE_DISABLED);
    assert!(store.calls() > 0, "the store was never tried");

    // Every call carried one device id, made for this facade.
    let ids = backend.device_ids();
    assert_eq!(ids.len(), 5);
    assert!(!ids[0].is_empty());
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(
        logs.text().contains("step cache unusable"),
        "{}",
        logs.text()
    );
    // The handle says what the calls could not: the store fails.
    let e = pims.cache().unwrap().device_id().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cache);
    assert!(e.cache_error().is_some());

    // Back up: the store's own device id from the next call on, and steps are sticky again.
    store.set_down(false);
    backend.answers("alreadyDone");
    pims.steps(by_car()).send().await.unwrap();
    backend.answers("todo");
    let steps = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(device_activation(&steps.list), StepStatus::AlreadyDone);
    let device = pims.cache().unwrap().device_id().await.unwrap();
    let ids = backend.device_ids();
    assert_eq!(ids[ids.len() - 2..], [device.clone(), device.clone()]);
    assert_ne!(device, ids[0], "the stand-in is not the store's id");
}

#[tokio::test]
async fn build_async_reads_the_device_id_and_fails_on_a_store_that_fails() {
    let backend = Backend::new();
    let e = backend
        .builder(Switch::down())
        .build_async()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cache);
    assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
    assert!(e.cache_error().is_some_and(|c| c.is_retryable()), "{e:?}");
    assert!(backend.device_ids().is_empty());

    let store = Arc::new(Switch::default());
    let pims = backend.builder(store.clone()).build_async().await.unwrap();
    assert!(store.calls() > 0, "the device id was not read");
    // Made once: the id the build read is the one every call carries.
    let device = pims.cache().unwrap().device_id().await.unwrap();
    pims.steps(by_car()).send().await.unwrap();
    assert_eq!(backend.device_ids(), [device]);
}

#[tokio::test]
async fn a_steps_call_that_changes_nothing_reads_nothing_from_the_store() {
    let store = Arc::new(Switch::default());
    let backend = Backend::new();
    let pims = backend.builder(store.clone()).build().unwrap();
    // Cached, then seen unchanged once (read, and remembered).
    pims.steps(by_car()).send().await.unwrap();
    pims.steps(by_car()).send().await.unwrap();
    let reads = store.reads();
    for _ in 0..3 {
        pims.steps(by_car()).send().await.unwrap();
    }
    assert_eq!(store.reads(), reads, "a no-change merge read the store");
}

#[tokio::test]
async fn an_account_the_cache_refuses_fails_the_build_before_the_store_is_read() {
    let backend = Backend::new();
    for account in [String::new(), "a\nb".to_owned(), "x".repeat(300)] {
        let store = Arc::new(Switch::default());
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
