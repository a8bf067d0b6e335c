//! The benchmarks of pims-rs: every speed figure of `quality.md` (B1–B11) measured against a
//! baseline in the same run, because the machines are shared and noisy — the ratio is the
//! point, not the absolute numbers.
//!
//! ```no_run
//! // What `cargo run --release -p pims-bench -- --quick` does:
//! let options = pims_bench::Options::parse(["--quick"]).unwrap();
//! let rows = pims_bench::run(&options).unwrap(); // prints the table, writes report.json
//! for row in &rows {
//!     println!("{} {} met: {:?}", row.figure, row.what, row.met());
//! }
//! ```
//!
//! The pieces, for the criterion benches and anyone reproducing a figure by hand:
//! - the load generator of the HTTP figures: [`drive`] a [`Load`] with [`Caller`]s;
//! - B6's baseline server: [`ConstantServer`];
//! - the cache workloads and baselines: [`BenchCache`], [`MapCache`], [`DurableFile`], and
//!   [`run_inline`], which drives the async cache from synchronous code;
//! - whole-process measurement (B8): [`measure_here`], [`measure_isolated`];
//! - B9's replica processes: [`ReplicaConfig`], [`run_replica`], [`total_throughput`];
//! - the report: [`Row`], [`Goal`], [`Measure`], [`table`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // A load on the constant-envelope server, as B6 does it (with 64 callers there).
//! use pims_bench::{Caller, ConstantServer, Load, drive};
//! let server = ConstantServer::start(bytes::Bytes::from_static(b"{}")).await.unwrap();
//! struct Get(reqwest::Client, String);
//! impl Caller for Get {
//!     async fn call(&mut self) -> Result<(), String> {
//!         let r = self.0.post(&self.1).send().await.map_err(|e| e.to_string())?;
//!         r.bytes().await.map(|_| ()).map_err(|e| e.to_string())
//!     }
//! }
//! let url = format!("{}/v1/calls", server.base_url());
//! let callers = (0..2).map(|_| Get(reqwest::Client::new(), url.clone())).collect();
//! let outcome = drive(Load { concurrency: 2, requests: 20, warmup: 2 }, callers).await;
//! assert_eq!(outcome.failures, 0);
//! println!("{:.0} req/s, p99 {:?}", outcome.throughput(), outcome.latencies.p99());
//! # server.shutdown().await; }
//! ```
//!
//! See `docs/benchmarks.md` for every figure, its method and the latest results.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache_figures;
mod callers;
pub mod callgrind;
mod cold_start;
mod constant;
mod counted_figures;
mod date;
mod executor;
mod gate;
mod http_figures;
mod io_figures;
mod loadgen;
mod pg_figures;
mod pg_population;
mod pg_server;
mod plan;
pub mod probes;
mod process;
mod replica;
mod replica_figure;
mod report;
mod run;
mod stats;
mod workloads;

pub use cache_figures::ids;
pub use constant::ConstantServer;
pub use counted_figures::{
    B8I_OWN, COUNTED, CountBinaries, CountPlan, Counted, SLED_OPEN, counted_goal,
};
pub use executor::run_inline;
pub use gate::{
    BASELINE_FILE, BaselineFile, Environment, GATED, GateOptions, Recorded, TOLERANCE, Verdict,
    compare, gate, gate_table,
};
pub use io_figures::{IoCounts, SYNC_CALLS, perf_calls, strace_calls};
pub use loadgen::{Caller, Load, LoadOutcome, drive};
pub use plan::Plan;
pub use process::{ProcessSample, READY, measure_here, measure_isolated};
pub use replica::{
    REPLICA_USAGE, ReplicaConfig, ReplicaReport, ReplicaStore, run_replica, total_throughput,
};
pub use report::{Goal, Measure, Row, markdown_table, table};
pub use run::{Options, USAGE, run};
pub use stats::{Latencies, median};
pub use workloads::{
    BENCH_ACCOUNT, BenchCache, CAR_BASE, DiskUsage, DurableFile, MapCache, Scatter, bench_keys,
    bench_list, car_association_id, disk_usage,
};
