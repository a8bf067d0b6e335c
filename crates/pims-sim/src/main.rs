//! `pims-sim`: run the PIMS steps backend simulator.
//!
//! ```text
//! pims-sim [--addr 127.0.0.1:0] [--scenario FILE] [--state FILE] [--admin-token T]
//! ```
//! Prints one line on stdout (`pims-sim listening on http://127.0.0.1:PORT`, plus
//! `admin-token=...` when it was generated), logs to stderr (`RUST_LOG`, default `info`), and
//! stops cleanly on SIGINT or SIGTERM.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use pims_sim::{Scenario, SimConfig, SimServer};

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
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pims-sim: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    // Watch the signals before announcing the address: a supervisor may signal right away.
    let signals = Signals::install()?;
    let scenario = match &args.scenario {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("cannot read scenario {}: {e}", path.display()))?;
            Some(Scenario::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let generated = args.admin_token.is_none();
    let config = SimConfig {
        addr: args.addr,
        scenario,
        state_file: args.state,
        admin_token: args.admin_token,
    };
    let sim = SimServer::start(config)
        .await
        .map_err(|e| match std::error::Error::source(&e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        })?;
    let mut line = format!("pims-sim listening on {}", sim.base_url());
    if generated {
        line.push_str(&format!(" admin-token={}", sim.admin_token()));
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());

    signals.wait().await;
    tracing::info!("signal received: shutting down");
    sim.shutdown().await;
    Ok(())
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

    async fn wait(mut self) {
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

    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
