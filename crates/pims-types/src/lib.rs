//! The wire model of the PIMS *Service Activation Steps* component; the rest of this page is
//! the crate's README (compiled: its examples are doc tests).
#![doc = include_str!("../README.md")]
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
