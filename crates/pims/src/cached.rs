//! The facade's view of the step cache: one account namespace on this device, with the blocking
//! cache calls moved off the async workers. A cache that cannot be used never fails a call: the
//! answer comes from the backend and a warning is traced.

use std::sync::Arc;

use pims_cache::{CacheError, ListKeys, Namespace, StepCache, StepStore};
use pims_types::{ErrorCode, StepsList, StepsSelector};

use crate::config::CacheChoice;
use crate::error::{Error, ErrorKind};

pub(crate) struct Cached {
    cache: StepCache,
    ns: Namespace,
    device_id: String,
}

/// Opens the store the configuration names: a directory in use by another process, or one the
/// store refuses, is a clear error (2006, the cache error as its source).
pub(crate) fn open_store(choice: &CacheChoice) -> Result<Arc<dyn StepStore>, Error> {
    Ok(match choice {
        CacheChoice::Store(store) => store.clone(),
        CacheChoice::Dir(dir) => open_dir(dir)?,
        CacheChoice::Default => default_store()?,
    })
}

/// The cache, its device id, and the namespace of `account` (2102 naming `account` when the
/// cache refuses it).
pub(crate) fn open_namespace(
    store: Arc<dyn StepStore>,
    account: String,
) -> Result<(StepCache, Namespace, String), Error> {
    let cache = StepCache::new(store);
    let device = cache.device_id().map_err(Error::cache)?;
    let ns = cache.namespace(account).map_err(|e| match e {
        CacheError::InvalidInput { .. } => {
            Error::from_code(ErrorKind::Input, ErrorCode::INVALID_PARAMETER, &["account"])
                .with_detail(e.to_string())
        }
        other => Error::cache(other),
    })?;
    Ok((cache, ns, device.as_str().to_owned()))
}

impl Cached {
    /// Opens the cache the configuration names, for one account namespace.
    pub(crate) fn open(choice: &CacheChoice, account: String) -> Result<Self, Error> {
        let (cache, ns, device_id) = open_namespace(open_store(choice)?, account)?;
        if cache.health().is_degraded() {
            tracing::warn!("the step cache is degraded: steps are answered from the backend only");
        }
        Ok(Cached {
            device_id,
            cache,
            ns,
        })
    }

    /// The administration handle of this cache and namespace.
    pub(crate) fn admin(&self) -> crate::CacheAdmin {
        crate::CacheAdmin::new(self.cache.clone(), self.ns.clone(), self.device_id.clone())
    }

    pub(crate) fn device_id(&self) -> &str {
        &self.device_id
    }

    pub(crate) fn degraded(&self) -> bool {
        self.cache.health().is_degraded()
    }

    /// Runs a blocking cache operation off the async workers.
    async fn blocking<T, F>(&self, f: F) -> Result<T, CacheError>
    where
        F: FnOnce(&StepCache, &Namespace) -> Result<T, CacheError> + Send + 'static,
        T: Send + 'static,
    {
        off_workers(&self.cache, &self.ns, f).await
    }

    /// The sticky merge, stored durably; on a cache failure, the fresh list as it is.
    pub(crate) async fn merge(&self, selector: &StepsSelector, fresh: StepsList) -> StepsList {
        // The common case (nothing changed, every identifier linked) needs no write and is
        // answered from the cache's memory: no trip to the blocking pool.
        if let Ok(Some(cached)) = self.cache.get(&self.ns, selector)
            && cached.steps_id() == fresh.steps_id()
            && pims_types::merge(&cached, &fresh) == cached
        {
            return cached;
        }
        let keys = ListKeys::from_selector(selector).with_steps_id(fresh.steps_id().clone());
        let answer = fresh.clone();
        match self
            .blocking(move |c, ns| c.merge(ns, &keys, &answer))
            .await
        {
            Ok(merged) => {
                if merged.changed && !merged.durable && !self.degraded() {
                    tracing::warn!("a cached step change could not be made durable");
                }
                merged.list
            }
            Err(e) => {
                tracing::warn!(error = %e, "step cache unusable for this call: answering from the backend");
                fresh
            }
        }
    }

    pub(crate) async fn get(&self, selector: &StepsSelector) -> Option<StepsList> {
        let selector = selector.clone();
        match self.blocking(move |c, ns| c.get(ns, &selector)).await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "step cache read failed");
                None
            }
        }
    }

    pub(crate) async fn reset(&self, selector: &StepsSelector) -> Result<(), CacheError> {
        let selector = selector.clone();
        self.blocking(move |c, ns| c.reset(ns, &selector))
            .await
            .map(|_| ())
    }

    pub(crate) async fn invalidate_device(&self) -> Result<usize, CacheError> {
        self.blocking(|c, ns| c.invalidate_device(ns))
            .await
            .map(|r| r.lists)
    }
}

/// Runs a blocking cache operation where it cannot stall an async worker: on tokio's blocking
/// pool inside a runtime; in place outside one (a plain `block_on` may block its own thread).
pub(crate) async fn off_workers<T, F>(
    cache: &StepCache,
    ns: &Namespace,
    f: F,
) -> Result<T, CacheError>
where
    F: FnOnce(&StepCache, &Namespace) -> Result<T, CacheError> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return f(cache, ns);
    }
    let (cache, ns) = (cache.clone(), ns.clone());
    tokio::task::spawn_blocking(move || f(&cache, &ns))
        .await
        .unwrap_or_else(|e| {
            Err(CacheError::storage(
                "run",
                std::io::Error::other(e.to_string()),
            ))
        })
}

/// The store of the platform's data directory (`~/.local/share/pims/cache` on Linux); in
/// memory on a platform without one.
#[cfg(feature = "sled")]
fn default_store() -> Result<Arc<dyn StepStore>, Error> {
    match dirs::data_dir() {
        Some(base) => open_dir(&base.join("pims").join("cache")),
        None => {
            tracing::warn!("no data directory on this platform: the step cache is in memory only");
            Ok(Arc::new(pims_cache::MemoryStore::new()))
        }
    }
}

/// Without the `sled` feature there is no store on disk: a cache in memory would make every
/// start a new device to enrol (its id would not survive), so the app must give its store.
#[cfg(not(feature = "sled"))]
fn default_store() -> Result<Arc<dyn StepStore>, Error> {
    Err(Error::not_configured().with_detail(
        "pims was built without its `sled` feature: give a store (PimsBuilder::cache_store)",
    ))
}

#[cfg(feature = "sled")]
fn open_dir(dir: &std::path::Path) -> Result<Arc<dyn StepStore>, Error> {
    pims_cache::SledStore::open(dir, pims_cache::SledOptions::default())
        .map(|s| Arc::new(s) as Arc<dyn StepStore>)
        .map_err(Error::cache)
}

#[cfg(not(feature = "sled"))]
fn open_dir(dir: &std::path::Path) -> Result<Arc<dyn StepStore>, Error> {
    Err(Error::not_configured().with_detail(format!(
        "pims was built without its `sled` feature: no cache directory ({})",
        dir.display()
    )))
}
