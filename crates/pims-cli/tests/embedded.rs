//! The `pims` command on its embedded default (the simulator in-process, state in the home):
//! the documentation's example, activation, the sticky cache, usage errors, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{FIXTURE, Home, all_done, example_rows};

const CAR: &str = "987654";

fn activate(home: &Home) -> support::Run {
    home.run(&[
        "activate",
        "--car-association-id",
        CAR,
        "--phone",
        "+33612345678",
        "--pin",
        "1234",
    ])
}

#[test]
fn steps_on_a_fresh_home_prints_the_documentation_example() {
    let home = Home::new();
    let run = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(
        run.stdout.lines().next(),
        Some("stepsID 132324"),
        "{}",
        run.stdout
    );
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    // The home holds the cache and the embedded simulator's state.
    assert!(home.file("cache").is_dir());
    assert!(home.file("sim-state.json").is_file());
}

#[test]
fn json_output_equals_the_documentation_example_modulo_transaction_id() {
    let home = Home::new();
    let run = home
        .run(&["--json", "steps", "--car-association-id", CAR])
        .expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one envelope per call: {}", run.stdout);
    let got: Value = serde_json::from_str(lines[0]).unwrap();
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    let mut expected = fixture["answer"].clone();
    let tid = got["transactionId"].as_str().unwrap().to_owned();
    assert!(!tid.is_empty());
    expected["transactionId"] = Value::String(tid);
    assert_eq!(got, expected);
    // Keys in ascending step order, as documented.
    let keys: Vec<&String> = got["result"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "stepsID",
            "trusterPhoneNumber",
            "deviceActivation",
            "mediumCarKey"
        ]
    );
}

#[test]
fn activate_walks_every_step_to_already_done_and_resumes() {
    let home = Home::new();
    // Before: the next step is the device enrolment (the first request of a device is by
    // carAssociationID; a stepsID it never received is unknown to it).
    home.run(&["next-step", "--steps-id", "132324"]).expect(1);
    home.run(&["steps", "--car-association-id", CAR]).expect(0);
    let next = home.run(&["next-step", "--steps-id", "132324"]).expect(0);
    assert!(
        next.stdout
            .contains("next step of list 132324: deviceActivation"),
        "{}",
        next.stdout
    );

    let run = activate(&home).expect(0);
    assert_eq!(run.statuses(), all_done(), "{}", run.stdout);
    assert!(
        run.stdout.contains("outbox"),
        "says where the SMS code came from: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("paired the simulated vehicle"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("1234"),
        "the PIN is never shown: {}",
        run.stdout
    );

    // Again: all alreadyDone, from the same list.
    let again = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(again.statuses(), all_done(), "{}", again.stdout);
    assert!(
        again.stdout.starts_with("stepsID 132324\n"),
        "{}",
        again.stdout
    );
    let next = home.run(&["next-step", "--steps-id", "132324"]).expect(0);
    assert_eq!(
        next.stdout,
        "nothing to do: every step of list 132324 is alreadyDone\n"
    );
    let todo = home
        .run(&["steps", "--steps-id", "132324", "--status", "todo"])
        .expect(0);
    assert!(todo.step_rows().is_empty(), "{}", todo.stdout);

    // A second activation has nothing left to do.
    let resumed = activate(&home).expect(0);
    assert!(
        resumed
            .stdout
            .contains("nothing to do, every step is alreadyDone"),
        "{}",
        resumed.stdout
    );
    assert!(!resumed.stdout.contains("[2/3]"), "{}", resumed.stdout);
}

#[test]
fn the_cache_is_sticky_across_a_simulator_reset_until_steps_reset() {
    let home = Home::new();
    activate(&home).expect(0);
    let reset = home.run(&["sim", "reset"]).expect(0);
    assert!(
        reset.stdout.contains("default scenario"),
        "{}",
        reset.stdout
    );

    // The backend forgot everything; the SDK's cache did not.
    let sticky = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(sticky.statuses(), all_done(), "{}", sticky.stdout);

    // `--reset` asks afresh: the backend's todo shows again.
    let fresh = home
        .run(&["steps", "--car-association-id", CAR, "--reset"])
        .expect(0);
    assert_eq!(fresh.step_rows(), example_rows(), "{}", fresh.stdout);

    // And activation resumes from there.
    let run = activate(&home).expect(0);
    assert_eq!(run.statuses(), all_done(), "{}", run.stdout);
}

