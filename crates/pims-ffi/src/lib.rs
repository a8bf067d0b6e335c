//! Kotlin, Swift and Python bindings of the pims SDK (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod callback;
mod error;
mod facade;
mod json;
mod message;
mod typed;

pub use cache::{CacheHealth, CacheScope, CacheState, CacheWipe, CachedListInfo};
pub use callback::{CallbackError, MessageCallback};
pub use error::{FailureKind, PimsError};
pub use facade::PimsCore;
pub use json::{JsonMember, JsonValue, json_parse, json_render};
pub use message::{ApiErrorInfo, MessageStatus, PimsMessage};
pub use typed::{Service, Step, StepStatus, StepsAnswer, StepsFilter, StepsSelector};

uniffi::setup_scaffolding!();
