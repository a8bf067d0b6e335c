//! The whole run: build what is measured (release), run every figure, print the table and
//! write `report.json`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

use crate::cache_figures::{self, ids};
use crate::callgrind::OutDir;
use crate::cold_start::{self, Binaries};
use crate::counted_figures::{COUNTED, CountBinaries, CountPlan, CountRig};
use crate::plan::Plan;
use crate::report::{Row, table};

/// What `pims-bench` was asked to do.
///
/// ```
/// let o = pims_bench::Options::parse(["--quick", "--only", "B1,B7"]).unwrap();
/// assert!(o.quick);
/// assert!(o.wants("B7") && !o.wants("B3"));
/// assert!(pims_bench::Options::parse(["--fast"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The short plan.
    pub quick: bool,
    /// Only these figures (`B1` ... `B11`, `B1i`, `B3i`, `B6i`, `B8i`, `B4c`, `B5c`); all when
    /// empty.
    pub only: Vec<String>,
    /// Do not build first (the binaries and benches are built already).
    pub no_build: bool,
    /// Where the report goes (default `<target>/bench/report.json`).
    pub out: Option<PathBuf>,
}

/// The usage text.
pub const USAGE: &str = "\
usage: pims-bench [--quick] [--only B1,B1i,...] [--no-build] [--out FILE]
       pims-bench gate [--baseline FILE] [--record]
  Builds in release mode, runs the figures of quality.md (each against a baseline measured in
  the same run): the timed ones (B1-B11; B9-B11 on a throw-away PostgreSQL server, skipped
  when PostgreSQL is not installed unless CI=true), the counted ones (B1i, B3i, B6i, B8i:
  instructions under callgrind, each counted twice; B4c, B5c: sync calls and bytes under
  strace), prints one table and writes <target>/bench/report.json.
  --quick     the same figures, smaller (B7 and B11 with 100,000 lists instead of 1,000,000)
  --only      run only these figures (`counted` for the six counted ones)
  --no-build  do not build the CLI, the probes and the benches first
  --out FILE  write the report there
  gate        the regression gate of `cargo xtask ci` (built binaries only): counts the gated
              figures once, compares them with FILE (default benchmarks/baseline.json), fails
              when one grew more than 5%; --record writes FILE instead";

impl Options {
    /// Reads the command-line arguments (without the program name).
    ///
    /// ```
    /// let o = pims_bench::Options::parse(["--out", "/tmp/r.json", "--no-build"]).unwrap();
    /// assert_eq!(o.out.unwrap().to_str(), Some("/tmp/r.json"));
    /// ```
    pub fn parse<I, S>(args: I) -> Result<Options, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut o = Options::default();
        let mut it = args.into_iter().map(Into::into);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--quick" => o.quick = true,
                "--no-build" => o.no_build = true,
                "--only" => {
                    let list = it.next().ok_or("--only needs a list of figures")?;
                    for f in list.split(',').map(str::trim) {
                        if f.eq_ignore_ascii_case("counted") {
                            o.only
                                .extend(COUNTED_FIGURES.iter().map(|f| (*f).to_owned()));
                            continue;
                        }
                        let known = FIGURES
                            .iter()
                            .chain(&COUNTED_FIGURES)
                            .find(|k| k.eq_ignore_ascii_case(f))
                            .ok_or_else(|| {
                                format!("unknown figure {f} (B1 to B11, B1i, B3i, B6i, B8i, B4c, B5c, counted)")
                            })?;
                        o.only.push((*known).to_owned());
                    }
                }
                "--out" => o.out = Some(it.next().ok_or("--out needs a file")?.into()),
                other => return Err(format!("unknown argument {other}\n{USAGE}")),
            }
        }
        Ok(o)
    }

    /// Whether figure `f` is to be run.
    ///
    /// ```
    /// assert!(pims_bench::Options::default().wants("B5"));
    /// ```
    pub fn wants(&self, f: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == f)
    }
}

const FIGURES: [&str; 11] = [
    "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11",
];

/// The counted figures: instructions (B1i, B3i, B6i, B8i), sync calls and bytes (B4c, B5c).
const COUNTED_FIGURES: [&str; 6] = ["B1i", "B3i", "B6i", "B8i", "B4c", "B5c"];

