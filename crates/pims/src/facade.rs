//! [`Pims`]: the dispatcher with the mobile SDK's shape (`initialize`, `release`, `get`, `set`,
//! `subscribe`, `unsubscribe`), its async forms, and its lifecycle.

use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use pims_types::{ErrorCode, Message, Parameters, TransactionId, Verb};
use tracing::Instrument;

use crate::call_handler::CallHandler;
use crate::callback::Once;
#[cfg(feature = "postgres")]
use crate::config::CacheChoice;
use crate::config::PimsBuilder;
use crate::error::{Error, ErrorKind};
use crate::reply::{Answered, Reply};
use crate::request::Request;
use crate::runtime::Executor;
use crate::subscriptions::Subscriptions;

/// Where a facade is in its life.
enum State {
    Uninitialized,
    Ready(Arc<Initialized>),
    Released,
}

/// What an initialised facade holds: the handler of its calls and its subscriptions.
pub(crate) struct Initialized {
    pub(crate) calls: CallHandler,
    subscriptions: Subscriptions,
}

struct Shared {
    state: RwLock<State>,
    /// What `initialize` overlays its dictionary on.
    base: Mutex<PimsBuilder>,
    exec: Executor,
}

/// The PIMS facade: one object with the mobile SDK's verbs, and a typed API on top.
///
/// `Pims` is `Clone + Send + Sync` (clones share one facade); many facades (one per user) can
/// share one cache database in a process. It works inside a tokio runtime (the calls run on it)
/// and without one (it starts a small runtime of its own).
///
/// ```no_run
/// use pims::Pims;
/// use pims::Parameters;
///
/// let pims = Pims::new();
/// let init = pims.initialize(Parameters::new()
///     .with("environnement", "http://127.0.0.1:8080")
///     .with("credential", "demo-token")
///     .with("profile", "demo-user"));
/// assert!(init.is_success());
///
/// // The mobile SDK's style: one callback per call, always.
/// pims.get("pims.subscription.steps",
///     Parameters::new().with("carAssociationID", "987654").with("resetSteps", false).with("stepsStatus", "all"),
///     |message| println!("{}", message.to_json_string()));
/// ```
#[derive(Clone)]
pub struct Pims {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Pims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.shared.state.read().as_deref() {
            Ok(State::Uninitialized) => "uninitialized",
            Ok(State::Ready(_)) => "ready",
            Ok(State::Released) => "released",
            Err(_) => "poisoned",
        };
        f.debug_struct("Pims").field("state", &state).finish()
    }
}

impl Default for Pims {
    fn default() -> Self {
        Pims::new()
    }
}

impl Pims {
    /// A facade that is not initialised yet (the mobile SDK's way: call
    /// [`initialize`](Self::initialize) next).
    ///
    /// ```
    /// let pims = pims::Pims::new();
    /// assert!(!pims.is_initialized());
    /// ```
    pub fn new() -> Self {
        Pims::uninitialized(PimsBuilder::default())
    }

    /// A builder (the Rust way: [`PimsBuilder::build`] gives an initialised facade).
    pub fn builder() -> PimsBuilder {
        PimsBuilder::default()
    }

    pub(crate) fn uninitialized(base: PimsBuilder) -> Self {
        let exec = Executor::current_or_own();
        Pims {
            shared: Arc::new(Shared {
                state: RwLock::new(State::Uninitialized),
                base: Mutex::new(base),
                exec,
            }),
        }
    }

    /// Initialises the facade from the mobile SDK's dictionary (see
    /// [`PimsBuilder::apply_initialize`] for the keys). Answers SUCCEEDED, or FAILED 2007 when
    /// already initialised, 2102 naming a bad value, 2006 when the configuration cannot work
    /// (no backend given, a refused URL).
    ///
    /// ```
    /// use pims::Parameters;
    /// let pims = pims::Pims::new();
    /// let m = pims.initialize(Parameters::new().with("environnement", "mars"));
    /// assert_eq!(m.error().unwrap().label, "Invalid environnement parameter");
    /// ```
    pub fn initialize(&self, params: Parameters) -> Message {
        let tid = TransactionId::generate();
        match self.initialize_inner(Some(&params)) {
            Ok(()) => Message::succeeded(tid, serde_json::Value::Null),
            Err(e) => {
                // The message has room for the label only: the why goes to the log.
                if let Some(detail) = e.detail() {
                    tracing::warn!(code = %e.code(), detail, "pims: initialize failed");
                }
                Message::failed(tid, e.into_api_error())
            }
        }
    }

    pub(crate) fn initialize_with_defaults(&self) -> Result<(), Error> {
        self.initialize_inner(None)
    }

