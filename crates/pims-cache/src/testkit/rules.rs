//! The cache's rules over the store: sticky `alreadyDone`, one list under three names, resets,
//! namespaces, the device id, unreadable records, the record format, writing only on change,
//! several caches over one store, and a namespace created during a scan.

use std::sync::Arc;

use pims_types::{StepName, StepStatus, StepsId, StepsList};

use super::samples::{by_vin, car, done, fresh, fresh_cache, ns, reopen, sid, step, three, vin};
use super::{Forwarding, StoreFactory, When};
use crate::cache::StepCache;
use crate::error::CacheError;
use crate::namespace::{ListKeys, Namespace};
use crate::scan;
use crate::store::{Entry, Swap};

/// The raw list records of the cache's store (key, value).
async fn raw_lists(cache: &StepCache) -> Vec<Entry> {
    scan::all(&**cache.store(), b"L").await.expect("scan")
}

/// An `alreadyDone` step stays so, whatever the backend says later, until a reset.
pub async fn already_done_sticks_until_reset<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&car("987654"));
    let m = cache
        .merge(&ns, &keys, &three(132324, true, true, false))
        .await
        .unwrap();
    assert!(m.changed);
    let m = cache
        .merge(&ns, &keys, &three(132324, false, false, false))
        .await
        .unwrap();
    assert_eq!(done(&m.list), ["trusterPhoneNumber", "deviceActivation"]);
    assert!(!m.changed);
    // A step done later joins.
    let m = cache
        .merge(&ns, &keys, &three(132324, false, false, true))
        .await
        .unwrap();
    assert!(m.changed);
    assert!(m.list.all_done());

    let r = cache.reset(&ns, &car("987654")).await.unwrap();
    assert_eq!(r.lists, 1);
    assert_eq!(cache.get(&ns, &car("987654")).await.unwrap(), None);
    assert_eq!(cache.get(&ns, &sid("132324")).await.unwrap(), None);
    let m = cache
        .merge(&ns, &keys, &three(132324, false, false, false))
        .await
        .unwrap();
    assert!(done(&m.list).is_empty());
}

/// One list, reachable by its carAssociationID, its VIN and its stepsID; a reset by any name
/// removes every name.
pub async fn one_list_under_its_three_names<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    cache
        .merge(
            &ns,
            &ListKeys::from(&car("987654")),
            &three(7, true, false, false),
        )
        .await
        .unwrap();
    // Fetched again by VIN: the backend answers the same list, the cache links the VIN.
    let m = cache
        .merge(
            &ns,
            &ListKeys::from(&by_vin()),
            &three(7, false, true, false),
        )
        .await
        .unwrap();
    assert_eq!(done(&m.list), ["trusterPhoneNumber", "deviceActivation"]);
    // By stepsID: the answer names itself.
    cache
        .merge(
            &ns,
            &ListKeys::from(&sid("7")),
            &three(7, false, false, false),
        )
        .await
        .unwrap();
    for selector in [car("987654"), sid("7"), by_vin()] {
        let got = cache.get(&ns, &selector).await.unwrap().unwrap();
        assert_eq!(done(&got), ["trusterPhoneNumber", "deviceActivation"]);
    }
    let shown = cache.lists(Some(&ns)).await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].car_association_id.as_deref(), Some("987654"));
    assert_eq!(shown[0].vin, Some(vin()));

    // A reset by any name removes every name.
    assert_eq!(cache.reset(&ns, &by_vin()).await.unwrap().lists, 1);
    for selector in [car("987654"), sid("7"), by_vin()] {
        assert_eq!(cache.get(&ns, &selector).await.unwrap(), None);
    }
    let report = cache.check().await.unwrap();
    assert_eq!((report.lists, report.links), (0, 0));
}

