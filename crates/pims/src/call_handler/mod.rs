//! [`CallHandler`]: what answers the parsed calls of an initialised facade. It holds the
//! transport, the account's cache, the policies and the call deadline; this file dispatches a
//! call to its handler and sends it to the backend, [`steps`] holds the steps semantics, and
//! [`otp`] the OTP's two policies.

mod otp;
mod steps;

use std::time::Duration;

use pims_transport::{Call, SharedTransport, Transport};
use pims_types::{Api, ErrorCode, Message, Parameters, TransactionId, Verb};
use serde_json::Value;
use tokio::time::Instant;

use crate::account_cache::AccountCache;
use crate::config::{PimsBuilder, Policies};
use crate::error::{Error, ErrorKind};
use crate::reply::Reply;
use crate::request::{Body, Request};

/// How long local work (the cache) may run past a call's deadline before the call answers 2201
/// anyway. Backend waits end at the deadline itself.
const LOCAL_GRACE: Duration = Duration::from_millis(250);

/// The handler of an initialised facade's calls: the transport, the account's cache, the
/// policies and the call deadline, put together from a builder.
pub(crate) struct CallHandler {
    transport: SharedTransport,
    cache: AccountCache,
    policies: Policies,
    call_timeout: Duration,
}

/// One call in flight: its transaction id and its deadline.
pub(crate) struct InFlightCall {
    pub(crate) tid: TransactionId,
    pub(crate) deadline: Instant,
}

impl CallHandler {
    /// Opens the transport and the cache the builder names (reading nothing from the store).
    pub(crate) fn build(builder: PimsBuilder) -> Result<CallHandler, Error> {
        let transport = builder.transport.open(
            builder.token,
            builder.token_provider,
            #[cfg(feature = "http")]
            &builder.http,
        )?;
        // Opens (and locks) a local store; reads nothing from it (see `AccountCache`).
        let cache = AccountCache::open(&builder.cache, builder.account)?;
        Ok(CallHandler {
            transport,
            cache,
            policies: builder.policies,
            call_timeout: builder.call_timeout,
        })
    }

    pub(crate) fn cache(&self) -> &AccountCache {
        &self.cache
    }

    /// A new call: its transaction id, and its deadline from now.
    pub(crate) fn begin(&self, tid: TransactionId) -> InFlightCall {
        InFlightCall {
            tid,
            deadline: Instant::now() + self.call_timeout,
        }
    }

    /// Runs one call's work under its deadline, with the opt-in 2302 recovery
    /// ([`CallHandler::strong_authentication`]): every call, verb or typed, goes through here.
    /// Backend waits are bounded by the deadline inside ([`CallHandler::send`]), so the offline
    /// fallback sees the 2201; the outer bound is a safety net for local work.
    pub(crate) async fn serve_guarded(
        &self,
        request: &Request,
        call: &InFlightCall,
    ) -> Result<Reply, Error> {
        let attempt = async {
            match self.serve(request, call).await {
                Err(e) if e.code() == ErrorCode::NEED_STRONG_AUTHENTICATION => {
                    self.strong_authentication(call, request, e).await?;
                    self.serve(request, call).await
                }
                other => other,
            }
        };
        tokio::time::timeout_at(call.deadline + LOCAL_GRACE, attempt)
            .await
            .unwrap_or_else(|_| Err(timeout()))
    }

    /// The handler of a parsed call.
    async fn serve(&self, request: &Request, call: &InFlightCall) -> Result<Reply, Error> {
        match &request.body {
            Body::Steps(query) => self.steps(query, call).await.map(Reply::Steps),
            Body::NextStep(query) => self.next_step(query, call).await.map(Reply::NextStep),
            Body::Otp { params, with_pin } => self
                .otp(params.clone(), *with_pin, call)
                .await
                .map(Reply::Value),
            Body::Pass(params) => self
                .pass(request.verb, request.api, params.clone(), call)
                .await
                .map(Reply::Value),
        }
    }

    /// Sends a call as it is and hands on the backend's success.
    async fn pass(
        &self,
        verb: Verb,
        api: Api,
        params: Parameters,
        call: &InFlightCall,
    ) -> Result<Value, Error> {
        let message = self.send(verb, api, params, call).await?;
        // `send` turned a FAILED answer into an error: this is the success's result.
        message.into_result().map_err(Error::backend)
    }

    /// One call to the backend, bounded by the call's deadline (2201 past it): a FAILED answer
    /// becomes an `Err`. The transport checks the body's size and the answer's transaction id
    /// (the [`Transport`] contract). Whether it may send the call again is decided by the call
    /// itself ([`pims::types::Repeat`]): a call that is not a pure read is sent at most once and
    /// carries an idempotency key ([`Call::new`]). It carries the cache's device id, read from
    /// the store by the facade's first call ([`AccountCache::call_device_id`]).
    async fn send(
        &self,
        verb: Verb,
        api: Api,
        params: Parameters,
        call: &InFlightCall,
    ) -> Result<Message, Error> {
        let device_id = self.cache.call_device_id().await?;
        let wire = Call::new(verb, api.name(), params, call.tid.clone(), device_id);
        let message = tokio::time::timeout_at(call.deadline, self.transport.call(wire))
            .await
            .map_err(|_| timeout())??;
        match message.error() {
            Some(e) => Err(Error::backend(e.clone())),
            None => Ok(message),
        }
    }
}

/// What the facade answers when a call's deadline passes.
fn timeout() -> Error {
    Error::from_code(ErrorKind::Transport, ErrorCode::TIMEOUT, &[])
}
