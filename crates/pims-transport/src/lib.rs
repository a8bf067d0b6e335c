//! The transport layer of pims-rs (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod call;
mod checked;
mod error;
mod token;
mod transport;

#[cfg(feature = "http")]
mod http;

#[cfg(feature = "test-util")]
pub mod fakes;

pub use call::Call;
pub use checked::Checked;
pub use error::{AnswerProblem, Deadline, Detail, TransportError};
pub use token::{StaticToken, TokenProvider};
pub use transport::{SharedTransport, Transport};

#[cfg(feature = "http")]
pub use http::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_OVERALL_TIMEOUT, HttpTransport, HttpTransportBuilder, MAX_ATTEMPTS_LIMIT, RetryPolicy,
    USER_AGENT,
};
