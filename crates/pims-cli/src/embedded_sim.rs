//! The simulator embedded in the process (no `--url`): started on `127.0.0.1:0` with its state
//! in `$PIMS_HOME/sim-state.json`, and why it did not start, told in the CLI's words.

use pims_sim::{SimConfig, SimError, SimServer};

use crate::failure::Failure;
use crate::home::Home;

/// Why the embedded simulator did not start, told in the CLI's words.
fn sim_failure(home: &Home, e: &SimError) -> Failure {
    match e {
        SimError::StateInUse { .. } => Failure::Busy(format!(
            "{e}: stop that simulator (it may be a `pims sim serve --state`), or talk to it with \
             --url"
        )),
        SimError::Scenario { .. } => Failure::usage(format!(
            "the embedded simulator's state {} is not valid ({e}): run `pims sim reset` to start \
             again from the default scenario",
            home.sim_state().display()
        )),
        // A state that cannot be read (a link, a directory, a FIFO, a device, too large:
        // whatever the simulator refuses to read) is what `sim reset` moves aside.
        SimError::StateFile { action: "read", .. }
        | SimError::FileRefused {
            what: "state file", ..
        }
        | SimError::File {
            what: "state file", ..
        } => Failure::usage(format!(
            "the embedded simulator's state {} cannot be read ({e}{}): run `pims sim reset` to \
             move it aside and start again from the default scenario",
            home.sim_state().display(),
            std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        )),
        // A link, a hard link or a special file planted beside the state: the refusal says
        // what to remove.
        SimError::FileRefused { .. } => {
            Failure::usage(format!("the embedded simulator cannot start: {e}"))
        }
        other => {
            let source = std::error::Error::source(other)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            Failure::usage(format!(
                "the embedded simulator cannot start ({other}{source}): check that {} is \
                 writable, or pass another --home",
                home.dir().display()
            ))
        }
    }
}

/// Starts the embedded simulator on the home's state file.
pub(crate) async fn start_embedded(home: &Home) -> Result<SimServer, Failure> {
    let config = SimConfig::default().state_file(home.sim_state());
    SimServer::start(config)
        .await
        .map_err(|e| sim_failure(home, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_state_points_to_sim_reset() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::open(tmp.path().join("h"), crate::home::Writes::Needed).unwrap();
        let e = SimError::StateFile {
            path: home.sim_state(),
            action: "read",
            source: std::io::Error::other("it is a FIFO"),
        };
        let Failure::Usage(m) = sim_failure(&home, &e) else {
            panic!("not usage")
        };
        assert!(m.contains("it is a FIFO"), "{m}");
        assert!(m.contains("run `pims sim reset`"), "{m}");
    }
}
