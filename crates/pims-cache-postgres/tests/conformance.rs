//! The conformance kit of every store (`pims_cache::testkit`), on PostgreSQL: each case gets a
//! table of its own on the shared test server; each `open` is a new store (a new pool) on that
//! table, as a replica restarting.
//!
//! The kit runs its cases on a tokio runtime without I/O or timer drivers (enough for the
//! memory and sled stores), which a network client cannot run on: the stores it gets here do
//! their work on a runtime of this test process's, behind [`OnOwnRuntime`].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use pims_cache::testkit::StoreFactory;
use pims_cache::{BatchSwap, CacheError, Entry, Health, KeySwap, StepStore, Swap};
use pims_cache_postgres::PostgresStore;
use pims_cache_postgres::test_server::TestServer;

/// The runtime the stores of this process work on.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Runs `work` on [`runtime`], whatever runtime awaits it.
async fn on_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, CacheError>> + Send + 'static,
) -> Result<T, CacheError> {
    runtime()
        .spawn(work)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// A [`PostgresStore`] whose calls run on [`runtime`].
#[derive(Debug, Clone)]
struct OnOwnRuntime(PostgresStore);

#[async_trait]
impl StepStore for OnOwnRuntime {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        let (s, key) = (self.0.clone(), key.to_vec());
        on_runtime(async move { s.get(&key).await }).await
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let s = self.0.clone();
        let keys: Vec<Vec<u8>> = keys.iter().map(|k| k.to_vec()).collect();
        on_runtime(async move {
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            s.get_many(&refs).await
        })
        .await
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        let s = self.0.clone();
        let (key, expected, new) = (
            key.to_vec(),
            expected.map(<[u8]>::to_vec),
            new.map(<[u8]>::to_vec),
        );
        on_runtime(async move {
            s.compare_and_swap(&key, expected.as_deref(), new.as_deref())
                .await
        })
        .await
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        let s = self.0.clone();
        type Owned = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);
        let owned: Vec<Owned> = swaps
            .iter()
            .map(|w| {
                (
                    w.key.to_vec(),
                    w.expected.map(<[u8]>::to_vec),
                    w.new.map(<[u8]>::to_vec),
                )
            })
            .collect();
        on_runtime(async move {
            let swaps: Vec<KeySwap<'_>> = owned
                .iter()
                .map(|(k, e, n)| KeySwap::new(k, e.as_deref(), n.as_deref()))
                .collect();
            s.swap_all(&swaps).await
        })
        .await
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        let (s, key) = (self.0.clone(), key.to_vec());
        on_runtime(async move { s.remove(&key).await }).await
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        let s = self.0.clone();
        let (prefix, after) = (prefix.to_vec(), after.map(<[u8]>::to_vec));
        on_runtime(async move { s.scan(&prefix, after.as_deref(), limit).await }).await
    }

    async fn flush(&self) -> Result<(), CacheError> {
        let s = self.0.clone();
        on_runtime(async move { s.flush().await }).await
    }

    fn health(&self) -> Health {
        self.0.health()
    }

    fn generation(&self) -> Option<u64> {
        self.0.generation()
    }
}

/// PostgreSQL stores: a place is a table of its own (in one database of the shared test server
/// per process: a table is made in milliseconds, a database in a fifth of a second).
struct Postgres;

/// Where a case's store lives.
struct Place {
    url: String,
    table: String,
}

fn database() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        TestServer::shared()
            .expect("checked by the test before the case")
            .fresh_url()
    })
}

#[async_trait]
impl StoreFactory for Postgres {
    type Place = Place;

    async fn create(&self) -> Result<Place, CacheError> {
        static TABLES: AtomicU64 = AtomicU64::new(0);
        let place = Place {
            url: database().to_owned(),
            table: format!("kit_{}", TABLES.fetch_add(1, Ordering::Relaxed)),
        };
        let options = support::options(&place.url).table(&place.table)?;
        on_runtime(async move {
            let store = PostgresStore::connect(options).await?;
            store.migrate().await?;
            store.close();
            Ok(())
        })
        .await?;
        Ok(place)
    }

    async fn open(&self, place: &Place) -> Result<Arc<dyn StepStore>, CacheError> {
        let options = support::options(&place.url).table(&place.table)?;
        let store = on_runtime(PostgresStore::connect(options)).await?;
        Ok(Arc::new(OnOwnRuntime(store)))
    }
}

/// The factory, when a server can run (else None, the harness having said why; a failure
/// under CI=true).
fn postgres() -> Option<Postgres> {
    TestServer::shared().map(|_| Postgres)
}

// The factory expression is evaluated in each test: without a server, the test returns (a
// skip) before running its case.
pims_cache::store_conformance_tests!({
    let Some(factory) = postgres() else { return };
    factory
});
