//! The schema: `migrate` run by every replica at once, a later version's schema refused
//! (neither read nor changed), a table of one's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims_cache::{CacheError, StepStore, Swap};
use pims_cache_postgres::{PostgresError, PostgresStore, SCHEMA_VERSION};
use support::*;

/// Sixteen replicas start at once on an empty database, each running `migrate`: every one
/// succeeds (they take turns on an advisory lock; without it concurrent `create table if not
/// exists` fails on a catalog index), and the schema is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_replica_may_migrate_at_start() {
    let Some((server, url)) = fresh_database() else {
        return;
    };
    for round in 0..3 {
        let db = server.create_database();
        let url = server.url(&db);
        let mut stores = Vec::new();
        for _ in 0..16 {
            stores.push(PostgresStore::connect(options(&url)).await.unwrap());
        }
        let runs: Vec<_> = stores
            .iter()
            .cloned()
            .map(|s| tokio::spawn(async move { s.migrate().await }))
            .collect();
        for run in runs {
            assert_eq!(run.await.unwrap().unwrap(), SCHEMA_VERSION, "round {round}");
        }
        assert_eq!(
            server.psql(
                &db,
                "select count(*), min(version) from pims_step_store_schema"
            ),
            format!("1|{SCHEMA_VERSION}")
        );
    }
    // Again on a migrated store: nothing to do.
    let s = store(&url).await;
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION);
}

#[tokio::test]
async fn a_later_schema_is_refused_and_left_alone() {
    let Some((server, url)) = fresh_database() else {
        return;
    };
    let s = store(&url).await;
    let _ = s.compare_and_swap(b"k", None, Some(b"v")).await.unwrap();
    let db = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    server.psql(&db, "update pims_step_store_schema set version = 99");
    let later = PostgresError::SchemaTooNew {
        found: 99,
        supported: SCHEMA_VERSION,
    };
    let e = PostgresStore::connect(options(&url)).await.unwrap_err();
    assert_schema_too_new(&e, &later);
    let e = s.migrate().await.unwrap_err();
    assert_schema_too_new(&e, &later);
    assert_eq!(s.schema_version().await.unwrap(), Some(99));
    assert_eq!(
        server.psql(&db, "select version from pims_step_store_schema"),
        "99"
    );
    assert_eq!(s.get(b"k").await.unwrap(), Some(b"v".to_vec()));
}

fn assert_schema_too_new(e: &CacheError, expected: &PostgresError) {
    assert!(matches!(e, CacheError::Storage { .. }), "{e}");
    let source = std::error::Error::source(e).unwrap();
    assert_eq!(source.to_string(), expected.to_string());
    assert_eq!(source.downcast_ref::<PostgresError>(), Some(expected));
}

/// Two tables in one database (one in a schema of its own) are two stores.
#[tokio::test]
async fn a_table_of_its_own_is_another_store() {
    let Some((_, url)) = fresh_database() else {
        return;
    };
    let a = store(&url).await;
    let b = PostgresStore::connect(options(&url).table("svc.steps").unwrap())
        .await
        .unwrap();
    assert_eq!(b.schema_version().await.unwrap(), None);
    b.migrate().await.unwrap();
    assert_eq!(
        a.compare_and_swap(b"k", None, Some(b"a")).await.unwrap(),
        Swap::Swapped
    );
    assert_eq!(
        b.compare_and_swap(b"k", None, Some(b"b")).await.unwrap(),
        Swap::Swapped
    );
    assert_eq!(a.get(b"k").await.unwrap(), Some(b"a".to_vec()));
    assert_eq!(b.get(b"k").await.unwrap(), Some(b"b".to_vec()));
}
