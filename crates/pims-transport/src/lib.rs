//! The transport layer of pims-rs: the pluggable [`Transport`] trait the facade calls, its
//! classified [`TransportError`], and (feature `http`, default) [`HttpTransport`], a resilient
//! HTTP transport speaking the wire protocol of `docs/protocol.md`.
//!
//! ```no_run
//! use pims_transport::{Call, HttpTransport, SharedTransport, Transport};
//! use pims_types::{Parameters, Secret, TransactionId, Verb};
//!
//! # async fn run() -> Result<(), pims_transport::TransportError> {
//! let transport = SharedTransport::new(
//!     HttpTransport::builder("https://api.example.com")
//!         .static_token(Secret::new("access-token"))
//!         .build()?,
//! );
//! let call = Call::new(Verb::Get, "pims.subscription.steps",
//!     Parameters::new().with("carAssociationID", "987654"),
//!     TransactionId::generate(), "device-id");
//! match transport.call(call).await {
//!     Ok(message) => println!("answered {}", message.status().as_str()), // FAILED included
//!     Err(e) => println!("{e}: {} (retryable: {})", e.to_api_error().label, e.is_retryable()),
//! }
//! # Ok(()) }
//! ```
//!
//! # Plugging your own transport
//!
//! Anything implementing [`Transport`] can replace the HTTP one: a corporate HTTP stack, an
//! in-process simulator, a recorded replay. Give back the backend's envelope (FAILED ones
//! included) or a [`TransportError`] saying where it failed; never send a call that is not a
//! pure read twice unless it provably never left ([`Call::may_repeat`]); send its
//! [`Call::idempotency_key`]; never log parameter values.
//!
//! ```
//! use std::sync::Mutex;
//! use async_trait::async_trait;
//! use pims_transport::{Call, SharedTransport, Transport, TransportError};
//! use pims_types::{ApiError, ErrorCode, Message, Parameters, TransactionId, Verb};
//!
//! /// Serves `pims.vehicle.vin` from memory and refuses everything else.
//! #[derive(Debug, Default)]
//! struct InMemory {
//!     vin: Mutex<Option<String>>,
//! }
//!
//! #[async_trait]
//! impl Transport for InMemory {
//!     async fn call(&self, call: Call) -> Result<Message, TransportError> {
//!         let id = call.transaction_id.clone();
//!         match (call.verb, call.api.as_str()) {
//!             (Verb::Set, "pims.vehicle.vin") => {
//!                 let vin = call.parameters.required_string("vin", &[]);
//!                 let Ok(vin) = vin else {
//!                     return Ok(Message::failed(id, ApiError::with_values(ErrorCode::MISSING_PARAMETER, &["vin"])));
//!                 };
//!                 *self.vin.lock().map_err(|_| TransportError::not_sent("lock poisoned"))? = Some(vin);
//!                 Ok(Message::succeeded_empty(id))
//!             }
//!             _ => Ok(Message::failed(id, ApiError::from_code(ErrorCode::API_NOT_SUPPORTED))),
//!         }
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let transport = SharedTransport::new(InMemory::default());
//! let call = Call::new(Verb::Set, "pims.vehicle.vin",
//!     Parameters::new().with("vin", "VR1AB12C3D4567890"), TransactionId::generate(), "device-id");
//! assert!(transport.call(call).await.unwrap().is_success());
//! # });
//! ```
//!
//! # Features
//! - `http` (default): [`HttpTransport`] on reqwest with rustls.
//! - `test-util`: fakes for downstream tests in the `fakes` module: a scripted
//!   `fakes::ReplayTransport` (with an "all expected calls used" assertion), a closure-driven
//!   `fakes::FnTransport` and a `fakes::NeverTransport` that never answers.
//!
//! # Logs
//! `HttpTransport` opens one `pims_transport.call` span per call with the API, the verb, the
//! transaction id and the attempt number; no parameter value, token or device id is logged at
//! any level.
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
