//! `cargo xtask ci`: the project's whole check, in order, failing fast, each stage timed, with
//! a closing summary (stage table, total time, test counts).
//!
//! Stages: `fmt`, `clippy`, `test` (nextest when installed, else `cargo test`; with `CI=true`
//! unless the environment sets `CI`, see [`test_ci_value`]), `postgres` (the tests that start
//! PostgreSQL servers, [`POSTGRES_TESTS`], timed on their own), `contract` (schemathesis
//! against pims-sim's OpenAPI document, see [`crate::contract`]), `bindings` (the Kotlin and
//! Python suites and the Swift checks, see [`crate::bindings`]), `doctest`,
//! `doc` (rustdoc warnings are errors), `tidy` (see [`crate::tidy`]), `deny` (supply
//! chain: `cargo deny check bans licenses sources`) and `bench` (the regression gate of the
//! counted benchmark figures, see [`crate::bench::gate`]).

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use xshell::Cmd;

use crate::failure::{self, ErrorKind, WithSource as _};
use crate::process::{self, describe};
use crate::test_summary::TestCounts;
use crate::tidy;
use crate::workspace::Workspace;
use anyhow::Result;

/// The cargo-deny release installed when the machine has none (`cargo install --locked`).
pub const CARGO_DENY_VERSION: &str = "0.20.2";

/// The checks of the `deny` stage (the advisory check needs a network CI lacks: see
/// docs/releasing.md).
pub const DENY_CHECKS: [&str; 3] = ["bans", "licenses", "sources"];

/// The nextest profile of `.config/nextest.toml` used by the `test` stage.
pub const NEXTEST_PROFILE: &str = "ci";

/// The value of `CI` the `test` stage runs the tests with when the environment sets none:
/// tests that need a program the machine must provide (PostgreSQL, for pims-cache-postgres)
/// fail when it is missing instead of skipping (`CI=false cargo xtask ci` skips them).
///
/// ```
/// assert_eq!(xtask::ci::test_ci_value(None), Some("true"));
/// assert_eq!(xtask::ci::test_ci_value(Some("false".as_ref())), None);
/// ```
pub fn test_ci_value(current: Option<&std::ffi::OsStr>) -> Option<&'static str> {
    match current {
        None => Some("true"),
        Some(_) => None,
    }
}

/// The tests that start PostgreSQL servers (nextest's filter language): the `postgres` stage
/// runs them, the `test` stage runs everything else.
///
/// ```
/// assert!(xtask::ci::POSTGRES_TESTS.starts_with("package(pims-cache-postgres)"));
/// ```
pub const POSTGRES_TESTS: &str = "package(pims-cache-postgres) \
     | binary_id(pims::replicas_postgres) | binary_id(pims-cli::shared_cache) \
     | binary_id(pims-bench::missing_postgres) \
     | (package(pims-bench) & test(/postgres/))";

/// How long to wait, once a test runner has exited, for the end of its output.
const PIPE_GRACE: Duration = Duration::from_secs(10);

/// The stages of `cargo xtask ci`, in the order they run.
///
/// ```
/// assert_eq!(
///     xtask::ci::STAGES,
///     [
///         "fmt", "clippy", "test", "postgres", "contract", "bindings", "doctest", "doc", "tidy",
///         "deny", "bench"
///     ]
/// );
/// ```
pub const STAGES: [&str; 11] = [
    "fmt", "clippy", "test", "postgres", "contract", "bindings", "doctest", "doc", "tidy", "deny",
    "bench",
];

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed: the stages after it did not run.
    Failed,
    /// An earlier stage failed.
    NotRun,
}

/// One stage's result.
#[derive(Debug, Clone)]
pub struct StageReport {
    /// The stage name (one of [`STAGES`]).
    pub name: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed: Duration,
    /// Why it failed.
    pub error: Option<String>,
}

