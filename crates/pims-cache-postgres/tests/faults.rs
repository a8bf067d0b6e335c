//! The server crashed and restarted (`pg_ctl -m immediate restart`) and sessions terminated
//! (`pg_terminate_backend`) while two replicas (two stores, two pools) merge lists: every call
//! succeeds or fails cleanly (a storage error, never a panic or a wrong answer), nothing
//! acknowledged is lost, and each pool recovers by itself (the same store objects serve again).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pims_cache::{BatchSwap, CacheError, KeySwap, ListKeys, StepCache, StepStore, Swap};
use pims_cache_postgres::PostgresStore;
use pims_cache_postgres::test_server::{ServerOptions, TestServer};
use pims_types::{StepsId, StepsSelector};
use support::*;

const WORKERS: u64 = 8;
const RESTARTS: usize = 4;
const TERMINATIONS: usize = 4;
const STEPS: usize = 5;

fn steps_id(worker: u64, k: u64) -> u64 {
    1_000_000 * (worker + 1) + k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarts_and_killed_sessions_lose_nothing_acknowledged_and_the_pools_recover() {
    let Some(server) = TestServer::start(ServerOptions::default()) else {
        return;
    };
    let server = Arc::new(server);
    let db = server.create_database();
    let url = server.url(&db);
    let connect = || async {
        let options = options(&url)
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .pool_size(4)
            .unwrap();
        Arc::new(PostgresStore::connect(options).await.unwrap())
    };
    let stores = [connect().await, connect().await];
    stores[0].migrate().await.unwrap();
    let caches = [
        StepCache::new(stores[0].clone()),
        StepCache::new(stores[1].clone()),
    ];
    let ns = caches[0].namespace("acct").await.unwrap();
    assert_eq!(
        caches[1].namespace("acct").await.unwrap(),
        ns,
        "one device for both replicas"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let successes: Arc<Vec<AtomicU64>> =
        Arc::new((0..WORKERS).map(|_| AtomicU64::new(0)).collect());
    let failures = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let cache = caches[(w % 2) as usize].clone();
        let ns = ns.clone();
        let (stop, successes, failures) = (stop.clone(), successes.clone(), failures.clone());
        workers.push(tokio::spawn(async move {
            let mut acked = BTreeSet::new();
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                // A new list each time (a change), and now and then one seen before (a read).
                let id = if k % 4 == 3 {
                    steps_id(w, k / 2)
                } else {
                    steps_id(w, k)
                };
                let keys = ListKeys::new().with_steps_id(StepsId::number(id));
                let fresh = list(id, STEPS, &[(id % STEPS as u64) as usize]);
                match cache.merge(&ns, &keys, &fresh).await {
                    Ok(merged) => {
                        assert!(done_of(&merged.list).contains(&((id % STEPS as u64) as usize)));
                        acked.insert(id);
                        successes[w as usize].fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        assert!(
                            matches!(e, CacheError::Storage { .. }),
                            "an unclean failure: {e}"
                        );
                        failures.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                k += 1;
            }
            acked
        }));
    }

    let mut restarts = 0;
    let mut terminated = 0;
    for round in 0..RESTARTS + TERMINATIONS {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let server = server.clone();
        let db = db.clone();
        if round % 2 == 0 {
            tokio::task::spawn_blocking(move || server.restart_immediate())
                .await
                .unwrap();
            restarts += 1;
        } else {
            terminated += tokio::task::spawn_blocking(move || server.terminate_sessions(&db))
                .await
                .unwrap();
        }
    }
    // Every worker (both pools) succeeds again, on the same stores.
    let after_faults: Vec<u64> = successes
        .iter()
        .map(|s| s.load(Ordering::Relaxed))
        .collect();
    let start = Instant::now();
    while successes
        .iter()
        .zip(&after_faults)
        .any(|(now, then)| now.load(Ordering::Relaxed) <= *then)
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "a pool did not recover"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut acked = BTreeSet::new();
    for w in workers {
        acked.extend(w.await.unwrap());
    }
    let failed = failures.load(Ordering::Relaxed);
    println!(
        "{restarts} restarts, {terminated} sessions terminated, {} merges acknowledged, {failed} failed",
        acked.len()
    );
    assert_eq!(restarts, RESTARTS);
    assert!(
        terminated >= TERMINATIONS,
        "{terminated} sessions terminated"
    );
    assert!(
        failed > 0,
        "the faults made no call fail: they did not happen"
    );

    // A fresh replica reads every acknowledged change.
    let fresh = StepCache::new(connect().await);
    for id in &acked {
        let selector = StepsSelector::steps_id(id.to_string()).unwrap();
        let got = fresh.get(&ns, &selector).await.unwrap();
        let got = got.unwrap_or_else(|| panic!("list {id} was acknowledged and is lost"));
        assert!(
            done_of(&got).contains(&((id % STEPS as u64) as usize)),
            "list {id}"
        );
    }
}

/// A batch cut short (its call's time limit passes while another session holds one of its
/// rows) leaves nothing behind: the server cancels its statement at the same limit (the
/// session's `statement_timeout`), so it does not wait for the lock and commit later, and its
/// locks go with it; its connection is closed, not pooled again, so the next call does not
/// queue behind that statement, and sees none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_cut_short_never_reaches_the_next_call() {
    let Some((server, url)) = fresh_database() else {
        return;
    };
    let db = database_of(&url);
    let setup = store(&url).await;
    assert_eq!(
        setup
            .compare_and_swap(b"k", None, Some(b"1"))
            .await
            .unwrap(),
        Swap::Swapped
    );
    // One connection, so that the next call would get the same one.
    let options = options(&format!("{url}&application_name=cut-short"))
        .timeout(Duration::from_secs(1))
        .pool_size(1)
        .unwrap();
    let s = PostgresStore::connect(options).await.unwrap();
    // The pool's one session, before the batch.
    assert_eq!(s.get(b"k").await.unwrap(), Some(b"1".to_vec()));
    let session_of_the_batch = server.psql(
        &db,
        "select pid from pg_stat_activity where application_name = 'cut-short'",
    );
    assert!(
        session_of_the_batch.parse::<u32>().is_ok(),
        "{session_of_the_batch:?}"
    );
    // Another session holds row `k` for a second and a half.
    let holder = std::thread::spawn({
        let db = db.clone();
        move || {
            server.psql(
                &db,
                "set application_name = 'row-holder'; begin; \
                 select * from pims_step_store where k = '\\x6b' for update; \
                 select pg_sleep(1.5); commit;",
            )
        }
    });
    // (Its own lock: other tests' sessions share the server.)
    let holds = format!(
        "select count(*) from pg_locks l join pg_stat_activity a using (pid) \
         where a.application_name = 'row-holder' and a.datname = '{db}' \
         and l.locktype = 'transactionid'"
    );
    wait_for(
        server,
        &db,
        &holds,
        |n| n != "0",
        "the row was never locked",
    )
    .await;
    let batch = [
        KeySwap::new(b"k", Some(b"1"), Some(b"2")),
        KeySwap::new(b"x", None, Some(b"3")),
        KeySwap::check(b"y", None),
    ];
    let e = s.swap_all(&batch).await.unwrap_err();
    assert!(matches!(e, CacheError::Storage { .. }), "{e}");
    // The batch's statement was cancelled by the server (without that, it would wait for the
    // lock and commit its writes half a second later, and this read could see them).
    assert_eq!(
        s.get_many(&[b"k", b"x", b"y"]).await.unwrap(),
        [Some(b"1".to_vec()), None, None]
    );
    // The batch's connection was closed, not pooled again: its session ends (a pooled one
    // would stay, idle, and the read above would have run on it).
    let open = format!("select count(*) from pg_stat_activity where pid = {session_of_the_batch}");
    let what = "the session of the batch cut short is still open";
    wait_for(server, &db, &open, |n| n == "0", what).await;
    holder.join().unwrap();
    assert_eq!(s.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    assert_eq!(
        setup.get_many(&[b"k", b"x", b"y"]).await.unwrap(),
        [Some(b"2".to_vec()), Some(b"3".to_vec()), None]
    );
}
