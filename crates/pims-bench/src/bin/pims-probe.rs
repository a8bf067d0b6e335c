//! `pims-probe`: one workload of a counted figure per process, so that `pims-bench` can count
//! the process from outside (instructions under callgrind, system calls under strace). See
//! `pims_bench::probes` and docs/benchmarks.md.
//!
//! ```sh
//! pims-probe facade --url URL --cache DIR --checkpoints W,W+N,W+2N   # B1i, ours
//! pims-probe raw --url URL --device-id ID --checkpoints LIST         # B1i, baseline
//! pims-probe merge-sled --cache DIR --checkpoints LIST               # B3i, ours
//! pims-probe merge-map --checkpoints LIST                            # B3i, baseline
//! pims-probe serve-sim                                   # B6i, ours (until stdin ends)
//! pims-probe serve-constant --answer FILE                # B6i, baseline
//! pims-probe changes --cache DIR --changes N             # B4c
//! pims-probe concurrent-changes --cache DIR --changes N  # B5c
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use pims_bench::probes::{self, Checkpoints, Served};

const USAGE: &str = "\
usage: pims-probe facade --url URL --cache DIR --checkpoints W,W+N,W+2N
       pims-probe raw --url URL --device-id ID --checkpoints W,W+N,W+2N
       pims-probe merge-sled --cache DIR --checkpoints W,W+N,W+2N
       pims-probe merge-map --checkpoints W,W+N,W+2N
       pims-probe serve-sim
       pims-probe serve-constant --answer FILE
       pims-probe changes --cache DIR --changes N
       pims-probe concurrent-changes --cache DIR --changes N";

/// The `--flag value` pairs after the mode.
struct Flags(HashMap<String, String>);

impl Flags {
    fn parse(args: &[String]) -> Result<Flags, String> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {flag}\n{USAGE}"))?;
            let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
            map.insert(name.to_owned(), value.clone());
        }
        Ok(Flags(map))
    }

    fn text(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required\n{USAGE}"))
    }

    fn path(&self, name: &str) -> Result<PathBuf, String> {
        self.text(name).map(PathBuf::from)
    }

    fn checkpoints(&self) -> Result<Checkpoints, String> {
        Checkpoints::parse(self.text("checkpoints")?)
    }

    fn count(&self, name: &str) -> Result<u64, String> {
        let text = self.text(name)?;
        text.parse()
            .map_err(|_| format!("--{name}: expected a count, got {text}"))
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (mode, rest) = args.split_first().ok_or(USAGE)?;
    let f = Flags::parse(rest)?;
    match mode.as_str() {
        "facade" => probes::facade_calls(f.text("url")?, &f.path("cache")?, &f.checkpoints()?),
        "raw" => probes::raw_calls(f.text("url")?, f.text("device-id")?, &f.checkpoints()?),
        "merge-sled" => probes::sled_merges(&f.path("cache")?, &f.checkpoints()?),
        "merge-map" => {
            probes::map_merges(&f.checkpoints()?);
            Ok(())
        }
        "serve-sim" => probes::serve(Served::Sim, std::io::stdin(), std::io::stdout()),
        "serve-constant" => {
            let path = f.path("answer")?;
            let answer = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            probes::serve(
                Served::Constant(answer.into()),
                std::io::stdin(),
                std::io::stdout(),
            )
        }
        "changes" => {
            probes::serial_changes(&f.path("cache")?, f.count("changes")?).and_then(|()| print_io())
        }
        "concurrent-changes" => probes::concurrent_changes(&f.path("cache")?, f.count("changes")?)
            .and_then(|()| print_io()),
        "--help" | "-h" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown mode {other}\n{USAGE}")),
    }
}

fn print_io() -> Result<(), String> {
    println!("{}", probes::io_report()?);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        // Exit at once: what a process does on its way out is not part of any figure.
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("pims-probe: {e}");
            ExitCode::FAILURE
        }
    }
}
