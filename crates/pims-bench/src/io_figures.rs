//! B4c and B5c: what a durable change asks of the disk, counted rather than timed: the sync
//! calls (`fsync`, `fdatasync`, `sync_file_range`) and the bytes written (the probe's own
//! `/proc/self/io`, printed as it ends: [`crate::probes::io_report`]).
//!
//! The sync calls are counted by the kernel's syscall tracepoints (`perf stat`) when they can
//! be read, else by `strace -f -c`. strace stops every thread at every traced call, which
//! changes how concurrent changes group into shared flushes (B5c: about 30 sync calls under
//! strace where the tracepoints count about 10); it is exact for serial changes (B4c).
//!
//! B4c is per change: `(count(2N) - count(N)) / N` over two `pims-probe changes` runs. B5c is
//! 64 changes at once: a `pims-probe concurrent-changes` run of 64 minus one of 0 (the set-up
//! alone), in several rounds (how changes group depends on timing: the median and the range
//! are reported).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::probes::{self, copy_tree};
use crate::report::{Goal, Measure, Row};

/// The program that counts system calls when the tracepoints cannot be read.
pub(crate) const STRACE: &str = "strace";

/// The program that reads the kernel's syscall tracepoints.
const PERF: &str = "perf";

/// Rounds of B5c.
const B5C_ROUNDS: usize = 5;

/// What counts the sync calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracer {
    /// `perf stat -e syscalls:sys_enter_...`: counted in the kernel, threads never stopped.
    Perf,
    /// `strace -f -c`.
    Strace,
}

impl Tracer {
    fn find() -> Option<Tracer> {
        let perf_works = Command::new(PERF)
            .args([
                "stat",
                "-x,",
                "-e",
                "syscalls:sys_enter_fdatasync",
                "--",
                "true",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if perf_works {
            Some(Tracer::Perf)
        } else if available() {
            Some(Tracer::Strace)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tracer::Perf => "the kernel's syscall tracepoints (perf stat)",
            Tracer::Strace => "strace -f -c",
        }
    }
}

/// The system calls that make data durable.
pub const SYNC_CALLS: [&str; 3] = ["fsync", "fdatasync", "sync_file_range"];

/// Durable changes in B4c's shorter run.
const B4C_CHANGES: u64 = 50;

/// Concurrent changes in B5c.
const B5C_CHANGES: u64 = 64;

/// Whether strace can be run here.
pub(crate) fn available() -> bool {
    Command::new(STRACE)
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One probe run's counts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct IoCounts {
    /// Sync calls (every thread).
    pub syncs: u64,
    /// Bytes passed to write calls (`wchar`).
    pub written: u64,
    /// Bytes the process sent to the storage layer (`write_bytes`: whole pages).
    pub storage: u64,
}

/// The calls of `names` in the summary table `strace -c` writes.
///
/// ```
/// let table = "% time     seconds  usecs/call     calls    errors syscall\n\
/// ------ ----------- ----------- --------- --------- ----------------\n\
///  60.00    0.000300         100         3           fdatasync\n\
///  40.00    0.000200          20        10         2 sync_file_range\n\
/// ------ ----------- ----------- --------- --------- ----------------\n\
/// 100.00    0.000500          38        13         2 total\n";
/// assert_eq!(pims_bench::strace_calls(table, &pims_bench::SYNC_CALLS), 13);
/// ```
pub fn strace_calls(summary: &str, names: &[&str]) -> u64 {
    summary
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            let name = *cols.last()?;
            if cols.len() >= 5 && names.contains(&name) {
                cols[3].parse::<u64>().ok()
            } else {
                None
            }
        })
        .sum()
}

/// The sync calls in the CSV `perf stat -x,` writes (`5,,syscalls:sys_enter_fdatasync,...`).
///
/// ```
/// let csv = "# started on x\n\n5,,syscalls:sys_enter_fdatasync,1,100.00,,\n2,,syscalls:sys_enter_fsync,1,100.00,,\n7,,syscalls:sys_enter_write,1,100.00,,\n";
/// assert_eq!(pims_bench::perf_calls(csv, &pims_bench::SYNC_CALLS), 7);
/// ```
pub fn perf_calls(csv: &str, names: &[&str]) -> u64 {
    csv.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            let event = cols.get(2)?.strip_prefix("syscalls:sys_enter_")?;
            if names.contains(&event) {
                cols.first()?.trim().parse::<u64>().ok()
            } else {
                None
            }
        })
        .sum()
}