/// A new stepsID answered for a carAssociationID replaces the old list, keeping its
/// `alreadyDone` steps and its VIN.
pub async fn a_new_steps_id_for_the_same_car_association_replaces_the_old_list<F: StoreFactory>(
    factory: &F,
) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&car("987654")).with_vin(vin());
    cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
    let m = cache
        .merge(
            &ns,
            &ListKeys::from(&car("987654")),
            &three(2, false, false, true),
        )
        .await
        .unwrap();
    assert_eq!(m.list.steps_id().as_str(), "2");
    assert_eq!(done(&m.list), ["trusterPhoneNumber", "mediumCarKey"]);
    assert_eq!(cache.get(&ns, &sid("1")).await.unwrap(), None);
    // The VIN followed the list.
    let by_vin_now = cache.get(&ns, &by_vin()).await.unwrap().unwrap();
    assert_eq!(by_vin_now.steps_id().as_str(), "2");
    assert_eq!(cache.lists(Some(&ns)).await.unwrap().len(), 1);
    cache.reset(&ns, &car("987654")).await.unwrap();
    assert!(cache.lists(Some(&ns)).await.unwrap().is_empty());
    assert_eq!(cache.get(&ns, &by_vin()).await.unwrap(), None);
}

/// A VIN answered with another list: the new list carries the old one's `alreadyDone` steps,
/// the old one stays under its own stepsID.
pub async fn a_vin_answered_with_another_list_carries_its_steps<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&by_vin());
    cache
        .merge(&ns, &keys, &three(1, false, false, true))
        .await
        .unwrap();
    let m = cache
        .merge(&ns, &keys, &three(2, false, false, false))
        .await
        .unwrap();
    assert_eq!(done(&m.list), ["mediumCarKey"]);
    // The first list is still there under its own stepsID; the VIN names the new one.
    assert!(cache.get(&ns, &sid("1")).await.unwrap().is_some());
    let named = cache.get(&ns, &by_vin()).await.unwrap().unwrap();
    assert_eq!(named.steps_id().as_str(), "2");
    // Resetting the old one does not touch the VIN's link to the new one.
    cache.reset(&ns, &sid("1")).await.unwrap();
    assert!(cache.get(&ns, &by_vin()).await.unwrap().is_some());
}

/// A list merged under a carAssociationID, then another, then the first one again, is found by
/// the first one: the merge claims it again in the record (a list record names one
/// carAssociationID; the first one's link, left behind, is not enough).
pub async fn a_car_association_merged_again_is_claimed_again<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    for c in ["111", "222"] {
        cache
            .merge(&ns, &ListKeys::from(&car(c)), &three(7, true, false, false))
            .await
            .unwrap();
    }
    let m = cache
        .merge(
            &ns,
            &ListKeys::from(&car("111")),
            &three(7, true, false, false),
        )
        .await
        .unwrap();
    assert!(m.changed, "the record did not claim 111 any more");
    let found = cache.get(&ns, &car("111")).await.unwrap();
    assert_eq!(
        found.map(|l| done(&l)),
        Some(vec!["trusterPhoneNumber".to_owned()])
    );
    let shown = cache.lists(Some(&ns)).await.unwrap();
    assert_eq!(shown[0].car_association_id.as_deref(), Some("111"));
}

/// A list first cached by stepsID becomes reachable by a carAssociationID merged later.
pub async fn a_list_known_only_by_steps_id_gains_its_names_later<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    cache
        .merge(
            &ns,
            &ListKeys::from(&sid("9")),
            &three(9, true, false, false),
        )
        .await
        .unwrap();
    assert_eq!(cache.get(&ns, &car("55")).await.unwrap(), None);
    let m = cache
        .merge(
            &ns,
            &ListKeys::from(&car("55")),
            &three(9, false, false, false),
        )
        .await
        .unwrap();
    assert_eq!(done(&m.list), ["trusterPhoneNumber"]);
    assert!(cache.get(&ns, &car("55")).await.unwrap().is_some());
}

