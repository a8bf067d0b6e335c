//! [`NeverTransport`]: a transport that never answers (for deadline and cancellation tests).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use pims_types::Message;

use crate::call::Call;
use crate::error::TransportError;
use crate::transport::Transport;

/// A transport whose calls never complete; it counts the calls it received (clones share the
/// count).
///
/// ```
/// use std::time::Duration;
/// use pims_transport::{Call, Transport, fakes::NeverTransport};
/// use pims_types::{Parameters, TransactionId, Verb};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let never = NeverTransport::new();
/// let call = Call::new(Verb::Get, "pims.subscription.steps", Parameters::new(), TransactionId::generate(), "d");
/// let waited = tokio::time::timeout(Duration::from_millis(10), never.call(call)).await;
/// assert!(waited.is_err());
/// assert_eq!(never.calls(), 1);
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct NeverTransport {
    calls: Arc<AtomicUsize>,
}

impl NeverTransport {
    /// A transport that never answers.
    ///
    /// ```
    /// assert_eq!(pims_transport::fakes::NeverTransport::new().calls(), 0);
    /// ```
    pub fn new() -> Self {
        NeverTransport::default()
    }

    /// How many calls it received.
    ///
    /// ```
    /// assert_eq!(pims_transport::fakes::NeverTransport::default().calls(), 0);
    /// ```
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Transport for NeverTransport {
    async fn call(&self, _call: Call) -> Result<Message, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}
