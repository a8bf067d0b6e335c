//! The counted figures B1i, B3i, B6i and B8i: instructions under callgrind, each workload in a
//! `pims-probe` (or `pims-coldstart --once`) process of its own, the server of the HTTP figures
//! in another process that is not counted.
//!
//! - B1i: client-side instructions per steps call, facade (warm cache, nothing changes) vs a
//!   raw reqwest POST of the same body; the simulator runs natively in this process.
//! - B3i: a no-change merge on sled vs the same merge on `Mutex<HashMap>`.
//! - B6i: server-side instructions per steps call, pims-sim vs the constant axum handler; the
//!   client (a bare hyper connection) runs natively in this process.
//! - B8i: a whole process that builds a facade on a cache of 10,000 lists and answers its first
//!   (cached) steps call, vs `pims --version`.
//!
//! Per-operation figures are `(count(2N) - count(N)) / N` ([`PerOp`]); every run starts from a
//! fresh copy of a cache prepared once (same bytes), so that the runs differ only in `N`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use pims_sim::{DEMO_TOKEN, SimConfig, SimServer};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use serde_json::{Value, json};

use crate::callgrind::{self, OutDir, PerOp};
use crate::probes::{self, copy_tree};
use crate::report::{Goal, Measure, Row};

/// How big the counted runs are.
///
/// ```
/// let p = pims_bench::CountPlan::gate();
/// assert_eq!(p.repeats, 1);
/// assert!(pims_bench::CountPlan::full().repeats >= 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountPlan {
    /// Steps calls in the shorter run of B1i (the longer one makes twice as many).
    pub b1i_calls: u64,
    /// Merges in the shorter run of B3i.
    pub b3i_merges: u64,
    /// Steps calls served in the shorter run of B6i.
    pub b6i_calls: u64,
    /// Operations made first in every run, before the `N` (connections opened, caches warm).
    pub warmup: u64,
    /// How many times each figure is counted (2: the run-to-run agreement is reported).
    pub repeats: usize,
}

impl CountPlan {
    /// `cargo xtask bench`: every figure counted twice, to show that the counts repeat.
    pub fn full() -> CountPlan {
        CountPlan {
            b1i_calls: 200,
            b3i_merges: 20_000,
            b6i_calls: 200,
            warmup: 20,
            repeats: 2,
        }
    }

    /// The regression gate of `cargo xtask ci`: the same sizes, counted once.
    pub fn gate() -> CountPlan {
        CountPlan {
            repeats: 1,
            ..CountPlan::full()
        }
    }
}

/// The binaries the counted figures run.
#[derive(Debug, Clone)]
pub struct CountBinaries {
    /// `pims-probe`.
    pub probe: PathBuf,
    /// `pims-coldstart`.
    pub coldstart: PathBuf,
    /// The CLI, `pims`.
    pub cli: PathBuf,
}

impl CountBinaries {
    /// The binaries next to `exe` (a release `pims-bench`).
    pub fn beside(exe: &Path) -> CountBinaries {
        let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
        CountBinaries {
            probe: dir.join("pims-probe"),
            coldstart: dir.join("pims-coldstart"),
            cli: dir.join("pims"),
        }
    }

    fn check(&self) -> Result<(), String> {
        for bin in [&self.probe, &self.coldstart, &self.cli] {
            if !bin.exists() {
                return Err(format!("{} is not built", bin.display()));
            }
        }
        Ok(())
    }
}

/// One counted figure: ours and its baseline, per operation (B8i: per process), as measured by
/// each repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    /// `B1i`, `B3i`, `B6i` or `B8i`.
    pub figure: &'static str,
    /// What the gate and `benchmarks/baseline.json` call it: the figure, or `B8i.own` for
    /// B8i without sled's `Config::open` (see [`B8I_OWN`]).
    pub key: &'static str,
    /// What one operation is (`call`, `merge`, `process`).
    pub per: &'static str,
    /// Ours, one value per repeat.
    pub ours: Vec<f64>,
    /// The baseline, one value per repeat.
    pub baseline: Vec<f64>,
}

impl Counted {
    /// Ours / baseline of each repeat.
    ///
    /// ```
    /// let c = pims_bench::Counted { figure: "B1i", key: "B1i", per: "call", ours: vec![120.0, 121.0], baseline: vec![100.0, 100.0] };
    /// assert_eq!(c.ratios(), vec![1.2, 1.21]);
    /// ```
    pub fn ratios(&self) -> Vec<f64> {
        self.ours
            .iter()
            .zip(&self.baseline)
            .map(|(o, b)| o / b)
            .collect()
    }

