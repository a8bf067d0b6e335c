//! What reaches a terminal: control characters from the backend escaped (an error label, a
//! step name, and that name again from the cache), phone numbers and VINs masked in readable
//! output, and help that says what a command does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::fake_backend::{Answer, FakeBackend};
use support::{Home, Run};

/// Clears the screen, homes the cursor and fakes a pims line; then a bell, a carriage return,
/// an 8-bit CSI and a right-to-left override.
const HOSTILE: &str = "\x1b[2J\x1b[Hpims: all good\x07\r\u{9b}31m\u{202e}";

/// Whether `text` holds anything a terminal would act on rather than show.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| (c.is_control() && c != '\n') || c == '\u{202e}')
        .collect()
}

fn hostile_backend() -> FakeBackend {
    FakeBackend::start(|api, _params| match api {
        "pims.subscription.steps" => Answer::Result(json!({
            "stepsID": 132324,
            "trusterPhoneNumber": {"status": "alreadyDone", "order": 1},
            HOSTILE: {"status": "todo", "order": 2},
        })),
        "pims.subscription.step" => Answer::Result(json!({
            HOSTILE: {"status": "todo", "order": 2},
        })),
        _ => Answer::Error(2346, format!("No Step for this stepsID {HOSTILE}")),
    })
}

#[test]
fn control_characters_from_the_backend_never_reach_the_terminal() {
    let backend = hostile_backend();
    let home = Home::new();
    let url = ["--url", backend.url(), "--token", "t"];
    let run = |args: &[&str], code: i32| {
        let mut all = url.to_vec();
        all.extend_from_slice(args);
        home.run(&all).expect(code)
    };
    let mut runs: Vec<Run> = vec![
        run(&["steps", "--car-association-id", "987654"], 0),
        run(&["next-step", "--steps-id", "132324"], 0),
        run(
            &["call", "get", "pims.authentication.trustedphonenumber"],
            1,
        ),
        run(
            &[
                "-vv",
                "call",
                "get",
                "pims.subscription.steps",
                "carAssociationID=987654",
            ],
            0,
        ),
        // The step name was cached: shown again from the disk.
        run(&["cache", "show"], 0),
    ];
    assert!(
        runs[0].stdout.contains("\\u{1b}[2J"),
        "shown escaped: {}",
        runs[0].stdout
    );
    assert!(
        runs[2]
            .stderr
            .starts_with("error 2346: No Step for this stepsID \\u{1b}[2J"),
        "{}",
        runs[2].stderr
    );
    assert!(runs[4].stdout.contains("\\u{1b}[2J"), "{}", runs[4].stdout);
    for run in &runs {
        assert_eq!(raw_controls(&run.stdout), [], "stdout: {:?}", run.stdout);
        assert_eq!(raw_controls(&run.stderr), [], "stderr: {:?}", run.stderr);
    }
    // --json keeps the envelope as the backend's data, escaped the JSON way.
    let json = run(&["--json", "next-step", "--steps-id", "132324"], 0);
    let m: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert!(m["result"].get(HOSTILE).is_some(), "{}", json.stdout);
    runs.push(json);
    assert_eq!(raw_controls(&runs[5].stdout), []);
}

#[test]
fn call_shows_phone_numbers_and_vins_masked_and_json_keeps_them() {
    let backend = FakeBackend::start(|api, _| match api {
        "pims.vehicle.carkey" => Answer::Result(json!({
            "hasCarKey": true, "vin": "VR1AB12C3D4567890", "securityCode": "CANARY-SC",
        })),
        _ => Answer::Result(json!({"phoneNumber": "+33612345678"})),
    });
    let home = Home::new();
    let url = ["--url", backend.url(), "--token", "t"];
    let call = |args: &[&str]| {
        let mut all = url.to_vec();
        all.extend_from_slice(args);
        home.run(&all).expect(0)
    };
    let phone = call(&["call", "get", "pims.authentication.trustedphonenumber"]);
    assert!(
        phone.stdout.contains("\"*********678\""),
        "{}",
        phone.stdout
    );
    assert!(!phone.stdout.contains("+33612345678"), "{}", phone.stdout);
    let key = call(&["call", "set", "pims.vehicle.carkey"]);
    assert!(
        key.stdout.contains("\"**************890\""),
        "{}",
        key.stdout
    );
    assert!(!key.stdout.contains("VR1AB12C3D4567890"), "{}", key.stdout);
    assert!(!key.stdout.contains("CANARY-SC"), "{}", key.stdout);
    // A program reading --json gets the values (secrets still redacted).
    let json = call(&[
        "--json",
        "call",
        "get",
        "pims.authentication.trustedphonenumber",
    ]);
    let m: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(m["result"]["phoneNumber"], "+33612345678");
}

#[test]
fn cache_help_says_wipe_keeps_the_device_id() {
    let home = Home::new();
    let help = home.run(&["cache", "--help"]).expect(0);
    assert!(
        help.stdout
            .contains("this installation's device id is kept"),
        "{}",
        help.stdout
    );
    assert!(
        !help.stdout.contains("and this installation's device id)"),
        "{}",
        help.stdout
    );
}
