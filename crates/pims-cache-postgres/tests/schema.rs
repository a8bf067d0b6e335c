//! The schema: `migrate` run by every replica at once, a store of version 1 upgraded in place,
//! a later version's schema refused (neither read nor changed), a table of one's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims_cache::{BatchSwap, CacheError, KeySwap, StepStore, Swap};
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

/// The schema version 1 wrote, as it wrote it: the entries and the version table.
const VERSION_1: &str = "\
    create table pims_step_store_schema (\
      one boolean primary key default true check (one), version integer not null); \
    insert into pims_step_store_schema (one, version) values (true, 1); \
    create table pims_step_store (k bytea primary key, v bytea not null) \
      with (fillfactor = 80); \
    insert into pims_step_store (k, v) values ('\\x6b31', '\\x7631'), ('\\x6b32', '\\x7632')";

/// A store of version 1 (no `swap_all` function): read as before; a batch that writes says to
/// migrate and writes nothing; `migrate`, run by several replicas at once, adds the function,
/// records version 2 and keeps every entry; batches work after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_store_is_upgraded_in_place() {
    let Some((server, url)) = fresh_database() else {
        return;
    };
    let db = database_of(&url);
    server.psql(&db, VERSION_1);
    let s = PostgresStore::connect(options(&url)).await.unwrap();
    assert_eq!(s.schema_version().await.unwrap(), Some(1));
    assert_eq!(s.get(b"k1").await.unwrap(), Some(b"v1".to_vec()));
    let batch = [
        KeySwap::new(b"k1", Some(b"v1"), Some(b"w1")),
        KeySwap::new(b"k3", None, Some(b"v3")),
    ];
    let e = s.swap_all(&batch).await.unwrap_err();
    assert!(matches!(e, CacheError::Storage { .. }), "{e}");
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(source.contains("run migrate()"), "{source}");
    assert_eq!(
        server.psql(&db, "select count(*) from pims_step_store"),
        "2"
    );

    let others: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let s = PostgresStore::connect(options(&url)).await.unwrap();
                s.migrate().await
            })
        })
        .collect();
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION);
    for other in others {
        assert_eq!(other.await.unwrap().unwrap(), SCHEMA_VERSION);
    }
    assert_eq!(SCHEMA_VERSION, 2);
    assert_eq!(
        server.psql(
            &db,
            "select count(*), min(version) from pims_step_store_schema"
        ),
        "1|2"
    );
    assert_eq!(
        server.psql(
            &db,
            "select count(*) from pg_proc where proname = 'pims_step_store_swap_all'"
        ),
        "1"
    );
    assert_eq!(s.get(b"k2").await.unwrap(), Some(b"v2".to_vec()));
    assert_eq!(s.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    assert_eq!(s.get(b"k1").await.unwrap(), Some(b"w1".to_vec()));
    assert_eq!(s.get(b"k3").await.unwrap(), Some(b"v3".to_vec()));
}

/// A store of version 2 whose function was lost (a dump of its tables only, a manual drop):
/// a batch says to migrate, and `migrate` makes the function again.
#[tokio::test]
async fn a_lost_function_is_made_again_by_migrate() {
    let Some((server, url)) = fresh_database() else {
        return;
    };
    let db = database_of(&url);
    let s = store(&url).await;
    let batch = [KeySwap::new(b"k", None, Some(b"v"))];
    server.psql(
        &db,
        "drop function pims_step_store_swap_all(bytea[], bytea[], bytea[], bytea[], bytea[])",
    );
    let e = s.swap_all(&batch).await.unwrap_err();
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(source.contains("run migrate()"), "{source}");
    assert_eq!(s.migrate().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(s.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    assert_eq!(s.get(b"k").await.unwrap(), Some(b"v".to_vec()));
}

/// A table named like the statements' own names (`b`, `j`, `bad`...) is a store like any
/// other: a batch on it writes.
#[tokio::test]
async fn a_table_named_like_a_statement_part_works() {
    let Some((_, url)) = fresh_database() else {
        return;
    };
    for name in ["b", "j", "bad", "changed", "removed", "t", "q", "l", "r"] {
        let s = PostgresStore::connect(options(&url).table(name).unwrap())
            .await
            .unwrap();
        s.migrate().await.unwrap();
        let batch = [
            KeySwap::new(b"k", None, Some(b"1")),
            KeySwap::check(b"x", None),
        ];
        assert_eq!(
            s.swap_all(&batch).await.unwrap(),
            BatchSwap::Swapped,
            "{name}"
        );
        let batch = [
            KeySwap::new(b"k", Some(b"1"), Some(b"2")),
            KeySwap::new(b"y", None, Some(b"3")),
        ];
        assert_eq!(
            s.swap_all(&batch).await.unwrap(),
            BatchSwap::Swapped,
            "{name}"
        );
        assert_eq!(
            s.get_many(&[b"k", b"x", b"y"]).await.unwrap(),
            [Some(b"2".to_vec()), None, Some(b"3".to_vec())],
            "{name}"
        );
        let key = b"y".as_slice();
        assert_eq!(
            s.get_following(b"k", b"", key).await.unwrap().value,
            Some(b"2".to_vec()),
            "{name}"
        );
    }
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

/// Two tables in one database (one in a schema of its own) are two stores, each with its own
/// batch function.
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
    // A batch goes through the function of its own table (`svc.steps_swap_all`).
    let batch = [
        KeySwap::new(b"k", Some(b"b"), Some(b"c")),
        KeySwap::new(b"n", None, Some(b"1")),
    ];
    assert_eq!(b.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
    assert_eq!(
        b.get_many(&[b"k", b"n"]).await.unwrap(),
        [Some(b"c".to_vec()), Some(b"1".to_vec())]
    );
    assert_eq!(
        a.get_many(&[b"k", b"n"]).await.unwrap(),
        [Some(b"a".to_vec()), None]
    );
}
