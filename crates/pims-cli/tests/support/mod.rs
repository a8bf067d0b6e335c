//! What the CLI tests share: a temporary home per test and a way to run `pims` in it.
#![allow(dead_code)]

pub(crate) mod fake_backend;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// The documentation's example (the fixture of `steps-by-car-association.json`).
pub(crate) const FIXTURE: &str = include_str!("../fixtures/steps-by-car-association.json");

/// A temporary PIMS_HOME, removed at the end of the test.
pub(crate) struct Home {
    dir: tempfile::TempDir,
}

/// What one run gave.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// What a finished command gave.
    pub(crate) fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The step rows of a table: (step, status, order).
    pub(crate) fn step_rows(&self) -> Vec<(String, String, String)> {
        self.stdout
            .lines()
            .skip_while(|l| !l.starts_with("STEP "))
            .skip(1)
            .map_while(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                match cells.as_slice() {
                    [name, status, order] => {
                        Some((name.to_string(), status.to_string(), order.to_string()))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// The statuses of the last table printed, by step name.
    pub(crate) fn statuses(&self) -> Vec<(String, String)> {
        self.step_rows()
            .into_iter()
            .map(|(n, s, _)| (n, s))
            .collect()
    }
}

/// The rows of the documentation's example.
pub(crate) fn example_rows() -> Vec<(String, String, String)> {
    [
        ("trusterPhoneNumber", "alreadyDone", "1"),
        ("deviceActivation", "todo", "2"),
        ("mediumCarKey", "todo", "3"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect()
}

/// Every step alreadyDone.
pub(crate) fn all_done() -> Vec<(String, String)> {
    ["trusterPhoneNumber", "deviceActivation", "mediumCarKey"]
        .iter()
        .map(|n| (n.to_string(), "alreadyDone".to_string()))
        .collect()
}

impl Home {
    /// A home as pims makes one: the user's, mode 0700 (pims tightens a looser one, saying so
    /// on stderr).
    pub(crate) fn new() -> Home {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        Home { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `pims` with this home, no colours, no inherited token or log settings, a guard timeout.
    pub(crate) fn command(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_pims"));
        c.env("PIMS_HOME", self.path())
            .env("NO_COLOR", "1")
            .env_remove("PIMS_TOKEN")
            .env_remove("RUST_LOG")
            .env_remove("PIMS_SIM_ADMIN_TOKEN")
            .timeout(Duration::from_secs(60));
        c
    }

    /// Runs `pims ARGS` in this home (stdin empty: no terminal).
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command().args(args).output().unwrap())
    }

    /// A `std` command for processes that run in the background.
    pub(crate) fn background(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_pims"));
        c.env("PIMS_HOME", self.path())
            .env("NO_COLOR", "1")
            .env_remove("PIMS_TOKEN")
            .env_remove("RUST_LOG")
            .args(args);
        c
    }
}

/// Every file under `dir`, as bytes (to look for secrets).
pub(crate) fn all_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// Whether `haystack` holds `needle`.
pub(crate) fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A simulator in this test process (for its admin actions) on 127.0.0.1:0, with the runtime
/// that serves it: `pims --url` runs against it.
pub(crate) fn in_process_sim(
    scenario: Option<pims_sim::Scenario>,
) -> (tokio::runtime::Runtime, pims_sim::SimServer) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let config = pims_sim::SimConfig::default().set_scenario(scenario);
    let sim = rt.block_on(pims_sim::SimServer::start(config)).unwrap();
    (rt, sim)
}

/// Enrols this home's device (made by a first steps call, its id read from `pims cache show`)
/// for the simulator's demo account, with PIN 1234, straight in the simulator's state.
pub(crate) fn enrol_home_device(
    rt: &tokio::runtime::Runtime,
    sim: &pims_sim::SimServer,
    home: &Home,
) {
    let url = sim.base_url();
    let remote = ["--url", &url, "--token", pims_sim::DEMO_TOKEN];
    home.run(&[&remote[..], &["steps", "--car-association-id", "987654"]].concat())
        .expect(0);
    let shown = home
        .run(&[
            "--url",
            &url,
            "--token",
            pims_sim::DEMO_TOKEN,
            "--json",
            "cache",
            "show",
        ])
        .expect(0);
    let shown: serde_json::Value = serde_json::from_str(shown.stdout.trim()).unwrap();
    let device = shown["deviceId"].as_str().expect("a device id").to_owned();
    enrol_device(rt, sim, &device);
}

/// Enrols `device` for the simulator's demo account, with PIN 1234, straight in the
/// simulator's state.
pub(crate) fn enrol_device(rt: &tokio::runtime::Runtime, sim: &pims_sim::SimServer, device: &str) {
    let mut scenario = serde_json::to_value(sim.state()).unwrap();
    let account = scenario["accounts"][0]["id"].clone();
    scenario["accounts"][0]["pin"] = serde_json::json!("1234");
    scenario["accounts"][0]
        .as_object_mut()
        .unwrap()
        .remove("pinHash");
    scenario["devices"] =
        serde_json::json!([{"id": device, "accountId": account, "status": "enrolled"}]);
    let scenario: pims_sim::Scenario = serde_json::from_value(scenario).unwrap();
    rt.block_on(sim.load_scenario(scenario)).unwrap();
}
