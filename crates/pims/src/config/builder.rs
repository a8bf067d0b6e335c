//! [`PimsBuilder`]: what a facade is built from (backend, token, cache, account, policies,
//! deadline, event sources).

#[cfg(feature = "sled")]
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pims_transport::{SharedTransport, TokenProvider};
use pims_types::Secret;
use serde_json::Value;

#[cfg(feature = "http")]
use super::HttpOptions;
use super::{CacheChoice, Policies, TransportChoice};
use crate::error::Error;

/// The account namespace used when the configuration names none.
pub const DEFAULT_ACCOUNT: &str = "default";

/// The overall deadline of one call through the facade, whatever the transport does.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(45);

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
    pub fn new() -> Self {
        PimsBuilder::default()
    }

    /// Talk HTTP to this backend (`https://`, or `http://` on a loopback address), with the
    /// settings of [`http`](Self::http).
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
    pub fn token(mut self, token: Secret) -> Self {
        self.token = Some(token);
        self
    }

    /// A token provider (for the HTTP transport); wins over [`token`](Self::token).
    pub fn token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.token_provider = Some(provider);
        self
    }

    /// Keep the step cache in this directory (created 0700 if missing).
    #[cfg(feature = "sled")]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache = CacheChoice::Dir(dir.into());
        self
    }

    /// Keep the step cache in this store (e.g. `pims_cache::MemoryStore` for tests, or one
    /// sled store shared by many facades).
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
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }

    /// The recovery policies.
    pub fn policies(mut self, policies: Policies) -> Self {
        self.policies = policies;
        self
    }

    /// The overall deadline of one call through the facade (default 45 s): past it the callback
    /// gets 2201, whatever the transport is doing.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Makes `api` subscribable: each value sent on `events` reaches every subscriber as a
    /// `RESULT` message. (No API of the Steps component is subscribable; this lets an embedding
    /// service publish its own events through the same dispatcher.)
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
        self.cache = CacheChoice::Store(self.cache.open_store()?);
        Ok(self)
    }
}
