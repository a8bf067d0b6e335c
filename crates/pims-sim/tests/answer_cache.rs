//! The cache of serialised steps answers, over real HTTP: a repeated steps call answers the
//! same bytes as the first, and the answer after each kind of change (calls that change the
//! state, admin actions, scenario loads, the clock, a restart from the state file) is the
//! fresh one; faults still apply to steps calls once their answer is cached.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::{Sim, send, statuses, tid};

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_PIN, DEMO_TOKEN, DEMO_VIN, Scenario, SimConfig};

const STEPS: &str = "pims.subscription.steps";
const STEP: &str = "pims.subscription.step";
const SMS: &str = "pims.authentication.smscode";

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The body of a steps call of the demo association, as the SDK sends it.
fn steps_body(transaction_id: &str) -> String {
    json!({"transactionId": transaction_id, "verb": "get", "api": STEPS,
           "parameters": {"carAssociationID": "987654", "resetSteps": false, "stepsStatus": "all"}})
    .to_string()
}

/// The steps of the demo association, asked twice (the second answer may come from the
/// cache): both must agree. Returns (stepsID, statuses).
async fn steps_twice(sim: &Sim, device: &str) -> (u64, Vec<String>) {
    let first = sim.demo_steps(device).await;
    let second = sim.demo_steps(device).await;
    assert_eq!(first, second, "a repeated steps call answers the same");
    first
}

/// The name of the next step (None when all are done), asked twice.
async fn next_twice(sim: &Sim, device: &str, steps_id: u64) -> Option<String> {
    let mut names = Vec::new();
    for _ in 0..2 {
        let r = sim
            .call(device, "get", STEP, json!({"stepsID": steps_id}))
            .await;
        let name = match r.result() {
            Value::Null => None,
            Value::Object(m) => m.keys().next().cloned(),
            other => panic!("unexpected next step {other}"),
        };
        names.push(name);
    }
    assert_eq!(
        names[0], names[1],
        "a repeated next-step call answers the same"
    );
    names.pop().flatten()
}

