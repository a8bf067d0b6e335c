//! Many tasks at once on one store: no lost update (compare-and-swaps on one key, batches over
//! two keys, 64 merges of one list), every concurrent change kept, and links left consistent
//! by merges racing resets and invalidations.
//!
//! These cases spawn tokio tasks: they run on a tokio runtime, best a multi-thread one (what
//! [`run`](super::run) builds), where the tasks really run in parallel. Each call to the store
//! first lets other tasks run ([`Forwarding::yield_calls`]), as a network store's round trip
//! would: the tasks interleave between any two calls even over a store that never waits.

use std::future::Future;
use std::sync::Arc;

use pims_types::{StepName, StepsId, StepsList, StepsSelector};
use tokio::sync::Barrier;

use super::samples::{done, fresh, reopen, step, three, vin};
use super::{Forwarding, StoreFactory};
use crate::cache::StepCache;
use crate::namespace::ListKeys;
use crate::store::{BatchSwap, KeySwap, StepStore, Swap};

const TASKS: usize = 64;

/// A new place of `factory` and its store, each call of which lets other tasks run first.
async fn interleaved<F: StoreFactory>(factory: &F) -> (F::Place, Arc<dyn StepStore>) {
    let (place, store) = fresh(factory).await;
    let store = Forwarding::shared(store);
    store.yield_calls(true);
    (place, Arc::new(store))
}

/// A new place of `factory` and a cache over its interleaved store.
async fn interleaved_cache<F: StoreFactory>(factory: &F) -> (F::Place, StepCache) {
    let (place, store) = interleaved(factory).await;
    (place, StepCache::new(store))
}

/// Runs `count` tasks made by `task`, started together (a barrier), and returns their outputs
/// in order; a task's panic is this call's.
async fn together<T, Fut>(count: usize, task: impl Fn(usize) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(count));
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let (barrier, work) = (barrier.clone(), task(i));
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(count);
    for handle in handles {
        match handle.await {
            Ok(value) => out.push(value),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a task did not finish: {e}"),
        }
    }
    out
}

fn names() -> Vec<StepName> {
    (0..TASKS)
        .map(|i| StepName::Other(format!("step-{i:02}")))
        .collect()
}