    /// The mean of ours over the repeats.
    pub fn ours_mean(&self) -> f64 {
        mean(&self.ours)
    }

    /// The mean of the baseline over the repeats.
    pub fn baseline_mean(&self) -> f64 {
        mean(&self.baseline)
    }

    /// How far apart the repeats are: (max - min) / mean of ours, of the baseline and of the
    /// ratio, the largest of the three (0 with one repeat).
    ///
    /// ```
    /// let c = pims_bench::Counted { figure: "B3i", key: "B3i", per: "merge", ours: vec![100.0, 101.0], baseline: vec![50.0, 50.0] };
    /// assert!((c.spread() - 0.00995).abs() < 1e-4);
    /// ```
    pub fn spread(&self) -> f64 {
        [
            spread(&self.ours),
            spread(&self.baseline),
            spread(&self.ratios()),
        ]
        .into_iter()
        .fold(0.0, f64::max)
    }
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn spread(v: &[f64]) -> f64 {
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(*x), h.max(*x))
        });
    if v.len() < 2 {
        0.0
    } else {
        (hi - lo) / mean(v)
    }
}

/// The key of B8i without sled's `Config::open`: the facade's own start-up and first call.
/// Opening sled replays its log, whose layout sled's own I/O threads decide while the cache is
/// filled: the same cache counts the same to the instruction, but another fill of the same
/// lists counts up to 6 % more or less. This part does not depend on the layout (within 1 %),
/// so it is the one the gate compares.
pub const B8I_OWN: &str = "B8i.own";

/// The function B8I_OWN leaves out.
pub const SLED_OPEN: &str = "sled::config::Config::open";

/// The goal of each counted figure (ours / baseline at most), by key.
///
/// ```
/// assert_eq!(pims_bench::counted_goal("B1i"), pims_bench::Goal::RatioAtMost(1.25));
/// assert_eq!(pims_bench::counted_goal("B8i.own"), pims_bench::Goal::Report);
/// ```
pub fn counted_goal(figure: &str) -> Goal {
    match figure {
        "B1i" => Goal::RatioAtMost(1.25),
        "B3i" => Goal::RatioAtMost(3.0),
        "B6i" => Goal::RatioAtMost(1.15),
        "B8i" => Goal::RatioAtMost(3.0),
        _ => Goal::Report,
    }
}

/// What each counted figure measures.
pub(crate) fn counted_what(figure: &str) -> &'static str {
    match figure {
        "B1i" => "steps call, client-side instructions: facade vs raw reqwest POST",
        "B3i" => "merge of a 3-step list, no change, instructions: sled vs Mutex<HashMap>",
        "B6i" => "steps call, server-side instructions: pims-sim vs constant axum handler",
        "B8i" => "cold start on 10,000 lists + first call, instructions: vs `pims --version`",
        B8I_OWN => "the same without opening sled (sled::Config::open): the facade's own",
        _ => "counted figure",
    }
}

/// The counted figures, in order.
pub const COUNTED: [&str; 4] = ["B1i", "B3i", "B6i", "B8i"];

