//! Kotlin, Swift and Python bindings of the pims SDK, made with UniFFI (proc-macro style).
//!
//! What crosses the boundary:
//! - [`PimsCore`]: the facade with the mobile SDK's verbs (`initialize`, `release`, `get`, `set`,
//!   `subscribe`, `unsubscribe`), their async forms, the typed steps calls, the device id and the
//!   cache administration;
//! - [`JsonValue`]: parameters and results (objects keep their key order);
//! - [`PimsMessage`]: the envelope every verb answers with;
//! - [`PimsError`]: what the calls other than the verbs throw (code, label, remedy).
//!
//! The four verbs never throw: a failure arrives as a FAILED message, as in the mobile SDK.
//! Callbacks run on a pims thread. The per-language layers in `bindings/` give each language the
//! documentation's call shapes (`Map<String, Any?>` and a lambda in Kotlin, `[String: Any]` in
//! Swift, dicts in Python).
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
