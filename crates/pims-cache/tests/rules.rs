//! The cache's rules, on both stores: sticky alreadyDone, one list under three names, resets,
//! namespaces, the device id, unreadable records, and writing only on change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::ops::ControlFlow;
use std::sync::Arc;

use pims_cache::{CacheError, ListKeys, MemoryStore, SledStore, StepCache, StepStore};
use pims_types::{StepName, StepStatus, StepsId, StepsList, StepsSelector};
use support::*;

/// Runs `check` on an in-memory cache and on a sled cache.
fn on_both(check: impl Fn(&StepCache)) {
    check(&StepCache::new(Arc::new(MemoryStore::new())));
    let dir = tempfile::tempdir().unwrap();
    check(&sled_cache(&dir.path().join("cache")));
}

fn car(c: &str) -> StepsSelector {
    StepsSelector::car_association_id(c).unwrap()
}

fn sid(s: &str) -> StepsSelector {
    StepsSelector::steps_id(s).unwrap()
}

fn by_vin() -> StepsSelector {
    StepsSelector::Vin(vin())
}

/// The raw list records of a store (key, value).
fn raw_lists(cache: &StepCache) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    cache
        .store()
        .scan_prefix(b"L", &mut |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

#[test]
fn already_done_sticks_until_reset() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        let keys = ListKeys::from(&car("987654"));
        let m = cache
            .merge(&ns, &keys, &three(132324, true, true, false))
            .unwrap();
        assert!(m.changed);
        let m = cache
            .merge(&ns, &keys, &three(132324, false, false, false))
            .unwrap();
        assert_eq!(done(&m.list), ["trusterPhoneNumber", "deviceActivation"]);
        assert!(!m.changed);
        // A step done later joins.
        let m = cache
            .merge(&ns, &keys, &three(132324, false, false, true))
            .unwrap();
        assert!(m.changed);
        assert!(m.list.all_done());

        let r = cache.reset(&ns, &car("987654")).unwrap();
        assert_eq!(r.lists, 1);
        assert_eq!(cache.get(&ns, &car("987654")).unwrap(), None);
        assert_eq!(cache.get(&ns, &sid("132324")).unwrap(), None);
        let m = cache
            .merge(&ns, &keys, &three(132324, false, false, false))
            .unwrap();
        assert!(done(&m.list).is_empty());
    });
}

#[test]
fn one_list_under_its_three_names() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        cache
            .merge(
                &ns,
                &ListKeys::from(&car("987654")),
                &three(7, true, false, false),
            )
            .unwrap();
        // Fetched again by VIN: the backend answers the same list, the cache links the VIN.
        let m = cache
            .merge(
                &ns,
                &ListKeys::from(&by_vin()),
                &three(7, false, true, false),
            )
            .unwrap();
        assert_eq!(done(&m.list), ["trusterPhoneNumber", "deviceActivation"]);
        // By stepsID: the answer names itself.
        cache
            .merge(
                &ns,
                &ListKeys::from(&sid("7")),
                &three(7, false, false, false),
            )
            .unwrap();
        for selector in [car("987654"), sid("7"), by_vin()] {
            let got = cache.get(&ns, &selector).unwrap().unwrap();
            assert_eq!(done(&got), ["trusterPhoneNumber", "deviceActivation"]);
        }
        let shown = cache.lists(Some(&ns)).unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].car_association_id.as_deref(), Some("987654"));
        assert_eq!(shown[0].vin, Some(vin()));

        // A reset by any name removes every name.
        assert_eq!(cache.reset(&ns, &by_vin()).unwrap().lists, 1);
        for selector in [car("987654"), sid("7"), by_vin()] {
            assert_eq!(cache.get(&ns, &selector).unwrap(), None);
        }
        let report = cache.check().unwrap();
        assert_eq!((report.lists, report.links), (0, 0));
    });
}