/// The result of a `cargo xtask ci` run.
///
/// ```
/// use std::time::Duration;
/// use xtask::ci::{CiReport, Outcome, StageReport};
///
/// let report = CiReport {
///     stages: vec![StageReport { name: "fmt", outcome: Outcome::Passed,
///                                elapsed: Duration::from_millis(400), error: None }],
///     total: Duration::from_millis(400),
///     tests: Default::default(),
/// };
/// assert!(report.passed());
/// assert!(report.summary().ends_with("ci: all 1 stages passed in 0.4s\n"));
/// ```
#[derive(Debug, Clone)]
pub struct CiReport {
    /// Every stage, in order, including those that did not run.
    pub stages: Vec<StageReport>,
    /// Wall-clock time of the whole run.
    pub total: Duration,
    /// Tests counted from the runners' summary lines (test and doctest stages).
    pub tests: TestCounts,
}

impl CiReport {
    /// True when every stage passed.
    pub fn passed(&self) -> bool {
        self.stages.iter().all(|s| s.outcome == Outcome::Passed)
    }

    /// The stage that failed, if any.
    pub fn failed_stage(&self) -> Option<&StageReport> {
        self.stages.iter().find(|s| s.outcome == Outcome::Failed)
    }

    /// The closing summary: a table of stages and times, the total, and (when tests ran) the
    /// plain `tests: N passed, N failed` line, last.
    pub fn summary(&self) -> String {
        let mut out = String::from("\nci summary\n");
        for s in &self.stages {
            let result = match s.outcome {
                Outcome::Passed => "ok",
                Outcome::Failed => "FAILED",
                Outcome::NotRun => "not run",
            };
            let time = match s.outcome {
                Outcome::NotRun => "-".to_owned(),
                _ => format_duration(s.elapsed),
            };
            out.push_str(&format!("  {:<9} {:<8} {:>8}\n", s.name, result, time));
        }
        let total_result = if self.passed() { "ok" } else { "FAILED" };
        out.push_str(&format!(
            "  {:<9} {:<8} {:>8}\n",
            "total",
            total_result,
            format_duration(self.total)
        ));
        match self.failed_stage() {
            None => out.push_str(&format!(
                "ci: all {} stages passed in {}\n",
                self.stages.len(),
                format_duration(self.total)
            )),
            Some(failed) => {
                let skipped: Vec<&str> = self
                    .stages
                    .iter()
                    .filter(|s| s.outcome == Outcome::NotRun)
                    .map(|s| s.name)
                    .collect();
                out.push_str(&format!(
                    "ci: stage `{}` FAILED after {} total",
                    failed.name,
                    format_duration(self.total)
                ));
                if let Some(error) = &failed.error {
                    out.push_str(&format!(" ({error})"));
                }
                if !skipped.is_empty() {
                    out.push_str(&format!("; not run: {}", skipped.join(", ")));
                }
                out.push('\n');
            }
        }
        if self.tests.summaries > 0 {
            out.push_str(&format!("tests: {}\n", self.tests));
        }
        out
    }
}

/// `0.4s`, `12.3s`, `3m07s`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(xtask::ci::format_duration(Duration::from_millis(12_345)), "12.3s");
/// assert_eq!(xtask::ci::format_duration(Duration::from_secs(187)), "3m07s");
/// ```
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// Runs every stage in order, stopping at the first failure, printing each stage's command,
/// output and time, then the summary. Returns the report (check [`CiReport::passed`]).
pub fn run(ws: &Workspace) -> CiReport {
    let started = Instant::now();
    let mut tests = TestCounts::default();
    let mut stages = Vec::with_capacity(STAGES.len());
    let mut failed = false;
    for (i, name) in STAGES.iter().copied().enumerate() {
        if failed {
            stages.push(StageReport {
                name,
                outcome: Outcome::NotRun,
                elapsed: Duration::ZERO,
                error: None,
            });
            continue;
        }
        println!("\n==> ci [{}/{}] {name}", i + 1, STAGES.len());
        let stage_started = Instant::now();
        let result = run_stage(ws, name, &mut tests);
        let elapsed = stage_started.elapsed();
        let (outcome, error) = match result {
            Ok(()) => {
                println!(
                    "==> ci [{}/{}] {name}: ok in {}",
                    i + 1,
                    STAGES.len(),
                    format_duration(elapsed)
                );
                (Outcome::Passed, None)
            }
            Err(e) => {
                println!(
                    "==> ci [{}/{}] {name}: FAILED in {}: {e:#}",
                    i + 1,
                    STAGES.len(),
                    format_duration(elapsed),
                );
                failed = true;
                (Outcome::Failed, Some(e.to_string()))
            }
        };
        stages.push(StageReport {
            name,
            outcome,
            elapsed,
            error,
        });
    }
    let report = CiReport {
        stages,
        total: started.elapsed(),
        tests,
    };
    print!("{}", report.summary());
    let _ = io::stdout().flush();
    report
}