/// Accounts and devices never see each other's lists, by any name; each keeps its own copy.
pub async fn lookups_never_cross_accounts_or_devices<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let a = ns("account-a", "device-1");
    let b = ns("account-b", "device-1");
    let a2 = ns("account-a", "device-2");
    let keys = ListKeys::from(&car("987654")).with_vin(vin());
    cache
        .merge(&a, &keys, &three(132324, true, true, true))
        .await
        .unwrap();
    for other in [&b, &a2] {
        for selector in [car("987654"), sid("132324"), by_vin()] {
            assert_eq!(cache.get(other, &selector).await.unwrap(), None);
        }
        // Their own copy of the same identifiers stays apart.
        let m = cache
            .merge(other, &keys, &three(132324, false, false, false))
            .await
            .unwrap();
        assert!(done(&m.list).is_empty());
    }
    let list = cache.get(&a, &sid("132324")).await.unwrap().unwrap();
    assert!(list.all_done());
    assert_eq!(cache.invalidate_device(&a2).await.unwrap().lists, 1);
    assert!(cache.get(&a, &car("987654")).await.unwrap().is_some());
    assert!(cache.get(&b, &car("987654")).await.unwrap().is_some());
    assert_eq!(cache.lists(None).await.unwrap().len(), 2);
}

/// The 2312/2317 cure drops every list of the device, by every name, durably when the store
/// is durable; the next answer is served as the backend says.
pub async fn invalidate_device_drops_every_list_of_the_device<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    for (id, c) in [(1, "c1"), (2, "c2"), (3, "c3")] {
        cache
            .merge(&ns, &ListKeys::from(&car(c)), &three(id, true, true, false))
            .await
            .unwrap();
    }
    let removed = cache.invalidate_device(&ns).await.unwrap();
    assert_eq!(removed.lists, 3);
    assert_eq!(removed.durable, cache.health().is_durable());
    for (id, c) in [("1", "c1"), ("2", "c2"), ("3", "c3")] {
        assert_eq!(cache.get(&ns, &car(c)).await.unwrap(), None);
        assert_eq!(cache.get(&ns, &sid(id)).await.unwrap(), None);
    }
    // The next answer (deviceActivation todo after 2312) is served as the backend says.
    let m = cache
        .merge(
            &ns,
            &ListKeys::from(&car("c1")),
            &three(1, true, false, false),
        )
        .await
        .unwrap();
    assert_eq!(done(&m.list), ["trusterPhoneNumber"]);
    assert_eq!(cache.check().await.unwrap().links, 1);
}

/// A step name the cache does not know passes through and sticks; a text stepsID stays text.
pub async fn unknown_step_names_pass_through_and_stick<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    let face = StepName::Other("faceId".into());
    let fresh = |d| StepsList::new(StepsId::text("x-1"), vec![step(face.clone(), d, 4)]);
    cache
        .merge(&ns, &ListKeys::new(), &fresh(true))
        .await
        .unwrap();
    let m = cache
        .merge(&ns, &ListKeys::new(), &fresh(false))
        .await
        .unwrap();
    assert_eq!(m.list.step(&face).unwrap().status, StepStatus::AlreadyDone);
    // A text stepsID stays text.
    assert_eq!(m.list.steps_id().to_value(), serde_json::json!("x-1"));
}

/// A list answered under another stepsID than the one asked for, and an empty identifier, are
/// refused; nothing is cached.
pub async fn bad_keys_are_refused<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    let e = cache
        .merge(
            &ns,
            &ListKeys::from(&sid("1")),
            &three(2, false, false, false),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CacheError::StepsIdMismatch { .. }), "{e}");
    let e = cache
        .merge(
            &ns,
            &ListKeys::new().with_car_association_id(""),
            &three(2, false, false, false),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CacheError::InvalidInput { .. }), "{e}");
    assert!(cache.lists(None).await.unwrap().is_empty());
}

