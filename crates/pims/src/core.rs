//! The initialised facade: transport + cache + identity + policies, and the handlers the routing
//! table points to.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pims_transport::{Call, Checked, SharedTransport, Transport};
#[cfg(feature = "http")]
use pims_transport::{StaticToken, TokenProvider};
use pims_types::{
    Api, ErrorCode, Message, NextStepQuery, Operation, OtpAction, Parameters, Step, StepsQuery,
    StepsSelector, StepsStatusFilter, TransactionId, Verb, filter, keys, next_step,
};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::cached::Cached;
use crate::config::{PimsBuilder, Policies, TransportChoice};
use crate::error::{Error, ErrorKind};
use crate::reply::Reply;
use crate::request::{Body, Request};
use crate::runtime::Executor;
use crate::steps::Steps;

/// How long local work (the cache) may run past a call's deadline before the call answers 2201
/// anyway. Backend waits end at the deadline itself.
const LOCAL_GRACE: Duration = Duration::from_millis(250);

/// A subscriber's callback.
pub(crate) type EventCallback = Arc<dyn Fn(Message) + Send + Sync>;

pub(crate) struct Core {
    transport: SharedTransport,
    cache: Cached,
    policies: Policies,
    call_timeout: Duration,
    event_sources: HashMap<String, broadcast::Sender<Value>>,
    subscriptions: Mutex<Subscriptions>,
}

impl Core {
    pub(crate) fn build(builder: PimsBuilder) -> Result<Core, Error> {
        let transport = match builder.transport {
            // The two wire checks (body size, transaction id echo) live in the transport layer:
            // HttpTransport keeps them itself, any other transport is made to.
            TransportChoice::Custom(t) => SharedTransport::new(Checked::new(t)),
            #[cfg(feature = "http")]
            TransportChoice::BaseUrl(url, from_initialize) => {
                let token = builder.token_provider.or_else(|| {
                    builder
                        .token
                        .map(|t| Arc::new(StaticToken::new(t)) as Arc<dyn TokenProvider>)
                });
                builder.http.transport(&url, token).map_err(|e| {
                    let error = if from_initialize {
                        Error::from_code(
                            ErrorKind::Input,
                            ErrorCode::INVALID_PARAMETER,
                            &["environnement"],
                        )
                    } else {
                        Error::not_configured()
                    };
                    error.caused_by_transport(e)
                })?
            }
            TransportChoice::Unset => {
                let how = if cfg!(feature = "http") {
                    "no backend: give `environnement` or a base URL or a transport"
                } else {
                    "no backend: give a transport (built without the `http` feature)"
                };
                return Err(Error::not_configured().with_detail(how));
            }
        };
        // Opens (and locks) a local store; reads nothing from it (see `Cached`).
        let cache = Cached::open(&builder.cache, builder.account)?;
        Ok(Core {
            transport,
            cache,
            policies: builder.policies,
            call_timeout: builder.call_timeout,
            event_sources: builder.event_sources.into_iter().collect(),
            subscriptions: Mutex::new(Subscriptions::default()),
        })
    }

    pub(crate) fn cache(&self) -> &Cached {
        &self.cache
    }

    /// The context of a new call: its transaction id and its deadline.
    pub(crate) fn ctx(&self, tid: TransactionId) -> Ctx {
        Ctx {
            tid,
            deadline: Instant::now() + self.call_timeout,
        }
    }

    /// Runs one call's work under its deadline, with the opt-in 2302 recovery: get an OTP with
    /// the PIN provider's PIN, then serve the call once more. Every call, verb or typed, goes
    /// through here. Backend waits are bounded by the deadline inside ([`Core::send`]), so the
    /// offline fallback sees the 2201; the outer bound is a safety net for local work.
    pub(crate) async fn serve_guarded(&self, request: &Request, ctx: &Ctx) -> Result<Reply, Error> {
        let attempt = async {
            match self.serve(request, ctx).await {
                Err(e) if e.code() == ErrorCode::NEED_STRONG_AUTHENTICATION => {
                    self.strong_authentication(ctx, request, e).await?;
                    self.serve(request, ctx).await
                }
                other => other,
            }
        };
        tokio::time::timeout_at(ctx.deadline + LOCAL_GRACE, attempt)
            .await
            .unwrap_or_else(|_| Err(timeout()))
    }

