//! The raw [`StepStore`] contract (written on the trait), case by case: reads, compare-and-swap,
//! the all-or-nothing batch, removal, paged scans, the generation, flushes, a reopen, the
//! device id kept apart. No cache involved: a failure here names the method at fault.

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::store::{BatchSwap, Entry, Followed, KeySwap, StepStore, Swap};

use super::StoreFactory;
use super::samples::{fresh, reopen};

/// Sets `key` to `value` (it must be absent).
async fn put(store: &dyn StepStore, key: &[u8], value: &[u8]) {
    let swap = store.compare_and_swap(key, None, Some(value)).await;
    assert_eq!(swap.ok(), Some(Swap::Swapped), "creating {key:?}");
}

/// Every entry of the store, in one scan.
async fn everything(store: &dyn StepStore) -> Vec<Entry> {
    store.scan(b"", None, usize::MAX).await.expect("scan")
}

fn keys(page: &[Entry]) -> Vec<Vec<u8>> {
    page.iter().map(|(k, _)| k.clone()).collect()
}

/// A new store holds nothing, is not degraded, and flushes.
pub async fn a_new_store_is_empty<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    assert!(everything(&*store).await.is_empty());
    assert_eq!(store.get(b"k").await.unwrap(), None);
    assert_eq!(store.get(b"").await.unwrap(), None);
    let health = store.health();
    assert!(!health.is_degraded(), "a new store is degraded: {health}");
    store.flush().await.unwrap();
    assert_eq!(store.kept_device_id().await.unwrap(), None);
}

/// `get` tells an empty value from an absent one; `get_many` answers every key, in order
/// (absent ones, repeated ones, none at all).
pub async fn get_many_answers_every_key_in_order<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    put(&*store, b"a", b"1").await;
    put(&*store, b"b", b"").await;
    put(&*store, b"c\x00\xff", b"3").await;
    assert_eq!(store.get(b"b").await.unwrap(), Some(Vec::new()));
    let got = store
        .get_many(&[b"c\x00\xff", b"zz", b"a", b"b", b"a", b"c"])
        .await
        .unwrap();
    assert_eq!(
        got,
        [
            Some(b"3".to_vec()),
            None,
            Some(b"1".to_vec()),
            Some(Vec::new()),
            Some(b"1".to_vec()),
            None
        ]
    );
    assert!(store.get_many(&[]).await.unwrap().is_empty());
}

/// `get_following` reads an entry and, when its value starts with the tag, the entry its
/// name points to under the prefix; nothing else.
pub async fn get_following_reads_an_entry_and_the_one_it_names<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    put(&*store, b"i/a", b"\x02one").await;
    put(&*store, b"i/b", b"\x01one").await;
    put(&*store, b"i/c", b"\x02two").await;
    put(&*store, b"i/d", b"\x02").await;
    put(&*store, b"l/one", b"record").await;
    put(&*store, b"l/", b"empty name").await;
    // (key, tag, what it holds, what the key it names holds, why)
    type Case<'a> = (
        &'a [u8],
        &'a [u8],
        Option<&'a [u8]>,
        Option<&'a [u8]>,
        &'a str,
    );
    let cases: [Case<'_>; 6] = [
        (b"i/a", b"\x02", Some(b"\x02one"), Some(b"record"), "a name"),
        (b"i/b", b"\x02", Some(b"\x01one"), None, "another tag"),
        (
            b"i/c",
            b"\x02",
            Some(b"\x02two"),
            None,
            "a name naming nothing",
        ),
        (
            b"i/d",
            b"\x02",
            Some(b"\x02"),
            Some(b"empty name"),
            "an empty name",
        ),
        (
            b"i/a",
            b"",
            Some(b"\x02one"),
            None,
            "no tag: the whole value is the name",
        ),
        (b"i/zz", b"\x02", None, None, "an absent key"),
    ];
    for (key, tag, value, target, why) in cases {
        assert_eq!(
            store.get_following(key, tag, b"l/").await.unwrap(),
            Followed {
                value: value.map(<[u8]>::to_vec),
                target: target.map(<[u8]>::to_vec),
            },
            "{why}"
        );
    }
}

