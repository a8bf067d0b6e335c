//! The [`Transport`] trait and [`SharedTransport`], the cheap-to-clone handle the facade keeps.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use pims_types::Message;

use crate::call::Call;
use crate::error::TransportError;

/// Carries one call to the backend and gives its envelope.
///
/// `Ok(message)` is whatever envelope the backend answered, FAILED ones included (a business
/// error is an answer, not a transport failure). `Err` means there is no usable answer, and says
/// where it failed ([`TransportError`]).
///
/// Implementations must never send a call more than once unless [`Call::may_repeat`] says so,
/// and must never log parameter values.
///
/// The transport is the one place that checks the two wire facts only it knows, and the facade
/// relies on it for both:
/// - **the body size**: a call whose body would exceed
///   [`MAX_CALL_BODY_BYTES`](pims_types::MAX_CALL_BODY_BYTES) is not sent:
///   [`TransportError::invalid_request`] with 2102 naming the largest parameter;
/// - **the echo**: an answer is handed back only when it carries the call's transaction id;
///   any other is [`AnswerProblem::TransactionIdMismatch`](crate::AnswerProblem) (2203).
///
/// `HttpTransport` does both; a transport of yours must too.
///
/// The trait is object safe: the facade holds a `SharedTransport` (an `Arc<dyn Transport>`).
///
/// ```
/// use async_trait::async_trait;
/// use pims_transport::{Call, SharedTransport, Transport, TransportError};
/// use pims_types::{Message, Parameters, TransactionId, Verb};
///
/// /// Answers every call from memory.
/// #[derive(Debug)]
/// struct Canned;
///
/// #[async_trait]
/// impl Transport for Canned {
///     async fn call(&self, call: Call) -> Result<Message, TransportError> {
///         Ok(Message::succeeded(call.transaction_id, serde_json::json!({"api": call.api})))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let transport = SharedTransport::new(Canned);
/// let id = TransactionId::generate();
/// let answer = transport
///     .call(Call::new(Verb::Get, "pims.subscription.steps", Parameters::new(), id.clone(), "dev"))
///     .await
///     .unwrap();
/// assert_eq!(answer.transaction_id(), &id);
/// # });
/// ```
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends one call and gives the backend's envelope.
    async fn call(&self, call: Call) -> Result<Message, TransportError>;
}

/// The future every [`Transport::call`] returns (what `#[async_trait]` makes of it).
type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<Message, TransportError>> + Send + 'a>>;

// The forwarding impls hand back the inner transport's future as it is: written out instead
// of with `#[async_trait]`, which would box one more future per layer and call.

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn call<'life0, 'async_trait>(&'life0 self, call: Call) -> CallFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).call(call)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn call<'life0, 'async_trait>(&'life0 self, call: Call) -> CallFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).call(call)
    }
}

/// A shared, cheap-to-clone transport (`Arc<dyn Transport>`), itself a [`Transport`].
///
/// ```
/// # #[cfg(feature = "http")] {
/// use pims_transport::{HttpTransport, SharedTransport};
/// let http = HttpTransport::builder("http://127.0.0.1:8080").build().unwrap();
/// let shared = SharedTransport::new(http);
/// let again = shared.clone();
/// assert!(format!("{again:?}").contains("HttpTransport"));
/// # }
/// ```
#[derive(Clone)]
pub struct SharedTransport(Arc<dyn Transport>);

impl SharedTransport {
    /// Wraps a transport.
    pub fn new(transport: impl Transport + 'static) -> Self {
        SharedTransport(Arc::new(transport))
    }

    /// Wraps a transport that is already shared.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::sync::Arc;
    /// use pims_transport::{SharedTransport, Transport, fakes::NeverTransport};
    /// let arc: Arc<dyn Transport> = Arc::new(NeverTransport::new());
    /// let shared = SharedTransport::from_arc(arc);
    /// # let _ = shared;
    /// # }
    /// ```
    pub fn from_arc(transport: Arc<dyn Transport>) -> Self {
        SharedTransport(transport)
    }

    /// The shared transport itself.
    pub fn as_arc(&self) -> &Arc<dyn Transport> {
        &self.0
    }
}

impl fmt::Debug for SharedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedTransport").field(&self.0).finish()
    }
}

impl Transport for SharedTransport {
    fn call<'life0, 'async_trait>(&'life0 self, call: Call) -> CallFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        // The shared transport's own future: no box of ours around it.
        self.0.as_ref().call(call)
    }
}