    /// The 2302 recovery's first half: an OTP with the provider's PIN. Gives back the 2302 when
    /// the recovery does not apply: no provider, the OTP call itself, a call carrying secrets (a
    /// PIN, OTP or SMS code is never sent twice for one user action), or no PIN given.
    async fn strong_authentication(
        &self,
        ctx: &Ctx,
        request: &Request,
        original: Error,
    ) -> Result<(), Error> {
        let Some(provider) = self.policies.pin_provider.clone() else {
            return Err(original);
        };
        if request.api == Api::Otp || request.carries_secret() {
            return Err(original);
        }
        let pin = match tokio::time::timeout_at(ctx.deadline, provider.pin()).await {
            Ok(Some(pin)) => pin,
            Ok(None) => return Err(original),
            Err(_) => return Err(timeout()),
        };
        tracing::info!("strong authentication needed: getting an OTP, then retrying once");
        let otp_ctx = Ctx {
            tid: TransactionId::generate(),
            deadline: ctx.deadline,
        };
        let otp = Request::parse(
            Verb::Get,
            Api::Otp.name(),
            OtpAction::WithPin
                .to_parameters()
                .with_secret(keys::PIN_CODE, pin.as_secret()),
        )
        .map_err(|e| e.for_call(&otp_ctx.tid))?;
        // A failure of the OTP call is told with the OTP's own transaction id: the one the
        // backend saw for it.
        self.serve(&otp, &otp_ctx)
            .await
            .map(|_| ())
            .map_err(|e| e.for_call(&otp_ctx.tid))
    }

