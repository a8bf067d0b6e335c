//! `cargo xtask bench` and the `bench` stage of `cargo xtask ci`: the benchmarks of
//! `crates/pims-bench` (docs/benchmarks.md) and their regression gate.
//!
//! The gate counts instructions under valgrind's callgrind in release binaries it builds
//! itself, and compares them with `benchmarks/baseline.json`; `cargo xtask bench
//! --record-baseline` rewrites that file (on purpose only, the reason in the commit message).
//! valgrind (and strace, for the full run's B4c/B5c) are installed with apt when missing.

use std::path::PathBuf;

use xshell::cmd;

use crate::failure::{self, ErrorKind};
use crate::process;
use crate::workspace::Workspace;
use anyhow::Result;

/// The crate and binary of the benchmarks.
pub const BENCH_CRATE: &str = "pims-bench";

/// The binaries the counted figures run, built in release mode with the benchmark binary:
/// (package, binary).
pub const COUNTED_BINARIES: [(&str, &str); 4] = [
    (BENCH_CRATE, "pims-bench"),
    (BENCH_CRATE, "pims-probe"),
    (BENCH_CRATE, "pims-coldstart"),
    ("pims-cli", "pims"),
];

/// The option of `cargo xtask bench` that records the gate's baseline instead of benchmarking.
pub const RECORD_BASELINE: &str = "--record-baseline";

/// The tools the benchmarks run, with the Debian package that provides each.
const TOOLS: [(&str, &str, &str); 2] = [
    ("valgrind", "--version", "valgrind"),
    ("strace", "-V", "strace"),
];

/// Installs `program` with apt when it cannot be run (the machine's package registry is the
/// only network CI has). Runs `apt-get update` first only when the install alone fails.
///
/// ```no_run
/// let ws = xtask::Workspace::this().unwrap();
/// xtask::bench::ensure_tool(&ws, "valgrind").unwrap();
/// ```
pub fn ensure_tool(ws: &Workspace, program: &str) -> Result<()> {
    let (_, probe, package) = TOOLS
        .iter()
        .find(|(p, _, _)| *p == program)
        .ok_or_else(|| failure::invalid(format!("no package known for `{program}`")))?;
    let sh = ws.sh();
    if process::succeeds(cmd!(sh, "{program} {probe}")) {
        return Ok(());
    }
    println!("{program} is not installed: installing the Debian package `{package}` with apt-get");
    let install = || {
        cmd!(
            sh,
            "apt-get -q install -y --no-install-recommends {package}"
        )
        .env("DEBIAN_FRONTEND", "noninteractive")
        .quiet()
        .run()
    };
    if install().is_err() {
        cmd!(sh, "apt-get -q update").quiet().run()?;
        install()?;
    }
    if process::succeeds(cmd!(sh, "{program} {probe}")) {
        Ok(())
    } else {
        Err(failure::refused(format!(
            "`{program}` still cannot be run after installing `{package}`"
        )))
    }
}

/// Builds the release binaries of the counted figures (one cargo invocation: one build graph),
/// returning the directory they are in.
fn build_counted(ws: &Workspace) -> Result<PathBuf> {
    let binaries = COUNTED_BINARIES
        .iter()
        .flat_map(|(package, bin)| ["-p", package, "--bin", bin]);
    ws.cargo()
        .args(["build", "--release", "--locked"])
        .args(binaries)
        .run()?;
    Ok(ws.metadata()?.target_directory.join("release"))
}

/// The regression gate (stage `bench` of `cargo xtask ci`): builds the counted figures'
/// release binaries, counts the gated figures once and compares them with
/// `benchmarks/baseline.json`; fails on a regression over 5 %, never on a missed goal.
pub fn gate(ws: &Workspace) -> Result<()> {
    ensure_tool(ws, "valgrind")?;
    let bench = build_counted(ws)?.join(BENCH_CRATE);
    let sh = ws.sh();
    cmd!(sh, "{bench} gate").run()?;
    Ok(())
}

/// `cargo xtask bench --record-baseline`: counts the gated figures and writes them to
/// `benchmarks/baseline.json`.
fn record(ws: &Workspace) -> Result<()> {
    ensure_tool(ws, "valgrind")?;
    let bench = build_counted(ws)?.join(BENCH_CRATE);
    let sh = ws.sh();
    cmd!(sh, "{bench} gate --record").run()?;
    Ok(())
}

/// `cargo xtask bench [ARGS...]`: the release build of the benchmark binary with `ARGS`
/// (it builds what it measures itself), or [`RECORD_BASELINE`].
pub fn bench(ws: &Workspace, args: &[String]) -> Result<()> {
    let meta = ws.metadata()?;
    let Some(package) = meta.package(BENCH_CRATE) else {
        return Err(failure::refused(format!(
            "the workspace has no {BENCH_CRATE} crate: nothing to benchmark"
        )));
    };
    if !package.binaries.iter().any(|b| b == BENCH_CRATE) {
        return Err(failure::refused(format!(
            "crate {BENCH_CRATE} has no `{BENCH_CRATE}` binary"
        )));
    }
    if args.iter().any(|a| a == RECORD_BASELINE) {
        if args.len() > 1 {
            return Err(failure::new(
                ErrorKind::Usage,
                format!("{RECORD_BASELINE} takes no other argument"),
            ));
        }
        return record(ws);
    }
    for (program, _, _) in TOOLS {
        ensure_tool(ws, program)?;
    }
    ws.cargo()
        .args([
            "run",
            "--release",
            "--locked",
            "-p",
            BENCH_CRATE,
            "--bin",
            BENCH_CRATE,
        ])
        .arg("--")
        .args(args)
        .quiet()
        .run()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_tool_is_refused_before_anything_runs() {
        let ws = Workspace::this().unwrap();
        let err = ensure_tool(&ws, "no-such-tool").unwrap_err();
        assert!(err.to_string().contains("no package known"), "{err}");
    }

    #[test]
    fn the_counted_binaries_include_the_baselines_process() {
        // B8i counts `pims --version`: the CLI must be built with the probes.
        assert!(COUNTED_BINARIES.contains(&("pims-cli", "pims")));
        assert!(COUNTED_BINARIES.contains(&(BENCH_CRATE, "pims-probe")));
    }
}
