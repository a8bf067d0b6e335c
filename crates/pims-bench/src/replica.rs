//! One replica of a service, as B9 runs it in a process of its own (`pims-replica`): a facade
//! on a step store (a sled directory, or a PostgreSQL database every replica shares) calling
//! one simulator, loaded by its own callers.
//!
//! The conversation with the parent, one line each way: the replica builds its facade, makes
//! its warm-up calls (the first caches the list; the rest are warm), prints [`READY`], waits for
//! a line on its standard input, makes the measured calls and prints its [`ReplicaReport`] as
//! JSON. The report's times are read from `CLOCK_MONOTONIC`, one clock for every process of the
//! machine, so that the parent can add up the replicas' requests over the span they ran in.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pims::Pims;
use pims_cache_postgres::{PostgresOptions, PostgresStore};
use pims_types::{Secret, StepsSelector};
use serde_json::{Value, json};

use crate::callers::FacadeCaller;
use crate::loadgen::{Load, drive};
use crate::process::READY;

/// Where a replica keeps its step state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaStore {
    /// A sled directory of its own.
    Sled(PathBuf),
    /// A PostgreSQL database (a URL; the bench's server needs no password).
    Postgres(String),
}

/// What one replica process is asked to do.
///
/// ```
/// use pims_bench::{ReplicaConfig, ReplicaStore};
/// let c = ReplicaConfig {
///     base_url: "http://127.0.0.1:1".into(),
///     store: ReplicaStore::Sled("/tmp/c".into()),
///     concurrency: 32,
///     requests: 1000,
///     warmup: 100,
/// };
/// assert_eq!(ReplicaConfig::parse(c.to_args()).unwrap(), c);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// The simulator's base URL.
    pub base_url: String,
    /// The step store.
    pub store: ReplicaStore,
    /// Concurrent callers.
    pub concurrency: usize,
    /// Measured calls, in all.
    pub requests: usize,
    /// Calls before `ready` (the first caches the list).
    pub warmup: usize,
}

impl ReplicaConfig {
    /// The command-line arguments of `pims-replica` for this configuration.
    ///
    /// ```
    /// # use pims_bench::{ReplicaConfig, ReplicaStore};
    /// let c = ReplicaConfig { base_url: "http://x".into(), store: ReplicaStore::Postgres("postgres://h/db".into()),
    ///     concurrency: 1, requests: 2, warmup: 3 };
    /// assert!(c.to_args().contains(&"--postgres".to_owned()));
    /// ```
    pub fn to_args(&self) -> Vec<String> {
        let (flag, where_) = match &self.store {
            ReplicaStore::Sled(dir) => ("--sled", dir.display().to_string()),
            ReplicaStore::Postgres(url) => ("--postgres", url.clone()),
        };
        [
            ("--url", self.base_url.clone()),
            (flag, where_),
            ("--concurrency", self.concurrency.to_string()),
            ("--requests", self.requests.to_string()),
            ("--warmup", self.warmup.to_string()),
        ]
        .into_iter()
        .flat_map(|(f, v)| [f.to_owned(), v])
        .collect()
    }

    /// Reads the arguments [`to_args`](Self::to_args) makes.
    ///
    /// ```
    /// assert!(pims_bench::ReplicaConfig::parse(["--url", "http://x"]).is_err()); // no store
    /// ```
    pub fn parse<I, S>(args: I) -> Result<ReplicaConfig, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (mut url, mut store) = (None, None);
        let (mut concurrency, mut requests, mut warmup) = (1, 1, 0);
        let mut it = args.into_iter().map(Into::into);
        while let Some(flag) = it.next() {
            let value = it
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{REPLICA_USAGE}"))?;
            let number = |v: &str| {
                v.parse::<usize>()
                    .map_err(|_| format!("{flag}: not a number: {v}"))
            };
            match flag.as_str() {
                "--url" => url = Some(value),
                "--sled" => store = Some(ReplicaStore::Sled(value.into())),
                "--postgres" => store = Some(ReplicaStore::Postgres(value)),
                "--concurrency" => concurrency = number(&value)?.max(1),
                "--requests" => requests = number(&value)?,
                "--warmup" => warmup = number(&value)?,
                other => return Err(format!("unknown argument {other}\n{REPLICA_USAGE}")),
            }
        }
        Ok(ReplicaConfig {
            base_url: url.ok_or_else(|| format!("--url is missing\n{REPLICA_USAGE}"))?,
            store: store
                .ok_or_else(|| format!("--sled or --postgres is missing\n{REPLICA_USAGE}"))?,
            concurrency,
            requests,
            warmup,
        })
    }
}

