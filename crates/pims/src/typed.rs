//! [`TypedRequest`]: one operation of the backend, typed (octocrab's shape: a small request
//! type per operation, sent with `.send().await`). Every one goes through the same pipeline as
//! the verb API: its parameters rendered once and parsed at the edge (`Request::parse`), then
//! run under the call's deadline and guards.

use pims_types::{Api, Parameters, Verb};
use serde_json::Value;

use crate::error::Error;
use crate::facade::Pims;
use crate::reply::{Answered, Reply};
use crate::request::Request;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// One typed operation of the backend: the verb and API it is sent as, its parameters, and how
/// its `result` is read. Implemented by this crate's request types only.
pub trait TypedCall: sealed::Sealed + Send + 'static {
    /// What the operation answers.
    type Output: Send + 'static;
    /// The verb it is sent with.
    const VERB: Verb;
    /// The API it is sent to.
    const API: Api;
    /// Its parameters, as sent.
    fn parameters(&self) -> Parameters;
    /// Reads the `result` of its success (`Value::Null` when there was none).
    fn read(result: &Value) -> Result<Self::Output, pims_types::Error>;
    /// A failure that is an answer (2307, no phone number, is `None`).
    fn recover(_error: &Error) -> Option<Self::Output> {
        None
    }
}

/// A typed operation ready to be sent.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// let status = pims.activation().car_key_status().send().await?;
/// println!("verified: {}", status.verified);
/// # Ok(()) }
/// ```
///
/// A request owns a handle on its facade (a cheap clone), so it can be moved into a task.
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct TypedRequest<C> {
    pims: Pims,
    call: C,
}

impl<C: TypedCall> TypedRequest<C> {
    pub(crate) fn new(pims: Pims, call: C) -> Self {
        TypedRequest { pims, call }
    }

    fn request(&self) -> Result<Request, Error> {
        Request::parse(C::VERB, C::API.name(), self.call.parameters())
    }

    /// Sends it.
    pub async fn send(self) -> Result<C::Output, Error> {
        let result = self.pims.send_typed(self.request(), read::<C>).await;
        match result {
            Err(e) => C::recover(&e).ok_or(e),
            ok => ok,
        }
    }

    /// Sends it, and hands back the envelope too (as the verb API answers the same call). A
    /// failure that is an answer ([`TypedCall::recover`]: 2307 for the trusted phone number)
    /// comes back with its FAILED envelope.
    pub async fn send_with_envelope(self) -> Result<Answered<C::Output>, Error> {
        match self.pims.send_answered(self.request(), read::<C>).await {
            Err(e) => match C::recover(&e) {
                Some(value) => Ok(Answered {
                    value,
                    message: e.to_message(),
                }),
                None => Err(e),
            },
            ok => ok,
        }
    }
}

/// Reads a typed call's value out of its reply.
fn read<C: TypedCall>(reply: Reply) -> Result<C::Output, Error> {
    C::read(&reply.into_value()?).map_err(Error::from)
}
