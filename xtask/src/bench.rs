//! `cargo xtask bench` and the `bench` stage of `cargo xtask ci`: the benchmarks of
//! `crates/pims-bench` (docs/benchmarks.md) and their regression gate.
//!
//! The gate counts instructions under valgrind's callgrind in release binaries it builds
//! itself, and compares them with `benchmarks/baseline.json`; `cargo xtask bench
//! --record-baseline` rewrites that file (on purpose only, the reason in the commit message).
//! valgrind (and strace, for the full run's B4c/B5c) are installed with apt when missing.

use std::path::PathBuf;
use std::process::Command;

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
/// xtask::bench::ensure_tool("valgrind").unwrap();
/// ```
pub fn ensure_tool(program: &str) -> Result<()> {
    let (_, probe, package) = TOOLS
        .iter()
        .find(|(p, _, _)| *p == program)
        .ok_or_else(|| failure::invalid(format!("no package known for `{program}`")))?;
    if process::succeeds(Command::new(program).arg(probe)) {
        return Ok(());
    }
    println!("{program} is not installed: installing the Debian package `{package}` with apt-get");
    let install = |cmd: &mut Command| {
        process::run(
            cmd.args(["install", "-y", "--no-install-recommends", package])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    let apt = || {
        let mut c = Command::new("apt-get");
        c.arg("-q");
        c
    };
    if install(&mut apt()).is_err() {
        process::run(apt().arg("update"))?;
        install(&mut apt())?;
    }
    if process::succeeds(Command::new(program).arg(probe)) {
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
    let mut cmd = ws.cargo();
    cmd.args(["build", "--release", "--locked"]);
    for (package, bin) in COUNTED_BINARIES {
        cmd.args(["-p", package, "--bin", bin]);
    }
    println!("$ {}", process::describe(&cmd));
    process::run(&mut cmd)?;
    Ok(ws.metadata()?.target_directory.join("release"))
}

/// The regression gate (stage `bench` of `cargo xtask ci`): builds the counted figures'
/// release binaries, counts the gated figures once and compares them with
/// `benchmarks/baseline.json`; fails on a regression over 5 %, never on a missed goal.
pub fn gate(ws: &Workspace) -> Result<()> {
    ensure_tool("valgrind")?;
    let bin = build_counted(ws)?;
    let mut cmd = Command::new(bin.join(BENCH_CRATE));
    cmd.current_dir(ws.root()).arg("gate");
    println!("$ {}", process::describe(&cmd));
    process::run(&mut cmd)
}

/// `cargo xtask bench --record-baseline`: counts the gated figures and writes them to
/// `benchmarks/baseline.json`.
fn record(ws: &Workspace) -> Result<()> {
    ensure_tool("valgrind")?;
    let bin = build_counted(ws)?;
    let mut cmd = Command::new(bin.join(BENCH_CRATE));
    cmd.current_dir(ws.root()).args(["gate", "--record"]);
    println!("$ {}", process::describe(&cmd));
    process::run(&mut cmd)
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
        ensure_tool(program)?;
    }
    let mut cmd = ws.cargo();
    cmd.args([
        "run",
        "--release",
        "--locked",
        "-p",
        BENCH_CRATE,
        "--bin",
        BENCH_CRATE,
        "--",
    ])
    .args(args);
    process::run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_tool_is_refused_before_anything_runs() {
        let err = ensure_tool("no-such-tool").unwrap_err();
        assert!(err.to_string().contains("no package known"), "{err}");
    }

    #[test]
    fn the_counted_binaries_include_the_baselines_process() {
        // B8i counts `pims --version`: the CLI must be built with the probes.
        assert!(COUNTED_BINARIES.contains(&("pims-cli", "pims")));
        assert!(COUNTED_BINARIES.contains(&(BENCH_CRATE, "pims-probe")));
    }
}
