//! The `pims-sim` binary as a real process: the stdout line, signals (during start-up too), the
//! state file across processes, kill -9 during writes, files it refuses (FIFOs, devices, over the
//! cap) without hanging or reading them, and no secret in its logs at TRACE.
#![cfg(all(unix, feature = "cli"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::send;

struct Proc {
    child: Child,
    addr: SocketAddr,
    admin_token: Option<String>,
    line: String,
}

fn spawn(args: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pims-sim"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG")
        .env_remove("PIMS_SIM_ADMIN_TOKEN");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let line = line.trim_end().to_owned();
    let rest = line
        .strip_prefix("pims-sim listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    let (addr, token) = match rest.split_once(' ') {
        Some((addr, token)) => (addr, token.strip_prefix("admin-token=").map(str::to_owned)),
        None => (rest, None),
    };
    Proc {
        child,
        addr: addr.parse().unwrap(),
        admin_token: token,
        line,
    }
}

fn signal(proc: &Proc, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &proc.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the process to exit (10 s at most) and returns (success, stderr).
fn wait(proc: Proc) -> (bool, String) {
    wait_child(proc.child)
}

/// Waits for a child to exit (10 s at most: a guard against a hang, not a timing) and returns
/// (success, stderr).
fn wait_child(mut child: Child) -> (bool, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pims-sim did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.success(), stderr)
}

async fn call(
    addr: SocketAddr,
    token: &str,
    device: &str,
    verb: &str,
    api: &str,
    params: Value,
) -> Value {
    let auth = format!("Bearer {token}");
    let body =
        json!({"transactionId": support::tid(), "verb": verb, "api": api, "parameters": params});
    send(
        addr,
        "POST",
        "/v1/calls",
        &[("authorization", &auth), ("pims-device-id", device)],
        body.to_string(),
    )
    .await
    .unwrap()
    .json()
}

async fn admin_get(addr: SocketAddr, token: &str, path: &str) -> Value {
    let auth = format!("Bearer {token}");
    send(addr, "GET", path, &[("authorization", &auth)], "")
        .await
        .unwrap()
        .json()
}

async fn steps(addr: SocketAddr, device: &str) -> Value {
    call(
        addr,
        "demo-token",
        device,
        "get",
        "pims.subscription.steps",
        json!({"carAssociationID": "987654"}),
    )
    .await["result"]
        .clone()
}

#[tokio::test]
async fn prints_one_line_serves_and_stops_on_sigterm() {
    let proc = spawn(&[], &[]);
    assert!(proc.addr.ip().is_loopback(), "{}", proc.line);
    assert_ne!(proc.addr.port(), 0);
    let token = proc
        .admin_token
        .clone()
        .expect("a generated token is printed");
    assert_eq!(token.len(), 32);
    assert_eq!(steps(proc.addr, "phone-1").await["stepsID"], 132324);
    let state = admin_get(proc.addr, &token, "/admin/state").await;
    assert_eq!(state["stepLists"][0]["deviceId"], "phone-1");
    signal(&proc, "-TERM");
    let addr = proc.addr;
    let (ok, stderr) = wait(proc);
    assert!(ok, "clean exit: {stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn stops_on_sigint_and_does_not_print_a_given_token() {
    let proc = spawn(
        &["--addr", "127.0.0.1:0", "--admin-token", "given-admin"],
        &[],
    );
    assert_eq!(proc.admin_token, None, "{}", proc.line);
    let state = admin_get(proc.addr, "given-admin", "/admin/state").await;
    assert_eq!(state["version"], 1);
    signal(&proc, "-INT");
    let (ok, stderr) = wait(proc);
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("given-admin"));
}

