//! Planning: the server plans each of the store's statements once per session, not at every
//! execution. (Left to itself, PostgreSQL plans a statement taking an array anew each time: the
//! generic plan's guess of ten elements costs more than the custom plans for two, and that
//! planning cost more than the lookup itself.) Counted by `pg_stat_statements`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use pims_cache::{ListKeys, StepCache};
use pims_cache_postgres::test_server::{ServerOptions, TestServer};
use pims_types::StepsSelector;
use support::*;

#[tokio::test]
async fn merges_and_lookups_reuse_their_plans() {
    let options = ServerOptions::default()
        .setting("shared_preload_libraries", "pg_stat_statements")
        .setting("pg_stat_statements.track_planning", "on");
    let Some(server) = TestServer::start(options) else {
        return;
    };
    let db = server.create_database();
    server.psql(&db, "create extension pg_stat_statements");
    let url = server.url(&db);
    let cache = StepCache::new(Arc::new(store(&url).await));
    let ns = cache.namespace("acct").await.unwrap();
    let selector = StepsSelector::car_association_id("car-1").unwrap();
    let keys = ListKeys::from(&selector);
    assert!(
        cache
            .merge(&ns, &keys, &list(7, 3, &[0]))
            .await
            .unwrap()
            .changed
    );
    server.psql(&db, "select pg_stat_statements_reset()");
    const CALLS: u64 = 40;
    for _ in 0..CALLS {
        let merged = cache.merge(&ns, &keys, &list(7, 3, &[0])).await.unwrap();
        assert!(!merged.changed);
        assert!(cache.get(&ns, &selector).await.unwrap().is_some());
    }
    // (calls, plans) of the statements that read several keys, and an index entry with its
    // record.
    for (what, pattern) in [
        ("get_many", "%with ordinality as q%"),
        ("get_following", "%left join%"),
    ] {
        let row = server.psql(
            &db,
            &format!(
                "select sum(calls)::text || ' ' || sum(plans)::text from pg_stat_statements \
                 where query like '{pattern}'"
            ),
        );
        let (calls, plans) = row
            .split_once(' ')
            .unwrap_or_else(|| panic!("{what}: {row:?}"));
        let (calls, plans): (u64, u64) = (calls.parse().unwrap(), plans.parse().unwrap());
        assert!(calls >= CALLS, "{what}: {calls} calls");
        assert!(
            plans <= 4,
            "{what}: planned {plans} times for {calls} calls"
        );
    }

    // Durable changes: each is one statement from the client (the function call, which
    // commits as it returns), never an explicit transaction, and planned once too.
    server.psql(&db, "select pg_stat_statements_reset()");
    for n in 0..CALLS {
        let selector = StepsSelector::car_association_id(format!("car-new-{n}")).unwrap();
        let merged = cache
            .merge(&ns, &ListKeys::from(&selector), &list(100 + n, 3, &[0]))
            .await
            .unwrap();
        assert!(merged.changed && merged.durable);
    }
    let counted = |pattern: &str| -> (u64, u64) {
        let row = server.psql(
            &db,
            &format!(
                "select coalesce(sum(calls), 0)::text || ' ' || coalesce(sum(plans), 0)::text \
                 from pg_stat_statements where toplevel and query ilike '{pattern}'"
            ),
        );
        let (calls, plans) = row.split_once(' ').unwrap();
        (calls.parse().unwrap(), plans.parse().unwrap())
    };
    let (calls, plans) = counted("%_swap_all\"(%");
    assert_eq!(calls, CALLS, "one swap_all call per durable change");
    assert!(
        plans <= 4,
        "swap_all planned {plans} times for {calls} calls"
    );
    for explicit in ["begin%", "commit%", "rollback%"] {
        assert_eq!(counted(explicit).0, 0, "{explicit}");
    }
}
