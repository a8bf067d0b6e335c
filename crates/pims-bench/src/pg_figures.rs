//! B9, B10 and B11: the step cache on a shared PostgreSQL store, each against a baseline on the
//! same server in the same run.
//!
//! - B10: a durable change (`StepCache::merge` turning a step alreadyDone, committed
//!   synchronously before it returns) vs one raw upsert of the same record bytes with
//!   tokio-postgres (`synchronous_commit = on`);
//! - B11: a no-change merge, and a lookup by carAssociationID, in a table of 1,000,000 lists,
//!   vs one raw `SELECT` of a list record by its primary key;
//! - B9 ([`crate::replica_figure`]): two replica processes on the store vs one on sled.
//!
//! B10 and B11 run in this process on a two-worker tokio runtime, one operation at a time
//! (latency), ours and the baseline alternating round by round; the medians are compared.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pims_cache::{Merged, Namespace, StepCache};
use pims_cache_postgres::test_server::TestServer;
use pims_cache_postgres::{DEFAULT_TABLE, PostgresOptions, PostgresStore};
use pims_sim::{SimConfig, SimServer};
use pims_types::StepsSelector;
use tokio::runtime::Runtime;
use tokio_postgres::{Client, NoTls, Statement};

use crate::cache_figures::count;
use crate::pg_population::{self as population, ListShape, THROUGH_THE_CACHE};
use crate::pg_server::{self, Server};
use crate::plan::Plan;
use crate::replica_figure::{B9_WHAT, b9};
use crate::report::{Goal, Measure, Row};
use crate::stats::median;
use crate::workloads::{BENCH_ACCOUNT, Scatter, bench_keys, bench_list};

const B10_WHAT: &str = "durable change on PostgreSQL vs raw durable upsert: latency";

fn b11_merge_what(lists: u64) -> String {
    format!(
        "no-change merge on PostgreSQL vs raw primary-key SELECT, {} lists",
        count(lists)
    )
}

fn b11_lookup_what(lists: u64) -> String {
    format!(
        "lookup by carAssociationID on PostgreSQL vs raw primary-key SELECT, {} lists",
        count(lists)
    )
}

/// Runs the PostgreSQL figures `wanted` says yes to, on one server started here.
pub(crate) fn run(
    plan: &Plan,
    replica_exe: &Path,
    work: &Path,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<Row> {
    let lists = plan.pg_lists as u64;
    let whats: Vec<(&'static str, String)> = [
        ("B9", B9_WHAT.to_owned()),
        ("B10", B10_WHAT.to_owned()),
        ("B11", b11_merge_what(lists)),
        ("B11", b11_lookup_what(lists)),
    ]
    .into_iter()
    .filter(|(f, _)| wanted(f))
    .collect();
    let server = match pg_server::start() {
        Server::Running(server) => server,
        Server::Skipped(why) => {
            return whats
                .into_iter()
                .map(|(f, what)| Row::skipped(f, what, why.clone()))
                .collect();
        }
        Server::Failed(why) => {
            return whats
                .into_iter()
                .map(|(f, what)| Row::failed(f, what, why.clone()))
                .collect();
        }
    };
    let mut rows = Vec::new();
    if wanted("B10") || wanted("B11") {
        match store_figures(plan, &server, wanted) {
            Ok(mut measured) => rows.append(&mut measured),
            Err(e) => rows.extend(
                whats
                    .iter()
                    .filter(|(f, _)| *f != "B9")
                    .map(|(f, what)| Row::failed(f, what.clone(), e.clone())),
            ),
        }
    }
    if wanted("B9") {
        rows.push(
            replicas(plan, &server, replica_exe, work)
                .unwrap_or_else(|e| Row::failed("B9", B9_WHAT, e)),
        );
    }
    server.stop();
    rows
}

fn runtime(name: &str) -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("{name} runtime: {e}"))
}

/// B9 on a database of its own, with a simulator in this process.
fn replicas(plan: &Plan, server: &TestServer, exe: &Path, work: &Path) -> Result<Row, String> {
    let servers = runtime("bench-sim")?;
    let sim = servers
        .block_on(SimServer::start(SimConfig::default()))
        .map_err(|e| format!("pims-sim: {e}"))?;
    let url = server.url(&server.create_database());
    let row = b9(plan, exe, &sim.base_url(), &url, work);
    servers.block_on(sim.shutdown());
    servers.shutdown_timeout(Duration::from_secs(2));
    row
}

