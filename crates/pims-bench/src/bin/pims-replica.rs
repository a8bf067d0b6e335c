//! B9's replica process: one facade on a step store (sled, or a PostgreSQL database that every
//! replica shares), loaded by its own callers against one simulator. It prints `ready` once
//! warm, waits for a line on its standard input, makes its measured calls and prints its report
//! (see `pims_bench::run_replica`).
//!
//! ```sh
//! pims-replica --url http://127.0.0.1:8080 --postgres postgres://postgres@127.0.0.1:5432/b9 \
//!     --concurrency 32 --requests 10000 --warmup 1000
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let result = pims_bench::ReplicaConfig::parse(std::env::args().skip(1)).and_then(|config| {
        pims_bench::run_replica(
            &config,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
        )
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pims-replica: {e}");
            ExitCode::FAILURE
        }
    }
}