#[tokio::test]
async fn a_repeated_steps_call_answers_the_same_bytes_with_its_own_transaction_id() {
    let sim = Sim::start().await;
    let auth = format!("Bearer {DEMO_TOKEN}");
    let headers = [
        ("authorization", auth.as_str()),
        ("pims-device-id", "phone-1"),
        ("content-type", "application/json"),
    ];
    let mut answers = Vec::new();
    // The first call issues the stepsID, the second computes the list again, then the cache.
    for id in [
        "953cfefb-0001",
        "953cfefb-0002",
        "953cfefb-0003",
        "a\"quoted\\id",
    ] {
        let a = send(sim.addr(), "POST", "/v1/calls", &headers, steps_body(id))
            .await
            .unwrap();
        assert_eq!(a.status, 200);
        assert_eq!(a.header("content-type"), Some("application/json"));
        assert_eq!(
            a.header("content-length"),
            Some(a.body.len().to_string().as_str())
        );
        assert!(a.header(pims_sim::IDEMPOTENT_REPLAY_HEADER).is_none());
        let envelope = a.json();
        assert_eq!(envelope["transactionId"], id);
        // Byte for byte the same answer but for the transaction id.
        let text = String::from_utf8(a.body.to_vec()).unwrap();
        let id_json = serde_json::to_string(id).unwrap();
        answers.push(text.replacen(&id_json, "\"<id>\"", 1));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    assert!(answers[0].starts_with(
        r#"{"transactionId":"<id>","status":"SUCCEEDED","result":{"stepsID":132324,"#
    ));

    // The same parameters from another device, account or key order are other calls.
    let r = sim.demo_steps_call("phone-2").await;
    assert_eq!(statuses(r.result()).0, 132325);
    let r = sim
        .call(
            "phone-1",
            "get",
            STEPS,
            json!({"stepsStatus": "todo", "carAssociationID": "987654"}),
        )
        .await;
    assert_eq!(statuses(r.result()), (132324, strs(&["todo", "todo"])));
    sim.server
        .load_scenario(support::many_accounts(1))
        .await
        .unwrap();
    sim.demo_steps("phone-1").await;
    let r = sim
        .call_as(
            Some("token-0"),
            Some("phone-1"),
            "get",
            STEPS,
            json!({"carAssociationID": "987654", "resetSteps": false, "stepsStatus": "all"}),
        )
        .await;
    assert_eq!(
        r.error(),
        (400, 2102, "Invalid carAssociationID parameter".into()),
        "another account's call is not answered from the demo account's cache"
    );
    // Errors are answered by the full path, every time, even for a body the cache could
    // read: here an extra field nested deeper than the decoder accepts.
    sim.demo_steps("phone-1").await;
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let body = steps_body(&tid()).replacen('{', &format!("{{\"junk\":{deep},"), 1);
    let r = sim
        .raw_call(Some(DEMO_TOKEN), Some("phone-1"), &[], body)
        .await;
    assert_eq!(r.error().0, 400, "{}", r.envelope);
    assert_eq!(r.code(), 2102);
    for _ in 0..2 {
        let r = sim
            .raw_call(
                Some(DEMO_TOKEN),
                Some("bad device"),
                &[],
                steps_body(&tid()),
            )
            .await;
        assert_eq!(r.code(), 2102);
        let r = sim
            .raw_call(Some("nobody"), Some("phone-1"), &[], steps_body(&tid()))
            .await;
        assert_eq!(r.code(), 2301);
        let r = sim
            .raw_call(Some(DEMO_TOKEN), None, &[], steps_body(&tid()))
            .await;
        assert_eq!(r.code(), 2101);
    }
}

#[tokio::test]
async fn the_answer_after_each_kind_of_change_is_the_fresh_one() {
    let mut scenario = Scenario::default_scenario();
    scenario.accounts[0].trusted_phone_number = None;
    let sim = Sim::with_scenario(scenario).await;
    let dev = "phone-1";
    let (id, s) = steps_twice(&sim, dev).await;
    assert_eq!(s, strs(&["todo", "todo", "todo"]));
    assert_eq!(
        next_twice(&sim, dev, id).await.as_deref(),
        Some("trusterPhoneNumber")
    );

    // The clock: an SMS code sent, then expired by moving the clock; steps unchanged.
    let expired = sim.certification_code(dev, DEMO_PHONE_NUMBER).await;
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["todo", "todo", "todo"])
    );
    let (status, _) = sim
        .admin("POST", "/admin/clock", Some(json!({"advanceSecs": 301})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["todo", "todo", "todo"])
    );
    let r = sim
        .call(
            dev,
            "set",
            SMS,
            json!({"action": "addPhoneNumber", "smsCode": expired, "phoneNumber": DEMO_PHONE_NUMBER}),
        )
        .await;
    assert!(r.envelope["status"] == "FAILED", "{}", r.envelope);
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["todo", "todo", "todo"])
    );

    // A call that changes the state: the phone number registered.
    let code = sim.certification_code(dev, DEMO_PHONE_NUMBER).await;
    sim.call(
        dev,
        "set",
        SMS,
        json!({"action": "addPhoneNumber", "smsCode": code, "phoneNumber": DEMO_PHONE_NUMBER}),
    )
    .await
    .result();
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["alreadyDone", "todo", "todo"])
    );
    assert_eq!(
        next_twice(&sim, dev, id).await.as_deref(),
        Some("deviceActivation")
    );

    // Enrolment (several calls), then the CarKey (an admin pairing, then calls).
    sim.enroll_demo(dev, DEMO_PIN).await;
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["alreadyDone", "alreadyDone", "todo"])
    );
    sim.server.pair_vehicle(DEMO_VIN, dev).await.unwrap();
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["alreadyDone", "alreadyDone", "todo"])
    );
    sim.call(dev, "set", "pims.vehicle.vin", json!({"vin": DEMO_VIN}))
        .await
        .result();
    sim.call(dev, "set", "pims.vehicle.carkey", json!({}))
        .await
        .result();
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["alreadyDone", "alreadyDone", "alreadyDone"])
    );
    assert_eq!(next_twice(&sim, dev, id).await, None);

    // Admin actions over HTTP: CarKey suspended, device disabled.
    let (status, _) = sim
        .admin("POST", &format!("/admin/carkeys/{DEMO_VIN}/suspend"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["alreadyDone", "alreadyDone", "todo"])
    );
    assert_eq!(
        next_twice(&sim, dev, id).await.as_deref(),
        Some("mediumCarKey")
    );
    let (status, _) = sim
        .admin("POST", &format!("/admin/devices/{dev}/disable"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        steps_twice(&sim, dev).await.1,
        strs(&["alreadyDone", "todo", "todo"])
    );

    // A scenario load over HTTP: the state starts again (stepsIDs too).
    let mut fresh = Scenario::default_scenario();
    fresh.next_steps_id = Some(500);
    let (status, _) = sim
        .admin(
            "POST",
            "/admin/scenario",
            Some(serde_json::to_value(&fresh).unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    let r = sim.call(dev, "get", STEP, json!({"stepsID": id})).await;
    assert_eq!(r.code(), 2346, "the old stepsID is gone: {}", r.envelope);
    assert_eq!(
        steps_twice(&sim, dev).await,
        (500, strs(&["alreadyDone", "todo", "todo"]))
    );
    // And through the library.
    sim.server.load_scenario(Scenario::empty()).await.unwrap();
    let r = sim.demo_steps_call(dev).await;
    assert_eq!(r.code(), 2301, "no account any more: {}", r.envelope);
}

#[tokio::test]
async fn faults_still_apply_to_steps_calls_once_their_answer_is_cached() {
    let sim = Sim::start().await;
    let dev = "phone-1";
    let (id, expected) = steps_twice(&sim, dev).await;
    assert_eq!(
        next_twice(&sim, dev, id).await.as_deref(),
        Some("deviceActivation")
    );

    // A status for the steps API, twice.
    let (status, _) = sim
        .admin(
            "POST",
            "/admin/faults",
            Some(json!({"status": 503, "apis": [STEPS, STEP], "count": 3})),
        )
        .await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let r = sim.demo_steps_call(dev).await;
        assert_eq!(r.status, 503);
        assert_eq!(r.code(), 2204);
    }
    let r = sim.call(dev, "get", STEP, json!({"stepsID": id})).await;
    assert_eq!((r.status, r.code()), (503, 2204));
    assert_eq!(steps_twice(&sim, dev).await, (id, expected.clone()));

    // A garbage body, a dropped connection.
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"garbageBody": true, "count": 1})),
    )
    .await;
    let auth = format!("Bearer {DEMO_TOKEN}");
    let headers = [("authorization", auth.as_str()), ("pims-device-id", dev)];
    let a = send(
        sim.addr(),
        "POST",
        "/v1/calls",
        &headers,
        steps_body(&tid()),
    )
    .await
    .unwrap();
    assert_eq!(a.status, 200);
    assert!(serde_json::from_slice::<Value>(&a.body).is_err());
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"dropConnection": true, "count": 1})),
    )
    .await;
    assert!(
        send(
            sim.addr(),
            "POST",
            "/v1/calls",
            &headers,
            steps_body(&tid())
        )
        .await
        .is_err()
    );
    // A failure after processing still answers the failure.
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"status": 500, "afterProcessing": true, "count": 1})),
    )
    .await;
    let r = sim
        .raw_call(Some(DEMO_TOKEN), Some(dev), &[], steps_body(&tid()))
        .await;
    assert_eq!((r.status, r.code()), (500, 2204));

    // A fault for another API leaves steps calls alone; a latency delays them.
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"status": 503, "apis": ["pims.authentication.otp"]})),
    )
    .await;
    assert_eq!(steps_twice(&sim, dev).await, (id, expected.clone()));
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"latencyMs": 150, "count": 1})),
    )
    .await;
    let start = std::time::Instant::now();
    assert_eq!(sim.demo_steps(dev).await, (id, expected.clone()));
    assert!(start.elapsed() >= std::time::Duration::from_millis(150));
    let (_, faults) = sim.admin("GET", "/admin/faults", None).await;
    assert_eq!(faults["faults"], Value::Null, "the counted fault was used");
    assert_eq!(steps_twice(&sim, dev).await, (id, expected));
}

#[tokio::test]
async fn a_restart_from_the_state_file_answers_the_state_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.json");
    let config = || SimConfig::default().state_file(path.clone());
    let sim = Sim::with_config(config()).await;
    let (id, s) = steps_twice(&sim, "phone-1").await;
    assert_eq!(s, strs(&["alreadyDone", "todo", "todo"]));
    sim.enroll_demo("phone-1", DEMO_PIN).await;
    assert_eq!(
        steps_twice(&sim, "phone-1").await,
        (id, strs(&["alreadyDone", "alreadyDone", "todo"]))
    );
    sim.server.shutdown().await;

    let sim = Sim::with_config(config()).await;
    assert_eq!(
        steps_twice(&sim, "phone-1").await,
        (id, strs(&["alreadyDone", "alreadyDone", "todo"]))
    );
    sim.server.disable_device("phone-1").await.unwrap();
    sim.server.shutdown().await;
    let sim = Sim::with_config(config()).await;
    assert_eq!(
        steps_twice(&sim, "phone-1").await,
        (id, strs(&["alreadyDone", "todo", "todo"]))
    );
}
