//! The initialised facade: transport + cache + identity + policies, and the handlers the routing
//! table points to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pims_transport::{Call, HttpTransport, SharedTransport, StaticToken, Transport};
use pims_types::{
    Api, ErrorCode, MAX_CALL_BODY_BYTES, Message, NextStepQuery, Parameters, Secret, ServicesQuery,
    Step, StepsList, StepsQuery, StepsSelector, StepsStatusFilter, TransactionId, Verb, filter,
    next_step, next_step_result,
};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use crate::cached::Cached;
use crate::config::{PimsBuilder, Policies, TransportChoice};
use crate::error::{Error, ErrorKind};
use crate::routing::{Route, route};
use crate::runtime::Executor;
use crate::steps::Steps;

/// Room kept for the envelope around the parameters in a call body.
const BODY_OVERHEAD: usize = 512;

/// A subscriber's callback.
pub(crate) type EventCallback = Arc<dyn Fn(Message) + Send + Sync>;

pub(crate) struct Core {
    transport: SharedTransport,
    cache: Cached,
    policies: Policies,
    call_timeout: Duration,
    event_sources: HashMap<String, broadcast::Sender<Value>>,
    subscriptions: Mutex<HashMap<String, AbortHandle>>,
}

impl Core {
    pub(crate) fn build(builder: PimsBuilder) -> Result<Core, Error> {
        let transport = match builder.transport {
            TransportChoice::Custom(t) => t,
            TransportChoice::BaseUrl(url) => {
                let mut http = HttpTransport::builder(url);
                if let Some(p) = builder.token_provider {
                    http = http.token_provider(p);
                } else if let Some(t) = builder.token {
                    http = http.token_provider(Arc::new(StaticToken::new(t)));
                }
                let http = http.build().map_err(|e| {
                    let detail = crate::error::chain(&e);
                    Error::from_code(
                        ErrorKind::Configuration,
                        ErrorCode::CORE_NOT_CONFIGURED,
                        &[],
                    )
                    .with_detail(detail)
                })?;
                SharedTransport::new(http)
            }
            TransportChoice::Unset => {
                return Err(Error::from_code(
                    ErrorKind::Configuration,
                    ErrorCode::CORE_NOT_CONFIGURED,
                    &[],
                )
                .with_detail("no backend: give `environnement` or a base URL or a transport"));
            }
        };
        let cache = Cached::open(&builder.cache, builder.account)?;
        Ok(Core {
            transport,
            cache,
            policies: builder.policies,
            call_timeout: builder.call_timeout,
            event_sources: builder.event_sources.into_iter().collect(),
            subscriptions: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn device_id(&self) -> &str {
        self.cache.device_id()
    }

    pub(crate) fn cache_degraded(&self) -> bool {
        self.cache.degraded()
    }

    pub(crate) fn cache(&self) -> &Cached {
        &self.cache
    }

    /// Serves one `get`/`set` call: routing, the deadline, the opt-in 2302 recovery.
    pub(crate) async fn handle(
        &self,
        verb: Verb,
        api: &str,
        params: Parameters,
        tid: TransactionId,
    ) -> Message {
        let outcome = tokio::time::timeout(self.call_timeout, self.route(verb, api, &params, &tid))
            .await
            .unwrap_or_else(|_| {
                Err(Error::from_code(
                    ErrorKind::Transport,
                    ErrorCode::TIMEOUT,
                    &[],
                ))
            });
        let outcome = match outcome {
            Err(e) if e.code() == ErrorCode::NEED_STRONG_AUTHENTICATION => {
                self.retry_after_otp(verb, api, &params, &tid, e).await
            }
            other => other,
        };
        match outcome {
            Ok(Reply::Result(v)) => Message::succeeded(tid, v),
            Ok(Reply::Empty) => Message::succeeded_empty(tid),
            Err(e) => {
                if let Some(d) = e.detail() {
                    tracing::debug!(code = %e.code(), detail = d, "call failed");
                }
                Message::failed(tid, e.into_api_error())
            }
        }
    }

    /// The opt-in recovery: on 2302, get an OTP with the PIN provider's PIN and retry once.
    async fn retry_after_otp(
        &self,
        verb: Verb,
        api: &str,
        params: &Parameters,
        tid: &TransactionId,
        original: Error,
    ) -> Result<Reply, Error> {
        let Some(provider) = self.policies.pin_provider.clone() else {
            return Err(original);
        };
        if Api::parse(api) == Some(Api::Otp) {
            return Err(original);
        }
        let Some(pin) = provider.pin().await else {
            return Err(original);
        };
        tracing::info!("strong authentication needed: getting an OTP, then retrying once");
        self.otp_with_pin(&pin, &TransactionId::generate()).await?;
        let retry = self.route(verb, api, params, tid);
        tokio::time::timeout(self.call_timeout, retry)
            .await
            .unwrap_or_else(|_| {
                Err(Error::from_code(
                    ErrorKind::Transport,
                    ErrorCode::TIMEOUT,
                    &[],
                ))
            })
    }

    async fn route(
        &self,
        verb: Verb,
        api: &str,
        params: &Parameters,
        tid: &TransactionId,
    ) -> Result<Reply, Error> {
        let Some((api, route)) = route(verb, api) else {
            return Err(Error::not_supported());
        };
        check_size(params)?;
        match route {
            Route::Steps => {
                let query = StepsQuery::from_parameters(params)?;
                let steps = self.steps(&query, tid).await?;
                Ok(Reply::Result(steps.list.to_value()))
            }
            Route::NextStep => {
                let query = NextStepQuery::from_parameters(params)?;
                let step = self.next_step(&query, tid).await?;
                Ok(Reply::Result(next_step_result(step.as_ref())))
            }
            Route::Services => {
                let query = ServicesQuery::from_parameters(params)?;
                let canonical = Parameters::new().with("vin", query.vin.as_str());
                self.pass(verb, api, canonical, tid).await
            }
            Route::Otp => self.otp_route(params.clone(), tid).await,
            Route::PassThrough => self.pass(verb, api, params.clone(), tid).await,
        }
    }

    /// Sends a call as it is and hands on the backend's success.
    pub(crate) async fn pass(
        &self,
        verb: Verb,
        api: Api,
        params: Parameters,
        tid: &TransactionId,
    ) -> Result<Reply, Error> {
        let message = self.send(verb, api, params, tid).await?;
        Ok(match message.result() {
            Some(v) => Reply::Result(v.clone()),
            None => Reply::Empty,
        })
    }

    /// One call to the backend: a FAILED answer becomes an `Err`. A `set` carries a fresh
    /// idempotency key, so the transport may repeat it safely and the backend does the work once.
    pub(crate) async fn send(
        &self,
        verb: Verb,
        api: Api,
        params: Parameters,
        tid: &TransactionId,
    ) -> Result<Message, Error> {
        let mut call = Call::new(verb, api.name(), params, tid.clone(), self.device_id());
        if verb == Verb::Set {
            call = call.with_idempotency_key(uuid::Uuid::new_v4().to_string());
        }
        let message = self.transport.call(call).await?;
        if message.transaction_id() != tid {
            return Err(Error::from(pims_types::Error::decode(
                "$.transactionId",
                "does not match the request",
            )));
        }
        match message.error() {
            Some(e) => Err(Error::backend(e.clone())),
            None => Ok(message),
        }
    }

    /// `pims.authentication.otp`: passed through; 2312/2317 on withPIN make the device's cached
    /// steps stale (the documented cure), so the policy drops their stickiness.
    pub(crate) async fn otp_route(
        &self,
        params: Parameters,
        tid: &TransactionId,
    ) -> Result<Reply, Error> {
        let with_pin = params.string("action", &[]).ok().flatten().as_deref() == Some("withPIN");
        let result = self.pass(Verb::Get, Api::Otp, params, tid).await;
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

    /// Gets an OTP with the PIN (typed form, used by the 2302 recovery too).
    pub(crate) async fn otp_with_pin(
        &self,
        pin: &Secret,
        tid: &TransactionId,
    ) -> Result<Secret, Error> {
        let params = Parameters::new()
            .with("action", "withPIN")
            .with_secret("pinCode", pin);
        match self.otp_route(params, tid).await? {
            Reply::Result(v) => crate::activation::otp_from_result(&v),
            Reply::Empty => Err(crate::activation::no_data("otp")),
        }
    }

    /// The steps semantics: reset first when asked; always ask the backend for `all`; merge
    /// with the cache (sticky); store; then filter.
    pub(crate) async fn steps(
        &self,
        query: &StepsQuery,
        tid: &TransactionId,
    ) -> Result<Steps, Error> {
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
                tid,
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
        let result = message.result().cloned().unwrap_or(Value::Null);
        let fresh = StepsList::from_value(&result).map_err(|e| {
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
        tid: &TransactionId,
    ) -> Result<Option<Step>, Error> {
        let steps = self
            .steps(
                &StepsQuery::new(StepsSelector::StepsId(query.steps_id.clone())),
                tid,
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
        let Ok(mut subs) = self.subscriptions.lock() else {
            return callback(Message::failed(
                tid,
                Error::lifecycle(ErrorCode::UNKNOWN).into_api_error(),
            ));
        };
        if subs.contains_key(api) {
            drop(subs);
            let e = Error::from_code(ErrorKind::Input, ErrorCode::DUPLICATE_COMMAND, &[]);
            return callback(Message::failed(tid, e.into_api_error()));
        }
        let mut events = source.subscribe();
        callback(Message::succeeded(tid.clone(), Value::Null));
        let forward = async move {
            loop {
                match events.recv().await {
                    Ok(v) => callback(Message::event(tid.clone(), v)),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "subscriber too slow: events dropped");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        };
        if let Some(task) = exec.spawn(forward) {
            subs.insert(api.to_owned(), task.abort_handle());
        }
    }

    pub(crate) fn unsubscribe(&self, api: &str, tid: TransactionId) -> Message {
        if !self.event_sources.contains_key(api) {
            return Message::failed(tid, Error::not_supported().into_api_error());
        }
        if let Ok(mut subs) = self.subscriptions.lock()
            && let Some(task) = subs.remove(api)
        {
            task.abort();
        }
        Message::succeeded(tid, Value::Null)
    }

    pub(crate) fn stop_subscriptions(&self) {
        if let Ok(mut subs) = self.subscriptions.lock() {
            for (_, task) in subs.drain() {
                task.abort();
            }
        }
    }
}

/// What a handler answers: a `result` (possibly null) or none.
pub(crate) enum Reply {
    Result(Value),
    Empty,
}

/// Refuses parameters that cannot fit in a call body, naming the biggest one.
fn check_size(params: &Parameters) -> Result<(), Error> {
    let total: usize = params
        .as_map()
        .iter()
        .map(|(k, v)| k.len() + json_len(v))
        .sum();
    if total + BODY_OVERHEAD <= MAX_CALL_BODY_BYTES {
        return Ok(());
    }
    let biggest = params
        .as_map()
        .iter()
        .max_by_key(|(_, v)| json_len(v))
        .map(|(k, _)| k.as_str())
        .unwrap_or("parameters");
    Err(Error::from(pims_types::Error::invalid(
        biggest,
        "too large for a call",
    )))
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v)
        .map(|b| b.len())
        .unwrap_or(usize::MAX / 4)
}
