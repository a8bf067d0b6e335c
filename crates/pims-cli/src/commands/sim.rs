//! `pims sim serve` (the simulator in the foreground, like the `pims-sim` binary) and
//! `pims sim reset` (the embedded simulator's state back to the default scenario).

use std::path::Path;

use pims_sim::{Scenario, SimConfig, SimError, SimServer};
use serde_json::json;

use crate::cli::ServeArgs;
use crate::failure::Failure;
use crate::home::Home;
use crate::render;
use crate::style::Style;

/// A simulator start failure, naming the flag at fault.
fn start_failure(e: &SimError, args: &ServeArgs) -> Failure {
    let source = std::error::Error::source(e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    match e {
        SimError::StateInUse { .. } => {
            Failure::Busy(format!("{e}: stop it, or pass another --state FILE"))
        }
        SimError::Bind { .. } => Failure::usage(format!(
            "{e}{source}: pass another --addr (port 0 picks a free one)"
        )),
        SimError::Scenario { .. } => Failure::usage(format!(
            "--state {}: {e}",
            args.state
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )),
        SimError::InvalidRequest { .. } => Failure::usage(format!("--admin-token: {e}")),
        other => Failure::usage(format!("{other}{source}")),
    }
}

fn read_scenario(path: &Path) -> Result<Scenario, Failure> {
    // A path the user named: a link is followed, but only to a regular file, read up to the
    // simulator's cap (a FIFO or /dev/zero is refused unread).
    Scenario::from_file(path).map_err(|e| Failure::usage(format!("--scenario: {e}")))
}

/// `pims sim serve`: runs until SIGINT or SIGTERM.
pub(crate) async fn serve(args: &ServeArgs, style: &Style) -> Result<(), Failure> {
    let scenario = args.scenario.as_deref().map(read_scenario).transpose()?;
    let generated = args.admin_token.is_none();
    let config = SimConfig::default()
        .addr(args.addr)
        .set_scenario(scenario)
        .set_state_file(args.state.clone())
        .set_admin_token(args.admin_token.clone());
    // A signal during start-up (a large state being loaded) stops the command at once.
    let sim = tokio::select! {
        started = SimServer::start(config) => started.map_err(|e| start_failure(&e, args))?,
        watched = wait_for_signal() => {
            watched?;
            return Err(Failure::NotDone("stopped by a signal during start-up".to_owned()));
        }
    };
    if style.json {
        let mut line = json!({"listening": sim.base_url()});
        if generated {
            line["adminToken"] = json!(sim.admin_token());
        }
        render::out_line(&render::json_text(&line));
    } else {
        let mut line = format!("pims-sim listening on {}", sim.base_url());
        // A generated admin token is printed once so the admin API can be used; one given
        // with --admin-token is never echoed.
        if generated {
            line.push_str(&format!(" admin-token={}", sim.admin_token()));
        }
        render::out_line(&line);
    }
    wait_for_signal().await?;
    tracing::info!("signal received: shutting down");
    sim.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let watch =
        |kind| signal(kind).map_err(|e| Failure::usage(format!("cannot watch signals ({e})")));
    let mut term = watch(SignalKind::terminate())?;
    let mut int = watch(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> Result<(), Failure> {
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::usage(format!("cannot watch Ctrl-C ({e})")))
}

/// `pims sim reset`: the embedded simulator's state file holds the default scenario again.
///
/// The simulator's own reset ([`pims_sim::reset_state_file`]) never reads a state to throw it
/// away: one that is a link, not a regular file or too large is moved aside unread (the link
/// itself, never what it points to), and one that cannot be read or is not a valid document is
/// moved aside too, before the default scenario is written.
pub(crate) async fn reset(home: &Home, style: &Style) -> Result<(), Failure> {
    let path = home.sim_state();
    let target = path.clone();
    let done = tokio::task::spawn_blocking(move || {
        pims_sim::reset_state_file(&target, Scenario::default_scenario())
    })
    .await
    .map_err(|e| Failure::usage(format!("the reset did not finish ({e})")))?
    .map_err(|e| reset_failure(&path, &e))?;
    if let (Some(aside), Some(why)) = (&done.moved_aside, &done.damage) {
        render::warn(&format!(
            "the state {} could not be used ({why}): moved it, unread, to {}",
            path.display(),
            aside.display()
        ));
    }
    if style.json {
        render::out_line(&render::json_text(&json!({
            "simState": path.display().to_string(),
            "reset": true,
            "movedAside": done.moved_aside.as_ref().map(|p| p.display().to_string()),
        })));
    } else {
        render::out_line(&format!(
            "the embedded simulator is back to the default scenario ({}); the SDK cache is kept: \
             `pims steps --reset` asks the backend afresh",
            crate::escape::escape(&path.display().to_string())
        ));
    }
    Ok(())
}

fn reset_failure(path: &Path, e: &SimError) -> Failure {
    match e {
        SimError::StateInUse { .. } => Failure::Busy(format!("{e}: stop that simulator first")),
        other => {
            let source = std::error::Error::source(other)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            Failure::usage(format!(
                "cannot reset the simulator state {} ({other}{source})",
                path.display()
            ))
        }
    }
}
