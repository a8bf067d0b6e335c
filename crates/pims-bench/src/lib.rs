//! The benchmarks of pims-rs and their regression gate (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
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
