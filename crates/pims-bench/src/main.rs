//! `pims-bench`: runs the benchmark figures of quality.md and writes the report.
//!
//! ```sh
//! cargo run --release -p pims-bench -- --quick
//! ```
//!
//! `pims-bench measure [--ready] -- PROGRAM ARGS...` is its internal helper: it runs one
//! process and prints its measurement as JSON (see `pims_bench::measure_here`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::Path;
use std::process::ExitCode;

fn measure(args: &[String]) -> Result<(), String> {
    let (ready, rest) = match args.first().map(String::as_str) {
        Some("--ready") => (true, &args[1..]),
        _ => (false, args),
    };
    let rest = match rest.first().map(String::as_str) {
        Some("--") => &rest[1..],
        _ => rest,
    };
    let (program, program_args) = rest
        .split_first()
        .ok_or("usage: pims-bench measure [--ready] -- PROGRAM ARGS...")?;
    let sample = pims_bench::measure_here(Path::new(program), program_args, ready)?;
    println!("{}", sample.to_json());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("measure") => measure(&args[1..]),
        Some("gate") => pims_bench::GateOptions::parse(&args[1..])
            .and_then(|o| pims_bench::gate(&o))
            .and_then(|passed| {
                if passed {
                    Ok(())
                } else {
                    Err("the regression gate failed (see the table)".to_owned())
                }
            }),
        Some("--help" | "-h") => {
            println!("{}", pims_bench::USAGE);
            Ok(())
        }
        _ => pims_bench::Options::parse(args)
            .and_then(|o| pims_bench::run(&o))
            .and_then(|rows| {
                // A missed goal is a result; a figure that could not be measured is a failure,
                // unless it was skipped (PostgreSQL not installed, outside CI).
                let unmeasured: Vec<&str> = rows
                    .iter()
                    .filter(|r| !r.ours.value.is_finite() && !r.skipped)
                    .map(|r| r.figure)
                    .collect();
                if unmeasured.is_empty() {
                    Ok(())
                } else {
                    Err(format!("not measured: {}", unmeasured.join(", ")))
                }
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pims-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