#[test]
fn activate_without_a_terminal_names_the_missing_pin_before_spending_an_sms() {
    let home = Home::new();
    let run = home
        .run(&["activate", "--car-association-id", CAR])
        .expect(2);
    // The non-interactive ways are named, not the flag every local user can read.
    assert!(
        run.stderr
            .contains("pass the PIN in PIMS_PIN or on standard input with --pin-stdin"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no terminal"), "{}", run.stderr);
    let state: Value =
        serde_json::from_slice(&std::fs::read(home.file("sim-state.json")).unwrap()).unwrap();
    let outbox = state["smsOutbox"].as_array().cloned().unwrap_or_default();
    assert!(outbox.is_empty(), "an SMS was spent: {outbox:?}");
}

#[test]
fn bad_usage_exits_2_with_a_message() {
    let home = Home::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["steps", "--car-association-id", CAR, "--bogus"],
            "--bogus",
        ),
        (&["steps"], "--car-association-id"),
        (
            &["steps", "--car-association-id", CAR, "--steps-id", "1"],
            "cannot be used with",
        ),
        (
            &["steps", "--vin", "VR1AB12C3D4567890", "--status", "some"],
            "--status",
        ),
        (
            &["call", "get", "pims.subscription.steps", "carAssociationID"],
            "KEY=VALUE",
        ),
        (
            &["call", "get", "pims.subscription.steps", "a=1", "a=2"],
            "given twice",
        ),
        (&["frobnicate"], "frobnicate"),
        (
            &["--url", "http://127.0.0.1:9", "steps", "--steps-id", "1"],
            "--token",
        ),
        (
            &[
                "--url",
                "http://example.com",
                "--token",
                "t",
                "steps",
                "--steps-id",
                "1",
            ],
            "https://",
        ),
        (
            &["activate", "--car-association-id", CAR, "--pin", "12"],
            "4 to 8 digits",
        ),
        (
            &["activate", "--car-association-id", CAR, "--phone", "0612"],
            "E.164",
        ),
        (&["--timeout", "0", "steps", "--steps-id", "1"], "--timeout"),
    ];
    for (args, needle) in cases {
        let run = home.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    // Nothing was half-done: the backend was never started by a refused command.
    assert!(!home.file("sim-state.json").exists());
}

#[test]
fn an_unusable_home_is_bad_usage_naming_it() {
    let home = Home::new();
    let file = home.file("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("home");
    let run = home
        .run(&[
            "--home",
            bad.to_str().unwrap(),
            "steps",
            "--car-association-id",
            CAR,
        ])
        .expect(2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains(bad.to_str().unwrap()), "{}", run.stderr);
    assert!(run.stderr.contains("--home"), "{}", run.stderr);
}

#[test]
fn a_failed_call_exits_1_with_the_code_label_and_remedy() {
    let home = Home::new();
    let run = home.run(&["next-step", "--steps-id", "999"]).expect(1);
    assert!(
        run.stderr
            .starts_with("error 2346: No Step for this stepsID 999\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("what to do: "), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    // With --json the FAILED envelope is on stdout too.
    let run = home
        .run(&["--json", "steps", "--vin", "NOT-A-VIN"])
        .expect(1);
    let m: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(m["status"], "FAILED");
    assert_eq!(m["error"]["code"], 2102);
    assert_eq!(m["error"]["label"], "Invalid vin parameter");
    assert!(m.get("result").is_none());
    assert!(
        run.stderr.starts_with("error 2102: Invalid vin parameter"),
        "{}",
        run.stderr
    );
}

#[test]
fn call_reads_values_as_json_or_strings() {
    let home = Home::new();
    let run = home
        .run(&[
            "call",
            "get",
            "pims.subscription.steps",
            "carAssociationID=987654",
            "resetSteps=false",
            "stepsStatus=todo",
        ])
        .expect(0);
    let names: Vec<String> = run.step_rows().into_iter().map(|r| r.0).collect();
    assert_eq!(
        names,
        ["deviceActivation", "mediumCarKey"],
        "{}",
        run.stdout
    );
    let services = home
        .run(&[
            "--json",
            "call",
            "get",
            "pims.subscription.services",
            "vin=VR1AB12C3D4567890",
        ])
        .expect(0);
    let m: Value = serde_json::from_str(services.stdout.trim()).unwrap();
    assert_eq!(m["result"]["services"][0]["code"], "REMOTE_COMMANDS");
    let unknown = home.run(&["call", "get", "pims.nothing"]).expect(1);
    assert!(
        unknown.stderr.starts_with("error 2002: API not supported"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn services_are_listed() {
    let home = Home::new();
    let run = home
        .run(&["services", "--vin", "VR1AB12C3D4567890"])
        .expect(0);
    assert!(run.stdout.starts_with("CODE"), "{}", run.stdout);
    assert!(run.stdout.contains("REMOTE_COMMANDS"), "{}", run.stdout);
}

#[test]
fn cache_show_masks_identifiers_and_wipe_empties_it() {
    let home = Home::new();
    let empty = home.run(&["cache", "show"]).expect(0);
    assert!(empty.stdout.contains("empty"), "{}", empty.stdout);

    home.run(&["steps", "--car-association-id", CAR]).expect(0);
    let show = home.run(&["cache", "show"]).expect(0);
    assert!(show.stdout.contains("***324"), "{}", show.stdout);
    assert!(show.stdout.contains("***654"), "{}", show.stdout);
    assert!(
        !show.stdout.contains("132324"),
        "stepsID unmasked: {}",
        show.stdout
    );
    assert!(
        !show.stdout.contains("987654"),
        "carAssociationID unmasked: {}",
        show.stdout
    );
    assert!(
        show.stdout.contains("deviceActivation todo"),
        "{}",
        show.stdout
    );
    let json = home.run(&["--json", "cache", "show"]).expect(0);
    let v: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(v["lists"][0]["stepsID"], "***324");

    let device = v["deviceId"].as_str().unwrap().to_owned();
    assert!(show.stdout.contains(&device), "{}", show.stdout);

    let wipe = home.run(&["cache", "wipe"]).expect(0);
    assert!(wipe.stdout.contains("1 list removed"), "{}", wipe.stdout);
    let after = home.run(&["--json", "cache", "show"]).expect(0);
    let v: Value = serde_json::from_str(after.stdout.trim()).unwrap();
    assert_eq!(v["lists"], serde_json::json!([]));
    assert_eq!(v["deviceId"], device.as_str(), "the device id is kept");
    // The backend still knows this device: the same list comes back.
    let again = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert!(
        again.stdout.starts_with("stepsID 132324\n"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_damaged_simulator_state_is_explained_and_reset_repairs_it() {
    let home = Home::new();
    std::fs::write(home.file("sim-state.json"), b"{ not json").unwrap();
    let run = home.run(&["steps", "--car-association-id", CAR]).expect(2);
    assert!(run.stderr.contains("pims sim reset"), "{}", run.stderr);
    home.run(&["sim", "reset"]).expect(0);
    let run = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
}

#[test]
fn version_help_and_completions() {
    let home = Home::new();
    let v = home.run(&["--version"]).expect(0);
    assert_eq!(
        v.stdout.trim(),
        format!("pims {}", env!("CARGO_PKG_VERSION"))
    );
    let help = home.run(&["--help"]).expect(0);
    assert!(help.stdout.contains("Exit codes"), "{}", help.stdout);
    for shell in ["bash", "zsh", "fish"] {
        let c = home.run(&["completions", shell]).expect(0);
        assert!(c.stdout.contains("activate"), "{shell}: {}", c.stdout);
    }
    home.run(&["completions", "tcsh"]).expect(2);
}