/// What B10 and B11 share: the store, the cache on it, the raw client, the table's lists.
struct Rig {
    runtime: Runtime,
    cache: StepCache,
    ns: Namespace,
    raw: Client,
    shape: ListShape,
    /// The list record bytes of a changed list (a step turned alreadyDone), as a pattern.
    done: population::Pattern,
    lists: u64,
    populate: Duration,
}

async fn raw_client(url: &str) -> Result<Client, String> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| format!("raw connection: {e}"))?;
    tokio::spawn(connection);
    // The store demands this of its sessions whatever the server's default; so does the
    // baseline.
    client
        .batch_execute("set synchronous_commit = on")
        .await
        .map_err(|e| format!("raw connection: {e}"))?;
    Ok(client)
}

impl Rig {
    /// Merges the bench list of each of `lists` (its deviceActivation step `done` or not), one
    /// at a time, each answer checked by `check`: the time per merge, in µs. (The lists are
    /// built before the clock starts.)
    fn timed_merges(
        &self,
        lists: impl IntoIterator<Item = u64>,
        done: bool,
        check: impl Fn(&Merged) -> Result<(), &'static str>,
    ) -> Result<f64, String> {
        let work: Vec<_> = lists
            .into_iter()
            .map(|n| {
                let j = population::PG_FIRST + n;
                (bench_keys(j), bench_list(j, done))
            })
            .collect();
        self.runtime.block_on(async {
            let start = Instant::now();
            for (keys, list) in &work {
                let merged = self
                    .cache
                    .merge(&self.ns, keys, list)
                    .await
                    .map_err(|e| format!("merge: {e}"))?;
                check(&merged)?;
            }
            Ok(per_op_us(start.elapsed(), work.len()))
        })
    }

    fn start(plan: &Plan, server: &TestServer) -> Result<Rig, String> {
        let runtime = runtime("bench-pg")?;
        let url = server.url(&server.create_database());
        let lists = (plan.pg_lists as u64).max(b10_lists_needed(plan) + THROUGH_THE_CACHE as u64);
        let started = Instant::now();
        let (cache, ns, raw, shape, done) = runtime.block_on(async {
            let options = PostgresOptions::from_url(&url).map_err(|e| e.to_string())?;
            let store = PostgresStore::connect(options)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            store.migrate().await.map_err(|e| format!("migrate: {e}"))?;
            let cache = StepCache::new(Arc::new(store));
            if !cache.health().is_durable() {
                return Err(format!("the store is not durable: {}", cache.health()));
            }
            let ns = cache
                .namespace(BENCH_ACCOUNT)
                .await
                .map_err(|e| format!("namespace: {e}"))?;
            let raw = raw_client(&url).await?;
            let second = raw_client(&url).await?;
            let (shape, done) = populate(&cache, &ns, &[&raw, &second], lists).await?;
            Ok::<_, String>((cache, ns, raw, shape, done))
        })?;
        Ok(Rig {
            runtime,
            cache,
            ns,
            raw,
            shape,
            done,
            lists,
            populate: started.elapsed(),
        })
    }

    fn prepare(&self, sql: &str) -> Result<Statement, String> {
        self.runtime
            .block_on(self.raw.prepare(sql))
            .map_err(|e| format!("prepare {sql}: {e}"))
    }
}

/// The lists B10 changes (ours and the baseline's, every round), after the ones written
/// through the cache.
fn b10_lists_needed(plan: &Plan) -> u64 {
    2 * (plan.b10_changes * plan.pg_rounds.max(1)) as u64
}