#[test]
fn a_new_steps_id_for_the_same_car_association_replaces_the_old_list() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        let keys = ListKeys::from(&car("987654")).with_vin(vin());
        cache
            .merge(&ns, &keys, &three(1, true, false, false))
            .unwrap();
        let m = cache
            .merge(
                &ns,
                &ListKeys::from(&car("987654")),
                &three(2, false, false, true),
            )
            .unwrap();
        assert_eq!(m.list.steps_id().as_str(), "2");
        assert_eq!(done(&m.list), ["trusterPhoneNumber", "mediumCarKey"]);
        assert_eq!(cache.get(&ns, &sid("1")).unwrap(), None);
        // The VIN followed the list.
        assert_eq!(
            cache
                .get(&ns, &by_vin())
                .unwrap()
                .unwrap()
                .steps_id()
                .as_str(),
            "2"
        );
        assert_eq!(cache.lists(Some(&ns)).unwrap().len(), 1);
        cache.reset(&ns, &car("987654")).unwrap();
        assert!(cache.lists(Some(&ns)).unwrap().is_empty());
        assert_eq!(cache.get(&ns, &by_vin()).unwrap(), None);
    });
}

#[test]
fn a_vin_answered_with_another_list_carries_its_steps() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        let keys = ListKeys::from(&by_vin());
        cache
            .merge(&ns, &keys, &three(1, false, false, true))
            .unwrap();
        let m = cache
            .merge(&ns, &keys, &three(2, false, false, false))
            .unwrap();
        assert_eq!(done(&m.list), ["mediumCarKey"]);
        // The first list is still there under its own stepsID; the VIN names the new one.
        assert!(cache.get(&ns, &sid("1")).unwrap().is_some());
        assert_eq!(
            cache
                .get(&ns, &by_vin())
                .unwrap()
                .unwrap()
                .steps_id()
                .as_str(),
            "2"
        );
        // Resetting the old one does not touch the VIN's link to the new one.
        cache.reset(&ns, &sid("1")).unwrap();
        assert!(cache.get(&ns, &by_vin()).unwrap().is_some());
    });
}

#[test]
fn a_list_known_only_by_steps_id_gains_its_names_later() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        cache
            .merge(
                &ns,
                &ListKeys::from(&sid("9")),
                &three(9, true, false, false),
            )
            .unwrap();
        assert_eq!(cache.get(&ns, &car("55")).unwrap(), None);
        let m = cache
            .merge(
                &ns,
                &ListKeys::from(&car("55")),
                &three(9, false, false, false),
            )
            .unwrap();
        assert_eq!(done(&m.list), ["trusterPhoneNumber"]);
        assert!(cache.get(&ns, &car("55")).unwrap().is_some());
    });
}

#[test]
fn lookups_never_cross_accounts_or_devices() {
    on_both(|cache| {
        let a = ns("account-a", "device-1");
        let b = ns("account-b", "device-1");
        let a2 = ns("account-a", "device-2");
        let keys = ListKeys::from(&car("987654")).with_vin(vin());
        cache
            .merge(&a, &keys, &three(132324, true, true, true))
            .unwrap();
        for other in [&b, &a2] {
            for selector in [car("987654"), sid("132324"), by_vin()] {
                assert_eq!(cache.get(other, &selector).unwrap(), None);
            }
            // Their own copy of the same identifiers stays apart.
            let m = cache
                .merge(other, &keys, &three(132324, false, false, false))
                .unwrap();
            assert!(done(&m.list).is_empty());
        }
        assert!(cache.get(&a, &sid("132324")).unwrap().unwrap().all_done());
        assert_eq!(cache.invalidate_device(&a2).unwrap().lists, 1);
        assert!(cache.get(&a, &car("987654")).unwrap().is_some());
        assert!(cache.get(&b, &car("987654")).unwrap().is_some());
        assert_eq!(cache.lists(None).unwrap().len(), 2);
    });
}

