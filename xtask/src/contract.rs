//! The `contract` stage of `cargo xtask ci`: schemathesis, an independent property-based
//! tester driven by an OpenAPI document, run against pims-sim's own document
//! (`GET /openapi.json`) with every check on. A request the document calls valid must be
//! accepted, one it calls invalid refused, and every answer must have the documented status,
//! content type, headers and schema.
//!
//! Deterministic: schemathesis is pinned ([`SCHEMATHESIS_VERSION`], installed with pip into a
//! virtual environment under `target/contract/` when missing), runs on one worker with a fixed
//! seed ([`SEED`]) and at most [`MAX_EXAMPLES`] examples per operation, and learns nothing from
//! one run to the next (crates/pims-sim/contract/schemathesis.toml). Each [`RUNS`] entry gets a
//! freshly started simulator: the calls endpoint with a scenario whose SMS quota the run cannot
//! reach, each state-changing admin operation alone, so that one operation's effect never
//! reaches another's examples.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use xshell::{Shell, cmd};

use crate::failure::{self, ErrorKind, WithSource as _};
use crate::process::{self, describe};
use crate::workspace::Workspace;
use anyhow::Result;

/// The schemathesis release the stage installs and runs (its CLI flags are those of 4.x).
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The seed of every run.
pub const SEED: u64 = 20_261_206;

/// The most examples schemathesis generates per operation and phase (but the calls run's).
pub const MAX_EXAMPLES: u32 = 40;

/// The most examples of the calls run (thirteen APIs and verbs behind one operation).
pub const CALLS_MAX_EXAMPLES: u32 = 200;

/// The admin token the simulators of the stage are started with (loopback only).
const ADMIN_TOKEN: &str = "contract-stage-admin-token";

/// The demo account's token (pims-sim's built-in scenario).
const USER_TOKEN: &str = "demo-token";

/// Where the configuration and the hooks live, from the workspace root.
pub const CONTRACT_DIR: &str = "crates/pims-sim/contract";

/// Whose token a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// The demo account's bearer token.
    User,
    /// The admin token.
    Admin,
}

/// One schemathesis run, against a simulator of its own.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// What the run covers.
    pub name: &'static str,
    /// The operations (`operationId`s of the document) it tests.
    pub operations: &'static [&'static str],
    /// The token it sends.
    pub token: Token,
    /// Whether the simulator's SMS quota is raised out of the run's reach first.
    pub unreachable_quota: bool,
    /// The most examples per operation and phase.
    pub max_examples: u32,
}