/// `compare_and_swap` creates, replaces and removes only from the expected value, and a
/// conflict reports what the key holds (None: absent).
pub async fn compare_and_swap_replaces_only_the_expected_value<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    let cas = |expected: Option<&'static [u8]>, new: Option<&'static [u8]>| {
        let store = store.clone();
        async move { store.compare_and_swap(b"k", expected, new).await.unwrap() }
    };
    assert_eq!(
        cas(Some(b"x"), Some(b"1")).await,
        Swap::Conflict { current: None }
    );
    assert_eq!(store.get(b"k").await.unwrap(), None);
    assert_eq!(cas(None, Some(b"1")).await, Swap::Swapped);
    let one = Some(b"1".to_vec());
    assert_eq!(
        cas(None, Some(b"2")).await,
        Swap::Conflict {
            current: one.clone()
        }
    );
    assert_eq!(
        cas(Some(b"2"), Some(b"3")).await,
        Swap::Conflict {
            current: one.clone()
        }
    );
    assert_eq!(cas(Some(b""), None).await, Swap::Conflict { current: one });
    assert_eq!(cas(Some(b"1"), Some(b"")).await, Swap::Swapped);
    assert_eq!(store.get(b"k").await.unwrap(), Some(Vec::new()));
    // An empty value is a value: not what "absent" expects.
    assert_eq!(
        cas(None, Some(b"4")).await,
        Swap::Conflict {
            current: Some(Vec::new())
        }
    );
    assert_eq!(cas(Some(b""), Some(b"")).await, Swap::Swapped);
    assert_eq!(cas(Some(b""), None).await, Swap::Swapped);
    assert_eq!(store.get(b"k").await.unwrap(), None);
    assert_eq!(cas(None, None).await, Swap::Swapped, "absent, as expected");
    assert!(everything(&*store).await.is_empty());
}

/// A batch whose every key holds what it expects makes every change: creations,
/// replacements, removals, while its checks leave their keys as they are.
pub async fn swap_all_makes_every_change_of_a_batch<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    put(&*store, b"old", b"1").await;
    put(&*store, b"gone", b"2").await;
    put(&*store, b"same", b"3").await;
    let batch = [
        KeySwap::new(b"new", None, Some(b"a")),
        KeySwap::new(b"old", Some(b"1"), Some(b"b")),
        KeySwap::new(b"gone", Some(b"2"), None),
        KeySwap::check(b"same", Some(b"3")),
        KeySwap::check(b"never", None),
    ];
    assert_eq!(store.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    let all = everything(&*store).await;
    assert_eq!(
        all,
        [
            (b"new".to_vec(), b"a".to_vec()),
            (b"old".to_vec(), b"b".to_vec()),
            (b"same".to_vec(), b"3".to_vec()),
        ]
    );
    assert_eq!(store.swap_all(&[]).await.unwrap(), BatchSwap::Swapped);
    assert_eq!(
        everything(&*store).await,
        all,
        "an empty batch changes nothing"
    );
}

