//! What a facade is built from: the builder, the mobile SDK's `initialize` dictionary mapped onto
//! it, and the policies.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pims_transport::{SharedTransport, TokenProvider};
use pims_types::{ErrorCode, Parameters, Pin, Secret};
use serde_json::Value;

use crate::error::{Error, ErrorKind};

/// The account namespace used when the configuration names none.
///
/// ```
/// assert_eq!(pims::DEFAULT_ACCOUNT, "default");
/// ```
pub const DEFAULT_ACCOUNT: &str = "default";

/// The overall deadline of one call through the facade, whatever the transport does.
///
/// ```
/// assert_eq!(pims::DEFAULT_CALL_TIMEOUT.as_secs(), 45);
/// ```
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(45);

/// The `environnement` names the `initialize` dictionary accepts, and their base URLs.
/// Any `https://` URL (or `http://` on a loopback address) is accepted too.
///
/// ```
/// assert!(pims::ENVIRONMENTS.iter().any(|(name, _)| *name == "simulator"));
/// ```
pub const ENVIRONMENTS: &[(&str, &str)] = &[("simulator", "http://127.0.0.1:8080")];

/// Gives the user's PIN when the facade needs an OTP on its own (opt-in: see
/// [`Policies::pin_provider`]). Return `None` to let the 2302 failure through.
///
/// ```
/// use async_trait::async_trait;
/// use pims::{Pin, PinProvider};
///
/// #[derive(Debug)]
/// struct AskTheUser;
///
/// #[async_trait]
/// impl PinProvider for AskTheUser {
///     async fn pin(&self) -> Option<Pin> {
///         Pin::parse("1234").ok() // an app would prompt here, and ask again on a typo
///     }
/// }
/// ```
#[async_trait]
pub trait PinProvider: Send + Sync + fmt::Debug {
    /// The PIN, or `None` when the user declines.
    async fn pin(&self) -> Option<Pin>;
}

/// The recovery policies. Built from [`Policies::default`] and its setters (the struct may
/// gain fields).
///
/// ```
/// let p = pims::Policies::default().offline_fallback(true);
/// assert!(p.invalidate_on_device_error);
/// assert!(p.offline_fallback);
/// assert!(p.pin_provider.is_none());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Policies {
    /// When `pims.authentication.otp` (withPIN) answers 2312 or 2317, drop the cached
    /// `alreadyDone` of this device's lists (the documented cure), and trace a warning.
    /// On by default.
    pub invalidate_on_device_error: bool,
    /// On 2201/2202, a steps call answers from the cache (the typed result says it is stale).
    /// Off by default.
    pub offline_fallback: bool,
    /// When set, a call answering 2302 makes the facade get an OTP with this PIN and retry the
    /// call once. Off by default.
    pub pin_provider: Option<Arc<dyn PinProvider>>,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            invalidate_on_device_error: true,
            offline_fallback: false,
            pin_provider: None,
        }
    }
}

impl Policies {
    /// Sets [`invalidate_on_device_error`](Self::invalidate_on_device_error).
    pub fn invalidate_on_device_error(mut self, on: bool) -> Self {
        self.invalidate_on_device_error = on;
        self
    }

    /// Sets [`offline_fallback`](Self::offline_fallback).
    pub fn offline_fallback(mut self, on: bool) -> Self {
        self.offline_fallback = on;
        self
    }

    /// Sets [`pin_provider`](Self::pin_provider): the 2302 recovery is on.
    pub fn pin_provider(self, provider: Arc<dyn PinProvider>) -> Self {
        self.set_pin_provider(Some(provider))
    }

    /// Sets or clears [`pin_provider`](Self::pin_provider) (`None` turns the 2302 recovery off).
    pub fn set_pin_provider(mut self, provider: Option<Arc<dyn PinProvider>>) -> Self {
        self.pin_provider = provider;
        self
    }
}

