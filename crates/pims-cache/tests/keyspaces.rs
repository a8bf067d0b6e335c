//! The store's key spaces and its layout record (`docs/cache.md`, "Key spaces"): a scan never
//! removes a record of a space the cache does not own, and a store of another layout is
//! refused, never misread, never cleaned up.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pims_cache::{
    CacheError, ListKeys, MemoryStore, SledOptions, SledStore, StepCache, StepStore, Swap, Visit,
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

fn plant(store: &dyn StepStore, entries: &[(&[u8], &[u8])]) {
    for (k, v) in entries {
        assert_eq!(
            store.compare_and_swap(k, None, Some(v)).unwrap(),
            Swap::Swapped
        );
    }
}

fn dump(store: &dyn StepStore) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut out = BTreeMap::new();
    store
        .scan_prefix(b"", &mut |k, v| {
            out.insert(k.to_vec(), v.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn assert_foreign_kept(store: &dyn StepStore) {
    for (k, v) in FOREIGN {
        assert_eq!(
            store.get(k).unwrap().as_deref(),
            Some(v),
            "{:?}",
            String::from_utf8_lossy(k)
        );
    }
}

/// Caches with foreign records planted, on the memory and the sled store.
fn on_both(check: impl Fn(&StepCache)) {
    let memory = StepCache::new(Arc::new(MemoryStore::new()));
    plant(&**memory.store(), &FOREIGN);
    check(&memory);
    let dir = tempfile::tempdir().unwrap();
    let sled = sled_cache(&dir.path().join("cache"));
    plant(&**sled.store(), &FOREIGN);
    check(&sled);
}

#[test]
fn wipe_check_reset_and_invalidate_leave_other_spaces_alone() {
    on_both(|cache| {
        let id = cache.device_id().unwrap();
        let a = cache.namespace("alice").unwrap();
        let b = cache.namespace("bob").unwrap();
        let car = StepsSelector::car_association_id("987654").unwrap();
        for (ns, sid) in [(&a, 1), (&a, 2), (&b, 3)] {
            let keys = ListKeys::new()
                .with_car_association_id(format!("c{sid}"))
                .with_vin(vin());
            cache
                .merge(ns, &keys, &three(sid, true, false, false))
                .unwrap();
        }
        cache
            .merge(&a, &ListKeys::from(&car), &three(4, true, true, false))
            .unwrap();
        assert_eq!(cache.reset(&a, &car).unwrap().lists, 1);
        assert_foreign_kept(&**cache.store());
        assert_eq!(cache.invalidate_device(&a).unwrap().lists, 2);
        assert_foreign_kept(&**cache.store());
        let report = cache.check().unwrap();
        assert_eq!((report.lists, report.unreadable_removed), (1, 0));
        assert_foreign_kept(&**cache.store());
        assert_eq!(cache.wipe().unwrap().lists, 1);
        assert_foreign_kept(&**cache.store());
        assert!(cache.lists(None).unwrap().is_empty());
        // What the cache owns and keeps through a wipe is kept too.
        assert_eq!(cache.device_id().unwrap(), id);
        assert!(cache.store().get(b"d").unwrap().is_some());
        assert!(cache.store().get(LAYOUT).unwrap().is_some());
    });
}

/// A store whose scans, once `stray` is set, ignore their prefix (a custom store's bug): every
/// entry is visited.
#[derive(Debug, Default)]
struct Stray(MemoryStore, AtomicBool);

impl StepStore for Stray {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.0.get(key)
    }
    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        self.0.compare_and_swap(key, expected, new)
    }
    fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.0.remove(key)
    }
    fn scan_prefix(&self, prefix: &[u8], visit: &mut Visit<'_>) -> Result<(), CacheError> {
        let stray = self.1.load(Ordering::SeqCst);
        self.0.scan_prefix(if stray { b"" } else { prefix }, visit)
    }
    fn flush(&self) -> Result<(), CacheError> {
        self.0.flush()
    }
    fn health(&self) -> pims_cache::Health {
        self.0.health()
    }
}

#[test]
fn a_scan_that_strays_from_its_prefix_removes_nothing_of_another_space() {
    let store = Arc::new(Stray::default());
    plant(&*store, &FOREIGN);
    let cache = StepCache::new(store.clone());
    let ns = cache.namespace("alice").unwrap();
    let keys = ListKeys::new().with_car_association_id("987654");
    cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .unwrap();
    store.1.store(true, Ordering::SeqCst);
    let before = dump(&*store);
    let kept: Vec<_> = before
        .keys()
        .filter(|k| !k.starts_with(b"L") && !k.starts_with(b"I"))
        .cloned()
        .collect();
    assert_eq!(cache.invalidate_device(&ns).unwrap().lists, 1);
    cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .unwrap();
    cache.check().unwrap();
    assert_eq!(cache.wipe().unwrap().lists, 1);
    let after = dump(&*store);
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
    assert_foreign_kept(&*store);
}