/// A batch with one key holding something else writes nothing at all, and reports that entry
/// (the first one found) and what its key holds; a failing check fails the batch too.
pub async fn swap_all_writes_nothing_when_one_key_differs<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    put(&*store, b"a", b"1").await;
    put(&*store, b"b", b"2").await;
    let before = everything(&*store).await;
    // (A batch, the entry that fails, what its key holds.)
    type Failing<'a> = (&'a [KeySwap<'a>], usize, Option<&'a [u8]>);
    let batches: [Failing<'_>; 5] = [
        // The last entry fails: the earlier ones are not written.
        (
            &[
                KeySwap::new(b"c", None, Some(b"3")),
                KeySwap::new(b"a", Some(b"1"), None),
                KeySwap::new(b"b", Some(b"x"), Some(b"y")),
            ],
            2,
            Some(b"2"),
        ),
        // The first entry fails.
        (
            &[
                KeySwap::new(b"a", None, Some(b"9")),
                KeySwap::new(b"c", None, Some(b"3")),
            ],
            0,
            Some(b"1"),
        ),
        // An absent key expected present.
        (
            &[
                KeySwap::new(b"b", Some(b"2"), Some(b"3")),
                KeySwap::new(b"c", Some(b"0"), None),
            ],
            1,
            None,
        ),
        // A check of a value that changed.
        (
            &[
                KeySwap::new(b"c", None, Some(b"3")),
                KeySwap::check(b"a", Some(b"0")),
            ],
            1,
            Some(b"1"),
        ),
        // A check that the key is absent, when it is not.
        (
            &[
                KeySwap::check(b"b", None),
                KeySwap::new(b"a", Some(b"1"), Some(b"2")),
            ],
            0,
            Some(b"2"),
        ),
    ];
    for (n, (batch, index, current)) in batches.into_iter().enumerate() {
        let outcome = store.swap_all(batch).await.unwrap();
        assert_eq!(
            outcome,
            BatchSwap::Conflict {
                index,
                current: current.map(<[u8]>::to_vec)
            },
            "batch {n}"
        );
        assert_eq!(
            everything(&*store).await,
            before,
            "batch {n} wrote something"
        );
    }
}

/// A batch naming a key twice is refused ([`CacheError::InvalidInput`]) and writes nothing.
pub async fn swap_all_refuses_a_key_named_twice<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    put(&*store, b"a", b"1").await;
    let twice = [
        KeySwap::new(b"b", None, Some(b"2")),
        KeySwap::new(b"a", Some(b"1"), Some(b"3")),
        KeySwap::check(b"a", Some(b"1")),
    ];
    let refused = store.swap_all(&twice).await;
    assert!(
        matches!(refused, Err(CacheError::InvalidInput { .. })),
        "{refused:?}"
    );
    assert_eq!(everything(&*store).await, [(b"a".to_vec(), b"1".to_vec())]);
}

/// `remove` takes a key away whatever it holds and returns what it held.
pub async fn remove_returns_what_was_there<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    put(&*store, b"a", b"1").await;
    put(&*store, b"b", b"").await;
    assert_eq!(store.remove(b"a").await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.remove(b"a").await.unwrap(), None);
    assert_eq!(store.remove(b"b").await.unwrap(), Some(Vec::new()));
    assert_eq!(store.remove(b"never").await.unwrap(), None);
    assert!(everything(&*store).await.is_empty());
}

/// `scan` gives the entries under its prefix (bytes, not text: `\x00` and `\xff` included), in
/// key order, strictly after `after`, at most `limit`.
pub async fn scan_stays_in_its_prefix_after_after_within_limit<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    let all: [&[u8]; 9] = [
        b"",
        b"o",
        b"o\xff",
        b"p",
        b"p\x00",
        b"pa",
        b"p\xff",
        b"p\xff\xff",
        b"q",
    ];
    for (i, k) in all.iter().enumerate() {
        put(&*store, k, &[i as u8]).await;
    }
    let scan = |prefix: &'static [u8], after: Option<&'static [u8]>, limit: usize| {
        let store = store.clone();
        async move { keys(&store.scan(prefix, after, limit).await.unwrap()) }
    };
    let under_p: Vec<Vec<u8>> = all[3..8].iter().map(|k| k.to_vec()).collect();
    assert_eq!(scan(b"p", None, 100).await, under_p);
    assert_eq!(
        scan(b"", None, 100).await.len(),
        all.len(),
        "the empty prefix: all"
    );
    assert_eq!(scan(b"p", None, 2).await, under_p[..2]);
    assert_eq!(
        scan(b"p", Some(b"p"), 100).await,
        under_p[1..],
        "after is exclusive"
    );
    assert_eq!(scan(b"p", Some(b"p\x00"), 2).await, under_p[2..4]);
    assert_eq!(
        scan(b"p", Some(b"pb"), 100).await,
        under_p[3..],
        "after need not exist"
    );
    assert_eq!(
        scan(b"p", Some(b"o\xff"), 100).await,
        under_p,
        "after before the prefix"
    );
    assert_eq!(scan(b"p", Some(b"\x00"), 100).await, under_p);
    assert!(scan(b"p", Some(b"p\xff\xff"), 100).await.is_empty());
    assert!(
        scan(b"p", Some(b"q"), 100).await.is_empty(),
        "after past the prefix"
    );
    assert!(scan(b"p", None, 0).await.is_empty(), "at most 0");
    assert_eq!(scan(b"p\xff", None, 100).await, under_p[3..]);
    assert!(scan(b"r", None, 100).await.is_empty());
    assert!(scan(b"pq", None, 100).await.is_empty());
    let values = store.scan(b"o", None, 100).await.unwrap();
    assert_eq!(
        values,
        [(b"o".to_vec(), vec![1]), (b"o\xff".to_vec(), vec![2])]
    );
}