impl Counted {
    /// The report row: the mean of the repeats, their spread in the note.
    pub fn row(&self, note: &str) -> Row {
        let unit = match self.per {
            "process" => "instr",
            "merge" => "instr/merge",
            _ => "instr/call",
        };
        let mut row = Row::ratio(
            self.figure,
            counted_what(self.key),
            Measure::new(self.ours_mean(), unit),
            Measure::new(self.baseline_mean(), unit),
            counted_goal(self.key),
        );
        let ratios: Vec<String> = self.ratios().iter().map(|r| format!("{r:.4}x")).collect();
        let repeats = if self.ours.len() > 1 {
            format!(
                "{} counted runs: {} (ours {}); spread {:.2}%{}",
                self.ours.len(),
                ratios.join(", "),
                self.ours
                    .iter()
                    .map(|o| format!("{o:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.spread() * 100.0,
                if self.spread() > 0.01 {
                    " (OVER 1%: not a repeatable count)"
                } else {
                    ""
                }
            )
        } else {
            "counted once".to_owned()
        };
        row.note = Some(format!("{note}; {repeats}"));
        row
    }
}

/// Everything a counted run needs.
pub(crate) struct CountRig<'a> {
    plan: &'a CountPlan,
    /// The binaries, through links in the stage (see [`CountRig::new`]).
    bins: CountBinaries,
    /// Where the counted processes work: `/tmp/pims-counted-XXXXXXXX`.
    work: PathBuf,
    _stage: tempfile::TempDir,
    out: OutDir,
    /// B8i's second figure ([`B8I_OWN`]), left by [`CountRig::b8i`] for [`CountRig::run`].
    b8i_own: std::cell::RefCell<Option<(Counted, String)>>,
}

/// Where the counted processes run: a directory whose path has the same length on every
/// machine. A counted process sees its arguments and environment on its stack and copies its
/// paths to the heap: strings of another length move what follows by a few bytes, and a copy
/// of differently aligned bytes takes another number of instructions (a few hundred per steps
/// call, measured). So the programs are reached through links in the stage, every path a
/// process gets is in the stage, the simulator's port has five digits, and the environment is
/// empty but for `LC_ALL=C` (see [`callgrind::command`]).
const STAGE_BASE: &str = "/tmp";

impl<'a> CountRig<'a> {
    /// A rig whose counted processes run in a fresh stage (removed when the rig is dropped).
    pub(crate) fn new(
        plan: &'a CountPlan,
        bins: &CountBinaries,
        out: OutDir,
    ) -> Result<CountRig<'a>, String> {
        let stage = tempfile::Builder::new()
            .prefix("pims-counted-")
            .rand_bytes(8)
            .tempdir_in(STAGE_BASE)
            .map_err(|e| format!("{STAGE_BASE}: {e}"))?;
        let work = stage.path().to_path_buf();
        let link = |name: &str, target: &Path| -> Result<PathBuf, String> {
            let at = work.join(name);
            let target =
                std::path::absolute(target).map_err(|e| format!("{}: {e}", target.display()))?;
            std::os::unix::fs::symlink(&target, &at)
                .map_err(|e| format!("{}: {e}", at.display()))?;
            Ok(at)
        };
        let staged = CountBinaries {
            probe: link("probe", &bins.probe)?,
            coldstart: link("cstart", &bins.coldstart)?,
            cli: link("pims", &bins.cli)?,
        };
        Ok(CountRig {
            plan,
            bins: staged,
            work,
            _stage: stage,
            out,
            b8i_own: Default::default(),
        })
    }
}