/// Fills the table with `lists` lists (see [`crate::pg_population`]): returns their shape and
/// the pattern of a changed list's record.
async fn populate(
    cache: &StepCache,
    ns: &Namespace,
    clients: &[&Client],
    lists: u64,
) -> Result<(ListShape, population::Pattern), String> {
    let table = DEFAULT_TABLE;
    let through = (THROUGH_THE_CACHE as u64).min(lists);
    // Through the cache, 16 at a time (each a durable transaction).
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let (cache, ns) = (cache.clone(), ns.clone());
            tokio::spawn(async move {
                let mut n = t;
                while n < through {
                    let j = population::PG_FIRST + n;
                    cache
                        .merge(&ns, &bench_keys(j), &bench_list(j, false))
                        .await
                        .map_err(|e| format!("merge of list {n}: {e}"))?;
                    n += 16;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let shape = ListShape::of(&population::rows_of(clients[0], table, 0).await?, 0)?;
    let check = through - 1;
    let written = population::rows_of(clients[0], table, check).await?;
    if written != shape.render(check) {
        return Err(format!(
            "the cache wrote list {check} otherwise than list 0's shape gives: \
             {written:?} vs {:?}",
            shape.render(check)
        ));
    }
    // A changed record, through the cache: list 1 turns a step alreadyDone.
    let j = population::PG_FIRST + 1;
    let merged = cache
        .merge(ns, &bench_keys(j), &bench_list(j, true))
        .await
        .map_err(|e| format!("change of list 1: {e}"))?;
    if !(merged.changed && merged.durable) {
        return Err("list 1's change was not a durable change".into());
    }
    let record = clients[0]
        .query_one(
            &format!("select v from {table} where k = $1"),
            &[&shape.record_key(1)],
        )
        .await
        .map_err(|e| format!("list 1's record: {e}"))?;
    let done = population::Pattern::of(record.get::<_, &[u8]>(0), 1);
    population::replicate(clients, &shape, table, through, lists).await?;
    // A table as a server that has been running holds it: statistics, the visibility map;
    // and no checkpoint of the load left to happen during the measurements.
    for sql in [format!("vacuum analyze {table}"), "checkpoint".to_owned()] {
        clients[0]
            .batch_execute(&sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    // Lists made by SQL, read back through the cache.
    for n in [through, lists / 2, lists - 1] {
        let j = population::PG_FIRST + n;
        let selector =
            StepsSelector::car_association_id(population::car(n)).map_err(|e| e.to_string())?;
        let got = cache
            .get(ns, &selector)
            .await
            .map_err(|e| format!("lookup of list {n}: {e}"))?;
        if got != Some(bench_list(j, false)) {
            return Err(format!(
                "list {n}, made by SQL, reads back through the cache as {got:?}"
            ));
        }
    }
    Ok((shape, done))
}

/// B10 and B11.
fn store_figures(
    plan: &Plan,
    server: &TestServer,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Vec<Row>, String> {
    let rig = Rig::start(plan, server)?;
    let mut rows = Vec::new();
    let populated = format!(
        "{} lists ({} through StepCache::merge, the rest by INSERT ... SELECT generate_series with \
         the same key and record shape) in {:.1} s",
        count(rig.lists),
        count(THROUGH_THE_CACHE as u64),
        rig.populate.as_secs_f64()
    );
    if wanted("B11") {
        rows.extend(b11(plan, &rig, &populated)?);
    }
    if wanted("B10") {
        rows.push(b10(plan, &rig)?);
    }
    Ok(rows)
}

/// Mean time per operation of `ops` operations, µs.
fn per_op_us(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_secs_f64() * 1e6 / ops.max(1) as f64
}

fn b11(plan: &Plan, rig: &Rig, populated: &str) -> Result<Vec<Row>, String> {
    let table = DEFAULT_TABLE;
    let select = rig.prepare(&format!("select v from {table} where k = $1"))?;
    let ops = plan.b11_operations.max(1);
    let mut scatter = Scatter::new(rig.lists);
    let (mut raw, mut merges, mut lookups) = (vec![], vec![], vec![]);
    for _ in 0..plan.pg_rounds.max(1) {
        let keys: Vec<Vec<u8>> = (0..ops)
            .map(|_| rig.shape.record_key(scatter.next_index()))
            .collect();
        raw.push(rig.runtime.block_on(async {
            let start = Instant::now();
            for key in &keys {
                let row = rig
                    .raw
                    .query_opt(&select, &[key])
                    .await
                    .map_err(|e| format!("raw select: {e}"))?;
                if row.is_none() {
                    return Err("raw select: no such list".to_owned());
                }
            }
            Ok::<_, String>(per_op_us(start.elapsed(), ops))
        })?);

        let lists: Vec<u64> = (0..ops).map(|_| scatter.next_index()).collect();
        merges.push(rig.timed_merges(lists, false, |merged| {
            (!merged.changed)
                .then_some(())
                .ok_or("a merge meant to change nothing changed the list")
        })?);

        let selectors = (0..ops)
            .map(|_| StepsSelector::car_association_id(population::car(scatter.next_index())))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        lookups.push(rig.runtime.block_on(async {
            let start = Instant::now();
            for selector in &selectors {
                let got = rig
                    .cache
                    .get(&rig.ns, selector)
                    .await
                    .map_err(|e| format!("lookup: {e}"))?;
                if got.is_none() {
                    return Err(format!("lookup: no list for {selector:?}"));
                }
            }
            Ok::<_, String>(per_op_us(start.elapsed(), ops))
        })?);
    }
    let bytes = rig
        .runtime
        .block_on(
            rig.raw
                .query_one(&format!("select pg_total_relation_size('{table}')"), &[]),
        )
        .map_err(|e| format!("table size: {e}"))?
        .get::<_, i64>(0);
    let note = format!(
        "median of {} rounds of {ops} operations each, on random lists, one at a time; {populated}; \
         table and index: {:.0} B per list; baseline: a prepared `select v from {table} where k = $1` \
         of a random list record",
        plan.pg_rounds.max(1),
        bytes as f64 / rig.lists as f64
    );
    let base = Measure::new(median(&raw), "µs");
    Ok(vec![
        Row::ratio(
            "B11",
            b11_merge_what(rig.lists),
            Measure::new(median(&merges), "µs"),
            base,
            Goal::RatioAtMost(1.5),
        )
        .with_note(note.clone()),
        Row::ratio(
            "B11",
            b11_lookup_what(rig.lists),
            Measure::new(median(&lookups), "µs"),
            base,
            Goal::RatioAtMost(1.5),
        )
        .with_note(note),
    ])
}

fn b10(plan: &Plan, rig: &Rig) -> Result<Row, String> {
    let table = DEFAULT_TABLE;
    let upsert = rig.prepare(&format!(
        "insert into {table} (k, v) values ($1, $2) on conflict (k) do update set v = excluded.v"
    ))?;
    let changes = plan.b10_changes.max(1);
    // Lists in their to-do state, one per change: after the ones written through the cache.
    let mut next = (THROUGH_THE_CACHE as u64).min(rig.lists);
    let mut take = |n: usize| {
        let first = next;
        next += n as u64;
        first..next
    };
    let (mut ours, mut raw) = (vec![], vec![]);
    let mut record_bytes = 0;
    for _ in 0..plan.pg_rounds.max(1) {
        let writes: Vec<(Vec<u8>, Vec<u8>)> = take(changes)
            .map(|n| (rig.shape.record_key(n), rig.done.render(n)))
            .collect();
        record_bytes = writes.first().map_or(0, |(_, v)| v.len());
        raw.push(rig.runtime.block_on(async {
            let start = Instant::now();
            for (k, v) in &writes {
                rig.raw
                    .execute(&upsert, &[k, v])
                    .await
                    .map_err(|e| format!("raw upsert: {e}"))?;
            }
            Ok::<_, String>(per_op_us(start.elapsed(), changes))
        })?);

        ours.push(rig.timed_merges(take(changes), true, |merged| {
            (merged.changed && merged.durable)
                .then_some(())
                .ok_or("a change was not a durable change")
        })?);
    }
    Ok(Row::ratio(
        "B10",
        B10_WHAT,
        Measure::new(median(&ours), "µs"),
        Measure::new(median(&raw), "µs"),
        Goal::RatioAtMost(1.5),
    )
    .with_note(format!(
        "median of {} rounds of {changes} changes each, each on a list of its own in a table of {} lists, \
         one at a time; StepCache::merge (a step turns alreadyDone; one synchronous transaction) vs \
         a prepared `insert ... on conflict (k) do update` of the same {record_bytes}-byte record, \
         autocommit, synchronous_commit = on",
        plan.pg_rounds.max(1),
        count(rig.lists)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_operation_time() {
        assert_eq!(per_op_us(Duration::from_millis(3), 1000), 3.0);
        assert_eq!(per_op_us(Duration::from_millis(3), 0), 3000.0);
    }

    #[test]
    fn b10_lists_fit_in_the_table() {
        for plan in [Plan::full(), Plan::quick()] {
            assert!(
                b10_lists_needed(&plan) + THROUGH_THE_CACHE as u64 <= plan.pg_lists as u64,
                "{plan:?}"
            );
        }
    }

    /// Every figure with a tiny plan against a real server (skipped without PostgreSQL,
    /// unless CI is set): every row measured, none failed. Speeds are not asserted.
    #[test]
    fn tiny_plan_measures_every_postgres_row() {
        let plan = Plan {
            pg_lists: 3_000,
            b10_changes: 5,
            b11_operations: 20,
            pg_rounds: 1,
            ..Plan::quick()
        };
        let rows = match pg_server::start() {
            Server::Running(server) => store_figures(&plan, &server, &|_| true).unwrap(),
            Server::Skipped(why) => {
                eprintln!("skipped: {why}");
                return;
            }
            Server::Failed(why) => panic!("{why}"),
        };
        assert_eq!(rows.len(), 3, "{rows:?}");
        for row in rows {
            assert!(row.ours.value > 0.0, "{row:?}");
            assert!(row.baseline.is_some_and(|b| b.value > 0.0), "{row:?}");
            assert!(
                row.note.as_deref().unwrap_or("").contains("3,000 lists"),
                "{row:?}"
            );
        }
    }
}