/// A scan read page by page, each after the last key seen, gives every entry present the whole
/// time once, whatever the page size, while other keys come and go between pages.
pub async fn a_paged_scan_sees_every_entry_once<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    let key = |i: usize| format!("s{i:03}").into_bytes();
    for i in (0..60).step_by(2) {
        put(&*store, &key(i), b"kept").await;
    }
    put(&*store, b"r", b"before").await;
    put(&*store, b"t", b"after").await;
    let kept: Vec<Vec<u8>> = (0..60).step_by(2).map(key).collect();
    for size in 1..=7 {
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut churn = 1;
        for pages in 1.. {
            // (A scan that does not move on would loop forever.)
            assert!(pages <= 100, "pages of {size}: the scan does not end");
            let after = seen.last().cloned();
            let page = store.scan(b"s", after.as_deref(), size).await.unwrap();
            assert!(
                page.len() <= size,
                "page of {} for a limit of {size}",
                page.len()
            );
            if let (Some(after), Some((first, _))) = (&after, page.first()) {
                assert!(
                    first > after,
                    "pages of {size}: a page starts at or before `after`"
                );
            }
            let done = page.len() < size;
            seen.extend(page.into_iter().map(|(k, _)| k));
            // Between pages another writer adds and removes odd keys.
            let odd = key(churn);
            let _ = store
                .compare_and_swap(&odd, None, Some(b"churn"))
                .await
                .unwrap();
            if churn >= 3 {
                let _ = store.remove(&key(churn - 2)).await.unwrap();
            }
            churn = (churn + 2) % 60;
            if done {
                break;
            }
        }
        for odd in (1..60).step_by(2) {
            let _ = store.remove(&key(odd)).await.unwrap();
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, seen, "pages of {size}: out of order or repeated");
        let mine: Vec<Vec<u8>> = seen.into_iter().filter(|k| kept.contains(k)).collect();
        assert_eq!(mine, kept, "pages of {size}");
    }
}

/// The generation, when the store has one: it changes with every change (a swap, a batch, a
/// removal), and stays the same when nothing changes (reads, scans, a batch of checks only).
/// A store without one (`None`, as a shared store must answer) never has one.
pub async fn the_generation_moves_with_every_change_only<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    let Some(mut last) = store.generation() else {
        let _ = store
            .compare_and_swap(b"k", None, Some(b"1"))
            .await
            .unwrap();
        assert_eq!(store.generation(), None, "a generation appeared");
        return;
    };
    let mut moved = |what: &str, moves: bool| {
        let now = store.generation().expect("the generation went away");
        if moves {
            assert_ne!(now, last, "the generation did not move with {what}");
        } else {
            assert_eq!(now, last, "the generation moved with {what}");
        }
        last = now;
    };
    let _ = store
        .compare_and_swap(b"k", None, Some(b"1"))
        .await
        .unwrap();
    moved("a compare-and-swap", true);
    let _ = store.get(b"k").await.unwrap();
    let _ = store.get_many(&[b"k", b"j"]).await.unwrap();
    let _ = store.scan(b"", None, 10).await.unwrap();
    store.flush().await.unwrap();
    moved("reads and a flush", false);
    let checks = [KeySwap::check(b"k", Some(b"1")), KeySwap::check(b"j", None)];
    assert_eq!(store.swap_all(&checks).await.unwrap(), BatchSwap::Swapped);
    moved("a batch of checks only", false);
    let batch = [
        KeySwap::check(b"k", Some(b"1")),
        KeySwap::new(b"j", None, Some(b"2")),
    ];
    assert_eq!(store.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    moved("a batch", true);
    let _ = store
        .compare_and_swap(b"k", Some(b"1"), Some(b"3"))
        .await
        .unwrap();
    moved("a replacement", true);
    assert!(store.remove(b"j").await.unwrap().is_some());
    moved("a removal", true);
    let _ = store
        .compare_and_swap(b"k", Some(b"3"), None)
        .await
        .unwrap();
    moved("a removal by compare-and-swap", true);
}

