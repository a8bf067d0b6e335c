//! Namespace ids and the layout upgrade under adverse conditions: a lost next-id hint with
//! many namespaces, a record under a key that is not its stepsID, and two caches upgrading one
//! store at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::ops::ControlFlow;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use pims_cache::{ListKeys, MemoryStore, StepCache, StepStore, Swap};
use pims_types::StepsSelector;
use support::*;

fn by_sid(s: &str) -> StepsSelector {
    StepsSelector::steps_id(s).unwrap()
}

#[test]
fn a_lost_hint_with_many_namespaces_still_gives_new_ids() {
    let store = Arc::new(MemoryStore::new());
    let cache = StepCache::new(store.clone());
    for i in 0..1001 {
        let ns = cache.namespace(format!("acct-{i}")).unwrap();
        cache
            .merge(&ns, &ListKeys::new(), &three(1, true, false, false))
            .unwrap();
    }
    store.remove(b"N").unwrap(); // the next-id hint, lost
    let fresh = StepCache::new(store.clone());
    let ns = fresh.namespace("new").unwrap();
    fresh
        .merge(&ns, &ListKeys::new(), &three(1, false, false, true))
        .unwrap();
    assert_eq!(
        done(&fresh.get(&ns, &by_sid("1")).unwrap().unwrap()),
        ["mediumCarKey"]
    );
    // Nobody else's list moved.
    let old = fresh.namespace("acct-0").unwrap();
    assert_eq!(
        done(&fresh.get(&old, &by_sid("1")).unwrap().unwrap()),
        ["trusterPhoneNumber"]
    );
}

#[test]
fn a_record_under_a_non_canonical_number_is_not_another_list() {
    let store = Arc::new(MemoryStore::new());
    let cache = StepCache::new(store.clone());
    let ns = cache.namespace("acct").unwrap();
    cache
        .merge(&ns, &ListKeys::new(), &three(5, true, false, false))
        .unwrap();
    let mut found = Vec::new();
    store
        .scan_prefix(b"L", &mut |k, v| {
            found.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })
        .unwrap();
    let (key, value) = &found[0];
    // Damage: list 5's record copied under the stepsID "+5" (and "05").
    for other in ["+5", "05"] {
        let mut bad = key[..key.len() - 1].to_vec();
        bad.extend_from_slice(other.as_bytes());
        let _ = store.compare_and_swap(&bad, None, Some(value)).unwrap();
        assert_eq!(cache.get(&ns, &by_sid(other)).unwrap(), None, "{other}");
    }
    let report = cache.check().unwrap();
    assert_eq!(report.lists, 1);
    assert!(cache.get(&ns, &by_sid("5")).unwrap().is_some());
}

#[test]
fn two_caches_upgrading_one_store_do_not_bring_back_a_reset_list() {
    let inner = Arc::new(MemoryStore::new());
    let put = |k: &[u8], v: &[u8]| {
        assert_eq!(
            inner.compare_and_swap(k, None, Some(v)).unwrap(),
            Swap::Swapped
        );
    };
    put(b"d", b"\x01\"dev-1\"");
    let mut key = vec![b'l'];
    for seg in ["acct", "dev-1", "132324"] {
        key.extend_from_slice(&u16::try_from(seg.len()).unwrap().to_be_bytes());
        key.extend_from_slice(seg.as_bytes());
    }
    put(
        &key,
        b"\x01{\"id\":132324,\"steps\":[[\"trusterPhoneNumber\",\"alreadyDone\",1]]}",
    );
    let store = Arc::new(Hooked::new(inner.clone(), b"l", false));
    let a = StepCache::new(store.clone());
    let b = StepCache::new(store.clone());
    // Once b's upgrade has read the old entries, another thread upgrades through a and resets
    // the list; b waits (at most half a second) for that thread before writing its batch.
    let (finished, reset_done) = mpsc::channel();
    let a2 = a.clone();
    store.set(move || {
        std::thread::spawn(move || {
            let ns = a2.namespace("acct").unwrap();
            assert!(a2.get(&ns, &by_sid("132324")).unwrap().is_some());
            assert_eq!(a2.reset(&ns, &by_sid("132324")).unwrap().lists, 1);
            let _ = finished.send(());
        });
        let _ = reset_done.recv_timeout(Duration::from_millis(500));
    });
    let ns = b.namespace("acct").unwrap();
    let _ = b.get(&ns, &by_sid("132324")).unwrap(); // b's first call: it upgrades
    // The other thread's reset happens after b's upgrade (upgrades take turns), and stands.
    for _ in 0..100 {
        if a.get(&ns, &by_sid("132324")).unwrap().is_none() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        a.get(&ns, &by_sid("132324")).unwrap(),
        None,
        "a reset list came back"
    );
    assert_eq!(b.get(&ns, &by_sid("132324")).unwrap(), None);
}