impl CountRig<'_> {
    /// Runs the counted figures `wanted` names; a figure that cannot be counted is a failed row
    /// (and no `Counted`).
    pub(crate) fn run(&self, wanted: &dyn Fn(&str) -> bool) -> (Vec<Row>, Vec<Counted>) {
        let (mut rows, mut counted) = (Vec::new(), Vec::new());
        if let Err(e) = self.bins.check().and_then(|()| {
            if callgrind::available() {
                Ok(())
            } else {
                Err("valgrind is not installed (cargo xtask bench installs it)".to_owned())
            }
        }) {
            for f in COUNTED.iter().filter(|f| wanted(f)) {
                rows.push(Row::failed(f, counted_what(f), &e));
            }
            return (rows, counted);
        }
        let sim = match NativeSim::start() {
            Ok(sim) => sim,
            Err(e) => {
                for f in COUNTED.iter().filter(|f| wanted(f)) {
                    rows.push(Row::failed(f, counted_what(f), &e));
                }
                return (rows, counted);
            }
        };
        type Measure<'r> = fn(&CountRig<'r>, &NativeSim) -> Result<(Counted, String), String>;
        let figures: [(&str, Measure<'_>); 4] = [
            ("B1i", CountRig::b1i),
            ("B3i", CountRig::b3i),
            ("B6i", CountRig::b6i),
            ("B8i", CountRig::b8i),
        ];
        for (figure, measure) in figures {
            if !wanted(figure) {
                continue;
            }
            eprintln!("pims-bench: {figure}: counting under callgrind");
            match measure(self, &sim) {
                Ok((c, note)) => {
                    rows.push(c.row(&note));
                    counted.push(c);
                }
                Err(e) => rows.push(Row::failed(figure, counted_what(figure), e)),
            }
            if figure == "B8i"
                && let Some(own) = self.b8i_own.take()
            {
                rows.push(own.0.row(&own.1));
                counted.push(own.0);
            }
        }
        sim.stop();
        (rows, counted)
    }

    fn dir(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.work.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }

    /// Counts `args` of the probe in one process cut at checkpoints after the warm-up, after
    /// `n` more operations and after `2n` ([`callgrind::count_parts`]), on a fresh copy of
    /// `prepared` when given (passed as `--cache`): the counts after `n` and after `2n`.
    fn per_op(
        &self,
        name: &str,
        prepared: Option<&Path>,
        args: &[String],
        n: u64,
    ) -> Result<PerOp, String> {
        let mut run_args = args.to_vec();
        if let Some(prepared) = prepared {
            let copy = self.dir(&format!("{name}-run"))?;
            let cache = copy.join("cache");
            copy_tree(prepared, &cache)?;
            run_args.extend(["--cache".to_owned(), path_arg(&cache)]);
        }
        let w = self.plan.warmup;
        run_args.extend([
            "--checkpoints".to_owned(),
            format!("{w},{},{}", w + n, w + 2 * n),
        ]);
        let parts = callgrind::count_parts(
            &self.bins.probe,
            &run_args,
            &self.out.file(name),
            probes::CHECKPOINT,
        )?;
        match parts.as_slice() {
            [start, first, second, ..] => Ok(PerOp {
                n,
                once_plus_n: start + first,
                once_plus_2n: start + first + second,
            }),
            _ => Err(format!("{name}: {} parts counted, 3 expected", parts.len())),
        }
    }

    fn repeat(
        &self,
        figure: &'static str,
        per: &'static str,
        mut one: impl FnMut(usize) -> Result<(f64, f64), String>,
    ) -> Result<Counted, String> {
        let mut c = Counted {
            figure,
            key: figure,
            per,
            ours: vec![],
            baseline: vec![],
        };
        for r in 0..self.plan.repeats.max(1) {
            let (ours, base) = one(r)?;
            c.ours.push(ours);
            c.baseline.push(base);
        }
        Ok(c)
    }

    fn b1i(&self, sim: &NativeSim) -> Result<(Counted, String), String> {
        let prepared = self.dir("b1i-prepared")?.join("cache");
        let device = probes::prepare_facade_cache(&sim.url, &prepared)?;
        let n = self.plan.b1i_calls;
        let mut once = (0.0, 0.0);
        let c = self.repeat("B1i", "call", |r| {
            let ours = self.per_op(
                &format!("b1i-ours-r{}", r + 1),
                Some(&prepared),
                &strings(&["facade", "--url", &sim.url]),
                n,
            )?;
            let base = self.per_op(
                &format!("b1i-raw-r{}", r + 1),
                None,
                &strings(&["raw", "--url", &sim.url, "--device-id", &device]),
                n,
            )?;
            once = (
                ours.once().unwrap_or(f64::NAN),
                base.once().unwrap_or(f64::NAN),
            );
            Ok((per(&ours)?, per(&base)?))
        })?;
        let note = format!(
            "(count after {}+2N calls - count after {}+N) / N in one process, N = {n}, current_thread runtime, \
             the simulator in another process; before the first N: facade {:.1} M, raw {:.1} M instructions",
            self.plan.warmup,
            self.plan.warmup,
            once.0 / 1e6,
            once.1 / 1e6
        );
        Ok((c, note))
    }

    fn b3i(&self, _sim: &NativeSim) -> Result<(Counted, String), String> {
        let prepared = self.dir("b3i-prepared")?.join("cache");
        probes::prepare_merge_cache(&prepared)?;
        let n = self.plan.b3i_merges;
        let c = self.repeat("B3i", "merge", |r| {
            let ours = self.per_op(
                &format!("b3i-sled-r{}", r + 1),
                Some(&prepared),
                &strings(&["merge-sled"]),
                n,
            )?;
            let base = self.per_op(
                &format!("b3i-map-r{}", r + 1),
                None,
                &strings(&["merge-map"]),
                n,
            )?;
            Ok((per(&ours)?, per(&base)?))
        })?;
        let note = format!(
            "StepCache::merge on sled (1,000 lists), the async merge polled once with a no-op waker (pims_bench::run_inline), vs the same merge on Mutex<HashMap>; (count after {w}+2N - count after {w}+N) / N in one process, N = {n}",
            w = self.plan.warmup
        );
        Ok((c, note))
    }

    fn b6i(&self, sim: &NativeSim) -> Result<(Counted, String), String> {
        let dir = self.dir("b6i")?;
        let body = probes::steps_call_body()?;
        let answer = sim.answer(&body)?;
        let answer_file = dir.join("answer.json");
        std::fs::write(&answer_file, &answer)
            .map_err(|e| format!("{}: {e}", answer_file.display()))?;
        let n = self.plan.b6i_calls;
        let c = self.repeat("B6i", "call", |r| {
            let ours = self.served(&format!("b6i-sim-r{}", r + 1), &["serve-sim"], &body, n)?;
            let base = self.served(
                &format!("b6i-constant-r{}", r + 1),
                &["serve-constant", "--answer", &path_arg(&answer_file)],
                &body,
                n,
            )?;
            Ok((per(&ours)?, per(&base)?))
        })?;
        let note = format!(
            "N = {n} calls on one kept-alive connection, the client (bare hyper) in another process, {PAUSE_MS} ms between calls"
        );
        Ok((c, note))
    }

    /// Counts a probe server answering `warmup + ops` calls, for `ops` = n and 2n.
    fn served(&self, name: &str, args: &[&str], body: &Bytes, n: u64) -> Result<PerOp, String> {
        let mut totals = [0u64; 2];
        for (slot, ops) in [n, 2 * n].into_iter().enumerate() {
            let file = self.out.file(&format!("{name}-{}n", slot + 1));
            let mut child = callgrind::spawn(&self.bins.probe, &strings(args), &file)?;
            let stdout = child.stdout.take().ok_or("no stdout")?;
            let url = match probes::read_listening(stdout) {
                Ok(url) => url,
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(e);
                }
            };
            let calls = client_calls(&url, body, self.plan.warmup + ops);
            let total = callgrind::finish(child, &file);
            calls?;
            totals[slot] = total?.main;
        }
        Ok(PerOp {
            n,
            once_plus_n: totals[0],
            once_plus_2n: totals[1],
        })
    }

    fn b8i(&self, sim: &NativeSim) -> Result<(Counted, String), String> {
        let dir = self.dir("b8i-prepared")?;
        let prepared = dir.join("cache");
        let args = |cache: &Path| {
            strings(&[
                "--once",
                "--url",
                &sim.url,
                "--cache",
                &path_arg(cache),
                "--account",
                crate::workloads::BENCH_ACCOUNT,
            ])
        };
        // A first (native) run makes the device id and caches the list; then 10,000 lists.
        let first = std::process::Command::new(&self.bins.coldstart)
            .args(args(&prepared))
            .output()
            .map_err(|e| format!("{}: {e}", self.bins.coldstart.display()))?;
        if !first.status.success() {
            return Err(format!(
                "pims-coldstart failed: {}",
                String::from_utf8_lossy(&first.stderr).trim()
            ));
        }
        let lists = crate::cold_start::fill(&prepared, B8I_LISTS)?;
        let (mut others, mut own) = (Vec::new(), Vec::new());
        let mut opens = Vec::new();
        let c = self.repeat("B8i", "process", |r| {
            let copy = self.dir("b8i-run")?.join("cache");
            copy_tree(&prepared, &copy)?;
            let ours = callgrind::count(
                &self.bins.coldstart,
                &args(&copy),
                &self.out.file(&format!("b8i-coldstart-r{}", r + 1)),
            )?;
            let open = callgrind::read_inclusive(
                &self.out.file(&format!("b8i-coldstart-r{}", r + 1)),
                SLED_OPEN,
            )?;
            let base = callgrind::count(
                &self.bins.cli,
                &strings(&["--version"]),
                &self.out.file(&format!("b8i-version-r{}", r + 1)),
            )?;
            others.push(format!("{:.1} M", ours.other_threads as f64 / 1e6));
            opens.push(open as f64);
            own.push(ours.main.saturating_sub(open) as f64);
            Ok((ours.main as f64, base.main as f64))
        })?;
        let open_mean = mean(&opens);
        let note = format!(
            "main threads, start to exit: pims-coldstart --once (current_thread runtime, a cache of {} lists) vs pims --version; \
             of ours, {SLED_OPEN} (sled replaying its log): {:.1} M ({:.0}%); sled's I/O threads, not counted \
             (busy-waiting at start-up, varies): {}",
            crate::cache_figures::count(lists as u64),
            open_mean / 1e6,
            open_mean / c.ours_mean() * 100.0,
            others.join(", ")
        );
        let own = Counted {
            figure: "B8i",
            key: B8I_OWN,
            per: "process",
            ours: own,
            baseline: c.baseline.clone(),
        };
        let own_note = format!(
            "ours minus what the main thread spent in {SLED_OPEN} (its inclusive count in the same run); what the gate compares"
        );
        self.b8i_own.replace(Some((own, own_note)));
        Ok((c, note))
    }
}

