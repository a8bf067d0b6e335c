//! Where the suites get their stores: [`StoreFactory`], and the factories of this crate's
//! stores ([`MemoryFactory`], [`SledFactory`]) and of a store without a generation
//! ([`WithoutGeneration`]).

use std::sync::Arc;

use async_trait::async_trait;

use super::Forwarding;
use crate::error::CacheError;
use crate::memory::MemoryStore;
use crate::store::StepStore;

/// Makes the stores a suite runs on: a new empty place per case, and the store at a place,
/// opened again for a restart.
///
/// A store of yours passes the kit with a factory of its own: [`create`](Self::create) makes a
/// place nobody else uses (a temporary directory, a fresh database or key prefix), empty;
/// [`open`](Self::open) returns the store at that place. A case opens a place again only once
/// every handle of the store it opened before has been dropped: a restart, after which what
/// was flushed must still be there. The place is dropped at the end of the case (clean up in
/// its `Drop`).
///
/// ```
/// use std::sync::Arc;
/// use pims_cache::testkit::StoreFactory;
/// use pims_cache::{CacheError, MemoryStore, StepStore};
///
/// /// Memory stores that forget everything at a restart: not a factory the kit accepts, as
/// /// its model suite would tell (what was flushed must survive a reopen).
/// struct Forgetful;
///
/// #[async_trait::async_trait]
/// impl StoreFactory for Forgetful {
///     type Place = ();
///     async fn create(&self) -> Result<(), CacheError> {
///         Ok(())
///     }
///     async fn open(&self, _: &()) -> Result<Arc<dyn StepStore>, CacheError> {
///         Ok(Arc::new(MemoryStore::new()))
///     }
/// }
/// ```
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// Where a store lives (a directory, a database, a map). Dropped at the end of a case.
    type Place: Send + Sync;

    /// A new, empty place, used by nobody else.
    async fn create(&self) -> Result<Self::Place, CacheError>;

    /// The store at `place`, with what it holds.
    async fn open(&self, place: &Self::Place) -> Result<Arc<dyn StepStore>, CacheError>;
}

/// [`MemoryStore`]s. A place is one map, which outlives its stores: reopening it finds
/// everything (a store that survives restarts, the contract the durable stores keep).
///
/// ```
/// # pims_cache::testkit::run(async {
/// use pims_cache::testkit::{MemoryFactory, StoreFactory};
/// let factory = MemoryFactory;
/// let place = factory.create().await.unwrap();
/// let store = factory.open(&place).await.unwrap();
/// let _ = store.compare_and_swap(b"k", None, Some(b"v")).await.unwrap();
/// drop(store);
/// let again = factory.open(&place).await.unwrap();
/// assert_eq!(again.get(b"k").await.unwrap(), Some(b"v".to_vec()));
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryFactory;

#[async_trait]
impl StoreFactory for MemoryFactory {
    type Place = MemoryStore;

    async fn create(&self) -> Result<MemoryStore, CacheError> {
        Ok(MemoryStore::new())
    }

    async fn open(&self, place: &MemoryStore) -> Result<Arc<dyn StepStore>, CacheError> {
        // Clones share the map.
        Ok(Arc::new(place.clone()))
    }
}

/// The stores of another factory with their [`generation`](StepStore::generation) hidden
/// (always `None`), as a store shared between processes has none: the cache then keeps no
/// memo and reads the store every time. Running the suites through it proves that the
/// cache's answers never depend on its memo.
///
/// ```
/// # pims_cache::testkit::run(async {
/// use pims_cache::testkit::{MemoryFactory, StoreFactory, WithoutGeneration};
/// let factory = WithoutGeneration(MemoryFactory);
/// let place = factory.create().await.unwrap();
/// assert_eq!(factory.open(&place).await.unwrap().generation(), None);
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct WithoutGeneration<F>(pub F);

#[async_trait]
impl<F: StoreFactory> StoreFactory for WithoutGeneration<F> {
    type Place = F::Place;

    async fn create(&self) -> Result<F::Place, CacheError> {
        self.0.create().await
    }

    async fn open(&self, place: &F::Place) -> Result<Arc<dyn StepStore>, CacheError> {
        let store = Forwarding::shared(self.0.open(place).await?);
        store.hide_generation(true);
        Ok(Arc::new(store))
    }
}

/// [`SledStore`](crate::SledStore)s, each place a temporary directory (removed with it),
/// opened with [`SledOptions::default`](crate::SledOptions).
///
/// ```
/// # pims_cache::testkit::run(async {
/// use pims_cache::testkit::{SledFactory, StoreFactory};
/// let factory = SledFactory;
/// let place = factory.create().await.unwrap();
/// assert!(factory.open(&place).await.unwrap().health().is_durable());
/// # });
/// ```
#[cfg(feature = "sled")]
#[derive(Debug, Clone, Copy, Default)]
pub struct SledFactory;

/// A temporary directory holding one sled store (its `cache` subdirectory).
#[cfg(feature = "sled")]
pub struct SledPlace(tempfile::TempDir);

#[cfg(feature = "sled")]
impl SledPlace {
    /// The store's directory.
    ///
    /// ```
    /// # pims_cache::testkit::run(async {
    /// use pims_cache::testkit::{SledFactory, StoreFactory};
    /// let place = SledFactory.create().await.unwrap();
    /// assert!(place.path().ends_with("cache"));
    /// # });
    /// ```
    pub fn path(&self) -> std::path::PathBuf {
        self.0.path().join("cache")
    }
}

#[cfg(feature = "sled")]
impl std::fmt::Debug for SledPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SledPlace").field(&self.path()).finish()
    }
}

#[cfg(feature = "sled")]
#[async_trait]
impl StoreFactory for SledFactory {
    type Place = SledPlace;

    async fn create(&self) -> Result<SledPlace, CacheError> {
        tempfile::tempdir()
            .map(SledPlace)
            .map_err(|e| CacheError::storage("create a temporary directory", e))
    }

    async fn open(&self, place: &SledPlace) -> Result<Arc<dyn StepStore>, CacheError> {
        // Opening reads sled's files: on the blocking pool inside a runtime, as every wait on
        // the disk must be.
        let path = place.path();
        let open = move || crate::SledStore::open(path, crate::SledOptions::default());
        let store = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(open)
                .await
                .map_err(|e| CacheError::storage("open", std::io::Error::other(e)))??,
            Err(_) => open()?,
        };
        Ok(Arc::new(store))
    }
}
