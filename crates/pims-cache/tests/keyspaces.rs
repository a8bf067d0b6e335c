//! The store's key spaces and its layout record (`docs/cache.md`, "Key spaces"): a scan never
//! removes a record of a space the cache does not own, and a store of another layout is
//! refused, never misread, never cleaned up.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use pims_cache::testkit::Forwarding;
use pims_cache::{
    CacheError, ListKeys, MemoryStore, SledOptions, SledStore, StepCache, StepStore, Swap,
};
use pims_types::StepsSelector;
use support::*;

/// Records of spaces the cache does not own: layout 1's retired `l`/`i` entries, a later
/// version's reserved ones (a quota ledger), an undeclared tag.
const FOREIGN: [(&[u8], &[u8]); 5] = [
    (b"l\x00\x04acct\x00\x03dev132324", b"\x01{\"id\":132324}"),
    (b"i\x00\x04acct\x00\x03devc987654", b"\x01\"132324\""),
    (b"\x80quota/acct", b"\x02\x05"),
    (b"\xffledger", b"anything"),
    (b"Zundeclared", b"\x00"),
];

/// The layout record's key.
const LAYOUT: &[u8] = b"V";

async fn plant(store: &dyn StepStore, entries: &[(&[u8], &[u8])]) {
    for (k, v) in entries {
        assert_eq!(
            store.compare_and_swap(k, None, Some(v)).await.unwrap(),
            Swap::Swapped
        );
    }
}

async fn dump(store: &dyn StepStore) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let all = store.scan(b"", None, usize::MAX).await.unwrap();
    all.into_iter().collect()
}

async fn assert_foreign_kept(store: &dyn StepStore) {
    for (k, v) in FOREIGN {
        assert_eq!(
            store.get(k).await.unwrap().as_deref(),
            Some(v),
            "{:?}",
            String::from_utf8_lossy(k)
        );
    }
}

/// Caches with foreign records planted, on the memory and the sled store (with the sled
/// store's directory).
async fn both() -> Vec<(StepCache, Option<tempfile::TempDir>)> {
    let memory = StepCache::new(Arc::new(MemoryStore::new()));
    plant(&**memory.store(), &FOREIGN).await;
    let dir = tempfile::tempdir().unwrap();
    let sled = sled_cache(&dir.path().join("cache"));
    plant(&**sled.store(), &FOREIGN).await;
    vec![(memory, None), (sled, Some(dir))]
}

