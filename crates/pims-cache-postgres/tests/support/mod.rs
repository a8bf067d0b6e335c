//! Helpers shared by the integration tests: a migrated store on a fresh database of the
//! shared test server, waiting for the server to show something, sample lists, a small
//! deterministic random source, and running this test binary again as a child process.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pims_cache_postgres::test_server::TestServer;
use pims_cache_postgres::{PostgresOptions, PostgresStore};
use pims_types::{Step, StepName, StepStatus, StepsId, StepsList};

/// The shared server and a fresh database's URL; None: PostgreSQL is not installed (the
/// harness said so, and fails under CI=true).
pub fn fresh_database() -> Option<(&'static TestServer, String)> {
    let server = TestServer::shared()?;
    let url = server.fresh_url();
    Some((server, url))
}

/// The database a URL of the test server names.
pub fn database_of(url: &str) -> String {
    TestServer::database_of(url).to_owned()
}

/// Asks `sql` of `db` until its answer pleases `done`; fails saying `what` after 30 s (a
/// safety net, not a timing: what is awaited happens within moments).
pub async fn wait_for(
    server: &TestServer,
    db: &str,
    sql: &str,
    done: impl Fn(&str) -> bool,
    what: &str,
) {
    let start = Instant::now();
    while !done(&server.psql(db, sql)) {
        assert!(start.elapsed() < Duration::from_secs(30), "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Options for `url` with a short call time limit (a hung test fails fast).
pub fn options(url: &str) -> PostgresOptions {
    PostgresOptions::from_url(url)
        .unwrap()
        .timeout(Duration::from_secs(20))
}

/// A connected store on `url`, migrated.
pub async fn store(url: &str) -> PostgresStore {
    let store = PostgresStore::connect(options(url)).await.unwrap();
    store.migrate().await.unwrap();
    store
}

/// A step, alreadyDone or todo.
pub fn step(name: StepName, done: bool, order: i64) -> Step {
    let status = if done {
        StepStatus::AlreadyDone
    } else {
        StepStatus::Todo
    };
    Step::new(name, status, order)
}

/// The `j`th step name of a pool of `n`.
pub fn name(j: usize) -> StepName {
    match j {
        0 => StepName::TrusterPhoneNumber,
        1 => StepName::DeviceActivation,
        2 => StepName::MediumCarKey,
        _ => StepName::Other(format!("extra{j}")),
    }
}

/// A list of `n` steps, those in `done` alreadyDone.
pub fn list(id: u64, n: usize, done: &[usize]) -> StepsList {
    StepsList::new(
        StepsId::number(id),
        (0..n)
            .map(|j| step(name(j), done.contains(&j), j as i64))
            .collect(),
    )
}

/// The alreadyDone step indexes of a list of [`list`]'s shape.
pub fn done_of(l: &StepsList) -> std::collections::BTreeSet<usize> {
    l.steps()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.status == StepStatus::AlreadyDone)
        .map(|(j, _)| j)
        .collect()
}

/// xorshift64*: reproducible from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A seed from the clock (printed by the tests that use it, to replay a failure).
pub fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1
}

/// The environment variable that puts this test binary in child mode.
pub const CHILD_ENV: &str = "PIMS_PG_TEST_CHILD";

/// A command running test `test` of this binary again, in child mode `mode`.
pub fn child(test: &str, mode: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, mode)
        .stdin(Stdio::null());
    cmd
}

/// The child mode this process runs in, if any.
pub fn child_mode() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test leaks nothing.
pub struct Reaped(pub std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The rest of a line after `marker` (the child's test harness may print `test name ... `
/// before it on the same line).
pub fn after_marker<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|at| line[at + marker.len()..].trim())
}