/// A record that does not decode (torn, of an unknown format, of another list) is a miss, is
/// removed on sight, and the list is served again (without the lost stickiness) after the next
/// merge.
pub async fn unreadable_records_are_misses_and_are_removed<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
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
            .await
            .unwrap();
        let (key, value) = raw_lists(&cache).await.pop().unwrap();
        assert_eq!(
            cache
                .store()
                .compare_and_swap(&key, Some(&value), Some(garbage))
                .await
                .unwrap(),
            Swap::Swapped
        );
        assert_eq!(
            cache.get(&ns, &sid(&id.to_string())).await.unwrap(),
            None,
            "{i}"
        );
        // Removed on sight.
        let report = cache.check().await.unwrap();
        assert_eq!(report.lists, 0, "{i}");
        assert!(raw_lists(&cache).await.is_empty(), "{i}");
        // Served again after the next merge, without the lost stickiness.
        let m = cache
            .merge(
                &ns,
                &ListKeys::from(&car("c")),
                &three(id, false, false, false),
            )
            .await
            .unwrap();
        assert!(done(&m.list).is_empty());
        cache.reset(&ns, &car("c")).await.unwrap();
    }
}

/// The record format: `L`, the namespace's short id, the stepsID as the key; flags, the
/// identifiers and the steps as the value; nothing else in the store but the cache's own few
/// entries.
pub async fn records_hold_only_the_list_and_its_identifiers<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    cache
        .merge(
            &ns,
            &ListKeys::from(&car("987654")).with_vin(vin()),
            &three(132324, true, false, false),
        )
        .await
        .unwrap();
    let (key, value) = raw_lists(&cache).await.pop().unwrap();
    // `L`, the namespace's short id, the stepsID: the (account, device) pair is not
    // repeated in every key.
    assert_eq!(key, b"L\x01132324");
    let mut expected = vec![2, 0b111, 6];
    expected.extend_from_slice(b"987654");
    expected.extend_from_slice(super::samples::VIN.as_bytes());
    // Three steps: name code, status, zigzag order.
    expected.extend_from_slice(&[3, 1, 1, 2, 2, 0, 4, 3, 0, 6]);
    assert_eq!(value, expected, "format 2: flags, car, VIN, steps");
    // Every entry of the store: the layout record, the device id, the namespace's two
    // entries, the next-id hint, the record and its two index entries.
    let entries = scan::all(&**cache.store(), b"").await.unwrap();
    let tags: Vec<u8> = entries.iter().map(|(k, _)| k[0]).collect();
    assert_eq!(tags, b"IILNVdmn", "{entries:?}");
    let bytes: usize = entries
        .iter()
        .filter(|(k, _)| matches!(k[0], b'L' | b'I'))
        .map(|(k, v)| k.len() + v.len())
        .sum();
    // 87: the VIN is both in the record and in its index key.
    assert!(bytes <= 90, "{bytes} bytes for one list");
}

/// The device id is created once: every cache over the store gets it, and a wipe keeps it.
pub async fn the_device_id_is_created_once<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    let id = cache.device_id().await.unwrap();
    assert_eq!(cache.device_id().await.unwrap(), id);
    let other = StepCache::new(cache.store().clone());
    assert_eq!(other.device_id().await.unwrap(), id);
    // Wiping the cache keeps the device's identity.
    cache.wipe().await.unwrap();
    let other = StepCache::new(cache.store().clone());
    assert_eq!(other.device_id().await.unwrap(), id);
}

/// The device id, and the lists, are the same after a restart.
pub async fn the_device_id_and_the_lists_survive_a_reopen<F: StoreFactory>(factory: &F) {
    let (place, cache) = fresh_cache(factory).await;
    let id = cache.device_id().await.unwrap();
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&car("987654")).with_vin(vin());
    cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
    drop(cache);
    let cache = StepCache::new(reopen(factory, &place).await);
    assert_eq!(cache.device_id().await.unwrap(), id);
    let ns = cache.namespace("acct").await.unwrap();
    for selector in [car("987654"), sid("1"), by_vin()] {
        let list = cache.get(&ns, &selector).await.unwrap().unwrap();
        assert_eq!(done(&list), ["trusterPhoneNumber"]);
    }
}

