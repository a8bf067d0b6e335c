//! `pims-sim`: run the PIMS steps backend simulator.
//!
//! ```text
//! pims-sim [--addr 127.0.0.1:0] [--scenario FILE] [--state FILE] [--admin-token T]
//! ```
//! Prints one line on stdout (`pims-sim listening on http://127.0.0.1:PORT`, plus
//! `admin-token=...` when it was generated), logs to stderr (`RUST_LOG`, default `info`), and
//! stops cleanly on SIGINT or SIGTERM (during start-up too: it then exits 1 at once).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use pims_sim::{Scenario, SimConfig, SimError, SimServer};

/// The PIMS steps backend simulator.
#[derive(Debug, Parser)]
#[command(name = "pims-sim", version, about, long_about = None)]
struct Args {
    /// Address to listen on (loopback unless told otherwise; port 0: a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Scenario document to start from (default: the built-in demo scenario).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// State file: loaded at start when it exists, written after every change.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Admin bearer token (default: random, printed at start).
    #[arg(
        long,
        value_name = "T",
        env = "PIMS_SIM_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
}

/// How long a normal stop waits for work still running outside the server (a state write).
const STOP_WAIT: Duration = Duration::from_secs(10);

/// Why `run` ended without serving to the end.
enum Stop {
    /// SIGINT or SIGTERM before the server was ready.
    Interrupted,
    /// Start-up failed: the message to print.
    Failed(String),
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pims-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(args));
    match outcome {
        Ok(()) => {
            runtime.shutdown_timeout(STOP_WAIT);
            ExitCode::SUCCESS
        }
        Err(stop) => {
            // Start-up may still be blocked on the file system: do not wait for it.
            runtime.shutdown_background();
            let message = match stop {
                Stop::Interrupted => "stopped by a signal during start-up".to_owned(),
                Stop::Failed(message) => message,
            };
            eprintln!("pims-sim: {message}");
            ExitCode::FAILURE
        }
    }
}

/// An error with its source, on one line.
fn with_source(e: &SimError) -> String {
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

async fn run(args: Args) -> Result<(), Stop> {
    // Watch the signals before anything else: a supervisor may signal right away, and a signal
    // must stop the process whatever start-up is doing.
    let mut signals = Signals::install().map_err(Stop::Failed)?;
    let generated = args.admin_token.is_none();
    let sim = tokio::select! {
        started = start(args) => started.map_err(Stop::Failed)?,
        () = signals.recv() => return Err(Stop::Interrupted),
    };
    let mut line = format!("pims-sim listening on {}", sim.base_url());
    if generated {
        line.push_str(&format!(" admin-token={}", sim.admin_token()));
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());

    signals.recv().await;
    tracing::info!("signal received: shutting down");
    sim.shutdown().await;
    Ok(())
}

/// Reads the scenario (off the runtime's threads) and starts the server.
async fn start(args: Args) -> Result<SimServer, String> {
    let scenario = match args.scenario {
        Some(path) => {
            let read = tokio::task::spawn_blocking(move || {
                Scenario::from_file(&path).map_err(|e| match e {
                    // A document error names the field; say which file it is in.
                    SimError::Scenario { .. } => format!("{}: {e}", path.display()),
                    other => with_source(&other),
                })
            });
            Some(read.await.map_err(|e| e.to_string())??)
        }
        None => None,
    };
    let config = SimConfig::default()
        .addr(args.addr)
        .set_scenario(scenario)
        .set_state_file(args.state)
        .set_admin_token(args.admin_token);
    SimServer::start(config).await.map_err(|e| with_source(&e))
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere).
#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> Result<Signals, String> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())
                .map_err(|e| format!("cannot watch SIGTERM: {e}"))?,
            int: signal(SignalKind::interrupt())
                .map_err(|e| format!("cannot watch SIGINT: {e}"))?,
        })
    }

    /// The next SIGINT or SIGTERM.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Result<Signals, String> {
        Ok(Signals)
    }

    async fn recv(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