/// The usage of `pims-replica`.
pub const REPLICA_USAGE: &str = "\
usage: pims-replica --url SIMULATOR (--sled DIR | --postgres URL) [--concurrency N]
                    [--requests N] [--warmup N]";

/// What a replica measured.
///
/// ```
/// let r = pims_bench::ReplicaReport { requests: 10, failures: 0, first_failure: None,
///     start_ns: 1, end_ns: 2 };
/// assert_eq!(pims_bench::ReplicaReport::from_json(&r.to_json()), Some(r));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaReport {
    /// Measured calls made.
    pub requests: usize,
    /// Of which failed.
    pub failures: usize,
    /// The first failure's message.
    pub first_failure: Option<String>,
    /// `CLOCK_MONOTONIC` when the measured calls began, ns.
    pub start_ns: u64,
    /// `CLOCK_MONOTONIC` when the last one ended, ns.
    pub end_ns: u64,
}

impl ReplicaReport {
    /// As JSON (the replica's last line).
    ///
    /// ```
    /// let r = pims_bench::ReplicaReport { requests: 1, failures: 0, first_failure: None, start_ns: 0, end_ns: 5 };
    /// assert_eq!(r.to_json()["end_ns"], 5);
    /// ```
    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "failures": self.failures,
            "first_failure": self.first_failure,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
        })
    }

    /// From [`to_json`](Self::to_json)'s output.
    ///
    /// ```
    /// assert_eq!(pims_bench::ReplicaReport::from_json(&serde_json::json!({})), None);
    /// ```
    pub fn from_json(v: &Value) -> Option<ReplicaReport> {
        Some(ReplicaReport {
            requests: usize::try_from(v["requests"].as_u64()?).ok()?,
            failures: usize::try_from(v["failures"].as_u64()?).ok()?,
            first_failure: v["first_failure"].as_str().map(str::to_owned),
            start_ns: v["start_ns"].as_u64()?,
            end_ns: v["end_ns"].as_u64()?,
        })
    }
}

/// The throughput of replicas that ran at the same time: every measured call of every
/// replica, over the span from the first start to the last end (a replica that finished first
/// does not make the others look faster than they were together).
///
/// ```
/// use pims_bench::{ReplicaReport, total_throughput};
/// let r = |requests, start_ns, end_ns| ReplicaReport { requests, failures: 0, first_failure: None, start_ns, end_ns };
/// // 1,000 + 1,000 calls between 0 and 2 s: 1,000 calls/s.
/// assert_eq!(total_throughput(&[r(1000, 0, 1_000_000_000), r(1000, 500_000_000, 2_000_000_000)]), Some(1000.0));
/// assert_eq!(total_throughput(&[]), None);
/// ```
pub fn total_throughput(reports: &[ReplicaReport]) -> Option<f64> {
    let start = reports.iter().map(|r| r.start_ns).min()?;
    let end = reports.iter().map(|r| r.end_ns).max()?;
    let span = end.checked_sub(start).filter(|s| *s > 0)?;
    let requests: usize = reports.iter().map(|r| r.requests).sum();
    Some(requests as f64 / (span as f64 / 1e9))
}

/// `CLOCK_MONOTONIC` now, in nanoseconds (the same clock in every process of the machine).
pub(crate) fn monotonic_ns() -> Result<u64, String> {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map_err(|e| format!("clock_gettime: {e}"))?;
    let ns = i128::from(t.tv_sec()) * 1_000_000_000 + i128::from(t.tv_nsec());
    u64::try_from(ns).map_err(|_| "a negative monotonic time".to_owned())
}

