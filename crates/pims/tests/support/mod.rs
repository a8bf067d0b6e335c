//! Shared set-up of the end-to-end tests: a real pims-sim on 127.0.0.1:0 and facades on it.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;

use pims::{Pims, PimsBuilder};
use pims_sim::{DEMO_PHONE_NUMBER, DEMO_TOKEN, DEMO_VIN, SimConfig, SimServer};
use pims_types::{Message, Parameters, Secret, StepStatus, StepsSelector};
use serde_json::Value;

pub const PIN: &str = "1234";

pub async fn sim() -> SimServer {
    SimServer::start(SimConfig::default()).await.unwrap()
}

pub fn builder(sim: &SimServer, cache: &Path) -> PimsBuilder {
    Pims::builder()
        .base_url(sim.base_url())
        .token(Secret::new(DEMO_TOKEN))
        .cache_dir(cache)
        .account("demo")
}

pub fn facade(sim: &SimServer, cache: &Path) -> Pims {
    builder(sim, cache).build().unwrap()
}

pub fn by_car() -> StepsSelector {
    StepsSelector::car_association_id("987654").unwrap()
}

pub fn steps_params(v: Value) -> Parameters {
    Parameters::from_value(v).unwrap()
}

/// The message without its transaction id (the rest must equal the documentation's example).
pub fn without_tid(m: &Message) -> Value {
    let mut v = m.to_value();
    v.as_object_mut().unwrap().remove("transactionId");
    v
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn statuses(list: &pims_types::StepsList) -> Vec<(String, StepStatus)> {
    list.steps()
        .iter()
        .map(|s| (s.name.as_str().to_owned(), s.status))
        .collect()
}

/// Enrols the facade's device with the demo account (SMS read from the simulator's outbox).
pub async fn enroll(pims: &Pims, sim: &SimServer) {
    pims.activation()
        .request_sms_code(pims::SmsPurpose::Enrollment)
        .send()
        .await
        .unwrap();
    let code = sim.latest_sms_code(DEMO_PHONE_NUMBER).unwrap();
    let status = pims
        .activation()
        .check_enrollment_sms_code(pims::SmsCode::try_from(code.clone()).unwrap())
        .send()
        .await
        .unwrap();
    assert!(matches!(
        status,
        pims::EnrollmentStatus::NotEnrolled | pims::EnrollmentStatus::AlreadyEnrolled
    ));
    pims.activation()
        .enroll(
            pims::Pin::parse(PIN).unwrap(),
            pims::SmsCode::try_from(code.clone()).unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// `pims.authentication.otp` with the PIN, through the mobile SDK's verb (a FAILED message is
/// an answer: the caller looks at it).
pub async fn otp_with_pin(pims: &Pims) -> Message {
    pims.get_async(
        "pims.authentication.otp",
        Parameters::new()
            .with("action", "withPIN")
            .with("pinCode", PIN),
    )
    .await
}

/// The device id the facade's calls carry (read from its cache).
pub async fn device_id(pims: &Pims) -> String {
    pims.cache().unwrap().device_id().await.unwrap()
}

/// Pairs the demo vehicle with the facade's device and activates its CarKey.
pub async fn car_key(pims: &Pims, sim: &SimServer) {
    sim.pair_vehicle(DEMO_VIN, &device_id(pims).await)
        .await
        .unwrap();
    pims.activation()
        .select_vehicle(pims::Vin::parse(DEMO_VIN).unwrap())
        .send()
        .await
        .unwrap();
    let key = pims.activation().activate_car_key().send().await.unwrap();
    assert!(key.has_car_key);
}

/// Everything traced on this thread, at every level, as text (no colours, no timestamps:
/// digits that have nothing to do with what a test looks for).
#[derive(Clone, Default)]
pub struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures this thread's logs until the guard is dropped.
pub fn capture_logs() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    (capture, tracing::subscriber::set_default(subscriber))
}
