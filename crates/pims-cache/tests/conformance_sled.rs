//! The conformance kit against the sled store, each case in a temporary directory. What only
//! sled has (its files, its recovery, the lock, a degraded directory) is in the other test
//! files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pims_cache::testkit::SledFactory;

pims_cache::store_conformance_tests!(SledFactory);

/// The kit checks `durable` against the store's health: here it is durable, so every change the
/// kit saw acknowledged was on disk.
#[test]
fn the_factorys_stores_are_durable() {
    use pims_cache::testkit::{StoreFactory, run};
    run(async {
        let place = SledFactory.create().await.unwrap();
        let store = SledFactory.open(&place).await.unwrap();
        assert!(store.health().is_durable(), "{}", store.health());
    });
}