#[test]
fn invalidate_device_drops_every_list_of_the_device() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        for (id, c) in [(1, "c1"), (2, "c2"), (3, "c3")] {
            cache
                .merge(&ns, &ListKeys::from(&car(c)), &three(id, true, true, false))
                .unwrap();
        }
        let removed = cache.invalidate_device(&ns).unwrap();
        assert_eq!(removed.lists, 3);
        assert_eq!(removed.durable, cache.health().is_durable());
        for (id, c) in [("1", "c1"), ("2", "c2"), ("3", "c3")] {
            assert_eq!(cache.get(&ns, &car(c)).unwrap(), None);
            assert_eq!(cache.get(&ns, &sid(id)).unwrap(), None);
        }
        // The next answer (deviceActivation todo after 2312) is served as the backend says.
        let m = cache
            .merge(
                &ns,
                &ListKeys::from(&car("c1")),
                &three(1, true, false, false),
            )
            .unwrap();
        assert_eq!(done(&m.list), ["trusterPhoneNumber"]);
        assert_eq!(cache.check().unwrap().links, 1);
    });
}

#[test]
fn unknown_step_names_pass_through_and_stick() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        let face = StepName::Other("faceId".into());
        let fresh = |d| StepsList::new(StepsId::text("x-1"), vec![step(face.clone(), d, 4)]);
        cache.merge(&ns, &ListKeys::new(), &fresh(true)).unwrap();
        let m = cache.merge(&ns, &ListKeys::new(), &fresh(false)).unwrap();
        assert_eq!(m.list.step(&face).unwrap().status, StepStatus::AlreadyDone);
        // A text stepsID stays text.
        assert_eq!(m.list.steps_id().to_value(), serde_json::json!("x-1"));
    });
}

#[test]
fn bad_keys_are_refused() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        let e = cache
            .merge(
                &ns,
                &ListKeys::from(&sid("1")),
                &three(2, false, false, false),
            )
            .unwrap_err();
        assert!(matches!(e, CacheError::StepsIdMismatch { .. }), "{e}");
        let e = cache
            .merge(
                &ns,
                &ListKeys::new().with_car_association_id(""),
                &three(2, false, false, false),
            )
            .unwrap_err();
        assert!(matches!(e, CacheError::InvalidInput { .. }), "{e}");
        assert!(cache.lists(None).unwrap().is_empty());
    });
}

#[test]
fn unreadable_records_are_misses_and_are_removed() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        for (i, garbage) in [
            &b""[..],
            b"\x02{\"id\":1,\"steps\":[]}",
            b"\x03\x00\x00",
            b"\x02\x00\x01\x01\x01",
            b"\x01{not json",
            b"\x01{\"id\":1,\"steps\":[[\"x\",\"maybe\",1]]}",
            b"\x01{\"id\":\"other\",\"steps\":[]}",
        ]
        .into_iter()
        .enumerate()
        {
            let id = 100 + i as u64;
            cache
                .merge(
                    &ns,
                    &ListKeys::from(&car("c")),
                    &three(id, true, true, true),
                )
                .unwrap();
            let (key, value) = raw_lists(cache).pop().unwrap();
            assert_eq!(
                cache
                    .store()
                    .compare_and_swap(&key, Some(&value), Some(garbage))
                    .unwrap(),
                pims_cache::Swap::Swapped
            );
            assert_eq!(cache.get(&ns, &sid(&id.to_string())).unwrap(), None, "{i}");
            // Removed on sight.
            let report = cache.check().unwrap();
            assert_eq!(report.lists, 0, "{i}");
            assert!(raw_lists(cache).is_empty(), "{i}");
            // Served again after the next merge, without the lost stickiness.
            let m = cache
                .merge(
                    &ns,
                    &ListKeys::from(&car("c")),
                    &three(id, false, false, false),
                )
                .unwrap();
            assert!(done(&m.list).is_empty());
            cache.reset(&ns, &car("c")).unwrap();
        }
    });
}