/// The replica process: builds its facade on a two-worker runtime (as B1's clients run),
/// warms up, prints `ready`, waits for a line on `input`, runs the measured calls and prints
/// its report on `output`.
pub fn run_replica(
    config: &ReplicaConfig,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("replica")
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let selector = StepsSelector::car_association_id(pims_sim::DEMO_CAR_ASSOCIATION_ID)
        .map_err(|e| e.to_string())?;
    let pims = runtime.block_on(async {
        let builder = Pims::builder()
            .base_url(config.base_url.as_str())
            .token(Secret::new(pims_sim::DEMO_TOKEN))
            .account(crate::workloads::BENCH_ACCOUNT);
        let builder = match &config.store {
            ReplicaStore::Sled(dir) => builder.cache_dir(dir),
            ReplicaStore::Postgres(url) => {
                let options = PostgresOptions::from_url(url).map_err(|e| e.to_string())?;
                let store = PostgresStore::connect(options)
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                // As every replica of a service does at start.
                store.migrate().await.map_err(|e| format!("migrate: {e}"))?;
                builder.cache_store(Arc::new(store))
            }
        };
        builder
            .build_async()
            .await
            .map_err(|e| format!("facade: {e}: {}", e.detail().unwrap_or("no detail")))
    })?;
    let callers = |n: usize| -> Vec<FacadeCaller> {
        (0..n)
            .map(|_| FacadeCaller {
                pims: pims.clone(),
                selector: selector.clone(),
            })
            .collect()
    };
    if config.warmup > 0 {
        let load = Load {
            concurrency: config.concurrency,
            requests: config.warmup,
            warmup: 0,
        };
        runtime
            .block_on(drive(load, callers(config.concurrency)))
            .check()
            .map_err(|e| format!("warm-up: {e}"))?;
    }
    writeln!(output, "{READY}")
        .and_then(|()| output.flush())
        .map_err(|e| format!("stdout: {e}"))?;
    let mut go = String::new();
    input
        .read_line(&mut go)
        .map_err(|e| format!("stdin: {e}"))?;
    let load = Load {
        concurrency: config.concurrency,
        requests: config.requests,
        warmup: 0,
    };
    let callers = callers(config.concurrency);
    let (outcome, start_ns, end_ns) = runtime.block_on(async {
        let start = monotonic_ns()?;
        let outcome = drive(load, callers).await;
        Ok::<_, String>((outcome, start, monotonic_ns()?))
    })?;
    let report = ReplicaReport {
        requests: outcome.requests,
        failures: outcome.failures,
        first_failure: outcome.first_failure,
        start_ns,
        end_ns,
    };
    writeln!(output, "{}", report.to_json())
        .and_then(|()| output.flush())
        .map_err(|e| format!("stdout: {e}"))?;
    drop(pims);
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_arguments_are_named() {
        let e = ReplicaConfig::parse(["--url", "http://x", "--sled", "/d", "--requests", "many"])
            .unwrap_err();
        assert!(e.contains("--requests") && e.contains("many"), "{e}");
        let e = ReplicaConfig::parse(["--url"]).unwrap_err();
        assert!(e.contains("--url needs a value"), "{e}");
        let e = ReplicaConfig::parse(["--sled", "/d"]).unwrap_err();
        assert!(e.contains("--url is missing"), "{e}");
        let e = ReplicaConfig::parse(["--url", "u", "--speed", "9"]).unwrap_err();
        assert!(e.contains("unknown argument --speed"), "{e}");
    }

    #[test]
    fn the_span_is_from_the_first_start_to_the_last_end() {
        let r = |requests, start_ns, end_ns| ReplicaReport {
            requests,
            failures: 0,
            first_failure: None,
            start_ns,
            end_ns,
        };
        // One replica alone: its own rate.
        assert_eq!(
            total_throughput(&[r(500, 10, 10 + 500_000_000)]),
            Some(1000.0)
        );
        // Two that overlap in part: not the sum of their own rates (2,000/s here).
        let two = total_throughput(&[r(500, 0, 500_000_000), r(500, 250_000_000, 750_000_000)]);
        assert_eq!(two, Some(1000.0 / 0.75));
        // No time at all: no rate.
        assert_eq!(total_throughput(&[r(5, 7, 7)]), None);
    }

    /// Runs a replica on `store` against a real simulator: ready, then its report after the go
    /// line.
    fn replica_reports_its_calls(store: ReplicaStore) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let sim = runtime
            .block_on(pims_sim::SimServer::start(pims_sim::SimConfig::default()))
            .unwrap();
        let config = ReplicaConfig {
            base_url: sim.base_url(),
            store,
            concurrency: 2,
            requests: 20,
            warmup: 4,
        };
        let mut input = std::io::Cursor::new(b"go\n".to_vec());
        let mut output = Vec::new();
        run_replica(&config, &mut input, &mut output).unwrap();
        let text = String::from_utf8(output).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(READY));
        let report: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
        let report = ReplicaReport::from_json(&report).unwrap();
        assert_eq!((report.requests, report.failures), (20, 0), "{report:?}");
        assert!(report.end_ns > report.start_ns);
        runtime.block_on(sim.shutdown());
    }

    #[test]
    fn a_sled_replica_reports_its_calls() {
        let dir = tempfile::tempdir().unwrap();
        replica_reports_its_calls(ReplicaStore::Sled(dir.path().join("cache")));
    }

    /// Skipped without PostgreSQL (unless CI is set).
    #[test]
    fn a_postgres_replica_reports_its_calls() {
        let server = match crate::pg_server::start() {
            crate::pg_server::Server::Running(server) => server,
            crate::pg_server::Server::Skipped(why) => {
                eprintln!("skipped: {why}");
                return;
            }
            crate::pg_server::Server::Failed(why) => panic!("{why}"),
        };
        replica_reports_its_calls(ReplicaStore::Postgres(
            server.url(&server.create_database()),
        ));
    }
}
