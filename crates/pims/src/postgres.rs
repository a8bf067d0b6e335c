//! The step cache on a PostgreSQL server shared by every replica of a service (feature
//! `postgres`): [`PimsBuilder::cache_postgres`](crate::PimsBuilder::cache_postgres).
//!
//! [`build_async`](crate::PimsBuilder::build_async) connects and migrates before it returns, so
//! a server that cannot be reached fails the build. The synchronous
//! [`build`](crate::PimsBuilder::build) cannot wait for a server: it gets a store that opens its
//! first session, and migrates, on its first use ([`MigratedOnFirstUse`]); until then the
//! facade's first call fails with the cache's error (no call carries a device id of nobody's).
//!
//! The database URL may carry a password: it is held as a [`Secret`] and never shown; what is
//! shown is the target, `user@host:port/dbname`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use pims_cache::{
    BatchSwap, CacheError, DeviceId, Entry, Followed, Health, KeySwap, StepStore, Swap,
};
use pims_cache_postgres::{PostgresOptions, PostgresStore};
use pims_types::Secret;
use tokio::sync::OnceCell;

use crate::error::Error;

/// A `postgres://` URL given to the builder: it may carry a password.
#[derive(Clone)]
pub(crate) struct DatabaseUrl(Secret);

impl DatabaseUrl {
    pub(crate) fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(Secret::new(url))
    }

    fn options(&self) -> Result<PostgresOptions, Error> {
        PostgresOptions::from_url(self.0.expose()).map_err(Error::cache)
    }

    /// The store, without a round trip (for the synchronous builder): it migrates on first use.
    pub(crate) fn open(&self) -> Result<Arc<dyn StepStore>, Error> {
        let store = PostgresStore::open(self.options()?).map_err(Error::cache)?;
        Ok(Arc::new(MigratedOnFirstUse::new(store)))
    }

    /// The store, connected and migrated (every replica may do it at start: migrations are
    /// serialised by the server).
    pub(crate) async fn connect(&self) -> Result<Arc<dyn StepStore>, Error> {
        let store = PostgresStore::connect(self.options()?)
            .await
            .map_err(Error::cache)?;
        store.migrate().await.map_err(Error::cache)?;
        Ok(Arc::new(store))
    }
}

/// Shows where the store is, never the password (nor the URL, which may hold one).
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match PostgresOptions::from_url(self.0.expose()) {
            Ok(options) => write!(f, "postgres({})", options.target()),
            Err(_) => f.write_str("postgres(an invalid URL)"),
        }
    }
}

/// A PostgreSQL store that runs its migration before its first operation (once; a failed
/// migration is tried again by the next operation).
pub(crate) struct MigratedOnFirstUse {
    store: PostgresStore,
    migrated: OnceCell<()>,
}

impl MigratedOnFirstUse {
    fn new(store: PostgresStore) -> Self {
        MigratedOnFirstUse {
            store,
            migrated: OnceCell::new(),
        }
    }

    async fn ready(&self) -> Result<&PostgresStore, CacheError> {
        self.migrated
            .get_or_try_init(|| async { self.store.migrate().await.map(|_| ()) })
            .await?;
        Ok(&self.store)
    }
}

impl fmt::Debug for MigratedOnFirstUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MigratedOnFirstUse")
            .field("store", &self.store)
            .field("migrated", &self.migrated.initialized())
            .finish()
    }
}

#[async_trait]
impl StepStore for MigratedOnFirstUse {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.ready().await?.get(key).await
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        self.ready().await?.get_many(keys).await
    }

    async fn get_following(
        &self,
        key: &[u8],
        tag: &[u8],
        prefix: &[u8],
    ) -> Result<Followed, CacheError> {
        self.ready().await?.get_following(key, tag, prefix).await
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        self.ready()
            .await?
            .compare_and_swap(key, expected, new)
            .await
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        self.ready().await?.swap_all(swaps).await
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.ready().await?.remove(key).await
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        self.ready().await?.scan(prefix, after, limit).await
    }

    async fn flush(&self) -> Result<(), CacheError> {
        self.ready().await?.flush().await
    }

    fn needs_flush(&self) -> bool {
        self.store.needs_flush()
    }

    fn health(&self) -> Health {
        self.store.health()
    }

    fn generation(&self) -> Option<u64> {
        self.store.generation()
    }

    fn epoch(&self) -> u64 {
        self.store.epoch()
    }

    async fn kept_device_id(&self) -> Result<Option<DeviceId>, CacheError> {
        self.ready().await?.kept_device_id().await
    }

    async fn keep_device_id(&self, id: &DeviceId) -> Result<Option<DeviceId>, CacheError> {
        self.ready().await?.keep_device_id(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_and_its_password_are_never_shown() {
        let url = DatabaseUrl::new("postgres://app:canary-pw-31337@db.internal:5433/steps");
        let shown = format!("{url:?}");
        assert_eq!(shown, "postgres(app@db.internal:5433/steps)");
        let bad = DatabaseUrl::new("mysql://app:canary-pw-31337@db/x");
        assert_eq!(format!("{bad:?}"), "postgres(an invalid URL)");
        let e = bad.open().unwrap_err();
        assert!(!e.to_string().contains("canary-pw-31337"), "{e}");
        assert!(!format!("{e:?}").contains("canary-pw-31337"));
    }

    #[test]
    fn opening_needs_no_server_nor_runtime() {
        // Port 1 on loopback: nothing listens there; the store opens anyway.
        let store = DatabaseUrl::new("postgres://app@127.0.0.1:1/steps")
            .open()
            .unwrap();
        assert!(!store.needs_flush());
        assert_eq!(store.generation(), None);
        assert!(!format!("{store:?}").contains("password"));
    }
}
