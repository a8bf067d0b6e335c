//! Helpers shared by the integration tests: sample lists, stores, and running this test binary
//! again as a child process.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use pims_cache::{DeviceId, Namespace, SledOptions, SledStore, StepCache};
use pims_types::{Step, StepName, StepStatus, StepsId, StepsList, Vin};

pub(crate) const VIN: &str = "VR1AB12C3D4567890";

pub(crate) fn vin() -> Vin {
    Vin::parse(VIN).unwrap()
}

pub(crate) fn step(name: StepName, done: bool, order: i64) -> Step {
    let status = if done {
        StepStatus::AlreadyDone
    } else {
        StepStatus::Todo
    };
    Step::new(name, status, order)
}

/// The documentation's three steps with the given statuses.
pub(crate) fn three(id: u64, phone: bool, device: bool, key: bool) -> StepsList {
    StepsList::new(
        StepsId::number(id),
        vec![
            step(StepName::TrusterPhoneNumber, phone, 1),
            step(StepName::DeviceActivation, device, 2),
            step(StepName::MediumCarKey, key, 3),
        ],
    )
}

/// Which steps are alreadyDone, by name.
pub(crate) fn done(list: &StepsList) -> Vec<String> {
    list.steps()
        .iter()
        .filter(|s| s.status == StepStatus::AlreadyDone)
        .map(|s| s.name.as_str().to_owned())
        .collect()
}

pub(crate) fn sled_cache(dir: &Path) -> StepCache {
    StepCache::new(Arc::new(
        SledStore::open(dir, SledOptions::default()).unwrap(),
    ))
}

pub(crate) fn ns(account: &str, device: &str) -> Namespace {
    Namespace::new(account, DeviceId::parse(device).unwrap()).unwrap()
}

/// The environment variable that puts this test binary in child mode.
pub(crate) const CHILD_ENV: &str = "PIMS_CACHE_TEST_CHILD";

/// A command running test `test` of this binary again, in child mode `mode`.
pub(crate) fn child(test: &str, mode: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, mode)
        .stdin(Stdio::null());
    cmd
}

/// The child mode this process runs in, if any.
pub(crate) fn child_mode() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Total bytes of the regular files under `dir`.
pub(crate) fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let t = entry.file_type().unwrap();
        if t.is_dir() {
            total += tree_bytes(&entry.path());
        } else if t.is_file() {
            total += entry.metadata().unwrap().len();
        }
    }
    total
}

/// The rest of the first line holding `marker`, from a child's output. The test harness of the
/// child may print `test name ... ` on the same line before it.
pub(crate) fn after_marker(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    marker: &str,
) -> Option<String> {
    lines.map_while(Result::ok).find_map(|l| {
        l.find(marker)
            .map(|at| l[at + marker.len()..].trim().to_owned())
    })
}

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test leaks nothing.
pub(crate) struct Reaped(pub(crate) std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// For a child: blocks until the parent closes our stdin (or dies).
pub(crate) fn wait_for_parent() {
    use std::io::Read;
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
