//! The cache's rules where the sled store's own parts show: the device id file beside sled's
//! directory, the store's write and flush counters, a directory that cannot exist. (The rules
//! every store shares are the conformance kit's, run on sled by `conformance_sled.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use pims_cache::{ListKeys, SledStore, StepCache, StepStore};
use pims_types::StepsSelector;
use support::*;

fn car(c: &str) -> StepsSelector {
    StepsSelector::car_association_id(c).unwrap()
}

fn sid(s: &str) -> StepsSelector {
    StepsSelector::steps_id(s).unwrap()
}

fn by_vin() -> StepsSelector {
    StepsSelector::Vin(vin())
}

/// Replaces the device id entry of the closed cache at `path` by `junk`; the store, open.
async fn damage_entry(path: &std::path::Path, junk: &[u8]) -> SledStore {
    let store = SledStore::open(path, Default::default()).unwrap();
    let old = store.get(b"d").await.unwrap().unwrap();
    assert_eq!(
        store
            .compare_and_swap(b"d", Some(&old), Some(junk))
            .await
            .unwrap(),
        pims_cache::Swap::Swapped
    );
    store.flush().await.unwrap();
    store
}

#[tokio::test]
async fn the_device_id_survives_a_restart_and_an_unreadable_entry_and_is_replaced_only_when_unreadable_everywhere()
 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let id = sled_cache(&path).device_id().await.unwrap();
    assert_eq!(sled_cache(&path).device_id().await.unwrap(), id);
    let junk: &[u8] = b"\x01\"not a valid id!\"";
    // The entry unreadable: the id file still holds the id, and the entry follows it again.
    let store = damage_entry(&path, junk).await;
    assert_eq!(
        StepCache::new(Arc::new(store)).device_id().await.unwrap(),
        id
    );
    let store = SledStore::open(&path, Default::default()).unwrap();
    assert_ne!(store.get(b"d").await.unwrap().as_deref(), Some(junk));
    drop(store);
    // Unreadable everywhere (the entry, then the file): only then a new id, kept from then on.
    drop(damage_entry(&path, junk).await);
    std::fs::write(path.join(pims_cache::DEVICE_FILE), b"not an id either\n").unwrap();
    let replaced = sled_cache(&path).device_id().await.unwrap();
    assert_ne!(replaced, id);
    assert_eq!(sled_cache(&path).device_id().await.unwrap(), replaced);
    assert_eq!(
        std::fs::read_to_string(path.join(pims_cache::DEVICE_FILE)).unwrap(),
        format!("{replaced}\n")
    );
}

#[tokio::test]
async fn writes_only_on_change_and_flushes_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("cache"), Default::default()).unwrap();
    let cache = StepCache::new(Arc::new(store.clone()));
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&car("987654")).with_vin(vin());
    let m = cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
    assert!(m.changed && m.durable);
    let before = store.stats();
    for _ in 0..100 {
        let m = cache
            .merge(&ns, &keys, &three(1, false, false, false))
            .await
            .unwrap();
        assert!(!m.changed && m.durable);
        cache.get(&ns, &by_vin()).await.unwrap().unwrap();
    }
    assert_eq!(
        store.stats(),
        before,
        "no write and no flush without a change"
    );
    let m = cache
        .merge(&ns, &keys, &three(1, false, true, false))
        .await
        .unwrap();
    assert!(m.changed && m.durable);
    let after = store.stats();
    assert_eq!(after.writes, before.writes + 1);
    assert_eq!(after.flushes, before.flushes + 1);
    let r = cache.reset(&ns, &sid("1")).await.unwrap();
    assert!(r.durable);
    assert_eq!(store.stats().flushes, after.flushes + 1);
}

#[tokio::test]
async fn a_directory_that_cannot_exist_degrades_to_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    // A directory under a regular file cannot be created.
    let store = SledStore::open(file.join("cache"), Default::default()).unwrap();
    let health = store.health();
    assert!(health.is_degraded(), "{health}");
    let cache = StepCache::new(Arc::new(store));
    let ns = cache.namespace("acct").await.unwrap();
    let m = cache
        .merge(
            &ns,
            &ListKeys::from(&car("1")),
            &three(1, true, false, false),
        )
        .await
        .unwrap();
    assert!(m.changed && !m.durable);
    assert_eq!(cache.get(&ns, &car("1")).await.unwrap(), Some(m.list));
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}
