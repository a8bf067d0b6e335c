//! Fakes for downstream tests (feature `test-util`): a scripted [`ReplayTransport`], a
//! closure-driven [`FnTransport`] and a [`NeverTransport`] that never answers.
//!
//! ```
//! use pims_transport::{Call, SharedTransport, Transport};
//! use pims_transport::fakes::{Expected, ReplayTransport, Reply};
//! use pims_types::{Parameters, TransactionId, Verb};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let replay = ReplayTransport::new()
//!     .expect(Expected::get("pims.subscription.steps"), Reply::succeeded(serde_json::json!({"stepsID": 1})));
//! let transport = SharedTransport::new(replay.clone());
//! let call = Call::new(Verb::Get, "pims.subscription.steps", Parameters::new(), TransactionId::generate(), "d");
//! assert!(transport.call(call).await.unwrap().is_success());
//! replay.assert_all_used();
//! # });
//! ```

mod closure;
mod never;
mod replay;

pub use closure::FnTransport;
pub use never::NeverTransport;
pub use replay::{Expected, ReplayTransport, Reply};
