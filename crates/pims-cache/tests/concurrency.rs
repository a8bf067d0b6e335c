//! Many threads on one cache: no lost update, no broken link, shared flushes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Barrier};

use pims_cache::{ListKeys, MemoryStore, SledStore, StepCache};
use pims_types::{StepName, StepsId, StepsList, StepsSelector};
use support::*;

const TASKS: usize = 64;

fn names() -> Vec<StepName> {
    (0..TASKS)
        .map(|i| StepName::Other(format!("step-{i:02}")))
        .collect()
}

/// Task `i`'s view of the backend: every step todo except its own.
fn fresh(i: usize) -> StepsList {
    let steps = names()
        .into_iter()
        .enumerate()
        .map(|(j, n)| step(n, i == j, j as i64))
        .collect();
    StepsList::new(StepsId::number(4242), steps)
}

fn keys_of(i: usize) -> ListKeys {
    match i % 3 {
        0 => ListKeys::new().with_car_association_id("987654"),
        1 => ListKeys::new().with_vin(vin()),
        _ => ListKeys::new().with_steps_id(StepsId::number(4242)),
    }
}

fn union_of_64_merges(cache: StepCache) {
    let ns = cache.namespace("acct").unwrap();
    let barrier = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (cache, ns, barrier) = (cache.clone(), ns.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let m = cache.merge(&ns, &keys_of(i), &fresh(i)).unwrap();
                // What this task sees includes at least its own step.
                assert!(done(&m.list).contains(&format!("step-{i:02}")));
                m.durable
            })
        })
        .collect();
    let durable: Vec<bool> = tasks.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(durable.iter().all(|d| *d == cache.health().is_durable()));
    for selector in [
        StepsSelector::car_association_id("987654").unwrap(),
        StepsSelector::Vin(vin()),
        StepsSelector::steps_id("4242").unwrap(),
    ] {
        let list = cache.get(&ns, &selector).unwrap().unwrap();
        assert_eq!(list.len(), TASKS);
        assert!(list.all_done(), "lost an update: {:?}", done(&list));
    }
    let report = cache.check().unwrap();
    assert_eq!((report.lists, report.links), (1, 2));
    assert_eq!(report.unreadable_removed + report.dangling_removed, 0);
}

#[test]
fn sixty_four_tasks_merging_one_list_keep_every_step_on_sled() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("cache"), Default::default()).unwrap();
    union_of_64_merges(StepCache::new(Arc::new(store.clone())));
    let stats = store.stats();
    eprintln!(
        "64 concurrent merges: {} writes, {} physical flushes",
        stats.writes, stats.flushes
    );
    drop(store);
    // And it is all on disk.
    let cache = sled_cache(&dir.path().join("cache"));
    let ns = cache.namespace("acct").unwrap();
    let list = cache
        .get(&ns, &StepsSelector::steps_id("4242").unwrap())
        .unwrap()
        .unwrap();
    assert!(list.all_done());
}

#[test]
fn sixty_four_tasks_merging_one_list_keep_every_step_in_memory() {
    union_of_64_merges(StepCache::new(Arc::new(MemoryStore::new())));
}

#[test]
fn concurrent_changes_on_different_lists_are_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("cache"), Default::default()).unwrap();
    let cache = StepCache::new(Arc::new(store.clone()));
    let ns = cache.namespace("acct").unwrap();
    let barrier = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS as u64)
        .map(|i| {
            let (cache, ns, barrier) = (cache.clone(), ns.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let keys = ListKeys::new().with_car_association_id(format!("car-{i}"));
                cache
                    .merge(&ns, &keys, &three(i, true, i % 2 == 0, false))
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        let m = t.join().unwrap();
        assert!(m.changed && m.durable);
    }
    let stats = store.stats();
    eprintln!(
        "64 concurrent changes on 64 lists: {} writes, {} physical flushes",
        stats.writes, stats.flushes
    );
    drop((cache, store));
    let cache = sled_cache(&dir.path().join("cache"));
    assert_eq!(cache.lists(None).unwrap().len(), TASKS);
}

#[test]
fn merges_racing_resets_and_invalidations_leave_consistent_links() {
    let dir = tempfile::tempdir().unwrap();
    let cache = sled_cache(&dir.path().join("cache"));
    let ns = cache.namespace("acct").unwrap();
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let (cache, ns) = (cache.clone(), ns.clone());
            std::thread::spawn(move || {
                for round in 0..40u64 {
                    let id = w * 10 + round % 3;
                    let keys = ListKeys::new().with_car_association_id(format!("car-{id}"));
                    cache
                        .merge(&ns, &keys, &three(id, round % 2 == 0, true, false))
                        .unwrap();
                }
            })
        })
        .collect();
    let resetter = {
        let (cache, ns) = (cache.clone(), ns.clone());
        std::thread::spawn(move || {
            for round in 0..40u64 {
                let id = (round % 4) * 10 + round % 3;
                let selector = if round % 2 == 0 {
                    StepsSelector::car_association_id(format!("car-{id}")).unwrap()
                } else {
                    StepsSelector::steps_id(id.to_string()).unwrap()
                };
                cache.reset(&ns, &selector).unwrap();
                if round % 10 == 9 {
                    cache.invalidate_device(&ns).unwrap();
                }
            }
        })
    };
    for t in writers {
        t.join().unwrap();
    }
    resetter.join().unwrap();
    // Whatever interleaving happened, one more merge per list makes it whole under both names.
    for w in 0..4u64 {
        for r in 0..3u64 {
            let id = w * 10 + r;
            let car = format!("car-{id}");
            let keys = ListKeys::new().with_car_association_id(car.clone());
            cache
                .merge(&ns, &keys, &three(id, false, false, true))
                .unwrap();
            let by_car = cache
                .get(&ns, &StepsSelector::car_association_id(car).unwrap())
                .unwrap()
                .unwrap();
            let by_id = cache
                .get(&ns, &StepsSelector::steps_id(id.to_string()).unwrap())
                .unwrap()
                .unwrap();
            assert_eq!(by_car, by_id);
            assert!(done(&by_car).contains(&"mediumCarKey".to_owned()));
        }
    }
    let report = cache.check().unwrap();
    assert_eq!(report.unreadable_removed, 0);
    assert_eq!(report.lists, 12);
    assert_eq!(report.links, 12);
}
