//! [`CacheAdmin`]: what an app or a command may do to the step cache besides using it: say
//! what is in it, wipe it, tell whether it works. Got from a facade ([`Pims::cache`]) or, without
//! a backend, from a builder ([`PimsBuilder::cache_admin`](crate::PimsBuilder::cache_admin)).

use std::sync::Arc;

use pims_cache::{CachedList, Health, Removed, StepStore};

use crate::account_cache::AccountCache;
use crate::config::PimsBuilder;
use crate::error::Error;
use crate::facade::Pims;

/// Which lists an administration call covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CacheScope {
    /// The lists of the facade's account (its `account` namespace).
    Account,
    /// Every list in the store, whichever account cached it (a store may serve many facades).
    AllAccounts,
}

/// The administration handle of a step cache: its device id, its health, the lists it holds,
/// and wiping them. The device id always stays: it is this installation's identity with the
/// backend (a new one would be a new device to enrol).
///
/// The methods are async and run where they are awaited, from any executor: the cache never
/// blocks its thread for long (in a tokio runtime the sled store makes its flushes on the
/// blocking pool; outside one, a plain `block_on`, it makes them in place). Getting the handle
/// reads nothing; the store is first read by the first method that needs it.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// use pims::CacheScope;
/// let cache = pims.cache()?;
/// println!("device {}", cache.device_id().await?);
/// for cached in cache.lists(CacheScope::Account).await? {
///     println!("{}: {} steps", pims::mask(cached.list.steps_id().as_str()), cached.list.len());
/// }
/// let removed = cache.wipe(CacheScope::Account).await?;
/// assert_eq!(removed.lists, removed.durable_lists, "a flush failed");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CacheAdmin {
    cache: AccountCache,
}

impl std::fmt::Debug for CacheAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheAdmin")
            .field("account", &self.cache.account())
            .finish_non_exhaustive()
    }
}

impl CacheAdmin {
    /// The handle of a facade's cache: the same namespace, resolved once for both.
    pub(crate) fn new(cache: AccountCache) -> Self {
        CacheAdmin { cache }
    }

    /// The handle of `store`, for `account` (2102 naming `account` when the cache refuses it).
    pub(crate) fn open(store: Arc<dyn StepStore>, account: String) -> Result<Self, Error> {
        AccountCache::new(store, account).map(CacheAdmin::new)
    }

    /// This installation's device id (made once, kept by the cache): the `Pims-Device-Id` the
    /// facade's calls carry. Read from the store the first time (created the very first time);
    /// a store that cannot give it is an error here (and the facade's calls fail with it until
    /// the store answers: none is sent with an id of no store's).
    ///
    /// ```
    /// # fn demo() -> Result<(), pims::Error> {
    /// let admin = pims::Pims::builder()
    ///     .cache_store(std::sync::Arc::new(pims::cache::MemoryStore::new()))
    ///     .cache_admin()?;
    /// let id = futures_executor::block_on(admin.device_id())?;
    /// assert_eq!(futures_executor::block_on(admin.device_id())?, id);
    /// # Ok(()) }
    /// # demo().unwrap();
    /// ```
    pub async fn device_id(&self) -> Result<String, Error> {
        let ns = self.cache.namespace().await.map_err(Error::cache)?;
        Ok(ns.device().as_str().to_owned())
    }

    /// Whether the store works; a degraded store (read-only or full disk, a planted link)
    /// says why, and calls are then answered from the backend alone.
    pub fn health(&self) -> Health {
        self.cache.step_cache().health()
    }

    /// The lists cached in `scope` (identifiers as the cache knows them: mask them before
    /// showing them, [`mask`](crate::mask)).
    pub async fn lists(&self, scope: CacheScope) -> Result<Vec<CachedList>, Error> {
        let cache = self.cache.step_cache();
        match scope {
            CacheScope::Account => {
                let ns = self.cache.namespace().await.map_err(Error::cache)?;
                cache.lists(Some(ns)).await
            }
            CacheScope::AllAccounts => cache.lists(None).await,
        }
        .map_err(Error::cache)
    }

    /// Removes every list cached in `scope`, durably. [`Removed::durable_lists`] says how
    /// many removals reached the disk (fewer than [`Removed::lists`] when a flush failed).
    pub async fn wipe(&self, scope: CacheScope) -> Result<Removed, Error> {
        let cache = self.cache.step_cache();
        match scope {
            CacheScope::Account => {
                let ns = self.cache.namespace().await.map_err(Error::cache)?;
                cache.invalidate_device(ns).await
            }
            CacheScope::AllAccounts => cache.wipe().await,
        }
        .map_err(Error::cache)
    }
}

impl Pims {
    /// The administration handle of the facade's step cache (its account's namespace).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let cache = pims.cache()?; // reads nothing yet
    /// println!("device {}", cache.device_id().await?);
    /// if cache.health().is_degraded() {
    ///     eprintln!("the step cache does not work: nothing is remembered between runs");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn cache(&self) -> Result<CacheAdmin, Error> {
        Ok(CacheAdmin::new(self.ready()?.calls.cache().clone()))
    }
}

impl PimsBuilder {
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
    pub fn cache_admin(&self) -> Result<CacheAdmin, Error> {
        let store = self.cache.open_store()?;
        CacheAdmin::open(store, self.account.clone())
    }
}