#[tokio::test]
async fn the_state_file_carries_over_between_processes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let proc = spawn(&["--state", state_arg], &[]);
    let id = steps(proc.addr, "phone-1").await["stepsID"].clone();
    call(
        proc.addr,
        "demo-token",
        "phone-1",
        "set",
        "pims.vehicle.vin",
        json!({"vin": pims_sim::DEMO_VIN}),
    )
    .await;
    signal(&proc, "-TERM");
    assert!(wait(proc).0);

    let proc = spawn(&["--state", state_arg], &[]);
    assert_eq!(steps(proc.addr, "phone-1").await["stepsID"], id);
    assert_eq!(steps(proc.addr, "phone-2").await["stepsID"], 132325);
    let key = call(
        proc.addr,
        "demo-token",
        "phone-1",
        "get",
        "pims.vehicle.carkey",
        json!({}),
    )
    .await;
    assert_eq!(
        key["result"]["cvsStatus"], "unknown",
        "the selection survived: {key}"
    );
    // A second process on the same state file is refused quickly, naming the holder.
    let out = Command::new(env!("CARGO_BIN_EXE_pims-sim"))
        .args(["--state", state_arg])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in use") && err.contains(&proc.child.id().to_string()),
        "{err}"
    );
    signal(&proc, "-TERM");
    assert!(wait(proc).0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_keeps_every_acknowledged_change() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    for round in 0..3 {
        let mut proc = spawn(&["--state", state_arg], &[]);
        let addr = proc.addr;
        // 8 clients each issuing new stepsIDs (one change per call) until the process dies.
        let acked = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for c in 0..8 {
            let acked = acked.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..200 {
                    let device = format!("r{round}-c{c}-d{i}");
                    let body = json!({"transactionId": "k", "verb": "get", "api": "pims.subscription.steps",
                                      "parameters": {"carAssociationID": "987654"}}).to_string();
                    let headers = [("authorization", "Bearer demo-token"), ("pims-device-id", device.as_str())];
                    match send(addr, "POST", "/v1/calls", &headers, body).await {
                        Ok(a) => {
                            mine.push((device, a.json()["result"]["stepsID"].as_u64().unwrap()));
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => break,
                    }
                }
                mine
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.load(Ordering::SeqCst) < 40 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        proc.child.kill().unwrap();
        let _ = proc.child.wait();
        let mut acknowledged = Vec::new();
        for t in tasks {
            acknowledged.extend(t.await.unwrap());
        }
        assert!(
            acknowledged.len() >= 40,
            "round {round}: {}",
            acknowledged.len()
        );
        assert!(acknowledged.len() < 8 * 200, "killed while writing");
        // The file is whole and holds every acknowledged stepsID.
        let doc = pims_sim::Scenario::from_json(&std::fs::read(&state).unwrap()).unwrap();
        for (device, id) in &acknowledged {
            assert!(
                doc.step_lists
                    .iter()
                    .any(|l| l.steps_id == *id && &l.device_id == device),
                "round {round}: acknowledged {device} -> {id} lost"
            );
        }
    }
    // And a new process starts on it.
    let proc = spawn(&["--state", state_arg], &[]);
    assert!(steps(proc.addr, "after").await["stepsID"].is_u64());
    signal(&proc, "-TERM");
    assert!(wait(proc).0);
}

#[tokio::test]
async fn no_secret_reaches_the_logs_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    let scenario_path = dir.path().join("scenario.json");
    let mut scenario = pims_sim::Scenario::default_scenario();
    scenario.accounts[0].tokens = vec![pims_types::Secret::new("CANARYTOKEN7")];
    scenario.accounts[0].trusted_phone_number = Some("+33687654329".into());
    std::fs::write(&scenario_path, scenario.to_json_pretty()).unwrap();
    let proc = spawn(
        &[
            "--scenario",
            scenario_path.to_str().unwrap(),
            "--state",
            dir.path().join("s.json").to_str().unwrap(),
        ],
        &[("RUST_LOG", "trace")],
    );
    let addr = proc.addr;
    let admin = proc.admin_token.clone().unwrap();
    let (t, d) = ("CANARYTOKEN7", "phone-1");
    let pin = "97531864";
    call(
        addr,
        t,
        d,
        "get",
        "pims.authentication.smscode",
        json!({"type": "enrollment"}),
    )
    .await;
    let outbox = admin_get(addr, &admin, "/admin/sms?phoneNumber=%2B33687654329").await;
    let code = outbox["messages"][0]["code"].as_str().unwrap().to_owned();
    call(
        addr,
        t,
        d,
        "set",
        "pims.authentication.smscode",
        json!({"action": "enrollment", "smsCode": code}),
    )
    .await;
    let r = call(
        addr,
        t,
        d,
        "set",
        "pims.authentication.enrollment",
        json!({"action": "enroll", "pinCode": pin, "smsCode": code}),
    )
    .await;
    assert_eq!(r["status"], "SUCCEEDED", "{r}");
    let r = call(
        addr,
        t,
        d,
        "get",
        "pims.authentication.otp",
        json!({"action": "withPIN", "pinCode": pin}),
    )
    .await;
    let otp = r["result"]["otp"].as_str().unwrap().to_owned();
    call(
        addr,
        t,
        d,
        "get",
        "pims.authentication.otp",
        json!({"action": "withPIN", "pinCode": "13579246"}),
    )
    .await;
    call(
        addr,
        t,
        d,
        "set",
        "pims.vehicle.vin",
        json!({"vin": pims_sim::DEMO_VIN}),
    )
    .await;
    // The PIN is kept hashed: neither the state file nor GET /admin/state holds it in clear.
    let admin_state = admin_get(addr, &admin, "/admin/state").await.to_string();
    let state_file = std::fs::read_to_string(dir.path().join("s.json")).unwrap();
    for shown in [&admin_state, &state_file] {
        assert!(shown.contains("\"pinHash\""), "{shown}");
        assert!(!shown.contains(pin), "the PIN in clear: {shown}");
    }
    // Bad bodies that quote secrets.
    let auth = format!("Bearer {t}");
    let _ = send(
        addr,
        "POST",
        "/v1/calls",
        &[("authorization", &auth)],
        format!("{{\"pinCode\": {pin}"),
    )
    .await;
    signal(&proc, "-TERM");
    let (ok, stderr) = wait(proc);
    assert!(ok);
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "logs at trace: {stderr}"
    );
    for canary in [
        "CANARYTOKEN7",
        pin,
        &code,
        &otp,
        "13579246",
        "+33687654329",
        "687654329",
        &admin,
    ] {
        assert!(!stderr.contains(canary), "{canary} in the logs:\n{stderr}");
    }
    assert!(
        stderr.contains("*********329"),
        "phone numbers are masked: {stderr}"
    );
}

