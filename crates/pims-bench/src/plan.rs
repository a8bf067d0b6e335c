//! How big each figure's run is: the full run, and `--quick` (the same figures, smaller).

/// The sizes of one benchmark run.
///
/// ```
/// let full = pims_bench::Plan::full();
/// let quick = pims_bench::Plan::quick();
/// assert_eq!(full.b7_large_lists, 1_000_000);
/// assert_eq!(full.pg_lists, 1_000_000);
/// assert!(quick.b7_large_lists < full.b7_large_lists);
/// assert_eq!(quick.concurrency, full.concurrency);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Whether this is the `--quick` plan.
    pub quick: bool,
    /// Concurrent callers of B1, B5 and B6.
    pub concurrency: usize,
    /// Measured requests per throughput phase (B1, B6).
    pub throughput_requests: usize,
    /// Unrecorded requests before each throughput phase.
    pub throughput_warmup: usize,
    /// Measured requests per single-caller latency phase (B2).
    pub latency_requests: usize,
    /// Unrecorded requests before each latency phase.
    pub latency_warmup: usize,
    /// Rounds of each HTTP figure (ours and baseline alternate; the median is reported).
    pub http_rounds: usize,
    /// Rounds of B5 (64 concurrent changes, then 64 serial ones).
    pub b5_rounds: usize,
    /// Lists in B7's large cache.
    pub b7_large_lists: usize,
    /// Lists in B7's small cache.
    pub b7_small_lists: usize,
    /// Lists in B8's cache.
    pub b8_lists: usize,
    /// Cold starts measured in B8 (and as many `pims --version`).
    pub b8_runs: usize,
    /// Measured steps calls of B9, per side and round (split between the two replicas).
    pub b9_requests: usize,
    /// B9's warm-up calls, per side and round.
    pub b9_warmup: usize,
    /// Rounds of B9 (the sled replica, then the two PostgreSQL replicas; medians compared).
    pub b9_rounds: usize,
    /// Lists in the PostgreSQL table of B10 and B11.
    pub pg_lists: usize,
    /// Durable changes of B10 per round (and as many raw upserts).
    pub b10_changes: usize,
    /// Lookups and no-change merges of B11 per round (and as many raw selects).
    pub b11_operations: usize,
    /// Rounds of B10 and B11 (ours and the baseline alternate; the medians are compared).
    pub pg_rounds: usize,
    /// Criterion's warm-up time per benchmark, seconds.
    pub criterion_warm_up_s: f64,
    /// Criterion's measurement time per benchmark, seconds.
    pub criterion_measurement_s: f64,
    /// Criterion's samples per benchmark.
    pub criterion_samples: usize,
}

impl Plan {
    /// The full run (what docs/benchmarks.md reports).
    ///
    /// ```
    /// assert!(!pims_bench::Plan::full().quick);
    /// ```
    pub fn full() -> Plan {
        Plan {
            quick: false,
            concurrency: 64,
            throughput_requests: 200_000,
            throughput_warmup: 20_000,
            latency_requests: 50_000,
            latency_warmup: 2_000,
            http_rounds: 3,
            b5_rounds: 30,
            b7_large_lists: 1_000_000,
            b7_small_lists: 1_000,
            b8_lists: 10_000,
            b8_runs: 10,
            b9_requests: 20_000,
            b9_warmup: 2_000,
            b9_rounds: 3,
            pg_lists: 1_000_000,
            b10_changes: 200,
            b11_operations: 2_000,
            pg_rounds: 3,
            criterion_warm_up_s: 2.0,
            criterion_measurement_s: 5.0,
            criterion_samples: 50,
        }
    }

    /// `--quick`: the same figures in well under five minutes on two cores.
    ///
    /// ```
    /// assert_eq!(pims_bench::Plan::quick().b7_large_lists, 100_000);
    /// ```
    pub fn quick() -> Plan {
        Plan {
            quick: true,
            concurrency: 64,
            throughput_requests: 50_000,
            throughput_warmup: 5_000,
            latency_requests: 10_000,
            latency_warmup: 1_000,
            http_rounds: 2,
            b5_rounds: 10,
            b7_large_lists: 100_000,
            b7_small_lists: 1_000,
            b8_lists: 10_000,
            b8_runs: 3,
            b9_requests: 8_000,
            b9_warmup: 1_000,
            b9_rounds: 2,
            pg_lists: 100_000,
            b10_changes: 50,
            b11_operations: 500,
            pg_rounds: 2,
            criterion_warm_up_s: 0.5,
            criterion_measurement_s: 1.5,
            criterion_samples: 20,
        }
    }
}