/// The HTTP transport's settings, when the facade builds it ([`PimsBuilder::base_url`] or the
/// `environnement` key). Unset values keep the transport's defaults
/// (`pims::transport::DEFAULT_*`).
///
/// ```
/// use std::time::Duration;
/// let http = pims::HttpOptions::default()
///     .connect_timeout(Duration::from_secs(2))
///     .overall_timeout(Duration::from_secs(20))
///     .retry_policy(pims::transport::RetryPolicy::none());
/// assert_eq!(http.connect_timeout, Some(Duration::from_secs(2)));
/// # let _ = pims::Pims::builder().http(http);
/// ```
#[cfg(feature = "http")]
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The TCP + TLS connect deadline.
    pub connect_timeout: Option<Duration>,
    /// The deadline of one attempt (request sent, answer read).
    pub attempt_timeout: Option<Duration>,
    /// The deadline of the whole call, retries included.
    pub overall_timeout: Option<Duration>,
    /// Which calls are retried and how (only pure reads ever are: see `pims::types::Repeat`).
    pub retry_policy: Option<pims_transport::RetryPolicy>,
}

#[cfg(feature = "http")]
impl HttpOptions {
    /// Sets [`connect_timeout`](Self::connect_timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sets [`attempt_timeout`](Self::attempt_timeout).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sets [`overall_timeout`](Self::overall_timeout).
    pub fn overall_timeout(mut self, timeout: Duration) -> Self {
        self.overall_timeout = Some(timeout);
        self
    }

    /// One deadline for the whole call: [`overall_timeout`](Self::overall_timeout) is `deadline`,
    /// and the connect and per-attempt deadlines are the transport's defaults, capped to it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let http = pims::HttpOptions::default().deadline(Duration::from_secs(3));
    /// assert_eq!(http.connect_timeout, Some(Duration::from_secs(3)));
    /// assert_eq!(http.overall_timeout, Some(Duration::from_secs(3)));
    /// ```
    pub fn deadline(self, deadline: Duration) -> Self {
        self.connect_timeout(deadline.min(pims_transport::DEFAULT_CONNECT_TIMEOUT))
            .attempt_timeout(deadline.min(pims_transport::DEFAULT_ATTEMPT_TIMEOUT))
            .overall_timeout(deadline)
    }

    /// Sets [`retry_policy`](Self::retry_policy).
    pub fn retry_policy(mut self, policy: pims_transport::RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// The HTTP transport to `url` with these settings and this token source.
    pub(crate) fn transport(
        &self,
        url: &str,
        token: Option<Arc<dyn TokenProvider>>,
    ) -> Result<SharedTransport, pims_transport::TransportError> {
        let mut http = pims_transport::HttpTransport::builder(url);
        if let Some(p) = token {
            http = http.token_provider(p);
        }
        if let Some(t) = self.connect_timeout {
            http = http.connect_timeout(t);
        }
        if let Some(t) = self.attempt_timeout {
            http = http.attempt_timeout(t);
        }
        if let Some(t) = self.overall_timeout {
            http = http.overall_timeout(t);
        }
        if let Some(p) = &self.retry_policy {
            http = http.retry_policy(p.clone());
        }
        http.build().map(SharedTransport::new)
    }
}

/// Where the step cache lives.
#[derive(Clone)]
pub(crate) enum CacheChoice {
    /// The platform data directory (`~/.local/share/pims/cache` on Linux).
    Default,
    /// A directory of the caller's.
    Dir(PathBuf),
    /// A store of the caller's.
    Store(Arc<dyn pims_cache::StepStore>),
    /// A PostgreSQL database shared by a service's replicas.
    #[cfg(feature = "postgres")]
    Postgres(crate::postgres::DatabaseUrl),
}

impl fmt::Debug for CacheChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheChoice::Default => f.write_str("Default"),
            CacheChoice::Dir(p) => f.debug_tuple("Dir").field(p).finish(),
            CacheChoice::Store(s) => f.debug_tuple("Store").field(s).finish(),
            #[cfg(feature = "postgres")]
            CacheChoice::Postgres(url) => f.debug_tuple("Postgres").field(url).finish(),
        }
    }
}

/// Where calls go.
#[derive(Clone, Debug)]
pub(crate) enum TransportChoice {
    /// None configured yet (`initialize` must give `environnement`).
    Unset,
    /// The HTTP transport to this base URL; `true` when it came from the `initialize`
    /// dictionary (a refused URL is then 2102 naming `environnement`, not 2006).
    #[cfg(feature = "http")]
    BaseUrl(String, bool),
    /// A transport of the caller's.
    Custom(SharedTransport),
}