const fn run(name: &'static str, operations: &'static [&'static str], token: Token) -> Run {
    Run {
        name,
        operations,
        token,
        unreachable_quota: false,
        max_examples: MAX_EXAMPLES,
    }
}

/// Every run of the stage. Every operation of the document is in exactly one.
///
/// ```
/// let ops: Vec<&str> = xtask::contract::RUNS.iter().flat_map(|r| r.operations.iter().copied()).collect();
/// assert!(ops.contains(&"call") && ops.contains(&"setFaults"));
/// ```
pub const RUNS: &[Run] = &[
    Run {
        name: "calls",
        operations: &["call"],
        token: Token::User,
        unreachable_quota: true,
        // Thirteen APIs and verbs behind one operation.
        max_examples: CALLS_MAX_EXAMPLES,
    },
    run(
        "reads",
        &[
            "healthz",
            "openapi",
            "smsOutbox",
            "getState",
            "getFaults",
            "getClock",
        ],
        Token::Admin,
    ),
    run("faults", &["setFaults"], Token::Admin),
    run("clear faults", &["clearFaults"], Token::Admin),
    run("clock", &["advanceClock"], Token::Admin),
    run("scenario", &["loadScenario"], Token::Admin),
    run("disable", &["disableDevice"], Token::Admin),
    run("pair", &["pairVehicle"], Token::Admin),
    run("suspend", &["suspendCarKey"], Token::Admin),
];

/// Runs the stage: builds pims-sim, makes sure schemathesis is installed, then every run.
pub fn run_stage(ws: &Workspace) -> Result<()> {
    let target = ws.metadata()?.target_directory;
    let work = target.join("contract");
    std::fs::create_dir_all(&work).map_err(|e| {
        failure::new(ErrorKind::Io, format!("cannot create {}", work.display())).with_source(e)
    })?;
    ws.cargo()
        .args(["build", "--package", "pims-sim", "--bin", "pims-sim"])
        .run()?;
    let sim = target.join("debug").join("pims-sim");
    let sh = ws.sh();
    let schemathesis = ensure_schemathesis(sh, &work)?;
    let contract = ws.root().join(CONTRACT_DIR);
    check_coverage(&Sim::start(&sim, &work.join("document.sim.log"))?)?;
    let mut failed = Vec::new();
    for (i, r) in RUNS.iter().enumerate() {
        println!("\n--> contract [{}/{}] {}", i + 1, RUNS.len(), r.name);
        if let Err(e) = one_run(sh, r, &sim, &schemathesis, &contract, &work) {
            println!("--> contract {}: FAILED: {e:#}", r.name);
            failed.push(r.name);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failure::new(
            ErrorKind::CommandFailed,
            format!("schemathesis found failures in: {}", failed.join(", ")),
        ))
    }
}

/// The schemathesis program of the virtual environment under `work`, installed (pinned) when
/// missing or of another version.
fn ensure_schemathesis(sh: &Shell, work: &Path) -> Result<PathBuf> {
    let venv = work.join("venv");
    let program = venv.join("bin").join("schemathesis");
    let version = process::read(cmd!(sh, "{program} --version")).unwrap_or_default();
    if version.contains(SCHEMATHESIS_VERSION) {
        return Ok(program);
    }
    println!(
        "schemathesis {SCHEMATHESIS_VERSION} is not installed: installing it into {}",
        venv.display()
    );
    cmd!(sh, "python3 -m venv {venv}").run().map_err(|e| {
        failure::new(
            ErrorKind::CommandFailed,
            format!(
                "{e:#}: the contract stage needs python3 with its venv module (Debian: apt-get \
                 install python3-venv) and access to PyPI"
            ),
        )
    })?;
    let pip = venv.join("bin").join("pip");
    let package = format!("schemathesis=={SCHEMATHESIS_VERSION}");
    cmd!(
        sh,
        "{pip} install --quiet --disable-pip-version-check {package}"
    )
    .run()?;
    Ok(program)
}

/// A simulator started for one run; stopped (killed and reaped) when dropped.
struct Sim {
    child: Child,
    addr: String,
}

impl Sim {
    /// std's Command, not xshell: the simulator keeps running while schemathesis calls it.
    fn start(program: &Path, log: &Path) -> Result<Sim> {
        let stderr = std::fs::File::create(log).map_err(|e| {
            failure::new(ErrorKind::Io, format!("cannot create {}", log.display())).with_source(e)
        })?;
        let mut cmd = Command::new(program);
        cmd.args(["--addr", "127.0.0.1:0", "--admin-token", ADMIN_TOKEN])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let line = describe(&cmd);
        let mut child = cmd.spawn().map_err(|e| {
            failure::new(
                ErrorKind::CommandFailed,
                format!("could not start `{line}`"),
            )
            .with_source(e)
        })?;
        let mut first = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut first);
        }
        // "pims-sim listening on http://127.0.0.1:PORT ..."
        let addr = first
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .map(str::to_owned);
        let sim = Sim {
            child,
            addr: addr.unwrap_or_default(),
        };
        if sim.addr.is_empty() {
            return Err(failure::new(
                ErrorKind::CommandFailed,
                format!(
                    "`{line}` did not say where it listens (see {})",
                    log.display()
                ),
            ));
        }
        Ok(sim)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn one_run(
    sh: &Shell,
    r: &Run,
    sim_program: &Path,
    schemathesis: &Path,
    contract: &Path,
    work: &Path,
) -> Result<()> {
    let slug = r.name.replace(' ', "-");
    let sim = Sim::start(sim_program, &work.join(format!("{slug}.sim.log")))?;
    if r.unreachable_quota {
        raise_sms_quota(&sim.addr)?;
    }
    let token = match r.token {
        Token::User => USER_TOKEN,
        Token::Admin => ADMIN_TOKEN,
    };
    let config = contract.join("schemathesis.toml");
    let document = format!("{}/openapi.json", sim.url());
    let (seed, max_examples) = (SEED.to_string(), r.max_examples.to_string());
    let header = format!("Authorization: Bearer {token}");
    let operations = r
        .operations
        .iter()
        .flat_map(|op| ["--include-operation-id", op]);
    let _dir = sh.push_dir(work);
    // `--exclude-checks positive_data_acceptance`: replaced by the hook
    // `positive_data_accepted` (see hooks.py).
    cmd!(
        sh,
        "{schemathesis} --config-file {config} run {document} --checks all --workers 1
            --exclude-checks positive_data_acceptance --seed {seed}
            --max-examples {max_examples} --request-timeout 10 --header {header}
            {operations...}"
    )
    .env("SCHEMATHESIS_HOOKS", "hooks")
    .env("PYTHONPATH", contract)
    .env("PYTHONDONTWRITEBYTECODE", "1")
    .run()?;
    Ok(())
}

/// Every operation of the served document is in one of [`RUNS`] (a route added to the
/// simulator without a run would go untested).
fn check_coverage(sim: &Sim) -> Result<()> {
    let (status, body) = http(&sim.addr, "GET", "/openapi.json", None)?;
    let doc: Value = serde_json::from_str(&body).map_err(|e| {
        failure::invalid(format!("GET /openapi.json answered {status}: not JSON")).with_source(e)
    })?;
    let mut missing = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|o| o.values()) {
            let id = op["operationId"].as_str().unwrap_or("(no operationId)");
            if !RUNS.iter().any(|r| r.operations.contains(&id)) {
                missing.push(id.to_owned());
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(failure::new(
            ErrorKind::Refused,
            format!(
                "operations of the document in no run of xtask/src/contract.rs: {}",
                missing.join(", ")
            ),
        ))
    }
}

/// Loads the simulator's own state back with `settings.smsHourlyQuota` at its maximum, so
/// that `get pims.authentication.smscode` never answers 429 during the run.
fn raise_sms_quota(addr: &str) -> Result<()> {
    let (status, body) = http(addr, "GET", "/admin/state", None)?;
    let mut state: Value = serde_json::from_str(&body).map_err(|e| {
        failure::invalid(format!("GET /admin/state answered {status}: not JSON")).with_source(e)
    })?;
    state["settings"]["smsHourlyQuota"] = Value::from(10_000);
    let (status, answer) = http(addr, "POST", "/admin/scenario", Some(&state.to_string()))?;
    if status != 200 {
        return Err(failure::new(
            ErrorKind::CommandFailed,
            format!("POST /admin/scenario answered {status}: {answer}"),
        ));
    }
    Ok(())
}

/// One HTTP/1.1 request to the simulator with the admin token: (status, body).
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String)> {
    let fail = |what: &str| {
        let what = format!("{method} {path}: {what}");
        move |e: std::io::Error| failure::new(ErrorKind::CommandFailed, what).with_source(e)
    };
    let mut stream = TcpStream::connect(addr).map_err(fail("cannot connect"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(fail("socket"))?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(fail("cannot send"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(fail("cannot read the answer"))?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| failure::invalid(format!("{method} {path}: not an HTTP answer")))?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_has_operations_and_no_operation_runs_twice() {
        let mut seen: Vec<&str> = Vec::new();
        for r in RUNS {
            assert!(!r.operations.is_empty(), "{}", r.name);
            for op in r.operations {
                assert!(!seen.contains(op), "{op} is in two runs");
                seen.push(op);
            }
        }
        // The calls run is the only one with a user token, and its quota is out of reach.
        let calls: Vec<&Run> = RUNS.iter().filter(|r| r.token == Token::User).collect();
        assert_eq!(calls.len(), 1);
        assert!(calls[0].unreachable_quota);
        assert_eq!(calls[0].operations, &["call"]);
    }

    #[test]
    fn the_version_is_pinned_exactly() {
        assert_eq!(SCHEMATHESIS_VERSION.split('.').count(), 3);
        assert!(SCHEMATHESIS_VERSION.starts_with("4."));
    }
}