#[tokio::test]
async fn wipe_check_reset_and_invalidate_leave_other_spaces_alone() {
    for (cache, _dir) in both().await {
        let id = cache.device_id().await.unwrap();
        let a = cache.namespace("alice").await.unwrap();
        let b = cache.namespace("bob").await.unwrap();
        let car = StepsSelector::car_association_id("987654").unwrap();
        for (ns, sid) in [(&a, 1), (&a, 2), (&b, 3)] {
            let keys = ListKeys::new()
                .with_car_association_id(format!("c{sid}"))
                .with_vin(vin());
            cache
                .merge(ns, &keys, &three(sid, true, false, false))
                .await
                .unwrap();
        }
        cache
            .merge(&a, &ListKeys::from(&car), &three(4, true, true, false))
            .await
            .unwrap();
        assert_eq!(cache.reset(&a, &car).await.unwrap().lists, 1);
        assert_foreign_kept(&**cache.store()).await;
        assert_eq!(cache.invalidate_device(&a).await.unwrap().lists, 2);
        assert_foreign_kept(&**cache.store()).await;
        let report = cache.check().await.unwrap();
        assert_eq!((report.lists, report.unreadable_removed), (1, 0));
        assert_foreign_kept(&**cache.store()).await;
        assert_eq!(cache.wipe().await.unwrap().lists, 1);
        assert_foreign_kept(&**cache.store()).await;
        assert!(cache.lists(None).await.unwrap().is_empty());
        // What the cache owns and keeps through a wipe is kept too.
        assert_eq!(cache.device_id().await.unwrap(), id);
        assert!(cache.store().get(b"d").await.unwrap().is_some());
        assert!(cache.store().get(LAYOUT).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_scan_that_strays_from_its_prefix_removes_nothing_of_another_space() {
    // Its scans, once told to, ignore their prefix (a custom store's bug): every entry comes.
    let store = Arc::new(Forwarding::new(MemoryStore::new()));
    plant(&*store, &FOREIGN).await;
    let cache = StepCache::new(store.clone());
    let ns = cache.namespace("alice").await.unwrap();
    let keys = ListKeys::new().with_car_association_id("987654");
    cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
    store.stray_scans(true);
    let before = dump(&*store).await;
    let kept: Vec<_> = before
        .keys()
        .filter(|k| !k.starts_with(b"L") && !k.starts_with(b"I"))
        .cloned()
        .collect();
    assert_eq!(cache.invalidate_device(&ns).await.unwrap().lists, 1);
    cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
    cache.check().await.unwrap();
    assert_eq!(cache.wipe().await.unwrap().lists, 1);
    let after = dump(&*store).await;
    for k in &kept {
        assert_eq!(
            after.get(k),
            before.get(k),
            "{:?}",
            String::from_utf8_lossy(k)
        );
    }
    assert!(
        after
            .keys()
            .all(|k| !k.starts_with(b"L") && !k.starts_with(b"I"))
    );
    assert_foreign_kept(&*store).await;
}

#[tokio::test]
async fn the_layout_is_recorded_before_the_first_entry_and_not_by_reads() {
    let store = Arc::new(MemoryStore::new());
    let cache = StepCache::new(store.clone());
    let ns =
        pims_cache::Namespace::new("alice", pims_cache::DeviceId::parse("dev").unwrap()).unwrap();
    let car = StepsSelector::car_association_id("987654").unwrap();
    // Reads of an empty store write nothing.
    assert_eq!(cache.get(&ns, &car).await.unwrap(), None);
    assert!(cache.lists(None).await.unwrap().is_empty());
    cache.check().await.unwrap();
    assert!(dump(&*store).await.is_empty());
    cache
        .merge(&ns, &ListKeys::from(&car), &three(1, true, false, false))
        .await
        .unwrap();
    assert_eq!(
        store.get(LAYOUT).await.unwrap().as_deref(),
        Some(&b"\x02\x02"[..])
    );
    // The device id alone records it too.
    let other = Arc::new(MemoryStore::new());
    StepCache::new(other.clone()).device_id().await.unwrap();
    assert_eq!(
        other.get(LAYOUT).await.unwrap().as_deref(),
        Some(&b"\x02\x02"[..])
    );
}

/// A store written before the layout record existed (the cache's entries, no record) gets the
/// record with its next change, even one into a namespace it already has; reads write nothing.
#[tokio::test]
async fn a_store_without_the_record_gets_it_with_its_next_change() {
    let store = Arc::new(MemoryStore::new());
    {
        let cache = StepCache::new(store.clone());
        let ns = cache.namespace("alice").await.unwrap();
        cache
            .merge(&ns, &ListKeys::new(), &three(1, true, false, false))
            .await
            .unwrap();
    }
    // As a version before the record left it.
    assert!(store.remove(LAYOUT).await.unwrap().is_some());
    let cache = StepCache::new(store.clone());
    let ns = cache.namespace("alice").await.unwrap();
    let by_sid = StepsSelector::steps_id("1").unwrap();
    assert!(cache.get(&ns, &by_sid).await.unwrap().is_some());
    assert_eq!(store.get(LAYOUT).await.unwrap(), None, "a read wrote it");
    let m = cache
        .merge(&ns, &ListKeys::new(), &three(1, false, true, false))
        .await
        .unwrap();
    assert!(m.changed);
    assert_eq!(
        store.get(LAYOUT).await.unwrap().as_deref(),
        Some(&b"\x02\x02"[..])
    );
}

#[tokio::test]
async fn a_store_of_a_later_or_unreadable_layout_is_refused_and_left_as_it_is() {
    for (layout, found) in [(&b"\x02\x03"[..], Some(3)), (&b"\x07junk"[..], None)] {
        let store = Arc::new(MemoryStore::new());
        // A later layout's store: its entries may mean something else now.
        plant(
            &*store,
            &[
                (LAYOUT, layout),
                (b"d", b"\x01\"dev-1\""),
                (b"L\x01132324", b"\x09later"),
                (b"n\x00\x05alice\x00\x05dev-1", b"\x02\x01"),
                (b"m\x01", b"\x02\x00\x05alice\x00\x05dev-1"),
            ],
        )
        .await;
        plant(&*store, &FOREIGN).await;
        let before = dump(&*store).await;
        let cache = StepCache::new(store.clone());
        let ns = pims_cache::Namespace::new("alice", pims_cache::DeviceId::parse("dev-1").unwrap())
            .unwrap();
        let car = StepsSelector::car_association_id("987654").unwrap();
        let refused = |e: CacheError| {
            assert!(
                matches!(e, CacheError::UnsupportedLayout { found: f } if f == found),
                "{e:?}"
            );
            assert_eq!(e.code().as_u32(), 2006);
            e.to_string()
        };
        let text = refused(cache.device_id().await.unwrap_err());
        match found {
            Some(n) => assert!(text.contains(&format!("layout {n}")), "{text}"),
            None => assert!(text.contains("unreadable"), "{text}"),
        }
        refused(cache.namespace("alice").await.unwrap_err());
        refused(cache.get(&ns, &car).await.unwrap_err());
        refused(
            cache
                .merge(
                    &ns,
                    &ListKeys::from(&car),
                    &three(132324, true, false, false),
                )
                .await
                .unwrap_err(),
        );
        refused(cache.reset(&ns, &car).await.unwrap_err());
        refused(cache.invalidate_device(&ns).await.unwrap_err());
        refused(cache.wipe().await.unwrap_err());
        refused(cache.check().await.unwrap_err());
        refused(cache.lists(None).await.unwrap_err());
        assert_eq!(
            dump(&*store).await,
            before,
            "nothing read as ours, nothing removed"
        );
    }
}

#[tokio::test]
async fn a_layout_1_cache_is_recorded_as_this_layout_with_its_entries_left_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let store = SledStore::open(&path, SledOptions::default()).unwrap();
        // What a development build of layout 1 left: `d`, and `l`/`i` entries.
        plant(&store, &[(b"d", b"\x01\"dev-1\"")]).await;
        plant(&store, &FOREIGN[..2]).await;
        store.flush().await.unwrap();
    }
    let cache = sled_cache(&path);
    assert_eq!(cache.device_id().await.unwrap().as_str(), "dev-1");
    let ns = cache.namespace("acct").await.unwrap();
    let car = StepsSelector::car_association_id("987654").unwrap();
    assert_eq!(
        cache.get(&ns, &car).await.unwrap(),
        None,
        "layout 1 is never served"
    );
    cache
        .merge(
            &ns,
            &ListKeys::from(&car),
            &three(132324, false, false, false),
        )
        .await
        .unwrap();
    assert_eq!(
        cache.store().get(LAYOUT).await.unwrap().as_deref(),
        Some(&b"\x02\x02"[..])
    );
    cache.wipe().await.unwrap();
    cache.check().await.unwrap();
    for (k, v) in &FOREIGN[..2] {
        assert_eq!(cache.store().get(k).await.unwrap().as_deref(), Some(*v));
    }
}

#[tokio::test]
async fn a_sled_store_of_a_later_layout_is_refused_across_a_reopen_and_not_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let cache = sled_cache(&path);
        let ns = cache.namespace("acct").await.unwrap();
        cache
            .merge(&ns, &ListKeys::new(), &three(1, true, false, false))
            .await
            .unwrap();
        let store = cache.store();
        let Some(ours) = store.get(LAYOUT).await.unwrap() else {
            panic!("no layout record")
        };
        assert_eq!(
            store
                .compare_and_swap(LAYOUT, Some(&ours), Some(b"\x02\x09"))
                .await
                .unwrap(),
            Swap::Swapped
        );
        store.flush().await.unwrap();
    }
    let store = SledStore::open(&path, SledOptions::default()).unwrap();
    assert!(store.recovery().is_none(), "a layout is not damage");
    let before = dump(&store).await;
    let cache = StepCache::new(Arc::new(store));
    let e = cache.lists(None).await.unwrap_err();
    assert!(e.to_string().contains("layout 9"), "{e}");
    assert!(cache.wipe().await.is_err());
    assert_eq!(dump(&**cache.store()).await, before);
}