/// Builds a [`Pims`](crate::Pims).
///
/// ```no_run
/// # async fn demo() -> Result<(), pims::Error> {
/// let pims = pims::Pims::builder()
///     .base_url("http://127.0.0.1:8080")
///     .token(pims::Secret::new("demo-token"))
///     .cache_dir("/tmp/pims-cache")
///     .account("user-42")
///     .build()?;
/// let steps = pims.steps(pims::StepsSelector::car_association_id("987654")?).send().await?;
/// println!("{} steps", steps.list.len());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PimsBuilder {
    pub(crate) transport: TransportChoice,
    pub(crate) token: Option<Secret>,
    pub(crate) token_provider: Option<Arc<dyn TokenProvider>>,
    pub(crate) cache: CacheChoice,
    pub(crate) account: String,
    pub(crate) policies: Policies,
    pub(crate) call_timeout: Duration,
    pub(crate) event_sources: Vec<(String, tokio::sync::broadcast::Sender<Value>)>,
    #[cfg(feature = "http")]
    pub(crate) http: HttpOptions,
}

impl Default for PimsBuilder {
    fn default() -> Self {
        PimsBuilder {
            transport: TransportChoice::Unset,
            token: None,
            token_provider: None,
            cache: CacheChoice::Default,
            account: DEFAULT_ACCOUNT.to_owned(),
            policies: Policies::default(),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            event_sources: Vec::new(),
            #[cfg(feature = "http")]
            http: HttpOptions::default(),
        }
    }
}

impl PimsBuilder {
    /// A builder with the defaults (platform cache directory, account `default`).
    ///
    /// ```
    /// let b = pims::PimsBuilder::new();
    /// # let _ = b;
    /// ```
    pub fn new() -> Self {
        PimsBuilder::default()
    }