/// The workspace root (this crate is `crates/pims-bench` in it).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The target directory the running binary was built in (`<target>/release/pims-bench`).
pub(crate) fn target_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no target directory above {}", exe.display()))
}

fn cargo(target: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target);
    c
}

pub(crate) fn step(what: &str) {
    eprintln!("pims-bench: {what}");
}

/// Runs `command`, its output to `log`; the error names the log's last lines.
fn run_logged(mut command: Command, log: &Path, what: &str) -> Result<(), String> {
    let file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = command
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .status()
        .map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(15).collect();
    Err(format!(
        "{what} failed ({status}); last lines of {}:\n{}",
        log.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

/// Runs the benchmarks; returns the rows (also printed and written to the report).
///
/// ```no_run
/// let rows = pims_bench::run(&pims_bench::Options { quick: true, ..Default::default() }).unwrap();
/// assert!(!rows.is_empty());
/// ```
pub fn run(options: &Options) -> Result<Vec<Row>, String> {
    let started = Instant::now();
    let plan = if options.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    let target = target_dir()?;
    let out_dir = target.join("bench");
    let work = out_dir.join("work");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let bin_dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let bins = Binaries {
        measurer: exe.clone(),
        coldstart: bin_dir.join("pims-coldstart"),
        cli: bin_dir.join("pims"),
    };

    let micro_wanted = ["B3", "B4", "B7"].iter().any(|f| options.wants(f));
    let mut build_problems = Vec::new();
    if !options.no_build {
        step("building pims-coldstart, pims-probe, pims-replica and the pims CLI (release)");
        let mut c = cargo(&target);
        c.args(["build", "--release", "-p", "pims-bench", "--bins"]);
        if let Err(e) = run_logged(c, &out_dir.join("build.log"), "cargo build -p pims-bench") {
            build_problems.push(e);
        }
        let mut c = cargo(&target);
        c.args(["build", "--release", "-p", "pims-cli", "--bin", "pims"]);
        if let Err(e) = run_logged(c, &out_dir.join("build-cli.log"), "cargo build -p pims-cli") {
            build_problems.push(e);
        }
    }

    let mut rows: Vec<Row> = Vec::new();
    if ["B1", "B2", "B6"].iter().any(|f| options.wants(f)) {
        step("B1, B2, B6: HTTP figures");
        rows.extend(
            crate::http_figures::run(&plan, &|f| options.wants(f))
                .into_iter()
                .filter(|r| options.wants(r.figure)),
        );
    }
    if options.wants("B5") {
        step("B5: concurrent durable changes");
        rows.push(cache_figures::b5(&plan, &work));
    }
    if micro_wanted {
        step(&format!(
            "B3, B4, B7: criterion micro benches (B7 with {} lists; log in {})",
            cache_figures::count(plan.b7_large_lists as u64),
            out_dir.join("criterion.log").display()
        ));
        rows.extend(
            micro(&plan, &target, &out_dir, &work, options)
                .into_iter()
                .filter(|r| options.wants(r.figure)),
        );
    }
    if options.wants("B8") {
        step("B8: cold start of a whole process");
        rows.extend(cold_start::run(&plan, &bins, &work));
    }
    if ["B9", "B10", "B11"].iter().any(|f| options.wants(f)) {
        step(&format!(
            "B9, B10, B11: the PostgreSQL store (B11 with {} lists)",
            cache_figures::count(plan.pg_lists as u64)
        ));
        rows.extend(crate::pg_figures::run(
            &plan,
            &bin_dir.join("pims-replica"),
            &work,
            &|f| options.wants(f),
        ));
    }
    let counted_plan = CountPlan::full();
    if COUNTED.iter().any(|f| options.wants(f)) {
        step("B1i, B3i, B6i, B8i: instructions under callgrind (each figure counted twice)");
        let rig = CountRig::new(
            &counted_plan,
            &CountBinaries::beside(&exe),
            OutDir::new(out_dir.join("callgrind"))?,
        )?;
        rows.extend(rig.run(&|f| options.wants(f)).0);
    }
    if ["B4c", "B5c"].iter().any(|f| options.wants(f)) {
        step("B4c, B5c: sync calls and bytes written, under strace");
        let dir = work.join("io");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        rows.extend(crate::io_figures::run(
            &CountBinaries::beside(&exe).probe,
            &dir,
            &|f| options.wants(f),
        ));
    }
    rows.sort_by_key(|r| (figure_number(r.figure), r.figure));
    for problem in &build_problems {
        eprintln!("pims-bench: {problem}");
    }

    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let printed = table(&rows);
    println!("{printed}");
    let report = json!({
        "date": crate::date::now(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "quick": plan.quick,
        "plan": {
            "concurrency": plan.concurrency,
            "throughput_requests": plan.throughput_requests,
            "latency_requests": plan.latency_requests,
            "http_rounds": plan.http_rounds,
            "b5_rounds": plan.b5_rounds,
            "b7_large_lists": plan.b7_large_lists,
            "b7_small_lists": plan.b7_small_lists,
            "b8_lists": plan.b8_lists,
            "b8_runs": plan.b8_runs,
            "b9_requests": plan.b9_requests,
            "b9_rounds": plan.b9_rounds,
            "pg_lists": plan.pg_lists,
            "b10_changes": plan.b10_changes,
            "b11_operations": plan.b11_operations,
            "pg_rounds": plan.pg_rounds,
        },
        "seconds": started.elapsed().as_secs_f64(),
        "load_average_before": load_before.trim(),
        "load_average_after": load_after.trim(),
        "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
    });
    let path = options
        .out
        .clone()
        .unwrap_or_else(|| out_dir.join("report.json"));
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    // The same table as Markdown, beside it: what docs/benchmarks.md quotes.
    let markdown = path.with_extension("md");
    std::fs::write(&markdown, crate::report::markdown_table(&rows))
        .map_err(|e| format!("{}: {e}", markdown.display()))?;
    eprintln!(
        "pims-bench: report written to {} and {} ({:.0} s)",
        path.display(),
        markdown.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(rows)
}

/// The figure's number (`B1i` is 1): counted figures sit under their timed ones.
fn figure_number(figure: &str) -> u32 {
    figure
        .trim_start_matches('B')
        .trim_end_matches(char::is_alphabetic)
        .parse()
        .unwrap_or(u32::MAX)
}

/// Runs the criterion benches (`cargo bench -p pims-bench --bench micro`) and reads their
/// results back.
fn micro(plan: &Plan, target: &Path, out_dir: &Path, work: &Path, options: &Options) -> Vec<Row> {
    let home = out_dir.join("criterion");
    let side = out_dir.join(ids::SIDE_FILE);
    let _ = std::fs::remove_file(&side);
    let mut c = cargo(target);
    c.args(["bench", "-p", "pims-bench", "--bench", "micro", "--"])
        .args([
            "--warm-up-time",
            &plan.criterion_warm_up_s.to_string(),
            "--measurement-time",
            &plan.criterion_measurement_s.to_string(),
            "--sample-size",
            &plan.criterion_samples.to_string(),
        ])
        .env("CRITERION_HOME", &home)
        .env("PIMS_BENCH_OUT", out_dir)
        .env("PIMS_BENCH_WORK", work)
        .env("PIMS_BENCH_B7_LISTS", plan.b7_large_lists.to_string());
    if !options.only.is_empty() {
        // criterion's filter: a regular expression over the benchmark ids.
        let groups: Vec<&str> = options
            .only
            .iter()
            .map(String::as_str)
            .filter(|f| ["B3", "B4", "B7"].contains(f))
            .collect();
        c.arg(format!("^({})/", groups.join("|")));
        c.env("PIMS_BENCH_ONLY", groups.join(","));
    }
    if let Err(e) = run_logged(
        c,
        &out_dir.join("criterion.log"),
        "cargo bench --bench micro",
    ) {
        return vec![
            Row::failed("B3", "merge, no change", &e),
            Row::failed("B4", "durable change", &e),
            Row::failed("B7", "lookup at scale", e),
        ];
    }
    let side: Value = std::fs::read_to_string(&side)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    cache_figures::micro_rows(&home, &side)
}
