//! [`CacheAdmin`]: what an app or a command may do to the step cache besides using it: say
//! what is in it, wipe it, tell whether it works. Got from a facade ([`Pims::cache`]) or, without
//! a backend, from a builder ([`PimsBuilder::cache_admin`](crate::PimsBuilder::cache_admin)).

use std::sync::Arc;

use pims_cache::{CacheError, CachedList, Health, Namespace, Removed, StepCache, StepStore};

use crate::error::Error;
use crate::facade::Pims;

/// Which lists an administration call covers.
///
/// ```
/// assert_ne!(pims::CacheScope::Account, pims::CacheScope::AllAccounts);
/// ```
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
/// The methods are async and never block an async worker: in a tokio runtime the store is
/// read on the blocking pool; outside one (a plain `block_on`) it is read in place.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// use pims::CacheScope;
/// let cache = pims.cache()?;
/// println!("device {}", cache.device_id());
/// for cached in cache.lists(CacheScope::Account).await? {
///     println!("{}: {} steps", pims::mask(cached.list.steps_id().as_str()), cached.list.len());
/// }
/// let removed = cache.wipe(CacheScope::Account).await?;
/// assert_eq!(removed.lists, removed.durable_lists, "a flush failed");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CacheAdmin {
    cache: StepCache,
    ns: Namespace,
    device_id: String,
}

impl std::fmt::Debug for CacheAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheAdmin")
            .field("account", &self.ns.account())
            .finish_non_exhaustive()
    }
}

impl CacheAdmin {
    pub(crate) fn new(cache: StepCache, ns: Namespace, device_id: String) -> Self {
        CacheAdmin {
            cache,
            ns,
            device_id,
        }
    }

    /// The handle of `store`, for `account`.
    pub(crate) fn open(store: Arc<dyn StepStore>, account: String) -> Result<Self, Error> {
        let (cache, ns, device_id) = crate::cached::open_namespace(store, account)?;
        Ok(CacheAdmin::new(cache, ns, device_id))
    }

    /// This installation's device id (made once, kept by the cache).
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// Whether the store works; a degraded store (read-only or full disk, a planted link)
    /// says why, and calls are then answered from the backend alone.
    pub fn health(&self) -> Health {
        self.cache.health()
    }

    /// The lists cached in `scope` (identifiers as the cache knows them: mask them before
    /// showing them, [`mask`](crate::mask)).
    pub async fn lists(&self, scope: CacheScope) -> Result<Vec<CachedList>, Error> {
        self.blocking(move |cache, ns| cache.lists(scope_ns(scope, ns)))
            .await
    }

    /// Removes every list cached in `scope`, durably. [`Removed::durable_lists`] says how
    /// many removals reached the disk (fewer than [`Removed::lists`] when a flush failed).
    pub async fn wipe(&self, scope: CacheScope) -> Result<Removed, Error> {
        self.blocking(move |cache, ns| match scope_ns(scope, ns) {
            Some(ns) => cache.invalidate_device(ns),
            None => cache.wipe(),
        })
        .await
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&StepCache, &Namespace) -> Result<T, CacheError> + Send + 'static,
        T: Send + 'static,
    {
        crate::cached::off_workers(&self.cache, &self.ns, f)
            .await
            .map_err(Error::cache)
    }
}

fn scope_ns(scope: CacheScope, ns: &Namespace) -> Option<&Namespace> {
    match scope {
        CacheScope::Account => Some(ns),
        CacheScope::AllAccounts => None,
    }
}

impl Pims {
    /// The administration handle of the facade's step cache (its account's namespace).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// if pims.cache()?.health().is_degraded() {
    ///     eprintln!("the step cache does not work: nothing is remembered between runs");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn cache(&self) -> Result<CacheAdmin, Error> {
        Ok(self.core()?.cache().admin())
    }
}