#[test]
fn the_layout_is_recorded_before_the_first_entry_and_not_by_reads() {
    let store = Arc::new(MemoryStore::new());
    let cache = StepCache::new(store.clone());
    let ns =
        pims_cache::Namespace::new("alice", pims_cache::DeviceId::parse("dev").unwrap()).unwrap();
    let car = StepsSelector::car_association_id("987654").unwrap();
    // Reads of an empty store write nothing.
    assert_eq!(cache.get(&ns, &car).unwrap(), None);
    assert!(cache.lists(None).unwrap().is_empty());
    cache.check().unwrap();
    assert!(dump(&*store).is_empty());
    cache
        .merge(&ns, &ListKeys::from(&car), &three(1, true, false, false))
        .unwrap();
    assert_eq!(
        store.get(LAYOUT).unwrap().as_deref(),
        Some(&b"\x02\x02"[..])
    );
    // The device id alone records it too.
    let other = Arc::new(MemoryStore::new());
    StepCache::new(other.clone()).device_id().unwrap();
    assert_eq!(
        other.get(LAYOUT).unwrap().as_deref(),
        Some(&b"\x02\x02"[..])
    );
}

#[test]
fn a_store_of_a_later_or_unreadable_layout_is_refused_and_left_as_it_is() {
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
        );
        plant(&*store, &FOREIGN);
        let before = dump(&*store);
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
        let text = refused(cache.device_id().unwrap_err());
        match found {
            Some(n) => assert!(text.contains(&format!("layout {n}")), "{text}"),
            None => assert!(text.contains("unreadable"), "{text}"),
        }
        refused(cache.namespace("alice").unwrap_err());
        refused(cache.get(&ns, &car).unwrap_err());
        refused(
            cache
                .merge(
                    &ns,
                    &ListKeys::from(&car),
                    &three(132324, true, false, false),
                )
                .unwrap_err(),
        );
        refused(cache.reset(&ns, &car).unwrap_err());
        refused(cache.invalidate_device(&ns).unwrap_err());
        refused(cache.wipe().unwrap_err());
        refused(cache.check().unwrap_err());
        refused(cache.lists(None).unwrap_err());
        assert_eq!(
            dump(&*store),
            before,
            "nothing read as ours, nothing removed"
        );
    }
}

#[test]
fn a_layout_1_cache_is_recorded_as_this_layout_with_its_entries_left_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let store = SledStore::open(&path, SledOptions::default()).unwrap();
        // What a development build of layout 1 left: `d`, and `l`/`i` entries.
        plant(&store, &[(b"d", b"\x01\"dev-1\"")]);
        plant(&store, &FOREIGN[..2]);
        store.flush().unwrap();
    }
    let cache = sled_cache(&path);
    assert_eq!(cache.device_id().unwrap().as_str(), "dev-1");
    let ns = cache.namespace("acct").unwrap();
    let car = StepsSelector::car_association_id("987654").unwrap();
    assert_eq!(
        cache.get(&ns, &car).unwrap(),
        None,
        "layout 1 is never served"
    );
    cache
        .merge(
            &ns,
            &ListKeys::from(&car),
            &three(132324, false, false, false),
        )
        .unwrap();
    assert_eq!(
        cache.store().get(LAYOUT).unwrap().as_deref(),
        Some(&b"\x02\x02"[..])
    );
    cache.wipe().unwrap();
    cache.check().unwrap();
    for (k, v) in &FOREIGN[..2] {
        assert_eq!(cache.store().get(k).unwrap().as_deref(), Some(*v));
    }
}

#[test]
fn a_sled_store_of_a_later_layout_is_refused_across_a_reopen_and_not_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    {
        let cache = sled_cache(&path);
        let ns = cache.namespace("acct").unwrap();
        cache
            .merge(&ns, &ListKeys::new(), &three(1, true, false, false))
            .unwrap();
        let store = cache.store();
        let Some(ours) = store.get(LAYOUT).unwrap() else {
            panic!("no layout record")
        };
        assert_eq!(
            store
                .compare_and_swap(LAYOUT, Some(&ours), Some(b"\x02\x09"))
                .unwrap(),
            Swap::Swapped
        );
        store.flush().unwrap();
    }
    let store = SledStore::open(&path, SledOptions::default()).unwrap();
    assert!(store.recovery().is_none(), "a layout is not damage");
    let before = dump(&store);
    let cache = StepCache::new(Arc::new(store));
    let e = cache.lists(None).unwrap_err();
    assert!(e.to_string().contains("layout 9"), "{e}");
    assert!(cache.wipe().is_err());
    assert_eq!(dump(&**cache.store()), before);
}