/// A merge that changes nothing, and a lookup, ask the store to write nothing; a change is one
/// write (a batch), a reset writes.
pub async fn only_a_change_writes<F: StoreFactory>(factory: &F) {
    let (_place, inner) = fresh(factory).await;
    let store = Arc::new(Forwarding::shared(inner));
    let cache = StepCache::new(store.clone());
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&car("987654")).with_vin(vin());
    let m = cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
    assert!(m.changed);
    let before = store.writes();
    for _ in 0..20 {
        let m = cache
            .merge(&ns, &keys, &three(1, false, false, false))
            .await
            .unwrap();
        assert!(!m.changed);
        cache.get(&ns, &by_vin()).await.unwrap().unwrap();
        cache.get(&ns, &sid("1")).await.unwrap().unwrap();
    }
    assert_eq!(store.writes(), before, "a write without a change");
    let m = cache
        .merge(&ns, &keys, &three(1, false, true, false))
        .await
        .unwrap();
    assert!(m.changed);
    assert_eq!(store.writes(), before + 1, "a change is one batch");
    cache.reset(&ns, &sid("1")).await.unwrap();
    assert!(store.writes() > before + 1);
}

/// `wipe` removes every list of every namespace.
pub async fn wipe_empties_every_namespace<F: StoreFactory>(factory: &F) {
    let (_place, cache) = fresh_cache(factory).await;
    for account in ["a", "b"] {
        let ns = cache.namespace(account).await.unwrap();
        cache
            .merge(
                &ns,
                &ListKeys::from(&car("1")),
                &three(1, true, false, false),
            )
            .await
            .unwrap();
    }
    assert_eq!(cache.wipe().await.unwrap().lists, 2);
    assert!(cache.lists(None).await.unwrap().is_empty());
    assert_eq!(cache.check().await.unwrap(), Default::default());
}

/// Two caches over one store: what one changes, the other sees at once, even right after it
/// served the same list from what it had decoded.
pub async fn a_change_made_through_another_cache_on_the_same_store_is_seen_at_once<
    F: StoreFactory,
>(
    factory: &F,
) {
    let (_place, first) = fresh_cache(factory).await;
    let second = StepCache::new(first.store().clone());
    let ns = first.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&car("987654"));
    first
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
    // Read twice: the second read is served from what the first one decoded.
    for _ in 0..2 {
        assert!(first.get(&ns, &car("987654")).await.unwrap().is_some());
        let m = first
            .merge(&ns, &keys, &three(1, false, false, false))
            .await
            .unwrap();
        assert!(!m.changed);
    }
    second.reset(&ns, &sid("1")).await.unwrap();
    assert_eq!(first.get(&ns, &car("987654")).await.unwrap(), None);
    second
        .merge(&ns, &keys, &three(1, false, true, false))
        .await
        .unwrap();
    let m = first
        .merge(&ns, &keys, &three(1, false, false, false))
        .await
        .unwrap();
    assert_eq!(done(&m.list), ["deviceActivation"]);
}

/// A namespace created by another cache just before this one scans its list records (as a
/// concurrent merge would) keeps its list: neither `lists` nor `check` takes it for an orphan.
pub async fn a_namespace_created_during_a_scan_keeps_its_list<F: StoreFactory>(factory: &F) {
    for use_check in [false, true] {
        let (_place, inner) = fresh(factory).await;
        let store = Arc::new(Forwarding::shared(inner.clone()));
        let other = StepCache::new(inner);
        store.on_scan(
            b"L",
            When::Before,
            Box::new(move || {
                Box::pin(async move {
                    let ns = other.namespace("late").await.unwrap();
                    other
                        .merge(&ns, &ListKeys::new(), &three(77, true, false, false))
                        .await
                        .unwrap();
                })
            }),
        );
        let cache = StepCache::new(store);
        let ns = cache.namespace("early").await.unwrap();
        cache
            .merge(&ns, &ListKeys::new(), &three(1, false, false, false))
            .await
            .unwrap();
        // The scan sees a list whose namespace did not exist when the scan began.
        if use_check {
            let report = cache.check().await.unwrap();
            assert_eq!((report.lists, report.unreadable_removed), (2, 0));
        } else {
            let accounts: Vec<String> = cache
                .lists(None)
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.account)
                .collect();
            assert_eq!(accounts, ["early", "late"]);
        }
        let late = cache.namespace("late").await.unwrap();
        assert!(cache.get(&late, &sid("77")).await.unwrap().is_some());
    }
}

