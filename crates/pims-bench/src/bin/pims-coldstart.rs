//! B8's measured process: an app's cold start. It builds a facade on an existing cache, makes
//! its first steps call (a list the cache holds), prints `ready {..}` with its own timings,
//! then idles until its standard input closes (so its idle memory can be read from outside).
//!
//! With `--once` (B8i, counted under callgrind), it runs on a `current_thread` runtime (the
//! same work in every run, whatever the machine's timing) and exits right after the `ready`
//! line, without idling or tearing down.
//!
//! ```sh
//! pims-coldstart --url http://127.0.0.1:8080 --cache DIR --account bench --car-association-id 987654
//! pims-coldstart --once --url http://127.0.0.1:8080 --cache DIR
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use pims::Pims;
use pims_types::{Secret, StepsSelector};

struct Args {
    url: String,
    cache: String,
    account: String,
    car_association_id: String,
    token: String,
    once: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        url: String::new(),
        cache: String::new(),
        account: "bench".into(),
        car_association_id: pims_sim::DEMO_CAR_ASSOCIATION_ID.into(),
        token: pims_sim::DEMO_TOKEN.into(),
        once: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--once" {
            args.once = true;
            continue;
        }
        let slot = match flag.as_str() {
            "--url" => &mut args.url,
            "--cache" => &mut args.cache,
            "--account" => &mut args.account,
            "--car-association-id" => &mut args.car_association_id,
            "--token" => &mut args.token,
            other => return Err(format!("unknown argument {other}")),
        };
        *slot = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
    }
    if args.url.is_empty() || args.cache.is_empty() {
        return Err(
            "usage: pims-coldstart [--once] --url URL --cache DIR [--account A] [--car-association-id ID]"
                .into(),
        );
    }
    Ok(args)
}

fn run(args: Args) -> Result<(), String> {
    let start = Instant::now();
    let runtime = if args.once {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build()
    .map_err(|e| format!("runtime: {e}"))?;
    let once = args.once;
    let selector =
        StepsSelector::car_association_id(args.car_association_id).map_err(|e| e.to_string())?;
    let (pims, built, steps) = runtime.block_on(async {
        let pims = Pims::builder()
            .base_url(args.url)
            .token(Secret::new(args.token))
            .cache_dir(args.cache)
            .account(args.account)
            .build()
            .map_err(|e| format!("build: {e}: {}", e.detail().unwrap_or("no detail")))?;
        let built = start.elapsed();
        let steps = pims
            .steps(selector)
            .send()
            .await
            .map_err(|e| format!("steps: {} {e}", e.code()))?;
        Ok::<_, String>((pims, built, steps))
    })?;
    let called = start.elapsed();
    println!(
        "ready {}",
        serde_json::json!({
            "build_ms": built.as_secs_f64() * 1e3,
            "first_call_ms": (called - built).as_secs_f64() * 1e3,
            "steps": steps.len(),
        })
    );
    if once {
        // What a process does on its way out is not part of the figure.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        std::process::exit(0);
    }
    // Idle, holding the facade, until told to go.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(pims);
    Ok(())
}

fn main() -> ExitCode {
    match parse().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pims-coldstart: {e}");
            ExitCode::FAILURE
        }
    }
}
