//! `--json` prints the envelope of the call itself: its transaction id is the one the backend
//! received, for a list (SUCCEEDED or FAILED, from the one call the command makes) and for the
//! call of `activate` that failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::Home;
use support::fake_backend::{Answer, FakeBackend};

const STEPS: &str = "pims.subscription.steps";

/// A backend whose car association 987654 has its phone step to do, 111 nothing left, and
/// which refuses every other call with 2301.
fn backend() -> FakeBackend {
    FakeBackend::start(
        |api, params| match (api, params["carAssociationID"].as_str()) {
            (STEPS, Some("987654")) => Answer::Result(json!({
                "stepsID": 132324,
                "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "todo", "order": 1},
            })),
            (STEPS, Some("111")) => Answer::Result(json!({
                "stepsID": 111222,
                "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "alreadyDone", "order": 1},
            })),
            (STEPS, _) => Answer::Error(2346, "No Step for this stepsID".into()),
            _ => Answer::Error(2301, "Need Basic Authentication".into()),
        },
    )
}

/// `pims --json --url <backend> ARGS`: the exit code and the one envelope on stdout.
fn json_run(home: &Home, backend: &FakeBackend, args: &[&str], code: i32) -> Value {
    let mut all = vec!["--json", "--url", backend.url(), "--token", "t"];
    all.extend_from_slice(args);
    let run = home.run(&all).expect(code);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    serde_json::from_str(run.stdout.trim()).unwrap()
}

#[test]
fn activate_prints_the_transaction_id_of_the_call_that_failed() {
    let backend = backend();
    let home = Home::new();
    let m = json_run(
        &home,
        &backend,
        &[
            "activate",
            "--car-association-id",
            "987654",
            "--phone",
            "+33612345678",
        ],
        1,
    );
    assert_eq!(m["status"], "FAILED", "{m}");
    assert_eq!(m["error"]["code"], 2301, "{m}");
    let sent = backend.transaction_ids("pims.authentication.trustedphonenumber");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(m["transactionId"], sent[0].as_str(), "{m}");
}

#[test]
fn steps_and_the_final_list_of_activate_print_their_own_calls_envelope() {
    let backend = backend();
    let home = Home::new();
    let listed = json_run(
        &home,
        &backend,
        &["steps", "--car-association-id", "987654"],
        0,
    );
    assert_eq!(listed["status"], "SUCCEEDED", "{listed}");
    assert_eq!(listed["result"]["stepsID"], 132324, "{listed}");
    let refused = json_run(&home, &backend, &["steps", "--steps-id", "999"], 1);
    assert_eq!(refused["error"]["code"], 2346, "{refused}");
    // One backend call per command, and each envelope is that call's.
    let sent = backend.transaction_ids(STEPS);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(listed["transactionId"], sent[0].as_str());
    assert_eq!(refused["transactionId"], sent[1].as_str());

    // Nothing to do: activate lists the steps, then prints the final list's envelope.
    let done = json_run(
        &home,
        &backend,
        &["activate", "--car-association-id", "111"],
        0,
    );
    assert_eq!(done["result"]["stepsID"], 111222, "{done}");
    let sent = backend.transaction_ids(STEPS);
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(done["transactionId"], sent[3].as_str());
}