/// A new place of `factory`, a cache over it with list 1 merged by its carAssociationID in
/// namespace "acct", and, armed, another cache's merge of the same list (one more step done)
/// right after the first write of a list record: a merge landing between two writes of an
/// operation.
async fn merged_again_after_a_record_write<F: StoreFactory>(
    factory: &F,
) -> (F::Place, StepCache, Namespace) {
    let (place, inner) = fresh(factory).await;
    let store = Arc::new(Forwarding::shared(inner.clone()));
    let cache = StepCache::new(store.clone());
    let ns = cache.namespace("acct").await.unwrap();
    let by_car = ListKeys::new().with_car_association_id("987654");
    cache
        .merge(&ns, &by_car, &three(1, true, false, false))
        .await
        .unwrap();
    let other = StepCache::new(inner);
    let other_ns = ns.clone();
    store.after_write(
        b"L",
        Box::new(move || {
            Box::pin(async move {
                other
                    .merge(&other_ns, &by_car, &three(1, true, true, false))
                    .await
                    .unwrap();
            })
        }),
    );
    (place, cache, ns)
}

/// After [`merged_again_after_a_record_write`] landed: list 1 is there under both names, and a
/// reset through its carAssociationID removes it.
async fn the_list_merged_again_is_whole(cache: &StepCache, ns: &Namespace, what: &str) {
    let car = car("987654");
    let list = cache.get(ns, &car).await.unwrap();
    assert!(
        list.is_some(),
        "{what}: the list lost its carAssociationID link"
    );
    assert_eq!(cache.get(ns, &sid("1")).await.unwrap(), list);
    assert_eq!(cache.reset(ns, &car).await.unwrap().lists, 1);
    assert_eq!(cache.get(ns, &sid("1")).await.unwrap(), None);
    assert_eq!(cache.get(ns, &car).await.unwrap(), None);
}

/// A merge of a list that runs while a reset of it is under way (here: right after the reset's
/// write of the record) keeps the list whole: every identifier still leads to it, and a later
/// reset through its carAssociationID removes it. (A reset that removed the record, then each
/// link by compare-and-swap, took the link the merge had just kept: same bytes.)
pub async fn a_merge_racing_a_reset_keeps_its_links<F: StoreFactory>(factory: &F) {
    let (_place, cache, ns) = merged_again_after_a_record_write(factory).await;
    cache.reset(&ns, &sid("1")).await.unwrap();
    the_list_merged_again_is_whole(&cache, &ns, "reset").await;
}

/// A merge of a list that lands while the device's lists are invalidated (right after the
/// invalidation removed the list's record) keeps the list whole: its links are not taken by
/// the invalidation's cleanup of the links left behind. The same for a wipe.
pub async fn a_merge_racing_an_invalidation_keeps_its_links<F: StoreFactory>(factory: &F) {
    for wipe in [false, true] {
        let (_place, cache, ns) = merged_again_after_a_record_write(factory).await;
        let removed = if wipe {
            cache.wipe().await.unwrap()
        } else {
            cache.invalidate_device(&ns).await.unwrap()
        };
        assert_eq!(removed.lists, 1);
        let what = if wipe { "wipe" } else { "invalidation" };
        the_list_merged_again_is_whole(&cache, &ns, what).await;
    }
}