    fn initialize_inner(&self, params: Option<&Parameters>) -> Result<(), Error> {
        let mut state = self
            .shared
            .state
            .write()
            .map_err(|_| Error::lifecycle(ErrorCode::UNKNOWN))?;
        if matches!(*state, State::Ready(_)) {
            return Err(Error::lifecycle(ErrorCode::FACADE_ALREADY_INITIALIZED));
        }
        let base = self
            .shared
            .base
            .lock()
            .map_err(|_| Error::lifecycle(ErrorCode::UNKNOWN))?
            .clone();
        let builder = match params {
            Some(p) => base.apply_initialize(p)?,
            None => base,
        };
        let mut builder = builder;
        let subscriptions = Subscriptions::new(std::mem::take(&mut builder.event_sources));
        let calls = CallHandler::build(builder)?;
        *state = State::Ready(Arc::new(Initialized {
            calls,
            subscriptions,
        }));
        Ok(())
    }

    /// Whether the facade is initialised (and not released).
    ///
    /// ```
    /// assert!(!pims::Pims::new().is_initialized());
    /// ```
    pub fn is_initialized(&self) -> bool {
        matches!(self.shared.state.read().as_deref(), Ok(State::Ready(_)))
    }

    /// Releases the facade: subscriptions stop, and every later call answers 2001 until it is
    /// initialised again. Calls in flight finish.
    ///
    /// ```
    /// let pims = pims::Pims::new();
    /// pims.release();
    /// assert!(!pims.is_initialized());
    /// ```
    pub fn release(&self) {
        if let Ok(mut state) = self.shared.state.write() {
            if let State::Ready(ready) = &*state {
                ready.subscriptions.stop_all();
            }
            *state = State::Released;
        }
    }

    /// What the initialised facade holds, or 2001.
    pub(crate) fn ready(&self) -> Result<Arc<Initialized>, Error> {
        match self.shared.state.read().as_deref() {
            Ok(State::Ready(ready)) => Ok(ready.clone()),
            _ => Err(Error::lifecycle(ErrorCode::FACADE_NOT_INITIALIZED)),
        }
    }

