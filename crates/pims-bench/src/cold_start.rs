//! B8: the cold start of a whole process (`pims-coldstart`: a facade built on an existing
//! cache of 10,000 lists, then its first steps call, a cached list), timed from outside with
//! its memory read from the OS, against `pims --version`.

use std::path::{Path, PathBuf};

use pims_cache::{MARKER_FILE, SledOptions, SledStore, StepCache};
use pims_sim::{DEMO_CAR_ASSOCIATION_ID, SimConfig, SimServer};

use crate::cache_figures::count;
use crate::executor::run_inline;
use crate::plan::Plan;
use crate::process::{ProcessSample, measure_isolated};
use crate::report::{Goal, Measure, Row};
use crate::stats::median;
use crate::workloads::BenchCache;

/// Where the binaries are: the directory of the running `pims-bench`.
pub(crate) struct Binaries {
    /// `pims-bench` itself (it measures, see [`measure_isolated`]).
    pub(crate) measurer: PathBuf,
    /// `pims-coldstart`.
    pub(crate) coldstart: PathBuf,
    /// The CLI, `pims`.
    pub(crate) cli: PathBuf,
}

const START: &str = "cold start: facade on a cache of 10,000 lists + first steps call";
const RSS: &str = "resident memory of the idle facade";

pub(crate) fn run(plan: &Plan, bins: &Binaries, work: &Path) -> Vec<Row> {
    match measure(plan, bins, work) {
        Ok(rows) => rows,
        Err(e) => vec![Row::failed("B8", START, &e), Row::failed("B8", RSS, e)],
    }
}

fn measure(plan: &Plan, bins: &Binaries, work: &Path) -> Result<Vec<Row>, String> {
    for bin in [&bins.coldstart, &bins.cli] {
        if !bin.exists() {
            return Err(format!("{} is not built", bin.display()));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let sim = runtime
        .block_on(SimServer::start(SimConfig::default()))
        .map_err(|e| format!("pims-sim: {e}"))?;
    let dir = tempfile::tempdir_in(work).map_err(|e| format!("work dir: {e}"))?;
    let cache_dir = dir.path().join("cache");
    let args = vec![
        "--url".to_owned(),
        sim.base_url(),
        "--cache".to_owned(),
        cache_dir.display().to_string(),
        "--account".to_owned(),
        "bench".to_owned(),
        "--car-association-id".to_owned(),
        DEMO_CAR_ASSOCIATION_ID.to_owned(),
    ];
    // A first run makes the device id and caches the list the measured runs will ask for.
    measure_isolated(&bins.measurer, &bins.coldstart, &args, true)?;
    let lists = fill(&cache_dir, plan.b8_lists)?;

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..plan.b8_runs.max(1) {
        ours.push(measure_isolated(
            &bins.measurer,
            &bins.coldstart,
            &args,
            true,
        )?);
        theirs.push(measure_isolated(
            &bins.measurer,
            &bins.cli,
            &["--version".to_owned()],
            false,
        )?);
    }
    runtime.block_on(sim.shutdown());

    let ready = median(&ours.iter().filter_map(|s| s.ready_ms).collect::<Vec<_>>());
    let version = median(&theirs.iter().map(|s| s.total_ms).collect::<Vec<_>>());
    let build = report_median(&ours, "build_ms");
    let call = report_median(&ours, "first_call_ms");
    let idle = kib_median(&ours, |s| s.idle_rss_kib);
    let peak = kib_median(&ours, |s| s.peak_rss_kib);
    let cli_peak = kib_median(&theirs, |s| s.peak_rss_kib);
    Ok(vec![
        Row::ratio(
            "B8",
            START,
            Measure::new(ready, "ms"),
            Measure::new(version, "ms"),
            Goal::RatioAtMost(3.0),
        )
        .with_note(format!(
            "median of {} runs, spawn to ready; inside the process: build {build:.1} ms, first call {call:.1} ms; \
             cache of {} lists; baseline: `pims --version` spawn to exit",
            ours.len(),
            count(lists as u64)
        )),
        Row {
            baseline: Some(Measure::new(cli_peak / 1024.0, "MiB")),
            ratio: Some(idle / cli_peak),
            ..Row::value(
                "B8",
                RSS,
                Measure::new(idle / 1024.0, "MiB"),
                Goal::ValueAtMost(32.0),
            )
        }
        .with_note(format!(
            "VmRSS 200 ms after ready (peak VmHWM / ru_maxrss {:.1} MiB); baseline: peak RSS of `pims --version`",
            peak / 1024.0
        )),
    ])
}

/// Adds lists to the facade's cache up to `total`, in the namespace (account, device) of
/// the list the first run cached, on one thread (the same files every time: B8i counts what
/// opening them costs); returns how many lists the cache holds.
pub(crate) fn fill(cache_dir: &Path, total: usize) -> Result<usize, String> {
    let store_dir = find_store(cache_dir).ok_or_else(|| {
        format!(
            "the facade made no sled cache under {} (no {MARKER_FILE} file)",
            cache_dir.display()
        )
    })?;
    let ns = {
        let store = SledStore::open(&store_dir, SledOptions::default())
            .map_err(|e| format!("open the facade's cache: {e}"))?;
        let cache = StepCache::new(std::sync::Arc::new(store));
        let lists = run_inline(cache.lists(None)).map_err(|e| e.to_string())?;
        let first = lists.first().ok_or("the first run cached no list")?;
        pims_cache::Namespace::new(first.account.clone(), first.device.clone())
            .map_err(|e| e.to_string())?
    };
    let held = {
        let cache = BenchCache::open_in(&store_dir, ns)?;
        cache.populate_on(0, total.saturating_sub(1), 1)?;
        run_inline(cache.step_cache().lists(None))
            .map_err(|e| e.to_string())?
            .len()
    };
    // Opened once more, as the app's next run would: sled writes its page-table snapshot when
    // it opens a database, so an open replays only the log written since the previous open.
    // Without this, every measured start would be the first one after 10,000 lists were
    // written in one go, replaying all of them.
    SledStore::open(&store_dir, SledOptions::default())
        .map_err(|e| format!("reopen the filled cache: {e}"))?;
    Ok(held)
}

/// The directory holding the cache's marker file, searched from `dir` down.
fn find_store(dir: &Path) -> Option<PathBuf> {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        if d.join(MARKER_FILE).is_file() {
            return Some(d);
        }
        for entry in std::fs::read_dir(&d).ok()?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(entry.path());
            }
        }
    }
    None
}

fn report_median(samples: &[ProcessSample], field: &str) -> f64 {
    median(
        &samples
            .iter()
            .filter_map(|s| s.report.as_ref()?[field].as_f64())
            .collect::<Vec<_>>(),
    )
}

fn kib_median(samples: &[ProcessSample], f: impl Fn(&ProcessSample) -> Option<u64>) -> f64 {
    median(
        &samples
            .iter()
            .filter_map(|s| f(s).map(|k| k as f64))
            .collect::<Vec<_>>(),
    )
}
