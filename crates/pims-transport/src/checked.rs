//! [`Checked`]: any transport, made to keep the two wire checks of the [`Transport`] contract
//! (the body size before sending, the transaction id echo after). `HttpTransport` keeps them
//! itself; the facade wraps every other transport it is given in this, so the checks run for
//! every call whatever carries it, and in exactly one place per transport.

use async_trait::async_trait;
use pims_types::{CallBody, Message};

use crate::call::{Call, check_body_size, check_echo};
use crate::error::TransportError;
use crate::transport::Transport;

/// A transport that refuses a call whose body would be too large (2102 naming its largest
/// parameter, nothing sent) and an answer that carries another call's transaction id (2203).
///
/// ```
/// use pims_transport::{Call, Checked, Transport, fakes::FnTransport};
/// use pims_types::{Message, Parameters, TransactionId, Verb};
///
/// // A transport that answers with the wrong transaction id.
/// let sloppy = FnTransport::new(|_call: Call| async {
///     Ok(Message::succeeded_empty(TransactionId::generate()))
/// });
/// let checked = Checked::new(sloppy);
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let call = Call::new(Verb::Set, "pims.vehicle.vin", Parameters::new(), TransactionId::generate(), "d");
/// let e = checked.call(call).await.unwrap_err();
/// assert_eq!(e.code().as_u32(), 2203);
/// # });
/// ```
#[derive(Debug)]
pub struct Checked<T> {
    inner: T,
}

impl<T: Transport> Checked<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Checked { inner }
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }
}

#[async_trait]
impl<T: Transport> Transport for Checked<T> {
    async fn call(&self, call: Call) -> Result<Message, TransportError> {
        let body = CallBody::json_of(&call.transaction_id, call.verb, &call.api, &call.parameters);
        check_body_size(&call, body.len())?;
        let expected = call.transaction_id.clone();
        let answer = self.inner.call(call).await?;
        check_echo(&expected, &answer).map_err(TransportError::invalid_answer)?;
        Ok(answer)
    }
}