    /// Runs `fut` to completion from any executor: inline when the caller is on a tokio
    /// runtime (what the transport and cache need is there), else on the facade's runtime.
    pub(crate) async fn run<T, F>(&self, fut: F) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            return fut.await;
        }
        let Some(task) = self.shared.exec.spawn(fut) else {
            return Err(Error::not_configured());
        };
        match task.await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(panicked = e.is_panic(), "pims: a call did not finish");
                Err(Error::from_code(
                    ErrorKind::Lifecycle,
                    ErrorCode::UNKNOWN,
                    &[],
                ))
            }
        }
    }

    /// `get`: reads something; `callback` gets exactly one message (SUCCEEDED or FAILED,
    /// including on timeout and shutdown).
    ///
    /// ```
    /// let pims = pims::Pims::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pims.get("pims.subscription.steps", pims::Parameters::new(), move |m| tx.send(m).unwrap());
    /// let m = rx.recv().unwrap();
    /// assert_eq!(m.error().unwrap().code.as_u32(), 2001); // not initialised
    /// ```
    pub fn get<F>(&self, api: &str, params: Parameters, callback: F)
    where
        F: FnOnce(Message) + Send + 'static,
    {
        self.dispatch_with_callback(Verb::Get, api, params, callback);
    }

    /// `set`: does or changes something; `callback` gets exactly one message.
    ///
    /// ```
    /// let pims = pims::Pims::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pims.set("pims.vehicle.vin", pims::Parameters::new(), move |m| tx.send(m).unwrap());
    /// assert!(!rx.recv().unwrap().is_success());
    /// ```
    pub fn set<F>(&self, api: &str, params: Parameters, callback: F)
    where
        F: FnOnce(Message) + Send + 'static,
    {
        self.dispatch_with_callback(Verb::Set, api, params, callback);
    }

    fn dispatch_with_callback<F>(&self, verb: Verb, api: &str, params: Parameters, callback: F)
    where
        F: FnOnce(Message) + Send + 'static,
    {
        let tid = TransactionId::generate();
        let once = Once::new(tid.clone(), callback);
        if let Err(e) = self.ready() {
            return once.fail(e);
        }
        if !self.shared.exec.is_available() {
            return once.fail(Error::not_configured());
        }
        let (pims, api) = (self.clone(), api.to_owned());
        // If the runtime is gone the task (and `once`) is dropped, and `once` answers on drop.
        drop(self.shared.exec.spawn(async move {
            once.answer(pims.message(verb, &api, params, tid).await);
        }));
    }

    /// One verb call, answered with its envelope: parsed at the edge, then [`execute`]d.
    ///
    /// [`execute`]: Self::execute
    async fn message(
        &self,
        verb: Verb,
        api: &str,
        params: Parameters,
        tid: TransactionId,
    ) -> Message {
        let outcome = match Request::parse(verb, api, params) {
            Ok(request) => self.execute(request, tid.clone()).await,
            Err(e) => {
                let _span = call_span(verb, api, &tid).entered();
                tracing::debug!(code = %e.code(), "call refused");
                Err(e)
            }
        };
        match outcome {
            Ok(reply) => Message::succeeded(tid, reply.to_value()),
            Err(e) => Message::failed(tid, e.into_api_error()),
        }
    }

    /// The one way every call runs, verb or typed: in its span, on the right executor, under
    /// its deadline and the recovery guards ([`CallHandler::serve_guarded`]); a failure carries the
    /// call's transaction id.
    pub(crate) async fn execute(
        &self,
        request: Request,
        tid: TransactionId,
    ) -> Result<Reply, Error> {
        let span = call_span(request.verb, request.api.name(), &tid);
        let ready = self.ready().map_err(|e| e.for_call(&tid))?;
        let call_tid = tid.clone();
        let work = async move {
            let call = ready.calls.begin(call_tid);
            let outcome = ready.calls.serve_guarded(&request, &call).await;
            // In the call's span, for verb and typed calls alike: the detail is for developers
            // (never a secret), the app gets the catalogue label.
            if let Err(e) = &outcome
                && let Some(detail) = e.detail()
            {
                tracing::debug!(code = %e.code(), detail, "call failed");
            }
            outcome
        };
        self.run(work.instrument(span))
            .await
            .map_err(|e| e.for_call(&tid))
    }

    /// [`execute`](Self::execute) for a typed call: a new transaction id, which a failure
    /// carries even when the call was refused before it ran.
    async fn execute_typed(
        &self,
        request: Result<Request, Error>,
    ) -> Result<(Reply, TransactionId), Error> {
        let tid = TransactionId::generate();
        let request = request.map_err(|e| e.for_call(&tid))?;
        let reply = self.execute(request, tid.clone()).await?;
        Ok((reply, tid))
    }

    /// A typed call's value, read from its reply.
    pub(crate) async fn send_typed<T>(
        &self,
        request: Result<Request, Error>,
        read: impl FnOnce(Reply) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let (reply, tid) = self.execute_typed(request).await?;
        read(reply).map_err(|e| e.for_call(&tid))
    }

    /// A typed call's value and the envelope it came in (rendered once, before the value is
    /// read out of the reply).
    pub(crate) async fn send_answered<T>(
        &self,
        request: Result<Request, Error>,
        read: impl FnOnce(Reply) -> Result<T, Error>,
    ) -> Result<Answered<T>, Error> {
        let (reply, tid) = self.execute_typed(request).await?;
        let message = Message::succeeded(tid.clone(), reply.to_value());
        let value = read(reply).map_err(|e| e.for_call(&tid))?;
        Ok(Answered { value, message })
    }

    /// The async form of [`get`](Self::get).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) {
    /// let m = pims.get_async("pims.subscription.step", pims::Parameters::new().with("stepsID", "132324")).await;
    /// println!("{}", m.to_json_string());
    /// # }
    /// ```
    pub async fn get_async(&self, api: &str, params: Parameters) -> Message {
        self.call(Verb::Get, api, params).await
    }

    /// The async form of [`set`](Self::set).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) {
    /// let m = pims.set_async("pims.vehicle.vin", pims::Parameters::new().with("vin", "VR1AB12C3D4567890")).await;
    /// assert!(m.is_success());
    /// # }
    /// ```
    pub async fn set_async(&self, api: &str, params: Parameters) -> Message {
        self.call(Verb::Set, api, params).await
    }

    /// One `get` or `set` call, answered with its message (subscriptions use
    /// [`subscribe`](Self::subscribe)).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) {
    /// let m = pims.call(pims::Verb::Get, "pims.nothing", pims::Parameters::new()).await;
    /// assert_eq!(m.error().unwrap().code.as_u32(), 2002);
    /// # }
    /// ```
    pub async fn call(&self, verb: Verb, api: &str, params: Parameters) -> Message {
        let tid = TransactionId::generate();
        if let Err(e) = self.ready() {
            return Message::failed(tid, e.into_api_error());
        }
        if matches!(verb, Verb::Subscribe | Verb::Unsubscribe) {
            return Message::failed(tid, Error::not_supported().into_api_error());
        }
        self.message(verb, api, params, tid).await
    }

    /// `subscribe`: `callback` gets the acknowledgement, then one `RESULT` message per event, all
    /// with the subscription's transaction id. No API of the Steps component is subscribable
    /// (they answer 2002); APIs registered with [`PimsBuilder::event_source`] are. Subscribing
    /// twice to one API answers 2005.
    ///
    /// ```
    /// let pims = pims::Pims::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pims.subscribe("pims.subscription.steps", pims::Parameters::new(), move |m| { let _ = tx.send(m); });
    /// assert_eq!(rx.recv().unwrap().error().unwrap().code.as_u32(), 2001);
    /// ```
    pub fn subscribe<F>(&self, api: &str, params: Parameters, callback: F)
    where
        F: Fn(Message) + Send + Sync + 'static,
    {
        let tid = TransactionId::generate();
        let _span = call_span(Verb::Subscribe, api, &tid).entered();
        let _ = params; // event sources take no parameters; kept for the mobile SDK's shape
        match self.ready() {
            Ok(ready) => {
                ready
                    .subscriptions
                    .subscribe(api, tid, Arc::new(callback), &self.shared.exec)
            }
            Err(e) => callback(Message::failed(tid, e.into_api_error())),
        }
    }

    /// `unsubscribe`: stops a subscription; `callback` gets exactly one message (SUCCEEDED,
    /// also when there was no subscription to stop; 2002 for an API that is not subscribable).
    ///
    /// ```
    /// let pims = pims::Pims::new();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pims.unsubscribe("pims.subscription.steps", move |m| tx.send(m).unwrap());
    /// assert!(!rx.recv().unwrap().is_success());
    /// ```
    pub fn unsubscribe<F>(&self, api: &str, callback: F)
    where
        F: FnOnce(Message) + Send + 'static,
    {
        let tid = TransactionId::generate();
        let _span = call_span(Verb::Unsubscribe, api, &tid).entered();
        let message = match self.ready() {
            Ok(ready) => ready.subscriptions.unsubscribe(api, tid),
            Err(e) => Message::failed(tid, e.into_api_error()),
        };
        callback(message);
    }

    /// Whether the facade runs on a runtime of its own (there was none when it was made).
    ///
    /// ```
    /// assert!(pims::Pims::new().owns_runtime());
    /// ```
    pub fn owns_runtime(&self) -> bool {
        self.shared.exec.is_owned()
    }
}

