//! The conformance kit of every store (`pims_cache::testkit`), on PostgreSQL: each case gets a
//! table of its own on the shared test server (a table is made in milliseconds, a database in
//! a fifth of a second); each `open` is a new store (a new pool) on that table, as a replica
//! restarting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use pims_cache::testkit::StoreFactory;
use pims_cache::{CacheError, StepStore};
use pims_cache_postgres::PostgresStore;
use pims_cache_postgres::test_server::TestServer;

/// PostgreSQL stores, a place a table of its own.
struct Postgres;

/// Where a case's store lives.
struct Place {
    url: String,
    table: String,
}

/// The database of this process's cases.
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
        let store =
            PostgresStore::connect(support::options(&place.url).table(&place.table)?).await?;
        store.migrate().await?;
        store.close();
        Ok(place)
    }

    async fn open(&self, place: &Place) -> Result<Arc<dyn StepStore>, CacheError> {
        let options = support::options(&place.url).table(&place.table)?;
        Ok(Arc::new(PostgresStore::connect(options).await?))
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
