//! `pims`: the PIMS Service Activation Steps from the command line (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend_location;
mod backend_url;
mod cache_failure;
mod cache_location;
mod cache_namespace;
mod cli;
mod commands;
mod embedded_sim;
mod escape;
mod failure;
mod files;
mod home;
mod logging;
mod progress;
mod prompt;
mod render;
mod session;
mod style;

use std::process::ExitCode;
use std::time::Duration;

use pims::ErrorCode;

use crate::backend_location::BackendLocation;
use crate::cache_location::CacheLocation;
use crate::cli::{CacheAction, Cli, Command, SimAction};
use crate::commands::{activate, cache, completions, query, sim};
use crate::failure::Failure;
use crate::home::{Home, Writes};
use crate::session::Session;
use crate::style::Style;

fn main() -> ExitCode {
    // clap exits 2 on bad usage, 0 for --help and --version.
    let cli = Cli::parse_args();
    let style = Style::detect(cli.global.no_color, cli.global.json);
    logging::init(cli.global.verbose, style.err_color());
    match run(cli, style) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(&style),
    }
}

fn run(cli: Cli, style: Style) -> Result<(), Failure> {
    if let Command::Completions { shell } = cli.command {
        completions::print(shell);
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pims-cli")
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::code(
                ErrorCode::UNKNOWN,
                &[],
                format!("cannot start the async runtime: {e}"),
            )
        })?;
    let result = runtime.block_on(dispatch(&cli, style));
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}

/// Opens the home (locked) for the commands that use it.
fn open_home(cli: &Cli, writes: Writes) -> Result<Home, Failure> {
    Home::open(home::resolve(cli.global.home.clone())?, writes)
}

async fn dispatch(cli: &Cli, style: Style) -> Result<(), Failure> {
    let global = &cli.global;
    let timeout = Duration::from_secs(global.timeout);
    // Before anything else: a URL carrying credentials is refused unechoed, whatever the command.
    let backend = BackendLocation::from_flag(global.url.as_deref())?;
    match &cli.command {
        Command::Completions { shell } => {
            completions::print(*shell);
            Ok(())
        }
        Command::Sim {
            action: SimAction::Serve(args),
        } => sim::serve(args, &style).await,
        Command::Sim {
            action: SimAction::Reset,
        } => {
            if global.url.is_some() {
                return Err(Failure::usage(
                    "sim reset resets the embedded simulator: it takes no --url",
                ));
            }
            sim::reset(&open_home(cli, Writes::Needed)?, &style).await
        }
        Command::Cache { action } => {
            // A shared cache lives outside the home, which may then be read-only.
            let writes = match global.cache.as_deref() {
                Some(url) if !url.is_empty() => Writes::Optional,
                _ => Writes::Needed,
            };
            let home = open_home(cli, writes)?;
            let location = CacheLocation::from_flag(global.cache.as_deref(), &home)?;
            match action {
                CacheAction::Show => cache::show(&location, &style).await,
                CacheAction::Wipe => cache::wipe(&location, &style).await,
            }
        }
        command => {
            // Flags are checked before the home and the backend are opened.
            let activation = match command {
                Command::Activate(args) => Some(activate::Input::check(args)?),
                _ => None,
            };
            let call_parameters = match command {
                Command::Call(args) => Some(query::call_parameters(args)?),
                _ => None,
            };
            // With --url a read-only home is used as it is: the cache works from memory.
            let writes = match backend {
                BackendLocation::Embedded => Writes::Needed,
                BackendLocation::Remote(_) => Writes::Optional,
            };
            let home = open_home(cli, writes)?;
            let location = CacheLocation::from_flag(global.cache.as_deref(), &home)?;
            let session =
                Session::open(home, location, backend, global.token.as_deref(), timeout).await?;
            let result = match command {
                Command::Steps(args) => query::steps(&session, &style, args).await,
                Command::NextStep(args) => query::next_step(&session, &style, args).await,
                Command::Services(args) => query::services(&session, &style, args).await,
                Command::Call(args) => {
                    let params = call_parameters.unwrap_or_default();
                    query::call(&session, &style, args, params).await
                }
                Command::Activate(_) => match activation {
                    Some(input) => activate::activate(&session, &style, input).await,
                    None => Ok(()),
                },
                Command::Cache { .. } | Command::Sim { .. } | Command::Completions { .. } => Ok(()),
            };
            session.close().await;
            result
        }
    }
}