#[test]
fn records_hold_only_the_list_and_its_identifiers() {
    on_both(|cache| {
        let ns = cache.namespace("acct").unwrap();
        cache
            .merge(
                &ns,
                &ListKeys::from(&car("987654")).with_vin(vin()),
                &three(132324, true, false, false),
            )
            .unwrap();
        let (key, value) = raw_lists(cache).pop().unwrap();
        // `L`, the namespace's short id, the stepsID: the (account, device) pair is not
        // repeated in every key.
        assert_eq!(key, b"L\x01132324");
        let mut expected = vec![2, 0b111, 6];
        expected.extend_from_slice(b"987654");
        expected.extend_from_slice(VIN.as_bytes());
        // Three steps: name code, status, zigzag order.
        expected.extend_from_slice(&[3, 1, 1, 2, 2, 0, 4, 3, 0, 6]);
        assert_eq!(value, expected, "format 2: flags, car, VIN, steps");
        // Every entry of the store: the layout record, the device id, the namespace's two
        // entries, the next-id hint, the record and its two index entries.
        let mut entries = Vec::new();
        cache
            .store()
            .scan_prefix(b"", &mut |k, v| {
                entries.push((k.to_vec(), v.to_vec()));
                ControlFlow::Continue(())
            })
            .unwrap();
        let tags: Vec<u8> = entries.iter().map(|(k, _)| k[0]).collect();
        assert_eq!(tags, b"IILNVdmn", "{entries:?}");
        let bytes: usize = entries
            .iter()
            .filter(|(k, _)| matches!(k[0], b'L' | b'I'))
            .map(|(k, v)| k.len() + v.len())
            .sum();
        // 87: the VIN is both in the record and in its index key.
        assert!(bytes <= 90, "{bytes} bytes for one list");
    });
}

#[test]
fn the_device_id_is_created_once() {
    on_both(|cache| {
        let id = cache.device_id().unwrap();
        assert_eq!(cache.device_id().unwrap(), id);
        assert_eq!(
            StepCache::new(cache.store().clone()).device_id().unwrap(),
            id
        );
        // Wiping the cache keeps the device's identity.
        cache.wipe().unwrap();
        assert_eq!(
            StepCache::new(cache.store().clone()).device_id().unwrap(),
            id
        );
    });
}

#[test]
fn the_device_id_survives_a_restart_and_an_unreadable_entry_and_is_replaced_only_when_unreadable_everywhere()
 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let id = sled_cache(&path).device_id().unwrap();
    assert_eq!(sled_cache(&path).device_id().unwrap(), id);
    let junk: &[u8] = b"\x01\"not a valid id!\"";
    let damage_entry = || {
        let store = SledStore::open(&path, Default::default()).unwrap();
        let old = store.get(b"d").unwrap().unwrap();
        assert_eq!(
            store
                .compare_and_swap(b"d", Some(&old), Some(junk))
                .unwrap(),
            pims_cache::Swap::Swapped
        );
        store.flush().unwrap();
        store
    };
    // The entry unreadable: the id file still holds the id, and the entry follows it again.
    let store = damage_entry();
    assert_eq!(StepCache::new(Arc::new(store)).device_id().unwrap(), id);
    let store = SledStore::open(&path, Default::default()).unwrap();
    assert_ne!(store.get(b"d").unwrap().as_deref(), Some(junk));
    drop(store);
    // Unreadable everywhere (the entry, then the file): only then a new id, kept from then on.
    drop(damage_entry());
    std::fs::write(path.join(pims_cache::DEVICE_FILE), b"not an id either\n").unwrap();
    let replaced = sled_cache(&path).device_id().unwrap();
    assert_ne!(replaced, id);
    assert_eq!(sled_cache(&path).device_id().unwrap(), replaced);
    assert_eq!(
        std::fs::read_to_string(path.join(pims_cache::DEVICE_FILE)).unwrap(),
        format!("{replaced}\n")
    );
}

#[test]
fn writes_only_on_change_and_flushes_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("cache"), Default::default()).unwrap();
    let cache = StepCache::new(Arc::new(store.clone()));
    let ns = cache.namespace("acct").unwrap();
    let keys = ListKeys::from(&car("987654")).with_vin(vin());
    let m = cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .unwrap();
    assert!(m.changed && m.durable);
    let before = store.stats();
    for _ in 0..100 {
        let m = cache
            .merge(&ns, &keys, &three(1, false, false, false))
            .unwrap();
        assert!(!m.changed && m.durable);
        cache.get(&ns, &by_vin()).unwrap().unwrap();
    }
    assert_eq!(
        store.stats(),
        before,
        "no write and no flush without a change"
    );
    let m = cache
        .merge(&ns, &keys, &three(1, false, true, false))
        .unwrap();
    assert!(m.changed && m.durable);
    let after = store.stats();
    assert_eq!(after.writes, before.writes + 1);
    assert_eq!(after.flushes, before.flushes + 1);
    let r = cache.reset(&ns, &sid("1")).unwrap();
    assert!(r.durable);
    assert_eq!(store.stats().flushes, after.flushes + 1);
}

