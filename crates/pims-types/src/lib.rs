//! The wire model of the PIMS *Service Activation Steps* component.
//!
//! Every layer of pims-rs (transport, cache, facade, simulator, CLI) speaks these types:
//!
//! - [`Message`]: the envelope of every answer (`transactionId`, `status`, `result` | `error`),
//!   whose constructors make an invalid envelope unrepresentable;
//! - [`ErrorCode`]: the full error catalogue (exact labels, categories, remedies), built from the
//!   embedded `errors.tsv`; unknown codes pass through;
//! - [`Api`] and [`Verb`]: API names with their documented aliases;
//! - [`Parameters`]: the dynamic dictionary apps pass, with typed getters giving 2101/2102
//!   errors that name the parameter;
//! - the step model ([`StepName`], [`StepStatus`], [`Step`], [`StepsList`]) and the requests
//!   ([`StepsSelector`], [`StepsQuery`]);
//! - the pure rules: [`filter`], [`next_step`], [`merge`] (sticky `alreadyDone`);
//! - the activation vocabulary ([`SmsPurpose`], [`EnrollmentStatus`], [`AccountBlocked`],
//!   [`CvsStatus`]), the operations of each API ([`Operation`]: [`SmsCodeAction`],
//!   [`EnrollmentAction`], ...), the parameter and result [`keys`], and the typed results
//!   ([`ActivationResult`]: [`CarKeyStatus`], [`CarKeyActivation`], [`Otp`], ...);
//! - the format of what users type, one rule each ([`Pin`], [`SmsCode`], [`PhoneNumber`],
//!   [`Vin`], [`Parameters::check_formats`]) and whether a call may be sent again ([`Repeat`],
//!   one table for the transport and the facade);
//! - redaction: [`Secret`], [`mask`], and one walker for JSON ([`redacted`]).
//!
//! ```
//! use pims_types::*;
//!
//! // An app's request, with the documentation's lenient spellings.
//! let params = Parameters::from_value(serde_json::json!({
//!     "carAssociationID": 987654, "resetStep": false, "stepStatus": "todo"})).unwrap();
//! let query = StepsQuery::from_parameters(&params).unwrap();
//!
//! // The backend's answer, merged with what the cache knew, then filtered.
//! let fresh = StepsList::from_value(&serde_json::json!({"stepsID": 132324,
//!     "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "alreadyDone", "order": 1},
//!     "deviceActivation": {"name": "deviceActivation", "status": "todo", "order": 2}})).unwrap();
//! let cached = StepsList::new(StepsId::number(132324),
//!     vec![Step::new(StepName::DeviceActivation, StepStatus::AlreadyDone, 2)]);
//! let merged = merge(&cached, &fresh);
//! assert!(filter(&merged, query.status).is_empty());
//! assert!(next_step(&merged).is_none());
//!
//! let answer = Message::succeeded(TransactionId::generate(), filter(&merged, query.status).to_value());
//! assert_eq!(answer.result().unwrap(), &serde_json::json!({"stepsID": 132324}));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod activation;
mod api;
mod api_error;
mod catalogue;
mod decode;
mod error;
mod formats;
pub mod fuzz_checks;
pub mod keys;
mod message;
mod message_decode;
mod message_fast;
mod operations;
mod param_formats;
mod params;
mod query;
mod redact;
mod repeat;
mod results;
mod rules;
#[cfg(feature = "schema")]
pub mod schema;
mod services;
mod status;
mod steps;
mod steps_wire;
mod transaction_id;
mod user_values;
mod wire;
mod wire_enum;

pub use activation::{AccountBlocked, CvsStatus, EnrollmentStatus, SmsPurpose};
pub use api::{Api, Verb, names};
pub use api_error::ApiError;
pub use catalogue::{CATALOGUE_TSV, CatalogueEntry, Category, ErrorCode, Remedy, entries};
pub use error::Error;
pub use formats::{
    PHONE_NUMBER_KEY, PIN_DIGITS, PIN_KEYS, SMS_CODE_DIGITS, SMS_CODE_KEY, is_phone_number, is_pin,
    is_sms_code,
};
pub use message::Message;
pub use operations::{
    AccountCheck, ActionType, EnrollmentAction, Operation, OtpAction, PinCodeAction, SmsCodeAction,
};
pub use params::{MAX_IDENTIFIER_LEN, MAX_STRING_LEN, Parameters};
pub use query::{NextStepQuery, ServicesQuery, StepsQuery, StepsSelector, Vin};
pub use redact::{
    REDACTED, RedactedJson, Secret, is_masked_key, is_secret_key, mask, redacted, redacted_masked,
};
pub use repeat::{PURE_READS, PureRead, Repeat, carries_secret};
pub use results::{
    ActivationResult, CarKeyActivation, CarKeyStatus, DeviceActivated, Otp, TrustedPhoneNumber,
};
pub use rules::{filter, merge, next_step};
pub use services::{Service, ServicesList};
pub use status::Status;
pub use steps::{
    Step, StepName, StepStatus, StepsId, StepsList, StepsStatusFilter, next_step_result,
    parse_next_step_result,
};
pub use transaction_id::TransactionId;
pub use user_values::{PhoneNumber, Pin, SmsCode};
pub use wire::{
    CALLS_PATH, CallBody, DEVICE_ID_HEADER, IDEMPOTENCY_KEY_HEADER, MAX_CALL_BODY_BYTES,
};
