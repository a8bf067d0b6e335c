//! Where the step cache lives ([`CacheChoice`]), and opening the store it names.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use pims_cache::StepStore;

use crate::error::Error;

/// Where the step cache lives.
#[derive(Clone)]
pub(crate) enum CacheChoice {
    /// The platform data directory (`~/.local/share/pims/cache` on Linux).
    Default,
    /// A directory of the caller's.
    Dir(PathBuf),
    /// A store of the caller's.
    Store(Arc<dyn StepStore>),
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

impl CacheChoice {
    /// Opens the store this names: a directory in use by another process, or one the store
    /// refuses, is a clear error (2006, the cache error as its source).
    pub(crate) fn open_store(&self) -> Result<Arc<dyn StepStore>, Error> {
        Ok(match self {
            CacheChoice::Store(store) => store.clone(),
            CacheChoice::Dir(dir) => open_dir(dir)?,
            CacheChoice::Default => default_store()?,
            #[cfg(feature = "postgres")]
            CacheChoice::Postgres(url) => url.open()?,
        })
    }
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

#[cfg(all(test, not(feature = "sled")))]
mod tests {
    use super::*;
    use pims_types::ErrorCode;

    /// Built without `sled`: no silent cache in memory (a new device on every start).
    #[test]
    fn without_sled_the_default_cache_is_refused_with_the_reason() {
        let e = CacheChoice::Default.open_store().unwrap_err();
        assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
        assert!(e.detail().unwrap().contains("`sled` feature"));
        let e = CacheChoice::Dir("/tmp/x".into()).open_store().unwrap_err();
        assert!(e.detail().unwrap().contains("`sled` feature"));
    }
}