    /// The handler of a parsed call.
    async fn serve(&self, request: &Request, ctx: &Ctx) -> Result<Reply, Error> {
        match &request.body {
            Body::Steps(query) => self.steps(query, ctx).await.map(Reply::Steps),
            Body::NextStep(query) => self.next_step(query, ctx).await.map(Reply::NextStep),
            Body::Otp { params, with_pin } => self
                .otp(params.clone(), *with_pin, ctx)
                .await
                .map(Reply::Value),
            Body::Pass(params) => self
                .pass(request.verb, request.api, params.clone(), ctx)
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
        ctx: &Ctx,
    ) -> Result<Value, Error> {
        let message = self.send(verb, api, params, ctx).await?;
        // `send` turned a FAILED answer into an error: this is the success's result.
        message.into_result().map_err(Error::backend)
    }

    /// One call to the backend, bounded by the call's deadline (2201 past it): a FAILED answer
    /// becomes an `Err`. The transport checks the body's size and the answer's transaction id
    /// (the [`Transport`] contract). Whether it may send the call again is decided by the call
    /// itself ([`pims::types::Repeat`]): a call that is not a pure read is sent at most once and
    /// carries an idempotency key ([`Call::new`]). It carries the cache's device id, read from
    /// the store by the facade's first call ([`Cached::call_device_id`]).
    async fn send(
        &self,
        verb: Verb,
        api: Api,
        params: Parameters,
        ctx: &Ctx,
    ) -> Result<Message, Error> {
        let device_id = self.cache.call_device_id().await?;
        let call = Call::new(verb, api.name(), params, ctx.tid.clone(), device_id);
        let message = tokio::time::timeout_at(ctx.deadline, self.transport.call(call))
            .await
            .map_err(|_| timeout())??;
        match message.error() {
            Some(e) => Err(Error::backend(e.clone())),
            None => Ok(message),
        }
    }

    /// `pims.authentication.otp`: passed through; 2312/2317 on withPIN make the device's cached
    /// steps stale (the documented cure), so the policy drops their stickiness.
    async fn otp(&self, params: Parameters, with_pin: bool, ctx: &Ctx) -> Result<Value, Error> {
        let result = self.pass(Verb::Get, Api::Otp, params, ctx).await;
        if let Err(e) = &result
            && with_pin
            && matches!(
                e.code(),
                ErrorCode::DEVICE_DISABLED | ErrorCode::FORBIDDEN_OPERATION
            )
            && self.policies.invalidate_on_device_error
        {
            tracing::warn!(
                code = %e.code(),
                "OTP refused for this device: its cached steps are stale, dropping their alreadyDone"
            );
            if let Err(err) = self.cache.invalidate_device().await {
                tracing::warn!(error = %err, "could not invalidate the cached steps");
            }
        }
        result
    }

    /// The steps semantics: reset first when asked; always ask the backend for `all`; merge
    /// with the cache (sticky); store; then filter.
    pub(crate) async fn steps(&self, query: &StepsQuery, ctx: &Ctx) -> Result<Steps, Error> {
        if query.reset
            && let Err(e) = self.cache.reset(&query.selector).await
        {
            tracing::warn!(error = %e, "could not wipe the cached list");
        }
        let backend = StepsQuery {
            selector: query.selector.clone(),
            reset: query.reset,
            status: StepsStatusFilter::All,
        };
        let answer = self
            .send(
                Verb::Get,
                Api::SubscriptionSteps,
                backend.to_parameters(),
                ctx,
            )
            .await;
        let message = match answer {
            Ok(m) => m,
            Err(e)
                if self.policies.offline_fallback
                    && matches!(e.code(), ErrorCode::TIMEOUT | ErrorCode::NETWORK) =>
            {
                return match self.cache.get(&query.selector).await {
                    Some(cached) => {
                        tracing::warn!(code = %e.code(), "backend unreachable: answering from the cache (stale)");
                        Ok(Steps {
                            list: filter(&cached, query.status),
                            stale: true,
                        })
                    }
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        // The list the transport decoded from the answer, or read from its result (a FAILED
        // answer never gets here: `send` made it an error).
        let fresh = message.into_steps_list().map_err(|e| {
            // Say where it broke, relative to the envelope.
            match e {
                pims_types::Error::Decode { path, message } => Error::from(
                    pims_types::Error::decode(path.replacen('$', "$.result", 1), message),
                ),
                other => Error::from(other),
            }
        })?;
        if let StepsSelector::StepsId(asked) = &query.selector
            && fresh.steps_id() != asked
        {
            return Err(Error::from(pims_types::Error::decode(
                "$.result.stepsID",
                "does not match the stepsID asked for",
            )));
        }
        if query.reset {
            // The identifier asked may not have been linked to the cached list yet (a first
            // request by VIN): the list the backend names is wiped too, so nothing stale
            // survives the reset.
            let by_id = StepsSelector::StepsId(fresh.steps_id().clone());
            if let Err(e) = self.cache.reset(&by_id).await {
                tracing::warn!(error = %e, "could not wipe the cached list");
            }
        }
        let merged = self.cache.merge(&query.selector, fresh).await;
        Ok(Steps {
            list: filter(&merged, query.status),
            stale: false,
        })
    }

    /// The next step, computed on the merged list.
    pub(crate) async fn next_step(
        &self,
        query: &NextStepQuery,
        ctx: &Ctx,
    ) -> Result<Option<Step>, Error> {
        let steps = self
            .steps(
                &StepsQuery::new(StepsSelector::StepsId(query.steps_id.clone())),
                ctx,
            )
            .await?;
        Ok(next_step(&steps.list).cloned())
    }

    pub(crate) fn subscribe(
        &self,
        api: &str,
        tid: TransactionId,
        callback: EventCallback,
        exec: &Executor,
    ) {
        let Some(source) = self.event_sources.get(api) else {
            return callback(Message::failed(
                tid,
                Error::not_supported().into_api_error(),
            ));
        };
        let (go, started) = tokio::sync::oneshot::channel::<()>();
        {
            let mut subs = self.subscriptions();
            if subs.stopped {
                drop(subs);
                let e = Error::lifecycle(ErrorCode::FACADE_NOT_INITIALIZED);
                return callback(Message::failed(tid, e.into_api_error()));
            }
            if subs.active.contains_key(api) {
                drop(subs);
                let e = Error::from_code(ErrorKind::Input, ErrorCode::DUPLICATE_COMMAND, &[]);
                return callback(Message::failed(tid, e.into_api_error()));
            }
            let cancelled = Arc::new(AtomicBool::new(false));
            let mut events = source.subscribe();
            let (cb, flag, event_tid) = (callback.clone(), cancelled.clone(), tid.clone());
            // The forwarder waits for the acknowledgement to be delivered first, and checks the
            // flag before every event, so nothing arrives after unsubscribe/release answered.
            let forward = async move {
                if started.await.is_err() {
                    return;
                }
                loop {
                    match events.recv().await {
                        Ok(v) if !flag.load(Ordering::SeqCst) => {
                            cb(Message::event(event_tid.clone(), v));
                        }
                        Ok(_) => break,
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "subscriber too slow: events dropped");
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            };
            let Some(task) = exec.spawn(forward) else {
                drop(subs);
                let e = Error::not_configured();
                return callback(Message::failed(tid, e.into_api_error()));
            };
            subs.active.insert(
                api.to_owned(),
                Subscription {
                    task: task.abort_handle(),
                    cancelled,
                },
            );
        }
        // Outside the lock: the app may unsubscribe from its acknowledgement callback.
        callback(Message::succeeded(tid, Value::Null));
        let _ = go.send(());
    }

    pub(crate) fn unsubscribe(&self, api: &str, tid: TransactionId) -> Message {
        if !self.event_sources.contains_key(api) {
            return Message::failed(tid, Error::not_supported().into_api_error());
        }
        if let Some(sub) = self.subscriptions().active.remove(api) {
            sub.stop();
        }
        Message::succeeded(tid, Value::Null)
    }

    pub(crate) fn stop_subscriptions(&self) {
        let mut subs = self.subscriptions();
        subs.stopped = true;
        for (_, sub) in subs.active.drain() {
            sub.stop();
        }
    }

    fn subscriptions(&self) -> MutexGuard<'_, Subscriptions> {
        // A callback that panicked must not make subscriptions unstoppable.
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The live subscriptions of a facade.
#[derive(Default)]
struct Subscriptions {
    active: HashMap<String, Subscription>,
    /// Set by `release()`: later subscribes answer 2001.
    stopped: bool,
}

struct Subscription {
    task: AbortHandle,
    cancelled: Arc<AtomicBool>,
}

impl Subscription {
    fn stop(self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

/// One call's context: its transaction id and its deadline.
pub(crate) struct Ctx {
    pub(crate) tid: TransactionId,
    pub(crate) deadline: Instant,
}

/// What the facade answers when a call's deadline passes.
fn timeout() -> Error {
    Error::from_code(ErrorKind::Transport, ErrorCode::TIMEOUT, &[])
}
