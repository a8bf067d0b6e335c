//! [`FnTransport`]: a transport whose answers come from a closure.

use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use pims_types::Message;

use crate::call::Call;
use crate::error::TransportError;
use crate::transport::Transport;

/// A transport that hands every call to a closure returning a future.
///
/// ```
/// use pims_transport::{Call, Transport, TransportError, fakes::FnTransport};
/// use pims_types::{Message, Parameters, TransactionId, Verb};
///
/// let transport = FnTransport::new(|call: Call| async move {
///     if call.api == "pims.vehicle.vin" {
///         Ok(Message::succeeded_empty(call.transaction_id))
///     } else {
///         Err(TransportError::server_error(503, None))
///     }
/// });
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let call = Call::new(Verb::Set, "pims.vehicle.vin", Parameters::new(), TransactionId::generate(), "d");
/// assert!(transport.call(call).await.is_ok());
/// # });
/// ```
pub struct FnTransport<F> {
    f: F,
}

impl<F> FnTransport<F> {
    /// A transport answering with `f(call).await`.
    ///
    /// ```
    /// let t = pims_transport::fakes::FnTransport::new(|call: pims_transport::Call| async move {
    ///     Ok::<_, pims_transport::TransportError>(pims_types::Message::succeeded_empty(call.transaction_id))
    /// });
    /// # let _ = t;
    /// ```
    pub fn new<Fut>(f: F) -> Self
    where
        F: Fn(Call) -> Fut + Send + Sync,
        Fut: Future<Output = Result<Message, TransportError>> + Send,
    {
        FnTransport { f }
    }
}

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport")
    }
}

#[async_trait]
impl<F, Fut> Transport for FnTransport<F>
where
    F: Fn(Call) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Message, TransportError>> + Send,
{
    async fn call(&self, call: Call) -> Result<Message, TransportError> {
        (self.f)(call).await
    }
}