/// The lists in B8i's cache.
const B8I_LISTS: usize = 10_000;

/// The pause between B6i's calls: long enough that the counted server always finds its socket
/// empty after answering and waits (one path, whatever the machine's timing).
const PAUSE_MS: u64 = 2;

fn per(p: &PerOp) -> Result<f64, String> {
    p.per_op().ok_or_else(|| {
        format!(
            "the run of 2N operations did not count more than the run of N ({} vs {})",
            p.once_plus_2n, p.once_plus_n
        )
    })
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

/// The device id B6i's client sends (a fixed one: the same request in every run).
const B6I_DEVICE: &str = "bench-device-b6i";

/// `calls` steps calls, one after another on one kept-alive connection, from this process (a
/// runtime of its own), with a pause after each.
fn client_calls(base_url: &str, body: &Bytes, calls: u64) -> Result<(), String> {
    let addr: std::net::SocketAddr = base_url
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("{base_url}: {e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
        let authorization =
            HeaderValue::from_str(&format!("Bearer {DEMO_TOKEN}")).map_err(|e| e.to_string())?;
        for _ in 0..calls {
            sender.ready().await.map_err(|e| e.to_string())?;
            let request = hyper::Request::post(pims_types::CALLS_PATH)
                .header(HOST, host.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                .header(pims_types::DEVICE_ID_HEADER, B6I_DEVICE)
                .header(AUTHORIZATION, authorization.clone())
                .body(Full::new(body.clone()))
                .map_err(|e| e.to_string())?;
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status()));
            }
            response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?;
            tokio::time::sleep(Duration::from_millis(PAUSE_MS)).await;
        }
        Ok(())
    })
}