#[test]
fn bad_arguments_and_files_fail_with_a_message() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_pims-sim"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = run(&["--scenario", "/nonexistent/scenario.json"]);
    assert!(!ok && err.contains("cannot read scenario"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, br#"{"settings": {"smsHourlyQuota": 0}}"#).unwrap();
    let (ok, err) = run(&["--scenario", bad.to_str().unwrap()]);
    assert!(!ok && err.contains("settings.smsHourlyQuota"), "{err}");
    let (ok, err) = run(&["--addr", "not-an-address"]);
    assert!(!ok && err.contains("--addr"), "{err}");
    let (ok, out) = run(&["--help"]);
    assert!(ok, "{out}");
}

/// Runs `pims-sim ARGS` to its exit (see `wait_child`) under a 2 GiB address-space
/// limit when `prlimit` is there, so that reading a device or a huge file cannot take the
/// machine's memory: (success, stderr).
fn run_limited(args: &[&str]) -> (bool, String) {
    let bin = env!("CARGO_BIN_EXE_pims-sim");
    let limited = Command::new("prlimit")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut command = if limited {
        let mut c = Command::new("prlimit");
        c.args(["--as=2147483648", "--", bin]);
        c
    } else {
        Command::new(bin)
    };
    let child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG")
        .spawn()
        .unwrap();
    wait_child(child)
}

/// Step lists in the state file of the start-up test: about 7 MB, seconds of checking in a
/// debug build and a large fraction of one in release, against a signal sent within
/// milliseconds.
const STEP_LISTS: usize = 100_000;

fn mkfifo(path: &std::path::Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

#[test]
fn fifos_devices_and_huge_files_are_refused_at_once_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.json");
    mkfifo(&fifo);
    let zero_link = dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &zero_link).unwrap();
    // Sparse: 10 GiB of zeros if it were read.
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(10 << 30)
        .unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let cases = [
        ("--state", path(&fifo), "a FIFO, not a regular file"),
        ("--state", path(&zero_link), "is a symbolic link"),
        (
            "--state",
            "/dev/zero".to_owned(),
            "a device, not a regular file",
        ),
        ("--state", path(&huge), "larger than the cap of 64 MiB"),
        ("--scenario", path(&fifo), "a FIFO, not a regular file"),
        (
            "--scenario",
            path(&zero_link),
            "a device, not a regular file",
        ),
        ("--scenario", path(&huge), "larger than the cap of 64 MiB"),
    ];
    for (flag, file, words) in cases {
        let (ok, stderr) = run_limited(&[flag, &file]);
        assert!(!ok, "{flag} {file}: {stderr}");
        assert!(
            stderr.contains(words) && stderr.contains(&file),
            "{flag} {file}: {stderr}"
        );
    }
}

#[test]
fn a_signal_during_start_up_stops_the_process() {
    // A large state file (well under the cap) keeps start-up busy reading and checking it.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut doc = pims_sim::Scenario::default_scenario().to_value();
    doc["stepLists"] = json!("STEP-LISTS");
    let lists: Vec<String> = (0..STEP_LISTS)
        .map(|i| format!(r#"{{"stepsId":{i},"carAssociationId":"987654","deviceId":"d-{i}"}}"#))
        .collect();
    let text = doc
        .to_string()
        .replace(r#""STEP-LISTS""#, &format!("[{}]", lists.join(",")));
    std::fs::write(&state, text).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_pims-sim"))
        .args(["--state", state.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG")
        .spawn()
        .unwrap();
    // The lock file holds the pid once start-up is under way, before the state is read.
    let lock = dir.path().join("state.json.lock");
    let pid = child.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&lock).ok().as_deref() != Some(pid.as_str()) {
        assert!(Instant::now() < deadline, "start-up never took the lock");
        std::thread::sleep(Duration::from_millis(1));
    }
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let stdout = child.stdout.take().unwrap();
    let (ok, stderr) = wait_child(child);
    let mut printed = String::new();
    BufReader::new(stdout).read_to_string(&mut printed).unwrap();
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("stopped by a signal during start-up"),
        "{stderr}"
    );
    assert!(printed.is_empty(), "it never served: {printed}");
}
