//! The store contract on a real server (the conformance kit runs the same and more): reads,
//! compare-and-swap and its conflicts, all-or-nothing batches, paged scans, removals, and the
//! concurrency that the contract promises across replicas (two stores: two pools, as two
//! processes would have).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use pims_cache::{BatchSwap, CacheError, KeySwap, StepStore, Swap};
use support::*;

macro_rules! db {
    () => {
        match fresh_database() {
            Some((_, url)) => store(&url).await,
            None => return,
        }
    };
}

#[tokio::test]
async fn reads_answer_every_key_in_order() {
    let s = db!();
    assert_eq!(s.get(b"a").await.unwrap(), None);
    let _ = s.compare_and_swap(b"a", None, Some(b"1")).await.unwrap();
    let _ = s
        .compare_and_swap(b"\x00\xff", None, Some(b""))
        .await
        .unwrap();
    assert_eq!(s.get(b"a").await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(
        s.get_many(&[b"zz", b"a", b"\x00\xff", b"a"]).await.unwrap(),
        [
            None,
            Some(b"1".to_vec()),
            Some(Vec::new()),
            Some(b"1".to_vec())
        ]
    );
    assert!(s.get_many(&[]).await.unwrap().is_empty());
    assert_eq!(s.remove(b"a").await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(s.remove(b"a").await.unwrap(), None);
    assert_eq!(s.get(b"a").await.unwrap(), None);
    s.flush().await.unwrap();
}

#[tokio::test]
async fn compare_and_swap_reports_what_the_key_holds_now() {
    let s = db!();
    let k: &[u8] = b"k";
    assert_eq!(
        s.compare_and_swap(k, None, Some(b"1")).await.unwrap(),
        Swap::Swapped
    );
    assert_eq!(
        s.compare_and_swap(k, None, Some(b"2")).await.unwrap(),
        Swap::Conflict {
            current: Some(b"1".to_vec())
        }
    );
    assert_eq!(
        s.compare_and_swap(k, Some(b"0"), Some(b"2")).await.unwrap(),
        Swap::Conflict {
            current: Some(b"1".to_vec())
        }
    );
    assert_eq!(
        s.compare_and_swap(k, Some(b"1"), Some(b"2")).await.unwrap(),
        Swap::Swapped
    );
    // Conditions only: nothing written either way.
    assert_eq!(
        s.compare_and_swap(k, Some(b"2"), Some(b"2")).await.unwrap(),
        Swap::Swapped
    );
    assert_eq!(
        s.compare_and_swap(k, None, None).await.unwrap(),
        Swap::Conflict {
            current: Some(b"2".to_vec())
        }
    );
    assert_eq!(
        s.compare_and_swap(k, Some(b"1"), None).await.unwrap(),
        Swap::Conflict {
            current: Some(b"2".to_vec())
        }
    );
    assert_eq!(
        s.compare_and_swap(k, Some(b"2"), None).await.unwrap(),
        Swap::Swapped
    );
    assert_eq!(
        s.compare_and_swap(k, Some(b"2"), Some(b"3")).await.unwrap(),
        Swap::Conflict { current: None }
    );
    assert_eq!(
        s.compare_and_swap(k, None, None).await.unwrap(),
        Swap::Swapped
    );
    assert_eq!(s.get(k).await.unwrap(), None);
}

#[tokio::test]
async fn a_batch_is_all_or_nothing_and_names_its_first_failing_entry() {
    let s = db!();
    let batch = [
        KeySwap::new(b"a", None, Some(b"1")),
        KeySwap::new(b"b", None, Some(b"2")),
    ];
    assert_eq!(s.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    // One entry fails: nothing is written, not even the creation of an absent key.
    let batch = [
        KeySwap::new(b"c", None, Some(b"3")),
        KeySwap::new(b"a", Some(b"1"), None),
        KeySwap::new(b"b", Some(b"x"), Some(b"y")),
        KeySwap::check(b"d", Some(b"4")),
    ];
    assert_eq!(
        s.swap_all(&batch).await.unwrap(),
        BatchSwap::Conflict {
            index: 2,
            current: Some(b"2".to_vec())
        }
    );
    assert_eq!(
        s.get_many(&[b"a", b"b", b"c", b"d"]).await.unwrap(),
        [Some(b"1".to_vec()), Some(b"2".to_vec()), None, None]
    );
    // Every kind of entry at once: create, replace, remove, conditions on present and absent.
    let batch = [
        KeySwap::new(b"c", None, Some(b"3")),
        KeySwap::new(b"a", Some(b"1"), None),
        KeySwap::new(b"b", Some(b"2"), Some(b"22")),
        KeySwap::check(b"d", None),
        KeySwap::check(b"c2", None),
    ];
    assert_eq!(s.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    assert_eq!(
        s.scan(b"", None, 100).await.unwrap(),
        [
            (b"b".to_vec(), b"22".to_vec()),
            (b"c".to_vec(), b"3".to_vec())
        ],
        "no placeholder of a condition is left behind"
    );
    // Conditions only.
    assert_eq!(
        s.swap_all(&[
            KeySwap::check(b"b", Some(b"22")),
            KeySwap::check(b"a", None)
        ])
        .await
        .unwrap(),
        BatchSwap::Swapped
    );
    assert_eq!(
        s.swap_all(&[
            KeySwap::check(b"b", Some(b"22")),
            KeySwap::check(b"c", None)
        ])
        .await
        .unwrap(),
        BatchSwap::Conflict {
            index: 1,
            current: Some(b"3".to_vec())
        }
    );
    assert_eq!(s.swap_all(&[]).await.unwrap(), BatchSwap::Swapped);
}

#[tokio::test]
async fn a_batch_naming_a_key_twice_is_refused() {
    let s = db!();
    let e = s
        .swap_all(&[
            KeySwap::new(b"a", None, Some(b"1")),
            KeySwap::check(b"a", None),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            CacheError::InvalidInput {
                what: "swap_all",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(s.get(b"a").await.unwrap(), None);
}

#[tokio::test]
async fn scans_page_through_a_prefix_in_key_order() {
    let s = db!();
    let keys: [&[u8]; 9] = [
        b"a",
        b"a\x00",
        b"a1",
        b"a2",
        b"a\xff",
        b"a\xff\xff",
        b"b",
        b"\xff",
        b"\xff\xff",
    ];
    for k in keys {
        let _ = s.compare_and_swap(k, None, Some(k)).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let page = s.scan(b"a", after.as_deref(), 2).await.unwrap();
        seen.extend(page.iter().map(|(k, v)| {
            assert_eq!(k, v);
            k.clone()
        }));
        if page.len() < 2 {
            break;
        }
        after = page.last().map(|(k, _)| k.clone());
    }
    let expect: Vec<Vec<u8>> = keys[..6].iter().map(|k| k.to_vec()).collect();
    assert_eq!(seen, expect);
    let all: Vec<Vec<u8>> = s
        .scan(b"", None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(all, keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>());
    let ff: Vec<Vec<u8>> = s
        .scan(b"\xff", None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(ff, [b"\xff".to_vec(), b"\xff\xff".to_vec()]);
    assert!(s.scan(b"a", None, 0).await.unwrap().is_empty());
    assert!(s.scan(b"a", Some(b"b"), 10).await.unwrap().is_empty());
    assert_eq!(
        s.scan(b"a", Some(b"0"), 1).await.unwrap()[0].0,
        b"a".to_vec()
    );
}

#[tokio::test]
async fn a_store_without_its_tables_says_to_migrate() {
    let Some((_, url)) = fresh_database() else {
        return;
    };
    let s = pims_cache_postgres::PostgresStore::connect(options(&url))
        .await
        .unwrap();
    let e = s.get(b"a").await.unwrap_err();
    assert!(matches!(e, CacheError::Storage { .. }), "{e}");
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(source.contains("run migrate()"), "{source}");
    assert_eq!(s.schema_version().await.unwrap(), None);
    s.migrate().await.unwrap();
    assert_eq!(s.get(b"a").await.unwrap(), None);
}

/// 8 tasks on two stores (two pools, as two replicas would have) increment one counter by
/// compare-and-swap: no increment is lost, and a conflict always reports a value that is there
/// (never absent: the key is never removed once written).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_compare_and_swaps_lose_no_update() {
    let Some((_, url)) = fresh_database() else {
        return;
    };
    let stores = [Arc::new(store(&url).await), Arc::new(store(&url).await)];
    const TASKS: usize = 8;
    const EACH: u64 = 40;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let s = stores[t % 2].clone();
        handles.push(tokio::spawn(async move {
            let mut done = 0;
            let mut current: Option<Vec<u8>> = s.get(b"n").await.unwrap();
            while done < EACH {
                let n = current
                    .as_deref()
                    .map(|v| u64::from_be_bytes(v.try_into().unwrap()))
                    .unwrap_or(0);
                let next = (n + 1).to_be_bytes();
                match s
                    .compare_and_swap(b"n", current.as_deref(), Some(&next))
                    .await
                    .unwrap()
                {
                    Swap::Swapped => {
                        done += 1;
                        current = Some(next.to_vec());
                    }
                    Swap::Conflict { current: now } => {
                        assert!(now.is_some(), "a conflict reported an absent key");
                        current = now;
                    }
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let total = stores[0].get(b"n").await.unwrap().unwrap();
    assert_eq!(
        u64::from_be_bytes(total.try_into().unwrap()),
        TASKS as u64 * EACH
    );
}

/// Tokens moved between keys by batches (remove here, create there), by 8 tasks on two
/// stores: none is lost or duplicated, so every batch was all or nothing even when two batches
/// created the same absent key at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_batches_move_tokens_without_losing_or_doubling_one() {
    let Some((_, url)) = fresh_database() else {
        return;
    };
    let stores = [Arc::new(store(&url).await), Arc::new(store(&url).await)];
    const SLOTS: u64 = 6;
    const TOKENS: u64 = 3;
    for t in 0..TOKENS {
        let _ = stores[0]
            .compare_and_swap(&[b's', t as u8], None, Some(&[b't', t as u8]))
            .await
            .unwrap();
    }
    let seed = seed();
    println!("seed {seed}");
    let mut handles = Vec::new();
    for task in 0..8u64 {
        let s = stores[task as usize % 2].clone();
        handles.push(tokio::spawn(async move {
            let mut rng = Rng(seed.wrapping_add(task * 0x9e37_79b9));
            let mut moved = 0;
            for _ in 0..60 {
                let from = [b's', rng.below(SLOTS) as u8];
                let to = [b's', rng.below(SLOTS) as u8];
                if from == to {
                    continue;
                }
                let Some(token) = s.get(&from).await.unwrap() else {
                    continue;
                };
                let batch = [
                    KeySwap::new(&from, Some(&token), None),
                    KeySwap::new(&to, None, Some(&token)),
                ];
                if s.swap_all(&batch).await.unwrap() == BatchSwap::Swapped {
                    moved += 1;
                }
            }
            moved
        }));
    }
    let mut moved = 0;
    for h in handles {
        moved += h.await.unwrap();
    }
    let tokens: Vec<Vec<u8>> = stores[1]
        .scan(b"s", None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let distinct: BTreeSet<_> = tokens.iter().cloned().collect();
    assert_eq!(
        tokens.len() as u64,
        TOKENS,
        "after {moved} moves: {tokens:?}"
    );
    assert_eq!(
        distinct.len() as u64,
        TOKENS,
        "after {moved} moves: {tokens:?}"
    );
    assert!(moved > 0);
}

/// Write skew across absent keys: two batches each create their key only if the other's is
/// absent. However they interleave, never both keys end up present: a batch's condition that
/// a key is absent holds until it commits (no other writer can create that key meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_condition_on_an_absent_key_holds_until_the_batch_commits() {
    let Some((_, url)) = fresh_database() else {
        return;
    };
    let stores = [Arc::new(store(&url).await), Arc::new(store(&url).await)];
    let mut both = 0;
    let mut one = 0;
    for round in 0..150u32 {
        let x = format!("x{round}").into_bytes();
        let y = format!("y{round}").into_bytes();
        let (a, b) = (stores[0].clone(), stores[1].clone());
        let (x1, y1, x2, y2) = (x.clone(), y.clone(), x.clone(), y.clone());
        let first = tokio::spawn(async move {
            a.swap_all(&[
                KeySwap::check(&y1, None),
                KeySwap::new(&x1, None, Some(b"1")),
            ])
            .await
            .unwrap()
        });
        let second = tokio::spawn(async move {
            b.swap_all(&[
                KeySwap::new(&y2, None, Some(b"1")),
                KeySwap::check(&x2, None),
            ])
            .await
            .unwrap()
        });
        let (r1, r2) = (first.await.unwrap(), second.await.unwrap());
        let present = stores[0].get_many(&[&x, &y]).await.unwrap();
        match (r1 == BatchSwap::Swapped, r2 == BatchSwap::Swapped) {
            (true, true) => both += 1,
            (true, false) | (false, true) => one += 1,
            (false, false) => panic!("round {round}: neither batch went through"),
        }
        assert!(
            present.iter().filter(|v| v.is_some()).count() == 1,
            "round {round}: {present:?} ({r1:?}, {r2:?})"
        );
    }
    assert_eq!(both, 0);
    assert_eq!(one, 150);
}