/// The simulator B1i's and B8i's clients call, running natively (not counted) in this process.
struct NativeSim {
    runtime: tokio::runtime::Runtime,
    server: SimServer,
    url: String,
}

impl NativeSim {
    /// Starts on a port of five digits (the URL is an argument of the counted processes: its
    /// length must not change from one run to the next, see [`STAGE_BASE`]).
    fn start() -> Result<NativeSim, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        let mut tried = Vec::new();
        let mut port = 20_000 + (std::process::id() % 30_000) as u16;
        let server = loop {
            let config =
                SimConfig::default().addr(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
            match runtime.block_on(SimServer::start(config)) {
                Ok(server) => break server,
                Err(e) if tried.len() < 50 => tried.push(format!("{port}: {e}")),
                Err(e) => return Err(format!("pims-sim: no free port ({e})")),
            }
            port = if port >= 59_999 { 20_000 } else { port + 1 };
        };
        let url = server.base_url();
        Ok(NativeSim {
            runtime,
            server,
            url,
        })
    }

    /// The simulator's answer to `body` from B6i's device (the constant server's envelope).
    fn answer(&self, body: &Bytes) -> Result<Bytes, String> {
        let url = format!("{}{}", self.url, pims_types::CALLS_PATH);
        let body = body.clone();
        let answer = self.runtime.block_on(async move {
            let response = reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?
                .post(url)
                .header(CONTENT_TYPE, "application/json")
                .header(pims_types::DEVICE_ID_HEADER, B6I_DEVICE)
                .header(AUTHORIZATION, format!("Bearer {DEMO_TOKEN}"))
                .body(body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            response.bytes().await.map_err(|e| e.to_string())
        })?;
        let v: Value = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
        if v["status"] != json!("SUCCEEDED") {
            return Err(format!(
                "the simulator did not answer the steps call: {}",
                String::from_utf8_lossy(&answer)
            ));
        }
        Ok(answer)
    }

    fn stop(self) {
        let NativeSim {
            runtime, server, ..
        } = self;
        runtime.block_on(server.shutdown());
        runtime.shutdown_timeout(Duration::from_secs(2));
    }
}