/// Whether cargo-nextest is installed (else the `test` stage runs `cargo test`).
fn has_nextest(ws: &Workspace) -> bool {
    process::succeeds(ws.cargo().args(["nextest", "--version"]))
}

/// `cargo nextest run` on the workspace with the CI profile, the tests `filter` selects, and
/// `CI` as [`test_ci_value`] says.
fn nextest<'a>(ws: &'a Workspace, filter: &str) -> Cmd<'a> {
    with_test_ci(ws.cargo()).args([
        "nextest",
        "run",
        "--workspace",
        "--profile",
        NEXTEST_PROFILE,
        "-E",
        filter,
    ])
}

/// Sets `CI` for a test run unless the environment sets it.
fn with_test_ci(cmd: Cmd<'_>) -> Cmd<'_> {
    match test_ci_value(std::env::var_os("CI").as_deref()) {
        Some(ci) => cmd.env("CI", ci),
        None => cmd,
    }
}

fn run_stage(ws: &Workspace, name: &str, tests: &mut TestCounts) -> Result<()> {
    match name {
        "fmt" => ws.cargo().args(["fmt", "--all", "--", "--check"]).run()?,
        "clippy" => {
            ws.cargo()
                .args([
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ])
                .run()?;
            // The facade without its default features (no HTTP transport, no sled store) is
            // a supported build: it must compile, warning-free, for apps that bring their own.
            ws.cargo()
                .args(["clippy", "--package", "pims", "--no-default-features"])
                .args(["--", "-D", "warnings"])
                .run()?;
        }
        "test" => {
            if has_nextest(ws) {
                let others = format!("not ({POSTGRES_TESTS})");
                run_counting(nextest(ws, &others), tests)?;
            } else {
                println!("cargo-nextest is not installed: running `cargo test` instead");
                let cmd = with_test_ci(ws.cargo()).args(["test", "--workspace", "--all-targets"]);
                run_counting(cmd, tests)?;
            }
            // The facade without its default features: what it refuses, and why.
            let facade = [
                "test",
                "--package",
                "pims",
                "--no-default-features",
                "--lib",
            ];
            run_counting(ws.cargo().args(facade), tests)?;
        }
        "postgres" => {
            if !has_nextest(ws) {
                println!(
                    "cargo-nextest is not installed: the PostgreSQL tests ran in the test stage"
                );
                return Ok(());
            }
            run_counting(nextest(ws, POSTGRES_TESTS), tests)?;
        }
        "contract" => crate::contract::run_stage(ws)?,
        "bindings" => crate::bindings::test(ws)?,
        "doctest" => run_counting(ws.cargo().args(["test", "--workspace", "--doc"]), tests)?,
        "doc" => {
            let mut flags = std::env::var("RUSTDOCFLAGS").unwrap_or_default();
            if !flags.is_empty() {
                flags.push(' ');
            }
            flags.push_str("-D warnings");
            ws.cargo()
                .args(["doc", "--workspace", "--no-deps"])
                .env("RUSTDOCFLAGS", flags)
                .run()?;
        }
        "tidy" => tidy::run(ws.root())?,
        "deny" => {
            ensure_cargo_deny(ws)?;
            ws.cargo()
                .args(["deny", "check", "--hide-inclusion-graph"])
                .args(DENY_CHECKS)
                .run()?;
        }
        "bench" => crate::bench::gate(ws)?,
        other => {
            return Err(failure::new(
                ErrorKind::Usage,
                format!("unknown ci stage `{other}`"),
            ));
        }
    }
    Ok(())
}

/// Installs cargo-deny (pinned) when `cargo deny` is not available; cargo caches it in its
/// bin directory, so this happens once per machine.
fn ensure_cargo_deny(ws: &Workspace) -> Result<()> {
    if process::succeeds(ws.cargo().args(["deny", "--version"])) {
        return Ok(());
    }
    println!(
        "cargo-deny is not installed: installing {CARGO_DENY_VERSION} (once; cached in cargo's bin directory)"
    );
    ws.cargo()
        .args([
            "install",
            "--locked",
            "cargo-deny",
            "--version",
            CARGO_DENY_VERSION,
        ])
        .run()?;
    Ok(())
}

/// Runs a test runner, passing its output through while counting its summary lines. The
/// command is built with xshell but run by hand: xshell waits for the end before showing
/// captured output, and this runner streams it line by line as it counts.
fn run_counting(cmd: Cmd<'_>, counts: &mut TestCounts) -> Result<()> {
    let mut cmd = Command::from(cmd);
    run_counting_into(&mut cmd, counts, io::stdout(), io::stderr(), PIPE_GRACE)
}

/// [`run_counting`], copying the runner's stdout and stderr to the given sinks.
fn run_counting_into(
    cmd: &mut Command,
    counts: &mut TestCounts,
    stdout: impl Write + Send + 'static,
    stderr: impl Write + Send + 'static,
    grace: Duration,
) -> Result<()> {
    println!("$ {}", describe(cmd));
    let _ = io::stdout().flush();
    // The output is piped (to read it): keep the colours a terminal would have shown.
    if io::stdout().is_terminal() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
        cmd.env("CARGO_TERM_COLOR", "always");
    }
    let line = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            failure::new(
                ErrorKind::CommandFailed,
                format!("could not start `{line}`"),
            )
            .with_source(e)
        })?;
    // The pumps count as lines pass and say when their pipe closes. A process the runner left
    // behind may hold a pipe open after the runner exited: wait a little, then carry on.
    let shared = Arc::new(Mutex::new(TestCounts::default()));
    let (done, closed) = mpsc::channel();
    let mut pumps = 0;
    if let Some(o) = child.stdout.take() {
        let (shared, done) = (Arc::clone(&shared), done.clone());
        thread::spawn(move || {
            pump(o, stdout, &shared);
            done.send(())
        });
        pumps += 1;
    }
    if let Some(e) = child.stderr.take() {
        let (shared, done) = (Arc::clone(&shared), done.clone());
        thread::spawn(move || {
            pump(e, stderr, &shared);
            done.send(())
        });
        pumps += 1;
    }
    let status = child.wait().map_err(|e| {
        failure::new(ErrorKind::CommandFailed, format!("waiting for `{line}`")).with_source(e)
    })?;
    for _ in 0..pumps {
        if closed.recv_timeout(grace).is_err() {
            println!("note: a process started by `{line}` still holds its output open");
            break;
        }
    }
    counts.merge(*shared.lock().unwrap_or_else(PoisonError::into_inner));
    if status.success() {
        Ok(())
    } else {
        Err(failure::new(
            ErrorKind::CommandFailed,
            format!("`{line}` failed ({status})"),
        ))
    }
}

