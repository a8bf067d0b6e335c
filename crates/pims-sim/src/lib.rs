//! A faithful, stateful simulator of the PIMS steps backend over HTTP; the rest of this page is
//! the crate's README (compiled: its examples are doc tests).
#![doc = include_str!("../README.md")]
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
pub const IDEMPOTENT_REPLAY_HEADER: &str = http::reply::REPLAYED_HEADER;