/// Task `i`'s view of the backend: every step todo except its own.
fn fresh_of(i: usize) -> StepsList {
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

/// The three names of list 4242.
fn selectors() -> [StepsSelector; 3] {
    [
        StepsSelector::car_association_id("987654").unwrap(),
        StepsSelector::Vin(vin()),
        StepsSelector::steps_id("4242").unwrap(),
    ]
}

/// 64 tasks merge one list at once, each with its own step `alreadyDone`, by its three names:
/// the list ends with every step, under every name, consistent, and so after a restart.
pub async fn sixty_four_tasks_merging_one_list_keep_every_step<F: StoreFactory>(factory: &F) {
    let (place, cache) = interleaved_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    // (Read before: a store that degrades meanwhile fails the case.)
    let health = cache.health();
    let durable = together(TASKS, |i| {
        let (cache, ns) = (cache.clone(), ns.clone());
        async move {
            let m = cache.merge(&ns, &keys_of(i), &fresh_of(i)).await.unwrap();
            // What this task sees includes at least its own step.
            assert!(done(&m.list).contains(&format!("step-{i:02}")));
            m.durable
        }
    })
    .await;
    assert!(
        durable.iter().all(|d| *d == health.is_durable()),
        "{health}"
    );
    assert_eq!(cache.health(), health);
    for selector in selectors() {
        let list = cache.get(&ns, &selector).await.unwrap().unwrap();
        assert_eq!(list.len(), TASKS);
        assert!(list.all_done(), "lost an update: {:?}", done(&list));
    }
    let report = cache.check().await.unwrap();
    assert_eq!((report.lists, report.links), (1, 2));
    assert_eq!(report.unreadable_removed + report.dangling_removed, 0);
    drop(cache);
    // And it is all there after a restart.
    let cache = StepCache::new(reopen(factory, &place).await);
    let ns = cache.namespace("acct").await.unwrap();
    let list = cache
        .get(&ns, &StepsSelector::steps_id("4242").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(list.all_done());
}

/// 64 tasks change 64 lists at once: every change is acknowledged (durable when the store is)
/// and there after a restart.
pub async fn concurrent_changes_on_different_lists_are_all_kept<F: StoreFactory>(factory: &F) {
    let (place, cache) = interleaved_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    // (Read before: a store that degrades meanwhile fails the case.)
    let durable = cache.health().is_durable();
    let merged = together(TASKS, |i| {
        let (cache, ns) = (cache.clone(), ns.clone());
        async move {
            let i = i as u64;
            let keys = ListKeys::new().with_car_association_id(format!("car-{i}"));
            cache
                .merge(&ns, &keys, &three(i, true, i.is_multiple_of(2), false))
                .await
                .unwrap()
        }
    })
    .await;
    for m in merged {
        assert!(m.changed && m.durable == durable);
    }
    drop(cache);
    let cache = StepCache::new(reopen(factory, &place).await);
    assert_eq!(cache.lists(None).await.unwrap().len(), TASKS);
}

/// Four writers merging, one task resetting and invalidating, all at once: whatever the
/// interleaving, one more merge per list makes it whole under both its names, and nothing is
/// left unreadable or dangling.
pub async fn merges_racing_resets_and_invalidations_leave_consistent_links<F: StoreFactory>(
    factory: &F,
) {
    let (_place, cache) = interleaved_cache(factory).await;
    let ns = cache.namespace("acct").await.unwrap();
    together(5, |task| {
        let (cache, ns) = (cache.clone(), ns.clone());
        async move {
            if task < 4 {
                let w = task as u64;
                for round in 0..40u64 {
                    let id = w * 10 + round % 3;
                    let keys = ListKeys::new().with_car_association_id(format!("car-{id}"));
                    cache
                        .merge(&ns, &keys, &three(id, round % 2 == 0, true, false))
                        .await
                        .unwrap();
                }
            } else {
                for round in 0..40u64 {
                    let id = (round % 4) * 10 + round % 3;
                    let selector = if round % 2 == 0 {
                        StepsSelector::car_association_id(format!("car-{id}")).unwrap()
                    } else {
                        StepsSelector::steps_id(id.to_string()).unwrap()
                    };
                    cache.reset(&ns, &selector).await.unwrap();
                    if round % 10 == 9 {
                        cache.invalidate_device(&ns).await.unwrap();
                    }
                }
            }
        }
    })
    .await;
    // Whatever interleaving happened, one more merge per list makes it whole under both names.
    for w in 0..4u64 {
        for r in 0..3u64 {
            let id = w * 10 + r;
            let car = format!("car-{id}");
            let keys = ListKeys::new().with_car_association_id(car.clone());
            cache
                .merge(&ns, &keys, &three(id, false, false, true))
                .await
                .unwrap();
            let by_car = cache
                .get(&ns, &StepsSelector::car_association_id(car).unwrap())
                .await
                .unwrap()
                .unwrap();
            let by_id = cache
                .get(&ns, &StepsSelector::steps_id(id.to_string()).unwrap())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(by_car, by_id);
            assert!(done(&by_car).contains(&"mediumCarKey".to_owned()));
        }
    }
    let report = cache.check().await.unwrap();
    assert_eq!(report.unreadable_removed, 0);
    assert_eq!(report.lists, 12);
    assert_eq!(report.links, 12);
}

/// 64 tasks increment one counter by compare-and-swap loops: no increment is lost (the store
/// is linearizable per key).
pub async fn compare_and_swaps_on_one_key_lose_no_increment<F: StoreFactory>(factory: &F) {
    const ROUNDS: u64 = 20;
    let (_place, store) = interleaved(factory).await;
    together(TASKS, |_| {
        let store = store.clone();
        async move {
            for _ in 0..ROUNDS {
                let mut current = store.get(b"counter").await.unwrap();
                loop {
                    let n = current.as_deref().map_or(0, decode);
                    let next = (n + 1).to_be_bytes();
                    match store
                        .compare_and_swap(b"counter", current.as_deref(), Some(&next))
                        .await
                        .unwrap()
                    {
                        Swap::Swapped => break,
                        Swap::Conflict { current: now } => current = now,
                    }
                }
            }
        }
    })
    .await;
    let total = store.get(b"counter").await.unwrap().map(|v| decode(&v));
    assert_eq!(total, Some(TASKS as u64 * ROUNDS));
}

/// 16 tasks move units between two keys, each move one batch conditioned on both: in the end
/// the sum is what it was and every move was made once (a batch is all or nothing, even under
/// contention: half of one written would change the sum).
pub async fn batches_over_two_keys_keep_their_sum<F: StoreFactory>(factory: &F) {
    // (Fewer tasks than elsewhere: every move of one key conflicts with every other task's.)
    const MOVERS: usize = 16;
    const ROUNDS: u64 = 10;
    const START: u64 = 1_000_000;
    let (_place, store) = interleaved(factory).await;
    let start = START.to_be_bytes();
    let batch = [
        KeySwap::new(b"left", None, Some(&start)),
        KeySwap::new(b"right", None, Some(&start)),
    ];
    assert_eq!(store.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    together(MOVERS, |i| {
        let store = store.clone();
        async move {
            // Even tasks move left to right, odd ones right to left.
            let (from, to): (&[u8], &[u8]) = if i % 2 == 0 {
                (b"left", b"right")
            } else {
                (b"right", b"left")
            };
            for _ in 0..ROUNDS {
                loop {
                    let now = store.get_many(&[from, to]).await.unwrap();
                    // (Not one snapshot: the sum of what was read may be off; the batch
                    // then fails and is redone.)
                    let (Some(a), Some(b)) = (&now[0], &now[1]) else {
                        panic!("a key of the pair vanished: {now:?}");
                    };
                    let a2 = (decode(a) - 1).to_be_bytes();
                    let b2 = (decode(b) + 1).to_be_bytes();
                    let batch = [
                        KeySwap::new(from, Some(a), Some(&a2)),
                        KeySwap::new(to, Some(b), Some(&b2)),
                    ];
                    if store.swap_all(&batch).await.unwrap() == BatchSwap::Swapped {
                        break;
                    }
                }
            }
        }
    })
    .await;
    let now = store.get_many(&[b"left", b"right"]).await.unwrap();
    let values: Vec<u64> = now.iter().map(|v| decode(v.as_deref().unwrap())).collect();
    // As many moves each way.
    assert_eq!(values, [START, START]);
}

/// Batches moving units between two keys, racing single-key compare-and-swaps that add to one
/// of them, on several threads at once: no increment is lost, none is counted twice (a batch
/// checks and writes its keys as one step, which no compare-and-swap can come between).
pub async fn compare_and_swaps_racing_batches_lose_nothing<F: StoreFactory>(factory: &F) {
    const MOVERS: usize = 4;
    const ADDERS: usize = 4;
    const ROUNDS: u64 = 50;
    const START: u64 = 1_000_000;
    // Not interleaved: the race is between threads, inside the store's own calls.
    let (_place, store) = fresh(factory).await;
    let start = START.to_be_bytes();
    let batch = [
        KeySwap::new(b"left", None, Some(&start)),
        KeySwap::new(b"right", None, Some(&start)),
    ];
    assert_eq!(store.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    together(MOVERS + ADDERS, |i| {
        let store = store.clone();
        async move {
            for _ in 0..ROUNDS {
                if i < MOVERS {
                    loop {
                        let now = store.get_many(&[b"left", b"right"]).await.unwrap();
                        let (Some(a), Some(b)) = (&now[0], &now[1]) else {
                            panic!("a key of the pair vanished: {now:?}");
                        };
                        let a2 = (decode(a) - 1).to_be_bytes();
                        let b2 = (decode(b) + 1).to_be_bytes();
                        let batch = [
                            KeySwap::new(b"left", Some(a), Some(&a2)),
                            KeySwap::new(b"right", Some(b), Some(&b2)),
                        ];
                        if store.swap_all(&batch).await.unwrap() == BatchSwap::Swapped {
                            break;
                        }
                    }
                } else {
                    let mut now = store.get(b"left").await.unwrap();
                    loop {
                        let Some(a) = &now else {
                            panic!("the left key vanished");
                        };
                        let a2 = (decode(a) + 1).to_be_bytes();
                        match store.compare_and_swap(b"left", Some(a), Some(&a2)).await {
                            Ok(Swap::Swapped) => break,
                            Ok(Swap::Conflict { current }) => now = current,
                            Err(e) => panic!("compare_and_swap failed: {e}"),
                        }
                    }
                }
                tokio::task::yield_now().await;
            }
        }
    })
    .await;
    let now = store.get_many(&[b"left", b"right"]).await.unwrap();
    let values: Vec<u64> = now.iter().map(|v| decode(v.as_deref().unwrap())).collect();
    let moved = MOVERS as u64 * ROUNDS;
    let added = ADDERS as u64 * ROUNDS;
    assert_eq!(
        values,
        [START - moved + added, START + moved],
        "left, right after {moved} moves and {added} additions to left"
    );
}

fn decode(bytes: &[u8]) -> u64 {
    let array: [u8; 8] = bytes.try_into().expect("a counter is 8 bytes");
    u64::from_be_bytes(array)
}