impl PimsBuilder {
    /// Builds an initialised facade. Synchronous: it opens (and locks) a local cache but reads
    /// nothing from it; the device id is read (created the first time) by the first call that
    /// needs it. A store that then cannot be used does not fail the call: it is answered from
    /// the backend, with a warning. [`build_async`](Self::build_async) reads the device id at
    /// once instead, so that such a store fails the build.
    pub fn build(self) -> Result<Pims, Error> {
        let pims = Pims::uninitialized(self);
        pims.initialize_with_defaults()?;
        Ok(pims)
    }

    /// Builds an initialised facade, as [`build`](Self::build) does, then reads this device's
    /// id from the cache (creating it the first time), so that a store that cannot be used
    /// (unreadable, of another layout, a shared store that is down) fails here, with the
    /// cache's error, rather than leaving the facade's calls to be answered from the backend
    /// alone. The id read is the one every call carries.
    ///
    /// ```
    /// # #[derive(Debug)] struct Backend;
    /// # #[async_trait::async_trait] impl pims::transport::Transport for Backend {
    /// #   async fn call(&self, c: pims::transport::Call) -> Result<pims::Message, pims::transport::TransportError> {
    /// #     Ok(pims::Message::succeeded_empty(c.transaction_id)) } }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// let pims = pims::Pims::builder()
    ///     .transport(pims::transport::SharedTransport::new(Backend))
    ///     .cache_store(Arc::new(pims::cache::MemoryStore::new()))
    ///     .account("user-42")
    ///     .build_async()
    ///     .await?;
    /// // Known already: read (here created) by the build.
    /// let device = pims.cache()?.device_id().await?;
    /// assert!(!device.is_empty());
    /// # Ok::<(), pims::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn build_async(
        #[cfg_attr(not(feature = "postgres"), allow(unused_mut))] mut self,
    ) -> Result<Pims, Error> {
        #[cfg(feature = "postgres")]
        if let CacheChoice::Postgres(url) = &self.cache {
            self.cache = CacheChoice::Store(url.connect().await?);
        }
        let pims = self.build()?;
        pims.ready()?
            .calls
            .cache()
            .namespace()
            .await
            .map_err(Error::cache)?;
        Ok(pims)
    }

    /// A facade that is not initialised yet: [`Pims::initialize`](Pims::initialize)
    /// overlays its dictionary on this builder (so tests and embedders can inject a transport
    /// or a store and still initialise the mobile SDK's way).
    ///
    /// ```
    /// let pims = pims::PimsBuilder::new().into_uninitialized();
    /// assert!(!pims.is_initialized());
    /// ```
    pub fn into_uninitialized(self) -> Pims {
        Pims::uninitialized(self)
    }
}

/// The span of one call: API, verb and transaction id, never parameter values.
pub(crate) fn call_span(verb: Verb, api: &str, tid: &TransactionId) -> tracing::Span {
    tracing::info_span!("pims.call", api = %api, verb = %verb, transaction_id = %tid)
}