    /// Talk HTTP to this backend (`https://`, or `http://` on a loopback address), with the
    /// settings of [`http`](Self::http).
    ///
    /// ```
    /// let b = pims::PimsBuilder::new().base_url("http://127.0.0.1:8080");
    /// # let _ = b;
    /// ```
    #[cfg(feature = "http")]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.transport = TransportChoice::BaseUrl(url.into(), false);
        self
    }

    /// The HTTP transport's timeouts and retry policy (when the facade builds it).
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = pims::Pims::builder()
    ///     .base_url("http://127.0.0.1:8080")
    ///     .http(pims::HttpOptions::default().overall_timeout(Duration::from_secs(10)))
    ///     .call_timeout(Duration::from_secs(12));
    /// # let _ = b;
    /// ```
    #[cfg(feature = "http")]
    pub fn http(mut self, options: HttpOptions) -> Self {
        self.http = options;
        self
    }

    /// Use this transport (a corporate HTTP stack, an in-process fake, a replay).
    ///
    /// ```
    /// # #[derive(Debug)] struct T;
    /// # #[async_trait::async_trait] impl pims_transport::Transport for T {
    /// #   async fn call(&self, c: pims_transport::Call) -> Result<pims::Message, pims_transport::TransportError> {
    /// #     Ok(pims::Message::succeeded_empty(c.transaction_id)) } }
    /// let b = pims::PimsBuilder::new().transport(pims_transport::SharedTransport::new(T));
    /// # let _ = b;
    /// ```
    pub fn transport(mut self, transport: SharedTransport) -> Self {
        self.transport = TransportChoice::Custom(transport);
        self
    }

    /// The user's access token (for the HTTP transport).
    ///
    /// ```
    /// let b = pims::PimsBuilder::new().token(pims::Secret::new("t"));
    /// # let _ = b;
    /// ```
    pub fn token(mut self, token: Secret) -> Self {
        self.token = Some(token);
        self
    }

    /// A token provider (for the HTTP transport); wins over [`token`](Self::token).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let p = Arc::new(pims_transport::StaticToken::new(pims::Secret::new("t")));
    /// let b = pims::PimsBuilder::new().token_provider(p);
    /// # let _ = b;
    /// ```
    pub fn token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.token_provider = Some(provider);
        self
    }

    /// Keep the step cache in this directory (created 0700 if missing).
    ///
    /// ```
    /// let b = pims::PimsBuilder::new().cache_dir("/tmp/pims");
    /// # let _ = b;
    /// ```
    #[cfg(feature = "sled")]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = CacheChoice::Dir(dir.into());
        self
    }

    /// Keep the step cache in this store (e.g. `pims_cache::MemoryStore` for tests, or one
    /// sled store shared by many facades).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let b = pims::PimsBuilder::new().cache_store(Arc::new(pims_cache::MemoryStore::new()));
    /// # let _ = b;
    /// ```
    pub fn cache_store(mut self, store: Arc<dyn pims_cache::StepStore>) -> Self {
        self.cache = CacheChoice::Store(store);
        self
    }

    /// Keep the step cache in a PostgreSQL database that every replica of a service shares
    /// (feature `postgres`): a list one replica cached `alreadyDone` is `alreadyDone` for all,
    /// a reset made by one is seen by all, and they are one device to the backend (the device
    /// id is kept in the database). `url` is libpq's URL form,
    /// `postgres://user:password@host:port/dbname?sslmode=verify-full` (see
    /// [`PostgresOptions::from_url`](pims_cache_postgres::PostgresOptions::from_url): without a
    /// password in it, `PGPASSWORD` or a password file); the password is never shown, logged
    /// or stored.
    ///
    /// [`build_async`](Self::build_async) connects and creates (or upgrades) the store's table
    /// before it returns; [`build`](Self::build) connects on the first call that needs the
    /// cache. A URL that cannot be used fails the build (2006).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), pims::Error> {
    /// let pims = pims::Pims::builder()
    ///     .base_url("https://backend.example")
    ///     .cache_postgres("postgres://pims@db.internal/pims?sslmode=verify-full")
    ///     .account("user-42")
    ///     .build_async()
    ///     .await?;
    /// # let _ = pims; Ok(()) }
    /// ```
    #[cfg(feature = "postgres")]
    pub fn cache_postgres(mut self, url: impl Into<String>) -> Self {
        self.cache = CacheChoice::Postgres(crate::postgres::DatabaseUrl::new(url));
        self
    }

    /// The account namespace of the cache: lists cached for one account are never served to
    /// another.
    ///
    /// ```
    /// let b = pims::PimsBuilder::new().account("user-42");
    /// # let _ = b;
    /// ```
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }

    /// The recovery policies.
    ///
    /// ```
    /// let b = pims::PimsBuilder::new().policies(pims::Policies::default().offline_fallback(true));
    /// # let _ = b;
    /// ```
    pub fn policies(mut self, policies: Policies) -> Self {
        self.policies = policies;
        self
    }

    /// The overall deadline of one call through the facade (default 45 s): past it the callback
    /// gets 2201, whatever the transport is doing.
    ///
    /// ```
    /// let b = pims::PimsBuilder::new().call_timeout(std::time::Duration::from_secs(10));
    /// # let _ = b;
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Makes `api` subscribable: each value sent on `events` reaches every subscriber as a
    /// `RESULT` message. (No API of the Steps component is subscribable; this lets an embedding
    /// service publish its own events through the same dispatcher.)
    ///
    /// ```
    /// let (tx, _rx) = tokio::sync::broadcast::channel(16);
    /// let b = pims::PimsBuilder::new().event_source("acme.vehicle.events", tx);
    /// # let _ = b;
    /// ```
    pub fn event_source(
        mut self,
        api: impl Into<String>,
        events: tokio::sync::broadcast::Sender<Value>,
    ) -> Self {
        self.event_sources.push((api.into(), events));
        self
    }

    /// Opens the step cache now (and locks its directory), instead of at
    /// [`build`](Self::build): a cache that cannot be opened (a directory in use by another
    /// process: "in use by another process (pid)", or one the store refuses) stops the caller
    /// before it starts anything else (the CLI opens it before its embedded backend). Nothing is
    /// read from the store yet. The facade built from this builder, and its clones, use the
    /// store opened here.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), pims::Error> {
    /// let builder = pims::Pims::builder().cache_dir("/tmp/pims-cache").open_cache()?;
    /// // ... start what needs the cache to be ours ...
    /// let pims = builder.base_url("http://127.0.0.1:8080").build()?;
    /// # let _ = pims; Ok(()) }
    /// ```
    pub fn open_cache(mut self) -> Result<Self, Error> {
        self.cache = CacheChoice::Store(crate::cached::open_store(&self.cache)?);
        Ok(self)
    }

    /// The administration handle of the cache this builder names, without a backend
    /// (`pims cache show|wipe`): [`Pims::cache`](crate::Pims::cache) gives the same for a
    /// built facade. Opens the store (as [`open_cache`](Self::open_cache) does) and checks the
    /// account; the handle's methods read the store.
    ///
    /// ```
    /// # fn demo() -> Result<(), pims::Error> {
    /// let admin = pims::Pims::builder()
    ///     .cache_store(std::sync::Arc::new(pims::cache::MemoryStore::new()))
    ///     .cache_admin()?;
    /// assert!(!admin.health().is_degraded());
    /// # Ok(()) }
    /// # demo().unwrap();
    /// ```
    pub fn cache_admin(&self) -> Result<crate::CacheAdmin, Error> {
        let store = crate::cached::open_store(&self.cache)?;
        crate::CacheAdmin::open(store, self.account.clone())
    }

    /// Builds an initialised facade. Synchronous: it opens (and locks) a local cache but reads
    /// nothing from it; the device id is read (created the first time) by the first call that
    /// needs it. A store that then cannot be used does not fail the call: it is answered from
    /// the backend, with a warning. [`build_async`](Self::build_async) reads the device id at
    /// once instead, so that such a store fails the build.
    ///
    /// ```no_run
    /// let pims = pims::PimsBuilder::new().base_url("http://127.0.0.1:8080").build().unwrap();
    /// # let _ = pims;
    /// ```
    pub fn build(self) -> Result<crate::Pims, Error> {
        let pims = crate::Pims::uninitialized(self);
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
    ) -> Result<crate::Pims, Error> {
        #[cfg(feature = "postgres")]
        if let CacheChoice::Postgres(url) = &self.cache {
            self.cache = CacheChoice::Store(url.connect().await?);
        }
        let pims = self.build()?;
        pims.core()?
            .cache()
            .namespace()
            .await
            .map_err(Error::cache)?;
        Ok(pims)
    }

    /// A facade that is not initialised yet: [`Pims::initialize`](crate::Pims::initialize)
    /// overlays its dictionary on this builder (so tests and embedders can inject a transport
    /// or a store and still initialise the mobile SDK's way).
    ///
    /// ```
    /// let pims = pims::PimsBuilder::new().into_uninitialized();
    /// assert!(!pims.is_initialized());
    /// ```
    pub fn into_uninitialized(self) -> crate::Pims {
        crate::Pims::uninitialized(self)
    }

    /// Overlays the mobile SDK's `initialize` dictionary:
    /// - `environnement` (also `environment`): a name of [`ENVIRONMENTS`] or a base URL;
    /// - `mode`: `"online"` (default) or `"offlineFallback"` (steps answered from the cache on
    ///   2201/2202);
    /// - `credential`: the access token, as a string or `{"accessToken": "..."}`;
    /// - `profile`: the account namespace, as a string or `{"account": "...",
    ///   "cacheDirectory": "..."}`.
    ///
    /// Unknown keys are ignored; a bad value gives 2102 naming it.
    ///
    /// ```
    /// use pims::Parameters;
    /// let dict = Parameters::new().with("environnement", "simulator").with("mode", "fast");
    /// let e = pims::PimsBuilder::new().apply_initialize(&dict).unwrap_err();
    /// assert_eq!(e.label(), "Invalid mode parameter");
    /// ```
    pub fn apply_initialize(mut self, dict: &Parameters) -> Result<Self, Error> {
        if let Some(env) = dict.string("environnement", &["environment"])? {
            let url = ENVIRONMENTS
                .iter()
                .find(|(name, _)| *name == env)
                .map(|(_, url)| (*url).to_owned())
                .or_else(|| {
                    (env.starts_with("https://") || env.starts_with("http://")).then_some(env)
                })
                .ok_or_else(|| invalid("environnement"))?;
            #[cfg(feature = "http")]
            {
                self.transport = TransportChoice::BaseUrl(url, true);
            }
            #[cfg(not(feature = "http"))]
            return Err(Error::not_configured().with_detail(format!(
                "pims was built without its `http` feature: {url} cannot be used, give a transport"
            )));
        }
        if let Some(mode) = dict.string("mode", &[])? {
            self.policies.offline_fallback = match mode.as_str() {
                "online" => false,
                "offlineFallback" => true,
                _ => return Err(invalid("mode")),
            };
        }
        match dict.get("credential") {
            None => {}
            Some(Value::String(_)) => self.token = dict.secret("credential", &[])?,
            Some(Value::Object(map)) => {
                let inner = Parameters::from(map.clone());
                let token = inner
                    .secret("accessToken", &["token"])
                    .map_err(|_| invalid("credential"))?
                    .ok_or_else(|| invalid("credential"))?;
                self.token = Some(token);
            }
            Some(_) => return Err(invalid("credential")),
        }
        match dict.get("profile") {
            None => {}
            Some(Value::String(_)) => {
                self.account = dict.identifier("profile", &[])?.unwrap_or_default();
            }
            Some(Value::Object(map)) => {
                let inner = Parameters::from(map.clone());
                if let Some(account) = inner
                    .identifier("account", &[])
                    .map_err(|_| invalid("profile"))?
                {
                    self.account = account;
                }
                if let Some(dir) = inner
                    .string("cacheDirectory", &[])
                    .map_err(|_| invalid("profile"))?
                {
                    self.cache = CacheChoice::Dir(PathBuf::from(dir));
                }
            }
            Some(_) => return Err(invalid("profile")),
        }
        Ok(self)
    }
}

