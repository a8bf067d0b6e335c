//! A faithful, stateful simulator of the PIMS steps backend over HTTP.
//!
//! It serves the SDK's wire protocol (`POST /v1/calls`) with every API of the Steps component
//! and of the activation procedures that resolve its steps (trusted phone number, SMS codes,
//! enrolment, PIN, OTP, vehicle selection, CarKey), computes the steps from its state on every
//! request, and adds simulator-only routes: `/healthz`, `/openapi.json` and an admin API (SMS
//! outbox, scenario and state, disable a device, pair a vehicle, suspend a CarKey, faults,
//! clock). It depends on `pims-types` only: it is an independent check of the SDK's contract.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use pims_sim::{SimConfig, SimServer, DEMO_TOKEN, DEMO_CAR_ASSOCIATION_ID};
//!
//! // Start on 127.0.0.1 with a free port and the built-in demo scenario.
//! let sim = SimServer::start(SimConfig::default()).await.unwrap();
//! let url = format!("{}/v1/calls", sim.base_url());
//! assert!(url.starts_with("http://127.0.0.1:"));
//!
//! // Any HTTP client now calls it, e.g. with the demo account:
//! //   POST {url}  Authorization: Bearer demo-token  Pims-Device-Id: my-phone
//! //   {"transactionId": "953cfefb-bc72", "verb": "get", "api": "pims.subscription.steps",
//! //    "parameters": {"carAssociationID": "987654"}}
//! assert_eq!((DEMO_TOKEN, DEMO_CAR_ASSOCIATION_ID), ("demo-token", "987654"));
//!
//! // Admin actions are available in-process too.
//! sim.pair_vehicle(pims_sim::DEMO_VIN, "my-phone").await.unwrap();
//! sim.shutdown().await;
//! # }
//! ```
//!
//! The binary `pims-sim` runs the same server: `cargo run -p pims-sim -- --addr 127.0.0.1:8080`.
//! The scenario schema, the demo account and the admin API are documented in
//! `docs/simulator.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin_actions;
mod answer_cache;
mod calls;
mod clock;
mod error;
mod failure;
mod faults;
mod files;
mod http;
mod idempotency;
mod identifiers;
mod model;
mod non_null;
mod persist;
mod pin_hash;
mod scenario;
mod scenario_check;
mod server;
mod sms;
mod state;
mod whole_numbers;

pub use clock::SimClock;
pub use error::SimError;
pub use faults::{FaultSpec, MAX_LATENCY_MS};
pub use files::MAX_FILE_BYTES;
pub use persist::{StateReset, reset_state_file};
pub use pin_hash::{MAX_PIN_HASH_ROUNDS, PinHash};
pub use scenario::{
    AccountBlocked, AccountSpec, CarAssociationSpec, CarKeySpec, CvsStatus, DeviceSpec,
    DeviceStatus, SCENARIO_VERSION, Scenario, Settings, SmsPurpose, SmsSpec, SmsState,
    StepListSpec, VehicleSelectionSpec, VehicleSpec,
};
pub use server::{SimConfig, SimServer};

/// The bearer token of the demo account of the default scenario.
///
/// ```
/// let s = pims_sim::Scenario::default_scenario();
/// assert_eq!(s.accounts[0].tokens[0].expose(), pims_sim::DEMO_TOKEN);
/// ```
pub const DEMO_TOKEN: &str = "demo-token";

/// The car association of the default scenario (demo account, remote commands, [`DEMO_VIN`]).
///
/// ```
/// let s = pims_sim::Scenario::default_scenario();
/// assert_eq!(s.car_associations[0].id, pims_sim::DEMO_CAR_ASSOCIATION_ID);
/// ```
pub const DEMO_CAR_ASSOCIATION_ID: &str = "987654";

/// The vehicle of the default scenario.
///
/// ```
/// assert!(pims_types::Vin::parse(pims_sim::DEMO_VIN).is_ok());
/// ```
pub const DEMO_VIN: &str = "VR1AB12C3D4567890";

/// The trusted phone number of the demo account (already registered in the default scenario).
///
/// ```
/// let s = pims_sim::Scenario::default_scenario();
/// assert_eq!(s.accounts[0].trusted_phone_number.as_deref(), Some(pims_sim::DEMO_PHONE_NUMBER));
/// ```
pub const DEMO_PHONE_NUMBER: &str = "+33612345678";

/// The first stepsID the default scenario issues (then 132325, 132326, ... one per
/// (car association, device)).
///
/// ```
/// let s = pims_sim::Scenario::default_scenario();
/// assert_eq!(s.next_steps_id, Some(pims_sim::DEMO_FIRST_STEPS_ID));
/// ```
pub const DEMO_FIRST_STEPS_ID: u64 = 132324;

/// The PIN the documentation's examples enrol the demo account with. The account has no PIN
/// until the first enrolment registers one: any 4 to 8 digits would do.
///
/// ```
/// assert!(pims_sim::Scenario::default_scenario().accounts[0].pin.is_none());
/// assert_eq!(pims_sim::DEMO_PIN.len(), 4);
/// ```
pub const DEMO_PIN: &str = "1234";

/// The response header set (`true`) on an answer replayed for a repeated `Idempotency-Key`.
///
/// ```
/// assert_eq!(pims_sim::IDEMPOTENT_REPLAY_HEADER, "pims-idempotent-replay");
/// ```
pub const IDEMPOTENT_REPLAY_HEADER: &str = http::reply::REPLAYED_HEADER;
