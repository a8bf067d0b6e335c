//! `cargo xtask`: see the library docs (`xtask::cli::USAGE`) and docs/releasing.md.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match xtask::cli::main(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
