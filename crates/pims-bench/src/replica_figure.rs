//! B9: two replica processes sharing one PostgreSQL database, 32 callers each, against one
//! replica process on sled with 64 callers; each a facade calling the same simulator, warm.
//! The processes are `pims-replica` ([`crate::replica`]); the figure is the total throughput of
//! the replicas that run together, measured on one clock.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::plan::Plan;
use crate::process::{Piped, spawn_piped};
use crate::replica::{ReplicaConfig, ReplicaReport, ReplicaStore, total_throughput};
use crate::report::{Goal, Measure, Row};
use crate::stats::median;

/// What B9 measures.
pub(crate) const B9_WHAT: &str =
    "2 replica processes on PostgreSQL (32 callers each) vs 1 on sled (64): steps throughput";

/// How long a replica may take to get ready, then to make its measured calls.
const DEADLINE: Duration = Duration::from_secs(180);

/// A running `pims-replica`.
struct Replica {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    errors: Option<std::thread::JoinHandle<String>>,
}

impl Replica {
    fn spawn(exe: &Path, config: &ReplicaConfig) -> Result<Replica, String> {
        let Piped {
            mut child,
            lines,
            errors,
        } = spawn_piped(
            Command::new(exe).args(config.to_args()),
            &exe.display().to_string(),
        )?;
        let stdin = child.stdin.take();
        Ok(Replica {
            child,
            stdin,
            lines,
            errors: Some(errors),
        })
    }

    /// The next line it prints, within the deadline.
    fn line(&mut self) -> Result<String, String> {
        match self.lines.recv_timeout(DEADLINE) {
            Ok(line) => Ok(line),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(format!("a replica said nothing for {DEADLINE:?}"))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map_err(|e| e.to_string())?;
                let errors = self
                    .errors
                    .take()
                    .and_then(|t| t.join().ok())
                    .unwrap_or_default();
                Err(format!("a replica ended ({status}): {}", errors.trim()))
            }
        }
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        match self.line()? {
            line if line == crate::process::READY => Ok(()),
            other => Err(format!("a replica said {other:?} instead of ready")),
        }
    }

    fn go(&mut self) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("a replica without stdin")?;
        stdin
            .write_all(b"go\n")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("a replica's stdin: {e}"))
    }

    fn report(mut self) -> Result<ReplicaReport, String> {
        let line = self.line()?;
        let value =
            serde_json::from_str(&line).map_err(|e| format!("a replica's report ({e}): {line}"))?;
        let report = ReplicaReport::from_json(&value)
            .ok_or_else(|| format!("a replica's report: {line}"))?;
        match report.failures {
            0 => Ok(report),
            n => Err(format!(
                "{n} of a replica's {} calls failed, first: {}",
                report.requests,
                report.first_failure.as_deref().unwrap_or("?")
            )),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        // Done or failed: it must not outlive the figure.
        drop(self.stdin.take());
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `configs` together: every one ready first, then all told to go at once; their total
/// throughput.
fn together(exe: &Path, configs: &[ReplicaConfig]) -> Result<f64, String> {
    let mut replicas = configs
        .iter()
        .map(|c| Replica::spawn(exe, c))
        .collect::<Result<Vec<_>, _>>()?;
    for r in &mut replicas {
        r.wait_ready()?;
    }
    for r in &mut replicas {
        r.go()?;
    }
    let reports = replicas
        .into_iter()
        .map(Replica::report)
        .collect::<Result<Vec<_>, _>>()?;
    total_throughput(&reports).ok_or_else(|| "the replicas took no time".to_owned())
}

/// The configurations of one round: the baseline (one sled replica, all the callers), then
/// ours (two PostgreSQL replicas sharing `postgres_url`, half the callers and calls each).
pub(crate) fn round_configs(
    plan: &Plan,
    base_url: &str,
    sled_dir: &Path,
    postgres_url: &str,
) -> (ReplicaConfig, [ReplicaConfig; 2]) {
    let sled = ReplicaConfig {
        base_url: base_url.to_owned(),
        store: ReplicaStore::Sled(sled_dir.to_owned()),
        concurrency: plan.concurrency,
        requests: plan.b9_requests,
        warmup: plan.b9_warmup,
    };
    let half = ReplicaConfig {
        store: ReplicaStore::Postgres(postgres_url.to_owned()),
        concurrency: plan.concurrency / 2,
        requests: plan.b9_requests / 2,
        warmup: plan.b9_warmup / 2,
        ..sled.clone()
    };
    (sled, [half.clone(), half])
}

/// B9, in `plan.b9_rounds` rounds (baseline, then ours; the medians compared).
pub(crate) fn b9(
    plan: &Plan,
    exe: &Path,
    base_url: &str,
    postgres_url: &str,
    work: &Path,
) -> Result<Row, String> {
    let (mut ours, mut sled) = (Vec::new(), Vec::new());
    for _ in 0..plan.b9_rounds.max(1) {
        let dir = tempfile::tempdir_in(work).map_err(|e| format!("work dir: {e}"))?;
        let (baseline, replicas) =
            round_configs(plan, base_url, &dir.path().join("cache"), postgres_url);
        sled.push(
            together(exe, std::slice::from_ref(&baseline)).map_err(|e| format!("sled: {e}"))?,
        );
        ours.push(together(exe, &replicas).map_err(|e| format!("PostgreSQL: {e}"))?);
    }
    Ok(Row::ratio(
        "B9",
        B9_WHAT,
        Measure::new(median(&ours), "req/s"),
        Measure::new(median(&sled), "req/s"),
        Goal::RatioAtLeast(0.7),
    )
    .with_note(format!(
        "median of {} rounds, {} measured calls per side after {} of warm-up; each replica a \
         process of its own (a facade on a 2-worker runtime), one simulator in the bench process; \
         PostgreSQL replicas with the store's default pool (8 sessions each); throughput = all \
         calls over the span from the first replica's start to the last one's end",
        plan.b9_rounds.max(1),
        plan.b9_requests,
        plan.b9_warmup
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_splits_the_callers_and_calls_between_two_replicas() {
        let plan = Plan::full();
        let (sled, pg) = round_configs(&plan, "http://s", Path::new("/c"), "postgres://p/db");
        assert_eq!(sled.concurrency, 64);
        assert_eq!(sled.store, ReplicaStore::Sled("/c".into()));
        for r in &pg {
            assert_eq!(r.concurrency, 32);
            assert_eq!(r.requests * 2, sled.requests);
            assert_eq!(r.store, ReplicaStore::Postgres("postgres://p/db".into()));
            assert_eq!(r.base_url, "http://s");
        }
    }

    #[test]
    fn a_replica_that_cannot_start_is_an_error_not_a_hang() {
        let plan = Plan::quick();
        let (sled, _) = round_configs(&plan, "http://127.0.0.1:1", Path::new("/c"), "x");
        let e = together(Path::new("/nonexistent/pims-replica"), &[sled]).unwrap_err();
        assert!(e.contains("/nonexistent/pims-replica"), "{e}");
        // A process that ends without saying ready.
        let e = together(
            Path::new("false"),
            &[round_configs(&plan, "u", Path::new("/c"), "x").0],
        )
        .unwrap_err();
        assert!(e.contains("ended"), "{e}");
    }
}