/// Copies `reader` to `sink` line by line, counting test summaries into `counts` on the way.
fn pump(reader: impl Read, mut sink: impl Write, counts: &Mutex<TestCounts>) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let _ = sink.write_all(&buf);
                let _ = sink.flush();
                let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
                counts.scan_line(&String::from_utf8_lossy(&buf));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KindOf as _;

    fn stage(name: &'static str, outcome: Outcome, secs: u64) -> StageReport {
        StageReport {
            name,
            outcome,
            elapsed: Duration::from_secs(secs),
            error: (outcome == Outcome::Failed).then(|| "`cargo clippy` failed".to_owned()),
        }
    }

    #[test]
    fn summary_of_a_green_run_ends_with_the_test_line() {
        let report = CiReport {
            stages: vec![
                stage("fmt", Outcome::Passed, 1),
                stage("test", Outcome::Passed, 75),
            ],
            total: Duration::from_secs(76),
            tests: TestCounts {
                passed: 12,
                failed: 0,
                skipped: 1,
                summaries: 2,
            },
        };
        assert!(report.passed());
        let summary = report.summary();
        assert!(
            summary.contains("  fmt       ok           1.0s\n"),
            "{summary}"
        );
        assert!(
            summary.contains("  test      ok          1m15s\n"),
            "{summary}"
        );
        assert!(
            summary.contains("  total     ok          1m16s\n"),
            "{summary}"
        );
        assert!(
            summary.ends_with(
                "ci: all 2 stages passed in 1m16s\ntests: 12 passed, 0 failed, 1 skipped\n"
            ),
            "{summary}"
        );
    }

    #[test]
    fn summary_of_a_failed_run_names_the_stage_and_what_did_not_run() {
        let report = CiReport {
            stages: vec![
                stage("fmt", Outcome::Passed, 1),
                stage("clippy", Outcome::Failed, 30),
                stage("test", Outcome::NotRun, 0),
                stage("doc", Outcome::NotRun, 0),
            ],
            total: Duration::from_secs(31),
            tests: TestCounts::default(),
        };
        assert!(!report.passed());
        assert_eq!(report.failed_stage().map(|s| s.name), Some("clippy"));
        let summary = report.summary();
        assert!(
            summary.contains("  clippy    FAILED      30.0s\n"),
            "{summary}"
        );
        assert!(
            summary.contains("  test      not run         -\n"),
            "{summary}"
        );
        assert!(
            summary.ends_with(
                "ci: stage `clippy` FAILED after 31.0s total (`cargo clippy` failed); not run: test, doc\n"
            ),
            "{summary}"
        );
        assert!(
            !summary.contains("tests:"),
            "no test line when no runner ran"
        );
    }

    #[test]
    fn counting_runner_passes_output_through_and_counts() {
        let mut counts = TestCounts::default();
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo 'test result: ok. 4 passed; 0 failed; 1 ignored'; \
             echo '     Summary [ 0.1s] 2 tests run: 2 passed, 0 skipped' >&2",
        ]);
        // Not to this test's stdout: a `cargo test` run would count these lines as its own.
        let copied = SharedBuf::default();
        run_counting_into(
            &mut cmd,
            &mut counts,
            copied.clone(),
            copied.clone(),
            PIPE_GRACE,
        )
        .unwrap();
        assert_eq!((counts.passed, counts.failed, counts.skipped), (6, 0, 1));
        let text = String::from_utf8(copied.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("test result: ok. 4 passed"), "{text}");
        assert!(text.contains("2 tests run: 2 passed"), "{text}");

        let mut failing = Command::new("sh");
        failing.args(["-c", "exit 4"]);
        let err = run_counting_into(
            &mut failing,
            &mut counts,
            io::sink(),
            io::sink(),
            PIPE_GRACE,
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CommandFailed);
    }

    /// A byte buffer several threads write into.
    #[derive(Clone, Default)]
    struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_process_left_holding_the_output_does_not_stall_the_stage() {
        let mut counts = TestCounts::default();
        let mut cmd = Command::new("sh");
        // The background sleep inherits the pipes and outlives the shell.
        cmd.args([
            "-c",
            "sleep 3 & echo 'test result: ok. 3 passed; 0 failed; 0 ignored'",
        ]);
        let grace = Duration::from_millis(200);
        run_counting_into(&mut cmd, &mut counts, io::sink(), io::sink(), grace).unwrap();
        assert_eq!((counts.passed, counts.summaries), (3, 1));
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_millis(400)), "0.4s");
        assert_eq!(format_duration(Duration::from_secs(59)), "59.0s");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m00s");
        assert_eq!(format_duration(Duration::from_secs(3_725)), "62m05s");
    }
}
