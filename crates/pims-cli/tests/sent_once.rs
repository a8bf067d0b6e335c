//! The reproduction of the hardening issue's HIGH-1, with the `pims` command: against a simulator
//! whose answers are lost after the work was done (a 500 after processing), one `pims call get
//! pims.authentication.otp action=withPIN pinCode=9999` counts one wrong PIN (it used to count
//! three and block the account), and one `get smscode type=enrollment` sends one SMS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_TOKEN, FaultSpec, SimServer};
use serde_json::{Value, json};
use support::Home;

fn lose_answers_after_processing(sim: &SimServer, api: &str) {
    sim.set_faults(&FaultSpec {
        status: Some(500),
        after_processing: true,
        apis: Some(vec![api.to_owned()]),
        count: Some(2),
        ..Default::default()
    })
    .unwrap();
}

fn state(sim: &SimServer) -> Value {
    serde_json::to_value(sim.state()).unwrap()
}

#[test]
fn one_wrong_pin_and_one_sms_request_reach_the_backend_once() {
    let (rt, sim) = support::in_process_sim(None);
    let home = Home::new();
    let url = sim.base_url();
    let remote = |args: &[&str]| {
        let mut all = vec!["--url", url.as_str(), "--token", DEMO_TOKEN];
        all.extend_from_slice(args);
        home.run(&all)
    };

    // One SMS request whose answer is lost: one SMS.
    lose_answers_after_processing(&sim, "pims.authentication.smscode");
    remote(&[
        "call",
        "get",
        "pims.authentication.smscode",
        "type=enrollment",
    ])
    .expect(1);
    let outbox = sim.sms_outbox(Some(DEMO_PHONE_NUMBER));
    assert_eq!(outbox["messages"].as_array().unwrap().len(), 1, "{outbox}");
    sim.clear_faults();

    // Enrol this installation's device with PIN 1234 (straight in the simulator's state).
    support::enrol_home_device(&rt, &sim, &home);

    // One wrong PIN whose answer is lost: one attempt counted, the account not blocked.
    lose_answers_after_processing(&sim, "pims.authentication.otp");
    let run = remote(&[
        "call",
        "get",
        "pims.authentication.otp",
        "action=withPIN",
        "pinCode=9999",
    ])
    .expect(1);
    assert!(run.stderr.contains("2204"), "{}", run.stderr);
    assert_eq!(state(&sim)["accounts"][0]["wrongPinCount"], 1);
    assert_eq!(state(&sim)["accounts"][0]["blocked"], json!("NotBlocked"));
    sim.clear_faults();
    remote(&[
        "call",
        "get",
        "pims.authentication.otp",
        "action=withPIN",
        "pinCode=1234",
    ])
    .expect(0);

    // A malformed PIN never leaves: 2102, and no attempt counted.
    let run = remote(&[
        "call",
        "get",
        "pims.authentication.otp",
        "action=withPIN",
        "pinCode=123",
    ])
    .expect(1);
    assert!(
        run.stderr.contains("Invalid pinCode parameter"),
        "{}",
        run.stderr
    );
    assert_eq!(state(&sim)["accounts"][0]["wrongPinCount"], 0);
}
