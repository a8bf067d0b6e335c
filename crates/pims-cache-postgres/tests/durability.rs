//! Durability: every session commits synchronously whatever the server's or the database's
//! default; a server that does not sync is reported by `health()` and still used; a lookup
//! or a merge that changes nothing writes no WAL at all (so no sync either).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use pims_cache::{BatchSwap, Health, KeySwap, ListKeys, StepCache, StepStore, Swap};
use pims_cache_postgres::PostgresStore;
use pims_cache_postgres::test_server::{ServerOptions, TestServer};
use pims_types::StepsSelector;
use support::*;

/// Waits until no session is connected to `db` (a closed pool's sessions end on the runtime).
async fn wait_for_no_sessions(server: &TestServer, db: &str) {
    let sql = format!("select count(*) from pg_stat_activity where datname = '{db}'");
    wait_for(
        server,
        "postgres",
        &sql,
        |n| n == "0",
        "sessions did not end",
    )
    .await;
}

#[tokio::test]
async fn a_server_that_syncs_is_durable() {
    let Some((_, url)) = fresh_database() else {
        return;
    };
    let s = store(&url).await;
    assert_eq!(s.health(), Health::Durable);
    let cache = StepCache::new(Arc::new(s));
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&StepsSelector::car_association_id("car-1").unwrap());
    assert!(
        cache
            .merge(&ns, &keys, &list(7, 3, &[0]))
            .await
            .unwrap()
            .durable
    );
}

/// A server with `fsync = off`: health is degraded (it says why), the store keeps working, and
/// the cache reports its changes as not durable.
#[tokio::test]
async fn a_server_that_does_not_sync_is_reported_and_still_used() {
    let Some(server) = TestServer::start(ServerOptions::default().fsync(false)) else {
        return;
    };
    let url = server.fresh_url();
    let s = store(&url).await;
    let health = s.health();
    let detail = health
        .degradation()
        .map(|d| d.detail.clone())
        .unwrap_or_default();
    assert!(
        health.is_degraded() && detail.contains("fsync = off"),
        "{health}"
    );
    assert_eq!(
        s.compare_and_swap(b"k", None, Some(b"v")).await.unwrap(),
        Swap::Swapped
    );
    let cache = StepCache::new(Arc::new(s));
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::from(&StepsSelector::car_association_id("car-1").unwrap());
    let merged = cache.merge(&ns, &keys, &list(7, 3, &[0])).await.unwrap();
    assert!(merged.changed && !merged.durable);
    assert!(cache.health().is_degraded());
}

/// The database's default says `synchronous_commit = off`; the store's sessions set it on:
/// each of 40 changes is synced to the WAL before it is acknowledged (asynchronous commits
/// would be synced a few times in all, by the WAL writer).
#[tokio::test]
async fn every_session_commits_synchronously_whatever_the_database_says() {
    let Some(server) = TestServer::start(ServerOptions::default().autovacuum(false)) else {
        return;
    };
    let db = server.create_database();
    server.psql(
        "postgres",
        &format!("alter database \"{db}\" set synchronous_commit = off"),
    );
    let url = server.url(&db);
    let s = store(&url).await;
    assert_eq!(s.health(), Health::Durable);
    let syncs = || -> u64 {
        server
            .psql("postgres", "select wal_sync from pg_stat_wal")
            .parse()
            .unwrap()
    };
    let before = syncs();
    for i in 0..40u32 {
        let key = i.to_be_bytes();
        assert_eq!(
            s.compare_and_swap(&key, None, Some(b"v")).await.unwrap(),
            Swap::Swapped
        );
    }
    // A session's statistics reach the shared counters when it ends.
    s.close();
    wait_for_no_sessions(&server, &db).await;
    let after = syncs();
    assert!(
        after - before >= 40,
        "{} WAL syncs for 40 commits",
        after - before
    );
}

/// Once a list is cached, 100 merges of an answer that changes nothing, 100 lookups by each
/// of its names and 100 batches of conditions only write no WAL at all (the server's insert
/// position does not move).
#[tokio::test]
async fn lookups_and_merges_that_change_nothing_write_no_wal() {
    let options = ServerOptions::default()
        .autovacuum(false)
        // No standby snapshots in the WAL every 15 s: only what the sessions write.
        .setting("wal_level", "minimal")
        .setting("max_wal_senders", "0");
    let Some(server) = TestServer::start(options) else {
        return;
    };
    let url = server.fresh_url();
    let s: Arc<PostgresStore> = Arc::new(store(&url).await);
    let _ = s
        .compare_and_swap(b"\x90x", None, Some(b"1"))
        .await
        .unwrap();
    let cache = StepCache::new(s.clone());
    let ns = cache.namespace("acct").await.unwrap();
    let by_car = StepsSelector::car_association_id("car-1").unwrap();
    let keys = ListKeys::from(&by_car);
    assert!(
        cache
            .merge(&ns, &keys, &list(7, 3, &[0, 2]))
            .await
            .unwrap()
            .changed
    );
    let lsn = || server.psql("postgres", "select pg_current_wal_insert_lsn()");
    let before = lsn();
    for _ in 0..100 {
        let merged = cache.merge(&ns, &keys, &list(7, 3, &[0])).await.unwrap();
        assert!(!merged.changed);
        assert_eq!(done_of(&merged.list).len(), 2);
        assert!(cache.get(&ns, &by_car).await.unwrap().is_some());
        let by_id = StepsSelector::steps_id("7").unwrap();
        assert!(cache.get(&ns, &by_id).await.unwrap().is_some());
        let checks = [
            KeySwap::check(b"\x90x", Some(b"1")),
            KeySwap::check(b"\x90y", None),
        ];
        assert_eq!(s.swap_all(&checks).await.unwrap(), BatchSwap::Swapped);
        let failing = [KeySwap::check(b"\x90x", None)];
        assert!(matches!(
            s.swap_all(&failing).await.unwrap(),
            BatchSwap::Conflict { .. }
        ));
    }
    assert_eq!(lsn(), before, "WAL was written");
}
