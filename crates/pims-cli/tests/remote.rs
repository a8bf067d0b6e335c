//! `pims --url`: against a simulator started by hand (`pims sim serve`, and one in this test
//! process for its admin actions), and against a closed port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use pims::Secret;
use pims_sim::{DEMO_PHONE_NUMBER, DEMO_TOKEN, DEMO_VIN, Scenario, SimServer};
use serde_json::Value;
use support::{Home, all_bytes, all_done, contains, example_rows};

/// Canaries: none of them may appear in any output, log or cache file.
const CANARY_TOKEN: &str = "canary-token-5f3e9d";
const CANARY_PIN: &str = "86420975";

/// A `pims sim serve` child, stopped when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(home: &Home, extra: &[&str]) -> Served {
    let mut args = vec!["sim", "serve", "--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = home
        .background(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    Served { child, url }
}

#[test]
fn url_against_a_simulator_started_by_hand() {
    let served_home = Home::new();
    let served = serve(&served_home, &[]);
    let home = Home::new();
    let run = home
        .run(&[
            "--url",
            &served.url,
            "--token",
            DEMO_TOKEN,
            "steps",
            "--car-association-id",
            "987654",
        ])
        .expect(0);
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
    // PIMS_TOKEN works as --token, and --json gives the envelope.
    let run = home
        .command()
        .env("PIMS_TOKEN", DEMO_TOKEN)
        .args([
            "--url",
            &served.url,
            "--json",
            "next-step",
            "--steps-id",
            "132324",
        ])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let m: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(m["result"]["deviceActivation"]["order"], 2);
    // A wrong token is the backend's 2301, with a hint about the token.
    let run = home
        .run(&[
            "--url",
            &served.url,
            "--token",
            "nobody",
            "steps",
            "--steps-id",
            "1",
        ])
        .expect(1);
    assert!(run.stderr.starts_with("error 2301"), "{}", run.stderr);
    assert!(run.stderr.contains("--token"), "{}", run.stderr);
}

#[test]
fn sim_serve_refuses_a_bad_scenario_by_field() {
    let home = Home::new();
    let file = home.file("scenario.json");
    std::fs::write(
        &file,
        br#"{"accounts": [{"id": "a", "tokens": ["t"], "pin": "12"}]}"#,
    )
    .unwrap();
    let run = home
        .run(&[
            "sim",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--scenario",
            file.to_str().unwrap(),
        ])
        .expect(2);
    assert!(run.stderr.contains("accounts[0].pin"), "{}", run.stderr);
    let run = home
        .run(&["sim", "serve", "--scenario", "/nonexistent/scenario.json"])
        .expect(2);
    assert!(run.stderr.contains("--scenario"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn sim_serve_refuses_a_scenario_it_must_not_read_whole() {
    let home = Home::new();
    let fifo = home.file("scenario.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let zero = home.file("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let big = home.file("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(pims_sim::MAX_FILE_BYTES + 1)
        .unwrap();
    // Each ends at once (the guard timeout would fail a hang), exit 2, saying why.
    for (file, why) in [
        (&fifo, "a FIFO"),
        (&zero, "a device"),
        (&big, "larger than the cap of 64 MiB"),
    ] {
        let run = home
            .run(&[
                "sim",
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--scenario",
                file.to_str().unwrap(),
            ])
            .expect(2);
        assert!(run.stderr.contains("--scenario"), "{}", run.stderr);
        assert!(run.stderr.contains(why), "{}", run.stderr);
    }
}

#[test]
fn a_closed_port_is_2202_within_the_deadline() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let home = Home::new();
    let url = format!("http://127.0.0.1:{port}");
    // The guard timeout of the command (60 s) is far above --timeout 5: reaching it fails.
    let run = home
        .run(&[
            "--url",
            &url,
            "--token",
            "t",
            "--timeout",
            "5",
            "steps",
            "--car-association-id",
            "1",
        ])
        .expect(1);
    assert!(run.stderr.starts_with("error 2202: "), "{}", run.stderr);
    assert!(
        run.stderr.contains(&url),
        "names the backend: {}",
        run.stderr
    );
}

/// A simulator in this process, for its admin actions (SMS outbox, pairing).
fn in_process_sim() -> (tokio::runtime::Runtime, SimServer) {
    let mut scenario = Scenario::default_scenario();
    scenario.accounts[0].tokens.push(Secret::new(CANARY_TOKEN));
    support::in_process_sim(Some(scenario))
}

#[test]
fn remote_activation_resumes_across_runs_and_never_shows_a_secret() {
    let (rt, sim) = in_process_sim();
    let home = Home::new();
    let url = sim.base_url();
    let base = [
        "-vv",
        "--url",
        url.as_str(),
        "--token",
        CANARY_TOKEN,
        "activate",
        "--car-association-id",
        "987654",
        "--pin",
        CANARY_PIN,
        "--vin",
        DEMO_VIN,
    ];
    let mut outputs = Vec::new();

    // 1. No terminal, no --sms-code: the SMS is sent, then the command asks for the flag.
    let first = home.run(&base).expect(2);
    assert!(
        first
            .stderr
            .contains("run the same command again with the code in PIMS_SMS_CODE"),
        "{}",
        first.stderr
    );
    let code = sim
        .latest_sms_code(DEMO_PHONE_NUMBER)
        .expect("an SMS was sent");
    outputs.push(first);

    // 2. With the code: the device is enrolled; the CarKey fails (not paired) with a hint.
    let mut with_code = base.to_vec();
    with_code.extend_from_slice(&["--sms-code", code.expose()]);
    let second = home.run(&with_code).expect(1);
    assert!(
        second.stdout.contains("this device is enrolled"),
        "{}",
        second.stdout
    );
    assert!(second.stderr.contains("error 2342"), "{}", second.stderr);
    let device = sim
        .state()
        .devices
        .iter()
        .find(|d| d.account_id.as_deref() == Some("demo"))
        .map(|d| d.id.clone())
        .expect("an enrolled device");
    assert!(
        second.stderr.contains(&device),
        "names the device to pair: {}",
        second.stderr
    );
    assert!(
        second.stdout.contains("Bluetooth"),
        "tells the requirements: {}",
        second.stdout
    );
    outputs.push(second);

    // 3. Paired: the run resumes at the CarKey and ends all alreadyDone.
    rt.block_on(sim.pair_vehicle(DEMO_VIN, &device)).unwrap();
    let third = home.run(&base).expect(0);
    assert!(
        !third.stdout.contains("[2/3]"),
        "enrolment not redone: {}",
        third.stdout
    );
    assert_eq!(third.statuses(), all_done(), "{}", third.stdout);
    let secret_code = code.expose().to_owned();
    outputs.push(third);

    for run in &outputs {
        for canary in [CANARY_TOKEN, CANARY_PIN, secret_code.as_str()] {
            assert!(
                !run.stdout.contains(canary),
                "{canary} on stdout:\n{}",
                run.stdout
            );
            assert!(
                !run.stderr.contains(canary),
                "{canary} on stderr:\n{}",
                run.stderr
            );
        }
    }
    // -vv logged something, masked.
    assert!(outputs[2].stderr.contains("DEBUG") || outputs[2].stderr.contains("INFO"));
    for (path, bytes) in all_bytes(home.path()) {
        for canary in [CANARY_TOKEN, CANARY_PIN, secret_code.as_str()] {
            assert!(!contains(&bytes, canary), "{canary} in {}", path.display());
        }
    }
    rt.block_on(sim.shutdown());
}
