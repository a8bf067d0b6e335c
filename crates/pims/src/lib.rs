//! The PIMS Service Activation Steps SDK: the facade apps use (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
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
