//! The HTTP load generator: a fixed number of requests from N concurrent tasks, a warm-up that
//! is not recorded, and every measured request's latency recorded.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Barrier;

use crate::stats::Latencies;

/// One client of a load: makes one request per [`call`](Caller::call). Each concurrent task
/// owns one caller (so a caller may hold its own connection).
///
/// ```
/// struct Nothing;
/// impl pims_bench::Caller for Nothing {
///     async fn call(&mut self) -> Result<(), String> { Ok(()) }
/// }
/// ```
pub trait Caller: Send + 'static {
    /// Makes one request; an error says what went wrong (it is counted as a failure).
    fn call(&mut self) -> impl Future<Output = Result<(), String>> + Send;
}

/// The shape of a load.
///
/// ```
/// let load = pims_bench::Load { concurrency: 64, requests: 20_000, warmup: 2_000 };
/// assert_eq!(load.concurrency, 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// How many tasks call at once.
    pub concurrency: usize,
    /// How many requests are measured, in all.
    pub requests: usize,
    /// How many requests are made first, unrecorded (connections opened, caches warm).
    pub warmup: usize,
}

/// What a load measured.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # struct Nothing;
/// # impl pims_bench::Caller for Nothing { async fn call(&mut self) -> Result<(), String> { Ok(()) } }
/// let load = pims_bench::Load { concurrency: 2, requests: 10, warmup: 2 };
/// let outcome = pims_bench::drive(load, vec![Nothing, Nothing]).await;
/// assert_eq!(outcome.latencies.len(), 10);
/// assert!(outcome.throughput() > 0.0);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    /// Measured requests that succeeded or failed (all of them).
    pub requests: usize,
    /// Measured requests that failed.
    pub failures: usize,
    /// The first failure's message.
    pub first_failure: Option<String>,
    /// Wall time of the measured phase.
    pub elapsed: Duration,
    /// Latency of every measured request.
    pub latencies: Latencies,
}

impl LoadOutcome {
    /// Measured requests per second of wall time.
    ///
    /// ```
    /// let o = pims_bench::LoadOutcome { requests: 100, failures: 0, first_failure: None,
    ///     elapsed: std::time::Duration::from_secs(2), latencies: Default::default() };
    /// assert_eq!(o.throughput(), 50.0);
    /// ```
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// `Err` with the first failure when any request failed: a figure built on failed
    /// requests measures nothing.
    ///
    /// ```
    /// let o = pims_bench::LoadOutcome { requests: 1, failures: 1, first_failure: Some("refused".into()),
    ///     elapsed: std::time::Duration::from_secs(1), latencies: Default::default() };
    /// assert!(o.check().unwrap_err().contains("refused"));
    /// ```
    pub fn check(&self) -> Result<(), String> {
        match self.failures {
            0 => Ok(()),
            n => Err(format!(
                "{n} of {} requests failed, first: {}",
                self.requests,
                self.first_failure.as_deref().unwrap_or("?")
            )),
        }
    }
}

/// What one task brings back.
struct TaskReport {
    latencies: Vec<u64>,
    failures: usize,
    first_failure: Option<String>,
}

/// Runs `load` with one task per caller (`callers.len()` should be `load.concurrency`): the
/// warm-up requests first, then, once every task is ready, the measured ones; tasks take
/// requests from a shared counter so the total is exact whatever their speeds.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// struct Sleepy;
/// impl pims_bench::Caller for Sleepy {
///     async fn call(&mut self) -> Result<(), String> {
///         tokio::task::yield_now().await;
///         Ok(())
///     }
/// }
/// let load = pims_bench::Load { concurrency: 4, requests: 100, warmup: 10 };
/// let o = pims_bench::drive(load, (0..4).map(|_| Sleepy).collect()).await;
/// assert_eq!((o.requests, o.failures), (100, 0));
/// # }
/// ```
pub async fn drive<C: Caller>(load: Load, callers: Vec<C>) -> LoadOutcome {
    let warmup = Arc::new(AtomicUsize::new(0));
    let measured = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(callers.len() + 1));
    let mut tasks = Vec::with_capacity(callers.len());
    for mut caller in callers {
        let (warmup, measured, barrier) = (warmup.clone(), measured.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            while warmup.fetch_add(1, Ordering::Relaxed) < load.warmup {
                let _ = caller.call().await;
            }
            barrier.wait().await;
            let mut report = TaskReport {
                latencies: Vec::with_capacity(load.requests / load.concurrency.max(1) + 1),
                failures: 0,
                first_failure: None,
            };
            while measured.fetch_add(1, Ordering::Relaxed) < load.requests {
                let start = Instant::now();
                let result = caller.call().await;
                report.latencies.push(duration_ns(start.elapsed()));
                if let Err(e) = result {
                    report.failures += 1;
                    report.first_failure.get_or_insert(e);
                }
            }
            report
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut all = Vec::with_capacity(load.requests);
    let (mut failures, mut first_failure) = (0, None);
    for task in tasks {
        match task.await {
            Ok(report) => {
                all.extend(report.latencies);
                failures += report.failures;
                first_failure = first_failure.or(report.first_failure);
            }
            Err(e) => {
                failures += 1;
                first_failure.get_or_insert(format!("a load task ended abnormally: {e}"));
            }
        }
    }
    let elapsed = start.elapsed();
    LoadOutcome {
        requests: all.len(),
        failures,
        first_failure,
        elapsed,
        latencies: Latencies::from_nanos(all),
    }
}

/// Nanoseconds, saturating (a latency over 584 years is not a concern).
pub(crate) fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tenth call, counted over all callers, fails.
    struct Flaky(Arc<AtomicUsize>);
    impl Caller for Flaky {
        async fn call(&mut self) -> Result<(), String> {
            let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(10) {
                Err(format!("failure {n}"))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exact_count_and_failures_counted() {
        let load = Load {
            concurrency: 3,
            requests: 300,
            warmup: 0,
        };
        let calls = Arc::new(AtomicUsize::new(0));
        let callers = (0..3).map(|_| Flaky(calls.clone())).collect();
        let o = drive(load, callers).await;
        assert_eq!(o.requests, 300);
        assert_eq!(o.latencies.len(), 300);
        assert_eq!(o.failures, 30, "every tenth call fails");
        assert!(o.first_failure.is_some());
        assert!(o.check().is_err());
    }

    #[tokio::test]
    async fn warmup_is_not_recorded() {
        struct Counter(Arc<AtomicUsize>);
        impl Caller for Counter {
            async fn call(&mut self) -> Result<(), String> {
                self.0.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        }
        let calls = Arc::new(AtomicUsize::new(0));
        let load = Load {
            concurrency: 2,
            requests: 50,
            warmup: 20,
        };
        let o = drive(load, vec![Counter(calls.clone()), Counter(calls.clone())]).await;
        assert_eq!(o.requests, 50);
        assert_eq!(calls.load(Ordering::Relaxed), 70);
    }
}
