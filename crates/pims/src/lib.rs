//! The PIMS *Service Activation Steps* SDK: the facade apps use.
//!
//! Before Remote Commands or Vehicle Status work for one user + service + vehicle (a
//! `carAssociationID`), an app asks which security steps are still required, does them in
//! order, then uses the service. Steps seen `alreadyDone` stay so in a persistent cache until
//! `resetSteps: true`.
//!
//! # Quick start: the mobile SDK's style (callbacks)
//!
//! ```no_run
//! use pims::{Parameters, Pims};
//!
//! let pims = Pims::new(); // no runtime needed: it starts a small one of its own
//! let init = pims.initialize(Parameters::new()
//!     .with("environnement", "http://127.0.0.1:8080") // a pims-sim started by hand
//!     .with("credential", "demo-token")
//!     .with("profile", "demo-user"));
//! assert!(init.is_success(), "{}", init.to_json_string());
//!
//! let (tx, rx) = std::sync::mpsc::channel();
//! pims.get("pims.subscription.steps",
//!     Parameters::new()
//!         .with("carAssociationID", "987654")
//!         .with("resetSteps", false)
//!         .with("stepsStatus", "all"),
//!     move |message| tx.send(message).unwrap()); // exactly one callback, always
//! let message = rx.recv().unwrap();
//! println!("{}", message.to_json_string());
//! // {"transactionId":"953cfefb-bc72","status":"SUCCEEDED","result":{"stepsID":132324,
//! //  "trusterPhoneNumber":{"name":"trusterPhoneNumber","status":"alreadyDone","order":1}, ...}}
//! ```
//!
//! # Quick start: typed and async
//!
//! ```no_run
//! use pims::{Pims, Secret, SmsCode, SmsPurpose, StepName, StepsSelector, StepsStatusFilter};
//!
//! # async fn demo() -> Result<(), pims::Error> {
//! let pims = Pims::builder()
//!     .base_url("http://127.0.0.1:8080")
//!     .token(Secret::new("demo-token"))
//!     .cache_dir("/tmp/pims-cache")
//!     .account("demo-user")
//!     .build()?;
//!
//! let todo = pims
//!     .steps(StepsSelector::car_association_id("987654")?)
//!     .status(StepsStatusFilter::Todo)
//!     .send()
//!     .await?;
//! for step in todo.steps() {
//!     match step.name {
//!         StepName::DeviceActivation => {
//!             pims.activation().request_sms_code(SmsPurpose::Enrollment).send().await?;
//!             let code = SmsCode::parse("123456")?; // what the user typed
//!             pims.activation().enroll(pims::Pin::parse("1234")?, code).send().await?;
//!         }
//!         StepName::MediumCarKey => { /* pair the phone, then pims.activation().activate_car_key() */ }
//!         _ => {}
//!     }
//! }
//! match pims.next_step(todo.steps_id().as_str()).send().await? {
//!     Some(step) => println!("next: {}", step.name),
//!     None => println!("ready to use the service"),
//! }
//! # Ok(()) }
//! ```
//!
//! # What happens on a steps call
//! The facade always asks the backend for `all` steps (forwarding `resetSteps`), merges the
//! answer with the cache (a step once `alreadyDone` stays so), stores the merge durably, then
//! applies `stepsStatus`. `resetSteps: true` wipes the cached list first, whatever identifier
//! (carAssociationID, stepsID, VIN) selected it. When `pims.authentication.otp` withPIN answers
//! 2312 or 2317, the device's cached steps lose their `alreadyDone` (policy, on by default).
//! See `docs/facade.md` for every rule and policy, and `docs/architecture.md` for the call
//! pipeline (where each check lives).
//!
//! # Errors
//! [`Error`] is one short phrase (`error 2202: Network problem`) with the catalogue code, label
//! and remedy, the call's [`transaction_id`](Error::transaction_id), and the layer error behind it
//! in `source()`.
//!
//! # Features
//! - `http` (default): the HTTP transport (`PimsBuilder::base_url`, `HttpOptions`, the
//!   `environnement` key). Without it, give a transport (`PimsBuilder::transport`).
//! - `sled` (default): the step cache on disk (`PimsBuilder::cache_dir`, the platform's data
//!   directory). Without it, give a store (`PimsBuilder::cache_store`).
//! - `postgres`: the step cache in a PostgreSQL database shared by a service's replicas
//!   (`PimsBuilder::cache_postgres`; the store is `cache_postgres::PostgresStore`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod account_cache;
pub mod activation;
mod cache_admin;
mod call_handler;
mod callback;
mod config;
mod error;
mod facade;
#[cfg(feature = "postgres")]
mod postgres;
mod reply;
mod request;
mod routing;
mod runtime;
mod steps;
mod subscriptions;
mod typed;

pub use activation::Activation;
pub use cache_admin::{CacheAdmin, CacheScope};
#[cfg(feature = "http")]
pub use config::HttpOptions;
pub use config::{
    DEFAULT_ACCOUNT, DEFAULT_CALL_TIMEOUT, ENVIRONMENTS, PimsBuilder, PinProvider, Policies,
};
pub use error::{Error, ErrorKind};
pub use facade::Pims;
pub use reply::{Answered, Steps};
pub use steps::{NextStepRequest, StepsRequest};
pub use typed::{TypedCall, TypedRequest};

// The everyday types, so that apps depend on this one crate.
pub use pims_cache::{CachedList, Health, Removed};
pub use pims_types::{
    AccountBlocked, ApiError, CarKeyActivation, CarKeyStatus, CvsStatus, EnrollmentStatus,
    ErrorCode, Message, Otp, Parameters, PhoneNumber, Pin, Remedy, Secret, Service, SmsCode,
    SmsPurpose, Status, Step, StepName, StepStatus, StepsId, StepsList, StepsSelector,
    StepsStatusFilter, TransactionId, Verb, Vin, mask,
};

/// The cache layer, re-exported for custom stores.
pub use pims_cache as cache;
/// The PostgreSQL store (feature `postgres`), re-exported for its options and administration.
#[cfg(feature = "postgres")]
pub use pims_cache_postgres as cache_postgres;
/// The transport layer, re-exported for custom transports and token providers.
pub use pims_transport as transport;
/// The wire model, re-exported so apps depend on this one crate.
pub use pims_types as types;