/// What was flushed is there after a restart (every handle dropped, the place opened again),
/// removals included; the store there is as healthy as before.
pub async fn flushed_changes_survive_a_reopen<F: StoreFactory>(factory: &F) {
    let (place, store) = fresh(factory).await;
    put(&*store, b"a", b"1").await;
    put(&*store, b"b", b"2").await;
    let batch = [
        KeySwap::new(b"c", None, Some(b"3")),
        KeySwap::new(b"b", Some(b"2"), None),
    ];
    assert_eq!(store.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    store.flush().await.unwrap();
    let health = store.health();
    let before = everything(&*store).await;
    drop(store);
    let store = reopen(factory, &place).await;
    assert_eq!(everything(&*store).await, before);
    assert_eq!(
        before,
        [
            (b"a".to_vec(), b"1".to_vec()),
            (b"c".to_vec(), b"3".to_vec())
        ]
    );
    assert_eq!(store.health(), health);
    // And it goes on working.
    assert_eq!(store.remove(b"a").await.unwrap(), Some(b"1".to_vec()));
    store.flush().await.unwrap();
    drop(store);
    let store = reopen(factory, &place).await;
    assert_eq!(store.get(b"a").await.unwrap(), None);
}

/// A store that keeps the device id apart keeps the first one it is given (answering it to
/// later callers), across a reopen; one that keeps none answers None throughout.
pub async fn the_device_id_kept_apart_is_the_first_one<F: StoreFactory>(factory: &F) {
    let (place, store) = fresh(factory).await;
    let first = DeviceId::parse("device-first").unwrap();
    let second = DeviceId::parse("device-second").unwrap();
    let kept = store.keep_device_id(&first).await.unwrap();
    match kept {
        None => {
            assert_eq!(store.kept_device_id().await.unwrap(), None);
            assert_eq!(store.keep_device_id(&second).await.unwrap(), None);
        }
        Some(kept) => {
            assert_eq!(kept, first);
            assert_eq!(
                store.keep_device_id(&second).await.unwrap(),
                Some(first.clone())
            );
            assert_eq!(store.kept_device_id().await.unwrap(), Some(first.clone()));
            drop(store);
            let store = reopen(factory, &place).await;
            assert_eq!(store.kept_device_id().await.unwrap(), Some(first.clone()));
            assert_eq!(store.keep_device_id(&second).await.unwrap(), Some(first));
        }
    }
}

/// Ordinary operations do not replace the contents wholesale: the epoch stays.
pub async fn the_epoch_stays_through_ordinary_operations<F: StoreFactory>(factory: &F) {
    let (_place, store) = fresh(factory).await;
    let epoch = store.epoch();
    put(&*store, b"a", b"1").await;
    let _ = store
        .swap_all(&[KeySwap::new(b"a", Some(b"1"), Some(b"2"))])
        .await
        .unwrap();
    let _ = store.remove(b"a").await.unwrap();
    let _ = store.scan(b"", None, 10).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(store.epoch(), epoch);
}