/// Runs `probe args` with its sync calls counted and reads the count and the probe's own I/O
/// report.
fn traced(
    tracer: Tracer,
    probe: &Path,
    args: &[String],
    summary: &Path,
) -> Result<IoCounts, String> {
    let mut command = match tracer {
        Tracer::Perf => {
            let mut c = Command::new(PERF);
            c.args(["stat", "-x,", "-o"]).arg(summary);
            for call in SYNC_CALLS {
                c.args(["-e", &format!("syscalls:sys_enter_{call}")]);
            }
            c.arg("--");
            c
        }
        Tracer::Strace => {
            let mut c = Command::new(STRACE);
            c.args(["-f", "-c", "-e"])
                .arg(format!("trace={}", SYNC_CALLS.join(",")))
                .arg("-o")
                .arg(summary);
            c
        }
    };
    let output = command
        .arg(probe)
        .args(args)
        .output()
        .map_err(|e| format!("{tracer:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} (sync calls counted) failed ({}): {}",
            probe.display(),
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let table =
        std::fs::read_to_string(summary).map_err(|e| format!("{}: {e}", summary.display()))?;
    let report = String::from_utf8_lossy(&output.stdout);
    let io: Value = report
        .lines()
        .find_map(|l| l.strip_prefix(probes::IO_REPORT))
        .and_then(|rest| serde_json::from_str(rest.trim()).ok())
        .ok_or_else(|| format!("the probe printed no I/O report: {}", report.trim()))?;
    Ok(IoCounts {
        syncs: match tracer {
            Tracer::Perf => perf_calls(&table, &SYNC_CALLS),
            Tracer::Strace => strace_calls(&table, &SYNC_CALLS),
        },
        written: io["wchar"].as_u64().unwrap_or(0),
        storage: io["write_bytes"].as_u64().unwrap_or(0),
    })
}

/// Runs B4c and B5c (the rows that `wanted` asks for) with the probe binary.
pub(crate) fn run(probe: &Path, work: &Path, wanted: &dyn Fn(&str) -> bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let Some(tracer) = Tracer::find() else {
        let why = "neither perf's syscall tracepoints nor strace can be used (cargo xtask bench installs strace)";
        if wanted("B4c") {
            rows.push(Row::failed("B4c", B4C_SYNCS, why));
        }
        if wanted("B5c") {
            rows.push(Row::failed("B5c", B5C_SYNCS, why));
        }
        return rows;
    };
    if wanted("B4c") {
        match b4c(tracer, probe, work) {
            Ok(mut r) => rows.append(&mut r),
            Err(e) => rows.push(Row::failed("B4c", B4C_SYNCS, e)),
        }
    }
    if wanted("B5c") {
        rows.push(b5c(tracer, probe, work).unwrap_or_else(|e| Row::failed("B5c", B5C_SYNCS, e)));
    }
    rows
}

const B4C_SYNCS: &str = "sync calls per durable change";
const B4C_BYTES: &str = "bytes written per durable change";
const B5C_SYNCS: &str = "sync calls for 64 concurrent durable changes";

/// A fresh copy of `prepared` in `work/<name>`.
fn fresh_copy(prepared: &Path, work: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = work.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    copy_tree(prepared, &dir)?;
    Ok(dir)
}

fn prepared(work: &Path, name: &str, lists: u64) -> Result<PathBuf, String> {
    let dir = work.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    probes::prepare_change_cache(&dir, lists)?;
    Ok(dir)
}

fn b4c(tracer: Tracer, probe: &Path, work: &Path) -> Result<Vec<Row>, String> {
    let n = B4C_CHANGES;
    let base = prepared(work, "b4c-prepared", 2 * n)?;
    let mut counts = [IoCounts::default(); 2];
    for (slot, changes) in [n, 2 * n].into_iter().enumerate() {
        let dir = fresh_copy(&base, work, "b4c-run")?;
        let args = vec![
            "changes".to_owned(),
            "--cache".to_owned(),
            dir.display().to_string(),
            "--changes".to_owned(),
            changes.to_string(),
        ];
        counts[slot] = traced(
            tracer,
            probe,
            &args,
            &work.join(format!("b4c-{}n.syscalls", slot + 1)),
        )?;
    }
    let per =
        |f: fn(&IoCounts) -> u64| f(&counts[1]).saturating_sub(f(&counts[0])) as f64 / n as f64;
    let note = format!(
        "(count(2N) - count(N)) / N, N = {n} serial changes on different lists; {} counted by {}",
        SYNC_CALLS.join(", "),
        tracer.name()
    );
    Ok(vec![
        Row::value(
            "B4c",
            B4C_SYNCS,
            Measure::new(per(|c| c.syncs), "syncs"),
            Goal::ValueAtMost(1.0),
        )
        .with_note(note),
        Row::value(
            "B4c",
            B4C_BYTES,
            Measure::new(per(|c| c.written), "B"),
            Goal::ValueAtMost(4096.0),
        )
        .with_note(format!(
            "bytes passed to write calls (wchar of /proc/<pid>/io); the kernel's write_bytes (pages dirtied, at its folio size) is {:.0} B per change",
            per(|c| c.storage)
        )),
    ])
}

fn b5c(tracer: Tracer, probe: &Path, work: &Path) -> Result<Row, String> {
    let base = prepared(work, "b5c-prepared", B5C_CHANGES)?;
    let (mut syncs, mut written) = (Vec::new(), Vec::new());
    for round in 0..B5C_ROUNDS {
        let mut counts = [IoCounts::default(); 2];
        for (slot, changes) in [0, B5C_CHANGES].into_iter().enumerate() {
            let dir = fresh_copy(&base, work, "b5c-run")?;
            let args = vec![
                "concurrent-changes".to_owned(),
                "--cache".to_owned(),
                dir.display().to_string(),
                "--changes".to_owned(),
                changes.to_string(),
            ];
            counts[slot] = traced(
                tracer,
                probe,
                &args,
                &work.join(format!("b5c-r{round}-{slot}.syscalls")),
            )?;
        }
        syncs.push(counts[1].syncs.saturating_sub(counts[0].syncs) as f64);
        written.push(counts[1].written.saturating_sub(counts[0].written) as f64);
    }
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{lo:.0}-{hi:.0}")
    };
    Ok(Row::value(
        "B5c",
        B5C_SYNCS,
        Measure::new(crate::stats::median(&syncs), "syncs"),
        Goal::ValueAtMost(2.0),
    )
    .with_note(format!(
        "64 changes at once (tasks awaiting the cache, their flushes on tokio's blocking pool), minus the same process making none; median of {B5C_ROUNDS} rounds \
         (range {}), counted by {}; {} B written for the 64 (median)",
        range(&syncs),
        tracer.name(),
        crate::stats::median(&written)
    )))
}
