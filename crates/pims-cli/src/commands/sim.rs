//! `pims sim serve` (the simulator in the foreground, like the `pims-sim` binary) and
//! `pims sim reset` (the embedded simulator's state back to the default scenario).

use std::path::Path;

use pims_sim::{Scenario, SimConfig, SimError, SimServer};
use serde_json::json;

use crate::cli::ServeArgs;
use crate::failure::Failure;
use crate::files::{self, Links};
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

/// The largest scenario document read (what `POST /admin/scenario` takes too).
const SCENARIO_CAP: u64 = 8 * 1024 * 1024;

/// The largest embedded simulator state `sim reset` leaves where it is: a state file larger
/// than this is moved aside unread (a link to `/dev/zero` or a runaway file would otherwise
/// be read whole by the simulator).
const STATE_CAP: u64 = 64 * 1024 * 1024;

fn read_scenario(path: &Path) -> Result<Scenario, Failure> {
    // A path the user named: a link is followed, but only to a regular file, read up to a cap.
    let bytes = files::read_capped(path, SCENARIO_CAP, Links::Follow).map_err(|e| {
        Failure::usage(format!(
            "--scenario {}: cannot read it ({e})",
            path.display()
        ))
    })?;
    Scenario::from_json(&bytes)
        .map_err(|e| Failure::usage(format!("--scenario {}: {e}", path.display())))
}

/// `pims sim serve`: runs until SIGINT or SIGTERM.
pub(crate) async fn serve(args: &ServeArgs, style: &Style) -> Result<(), Failure> {
    let scenario = args.scenario.as_deref().map(read_scenario).transpose()?;
    let generated = args.admin_token.is_none();
    let config = SimConfig {
        addr: args.addr,
        scenario,
        state_file: args.state.clone(),
        admin_token: args.admin_token.clone(),
    };
    let sim = SimServer::start(config)
        .await
        .map_err(|e| start_failure(&e, args))?;
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

/// Why the state file at `path` cannot be left for the simulator to read, found without
/// reading it: a link, not a regular file, larger than [`STATE_CAP`], or unreadable. `None`
/// when there is none, or it looks fine.
fn unfit_state(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if let Some(what) = files::not_regular(&meta) {
        return Some(format!("it is {what}"));
    }
    if meta.len() > STATE_CAP {
        return Some(format!("it is larger than {}", files::size(STATE_CAP)));
    }
    files::open_regular(path, Links::Refuse)
        .err()
        .map(|e| format!("it cannot be read ({e})"))
}

/// Moves the state file aside (`sim-state.json.corrupt-<secs>`), saying why on stderr.
fn move_state_aside(path: &Path, why: &str) -> Result<(), Failure> {
    let aside = files::move_aside(path, "corrupt").map_err(|e| {
        Failure::usage(format!(
            "the state {} cannot be used ({why}) and cannot be moved aside ({e}): remove it, \
             then run pims sim reset again",
            path.display()
        ))
    })?;
    render::warn(&format!(
        "the state {} could not be used ({why}): moved it, unread, to {}",
        path.display(),
        aside.display()
    ));
    Ok(())
}

/// `pims sim reset`: the embedded simulator's state file holds the default scenario again.
///
/// The state is never read to be thrown away: a state file that is a link, not a regular file,
/// too large or unreadable is moved aside first (the link itself, never what it points to); one
/// the simulator then refuses (not a valid document, or whatever its own checks find) is moved
/// aside too, and the simulator starts again on a fresh file.
pub(crate) async fn reset(home: &Home, style: &Style) -> Result<(), Failure> {
    let path = home.sim_state();
    if let Some(why) = unfit_state(&path) {
        move_state_aside(&path, &why)?;
    }
    let config = || SimConfig {
        state_file: Some(path.clone()),
        ..SimConfig::default()
    };
    let sim = match SimServer::start(config()).await {
        Ok(sim) => sim,
        Err(e @ (SimError::StateInUse { .. } | SimError::Bind { .. } | SimError::NoRuntime)) => {
            return Err(reset_failure(&path, &e));
        }
        Err(e) if std::fs::symlink_metadata(&path).is_ok() => {
            move_state_aside(&path, &e.to_string())?;
            SimServer::start(config())
                .await
                .map_err(|e| reset_failure(&path, &e))?
        }
        Err(e) => return Err(reset_failure(&path, &e)),
    };
    let loaded = sim.load_scenario(Scenario::default_scenario()).await;
    sim.shutdown().await;
    loaded.map_err(|e| reset_failure(&path, &e))?;
    if style.json {
        render::out_line(&render::json_text(
            &json!({"simState": path.display().to_string(), "reset": true}),
        ));
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