#[test]
fn memory_stores_say_nothing_is_durable() {
    let cache = StepCache::in_memory();
    let ns = cache.namespace("acct").unwrap();
    let m = cache
        .merge(&ns, &ListKeys::new(), &three(1, true, false, false))
        .unwrap();
    assert!(m.changed && !m.durable);
}

#[test]
fn wipe_empties_every_namespace() {
    on_both(|cache| {
        for account in ["a", "b"] {
            let ns = cache.namespace(account).unwrap();
            cache
                .merge(
                    &ns,
                    &ListKeys::from(&car("1")),
                    &three(1, true, false, false),
                )
                .unwrap();
        }
        assert_eq!(cache.wipe().unwrap().lists, 2);
        assert!(cache.lists(None).unwrap().is_empty());
        assert_eq!(cache.check().unwrap(), Default::default());
    });
}

#[test]
fn a_change_made_through_another_cache_on_the_same_store_is_seen_at_once() {
    on_both(|first| {
        let second = StepCache::new(first.store().clone());
        let ns = first.namespace("acct").unwrap();
        let keys = ListKeys::from(&car("987654"));
        first
            .merge(&ns, &keys, &three(1, true, false, false))
            .unwrap();
        // Read twice: the second read is served from what the first one decoded.
        for _ in 0..2 {
            assert!(first.get(&ns, &car("987654")).unwrap().is_some());
            assert!(
                !first
                    .merge(&ns, &keys, &three(1, false, false, false))
                    .unwrap()
                    .changed
            );
        }
        second.reset(&ns, &sid("1")).unwrap();
        assert_eq!(first.get(&ns, &car("987654")).unwrap(), None);
        second
            .merge(&ns, &keys, &three(1, false, true, false))
            .unwrap();
        let m = first
            .merge(&ns, &keys, &three(1, false, false, false))
            .unwrap();
        assert_eq!(done(&m.list), ["deviceActivation"]);
    });
}

#[test]
fn a_directory_that_cannot_exist_degrades_to_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    // A directory under a regular file cannot be created.
    let store = SledStore::open(file.join("cache"), Default::default()).unwrap();
    let health = store.health();
    assert!(health.is_degraded(), "{health}");
    let cache = StepCache::new(Arc::new(store));
    let ns = cache.namespace("acct").unwrap();
    let m = cache
        .merge(
            &ns,
            &ListKeys::from(&car("1")),
            &three(1, true, false, false),
        )
        .unwrap();
    assert!(m.changed && !m.durable);
    assert_eq!(cache.get(&ns, &car("1")).unwrap(), Some(m.list));
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

#[test]
fn a_namespace_created_during_a_scan_keeps_its_list() {
    for use_check in [false, true] {
        // Just before the cache scans its list records, another cache creates a namespace
        // and its first list, as a concurrent merge would.
        let inner = Arc::new(MemoryStore::new());
        let store = Arc::new(Hooked::new(inner.clone(), b"L", true));
        let other = StepCache::new(inner.clone());
        store.set(move || {
            let ns = other.namespace("late").unwrap();
            other
                .merge(&ns, &ListKeys::new(), &three(77, true, false, false))
                .unwrap();
        });
        let cache = StepCache::new(store);
        let ns = cache.namespace("early").unwrap();
        cache
            .merge(&ns, &ListKeys::new(), &three(1, false, false, false))
            .unwrap();
        // The scan sees a list whose namespace did not exist when the scan began.
        if use_check {
            let report = cache.check().unwrap();
            assert_eq!((report.lists, report.unreadable_removed), (2, 0));
        } else {
            let accounts: Vec<String> = cache
                .lists(None)
                .unwrap()
                .into_iter()
                .map(|l| l.account)
                .collect();
            assert_eq!(accounts, ["early", "late"]);
        }
        let late = cache.namespace("late").unwrap();
        assert!(cache.get(&late, &sid("77")).unwrap().is_some());
    }
}