fn invalid(name: &str) -> Error {
    Error::from_code(ErrorKind::Input, ErrorCode::INVALID_PARAMETER, &[name])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dict(v: Value) -> Parameters {
        Parameters::from_value(v).unwrap()
    }

    #[test]
    #[cfg(feature = "http")]
    fn initialize_dictionary() {
        let b = PimsBuilder::new()
            .apply_initialize(&dict(json!({
                "environnement": "http://127.0.0.1:9", "mode": "offlineFallback",
                "credential": {"accessToken": "CANARY-TOKEN"},
                "profile": {"account": "u1", "cacheDirectory": "/tmp/x"}, "unknown": 1})))
            .unwrap();
        assert!(
            matches!(b.transport, TransportChoice::BaseUrl(ref u, true) if u == "http://127.0.0.1:9")
        );
        assert!(b.policies.offline_fallback);
        assert_eq!(b.account, "u1");
        assert_eq!(b.token.as_ref().map(|t| t.expose()), Some("CANARY-TOKEN"));
        assert!(!format!("{b:?}").contains("CANARY"));
    }

    #[test]
    fn bad_values_name_the_key() {
        for (v, key) in [
            (json!({"environnement": "mars"}), "environnement"),
            (json!({"environnement": 3}), "environnement"),
            (json!({"mode": true}), "mode"),
            (json!({"credential": 5}), "credential"),
            (json!({"credential": {"accessToken": ""}}), "credential"),
            (json!({"credential": {}}), "credential"),
            (json!({"profile": []}), "profile"),
            (json!({"profile": {"account": 1.5}}), "profile"),
        ] {
            let e = PimsBuilder::new()
                .apply_initialize(&dict(v.clone()))
                .unwrap_err();
            assert_eq!(e.label(), format!("Invalid {key} parameter"), "{v}");
            assert_eq!(e.code(), ErrorCode::INVALID_PARAMETER);
        }
    }

    /// Built without `http`: a backend URL cannot be used, and says why.
    #[test]
    #[cfg(not(feature = "http"))]
    fn without_http_a_url_is_refused_with_the_reason() {
        let e = PimsBuilder::new()
            .apply_initialize(&dict(json!({"environnement": "http://127.0.0.1:9"})))
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
        assert!(e.detail().unwrap().contains("`http` feature"));
    }

    /// Built without `sled`: no silent cache in memory (a new device on every start).
    #[test]
    #[cfg(not(feature = "sled"))]
    fn without_sled_the_default_cache_is_refused_with_the_reason() {
        let e = crate::cached::open_store(&CacheChoice::Default).unwrap_err();
        assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
        assert!(e.detail().unwrap().contains("`sled` feature"));
        let e = crate::cached::open_store(&CacheChoice::Dir("/tmp/x".into())).unwrap_err();
        assert!(e.detail().unwrap().contains("`sled` feature"));
    }
}
