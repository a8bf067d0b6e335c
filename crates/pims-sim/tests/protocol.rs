//! The wire protocol over real HTTP: bad input, headers, HTTP statuses, Idempotency-Key,
//! faults, the admin API and its token, the OpenAPI document, 64 concurrent enrolments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Sim, send};

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_PIN, DEMO_TOKEN, DEMO_VIN, Scenario};

const STEPS_CALL: &str = r#"{"transactionId": "953cfefb-bc72", "verb": "get", "api": "pims.subscription.steps", "parameters": {"carAssociationID": "987654"}}"#;

fn label(r: &support::Reply) -> (u16, u64, String) {
    r.error()
}

#[tokio::test]
async fn malformed_bodies_get_2101_or_2102_naming_the_field() {
    let sim = Sim::start().await;
    let t = Some(DEMO_TOKEN);
    let d = Some("phone-1");
    let cases: Vec<(&[u8], u64, &str)> = vec![
        (b"{", 2102, "Invalid body parameter"),
        (b"", 2102, "Invalid body parameter"),
        (b"not json at all", 2102, "Invalid body parameter"),
        (b"[1, 2]", 2102, "Invalid body parameter"),
        (br#"{"verb": "get", "api": "x"}"#, 2101, "Missing transactionId parameter"),
        (br#"{"transactionId": "", "verb": "get", "api": "x"}"#, 2102, "Invalid transactionId parameter"),
        (br#"{"transactionId": "a b", "verb": "get", "api": "x"}"#, 2102, "Invalid transactionId parameter"),
        (br#"{"transactionId": "t1", "api": "x"}"#, 2101, "Missing verb parameter"),
        (br#"{"transactionId": "t1", "verb": 5, "api": "x"}"#, 2102, "Invalid verb parameter"),
        (br#"{"transactionId": "t1", "verb": "GET", "api": "x"}"#, 2102, "Invalid verb parameter"),
        (br#"{"transactionId": "t1", "verb": "get"}"#, 2101, "Missing api parameter"),
        (br#"{"transactionId": "t1", "verb": "get", "api": ["x"]}"#, 2102, "Invalid api parameter"),
        (br#"{"transactionId": "t1", "verb": "get", "api": "x", "parameters": [1]}"#, 2102, "Invalid parameters parameter"),
        (br#"{"transactionId": "t9", "verb": "get", "api": "pims.subscription.steps", "parameters": {"carAssociationID": NaN}}"#, 2102, "Invalid body parameter"),
    ];
    for (body, code, text) in cases {
        let r = sim.raw_call(t, d, &[], body.to_vec()).await;
        assert_eq!(
            label(&r),
            (400, code, text.to_owned()),
            "{}",
            String::from_utf8_lossy(body)
        );
        let tid = r.envelope["transactionId"].as_str().unwrap();
        if String::from_utf8_lossy(body).contains("\"t1\"") {
            assert_eq!(tid, "t1", "a usable transactionId is echoed");
        } else {
            assert!(
                pims_types::TransactionId::parse(tid)
                    .unwrap()
                    .has_documented_shape()
            );
        }
    }
    // Deep nesting does not crash the server.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = sim.raw_call(t, d, &[], deep).await;
    assert_eq!(r.code(), 2102);
    // And it still answers a good call.
    sim.raw_call(t, d, &[], STEPS_CALL).await.result();
}

#[tokio::test]
async fn bodies_over_64_kib_get_413() {
    let sim = Sim::start().await;
    let t = Some(DEMO_TOKEN);
    let d = Some("phone-1");
    // Exactly 64 KiB is accepted (padding inside the JSON).
    let pad = pims_types::MAX_CALL_BODY_BYTES - STEPS_CALL.len();
    let exact = format!("{}{}", STEPS_CALL, " ".repeat(pad));
    assert_eq!(exact.len(), 64 * 1024);
    sim.raw_call(t, d, &[], exact.clone()).await.result();
    for size in [64 * 1024 + 1, 512 * 1024] {
        let big = format!("{}{}", STEPS_CALL, " ".repeat(size - STEPS_CALL.len()));
        let r = sim.raw_call(t, d, &[], big).await;
        assert_eq!(
            label(&r),
            (413, 2102, "Invalid body parameter".into()),
            "{size}"
        );
    }
    // Far over the limit: refused without being read (413, or the connection is closed while
    // the client still sends); the server goes on serving either way.
    let huge = vec![b' '; 8 * 1024 * 1024];
    let auth = format!("Bearer {DEMO_TOKEN}");
    match send(
        sim.addr(),
        "POST",
        "/v1/calls",
        &[("authorization", &auth), ("pims-device-id", "p")],
        huge,
    )
    .await
    {
        Ok(a) => assert_eq!(a.status, 413),
        Err(e) => assert!(!e.is_empty()),
    }
    sim.raw_call(t, d, &[], STEPS_CALL).await.result();
}

#[tokio::test]
async fn headers_bearer_and_device_id() {
    let sim = Sim::start().await;
    let steps = json!({"carAssociationID": "987654"});
    let api = "pims.subscription.steps";
    let need_auth = (
        401,
        2301,
        "Need Basic Authentication (to get CVS token)".to_owned(),
    );
    let r = sim
        .call_as(None, Some("phone-1"), "get", api, steps.clone())
        .await;
    assert_eq!(label(&r), need_auth);
    let r = sim
        .call_as(Some("nope"), Some("phone-1"), "get", api, steps.clone())
        .await;
    assert_eq!(label(&r), need_auth);
    let r = sim
        .raw_call(
            None,
            Some("phone-1"),
            &[("authorization", "Basic ZGVtbzpkZW1v")],
            STEPS_CALL,
        )
        .await;
    assert_eq!(label(&r), need_auth);
    let r = sim
        .call_as(Some(DEMO_TOKEN), None, "get", api, steps.clone())
        .await;
    assert_eq!(
        label(&r),
        (400, 2101, "Missing Pims-Device-Id parameter".into())
    );
    for bad in ["has space", &"x".repeat(65)] {
        let r = sim
            .call_as(Some(DEMO_TOKEN), Some(bad), "get", api, steps.clone())
            .await;
        assert_eq!(
            label(&r),
            (400, 2102, "Invalid Pims-Device-Id parameter".into())
        );
    }
    // The scheme is case-insensitive.
    let r = sim
        .raw_call(
            None,
            Some("phone-1"),
            &[("authorization", "bearer demo-token")],
            STEPS_CALL,
        )
        .await;
    r.result();
}

#[tokio::test]
async fn unknown_apis_and_verbs_get_2002() {
    let sim = Sim::start().await;
    let not_supported = (400, 2002, "API not supported".to_owned());
    for (verb, api) in [
        ("get", "pims.nothing"),
        ("get", "pims.vehicle.informations"),
        ("set", "pims.subscription.steps"),
        ("subscribe", "pims.subscription.steps"),
        ("unsubscribe", "pims.subscription.steps"),
        ("get", "pims.authentication.enrollment"),
        ("set", "pims.authentication.otp"),
    ] {
        let r = sim.call("phone-1", verb, api, json!({})).await;
        assert_eq!(label(&r), not_supported, "{verb} {api}");
    }
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let sim = Sim::start().await;
    sim.server.pair_vehicle(DEMO_VIN, "phone-1").await.unwrap();
    sim.call(
        "phone-1",
        "set",
        "pims.vehicle.vin",
        json!({"vin": DEMO_VIN}),
    )
    .await
    .result();
    let auth = format!("Bearer {DEMO_TOKEN}");
    let call = |key: &'static str, tid: &'static str, params: Value| {
        let body = json!({"transactionId": tid, "verb": "set", "api": "pims.vehicle.carkey",
                          "parameters": params})
        .to_string();
        let sim = &sim;
        let auth = auth.clone();
        async move {
            send(
                sim.addr(),
                "POST",
                "/v1/calls",
                &[
                    ("authorization", &auth),
                    ("pims-device-id", "phone-1"),
                    ("idempotency-key", key),
                ],
                body,
            )
            .await
            .unwrap()
        }
    };
    let first = call("key-1", "tid-1", json!({})).await;
    let second = call("key-1", "tid-2", json!({})).await;
    let (a, b) = (first.json(), second.json());
    assert_eq!(a["transactionId"], "tid-1");
    assert_eq!(
        b["transactionId"], "tid-2",
        "the replay echoes the new transactionId"
    );
    assert_eq!(
        a["result"], b["result"],
        "same securityCode: the work was not done again"
    );
    assert_eq!(first.header(pims_sim::IDEMPOTENT_REPLAY_HEADER), None);
    assert_eq!(
        second.header(pims_sim::IDEMPOTENT_REPLAY_HEADER),
        Some("true")
    );
    let third = call("key-2", "tid-3", json!({})).await.json();
    assert_ne!(third["result"]["securityCode"], Value::Null);
    // The same key for another call is refused.
    let conflict = call("key-1", "tid-4", json!({"vin": DEMO_VIN})).await;
    assert_eq!(conflict.status, 400);
    assert_eq!(
        conflict.json()["error"]["label"],
        "Invalid Idempotency-Key parameter"
    );
    let bad = call("bad key", "tid-5", json!({})).await;
    assert_eq!(
        bad.json()["error"]["label"],
        "Invalid Idempotency-Key parameter"
    );

    // A replayed enrolment succeeds again although its SMS code is now used.
    sim.call(
        "phone-1",
        "get",
        "pims.authentication.smscode",
        json!({"type": "enrollment"}),
    )
    .await
    .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let params = json!({"action": "enroll", "pinCode": DEMO_PIN, "smsCode": code});
    let key = [("idempotency-key", "enrol-1")];
    let body = |tid: &str| {
        json!({"transactionId": tid, "verb": "set", "api": "pims.authentication.enrollment", "parameters": params}).to_string()
    };
    sim.raw_call(Some(DEMO_TOKEN), Some("phone-1"), &key, body("e1"))
        .await
        .result();
    sim.raw_call(Some(DEMO_TOKEN), Some("phone-1"), &key, body("e2"))
        .await
        .result();
    let fresh = sim
        .raw_call(
            Some(DEMO_TOKEN),
            Some("phone-1"),
            &[("idempotency-key", "enrol-2")],
            body("e3"),
        )
        .await;
    assert_eq!(fresh.code(), 2305);
    // A get is keyed too (issue 13: `get smscode` sends an SMS): the repeat sends none.
    let mut replayed = Vec::new();
    for _ in 0..2 {
        let body =
            json!({"transactionId": "g", "verb": "get", "api": "pims.authentication.smscode",
                          "parameters": {"type": "enrollment"}})
            .to_string();
        let r = sim
            .raw_call(
                Some(DEMO_TOKEN),
                Some("phone-1"),
                &[("idempotency-key", "g-1")],
                body,
            )
            .await;
        r.result();
        replayed.push(
            r.answer
                .header(pims_sim::IDEMPOTENT_REPLAY_HEADER)
                .is_some(),
        );
    }
    assert_eq!(replayed, [false, true]);
    let outbox = sim.server.sms_outbox(Some(DEMO_PHONE_NUMBER));
    assert_eq!(outbox["messages"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn fault_statuses_garbage_and_latency() {
    let sim = Sim::start().await;
    let t = Some(DEMO_TOKEN);
    let d = Some("phone-1");
    let (status, set) = sim
        .admin(
            "POST",
            "/admin/faults",
            Some(json!({"status": 503, "count": 1})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(set["faults"]["count"], 1);
    let r = sim.raw_call(t, d, &[], STEPS_CALL).await;
    assert_eq!(label(&r), (503, 2204, "Server Error".into()));
    assert_eq!(r.envelope["transactionId"], "953cfefb-bc72");
    assert_eq!(r.envelope["error"]["subCode"][0]["code"], "FAULT_INJECTED");
    sim.raw_call(t, d, &[], STEPS_CALL).await.result();
    assert_eq!(
        sim.admin("GET", "/admin/faults", None).await.1,
        json!({"faults": null})
    );

    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"status": 429, "retryAfterSecs": 7})),
    )
    .await;
    let r = sim.raw_call(t, d, &[], STEPS_CALL).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.answer.header("retry-after"), Some("7"));
    // Faults apply to /v1/calls only.
    assert_eq!(sim.admin("GET", "/admin/state", None).await.0, 200);
    assert_eq!(
        send(sim.addr(), "GET", "/healthz", &[], "")
            .await
            .unwrap()
            .status,
        200
    );

    sim.admin("POST", "/admin/faults", Some(json!({"status": 401})))
        .await;
    assert_eq!(label(&sim.raw_call(t, d, &[], STEPS_CALL).await).1, 2301);

    sim.admin("POST", "/admin/faults", Some(json!({"garbageBody": true})))
        .await;
    let auth = format!("Bearer {DEMO_TOKEN}");
    let a = send(
        sim.addr(),
        "POST",
        "/v1/calls",
        &[("authorization", &auth), ("pims-device-id", "p")],
        STEPS_CALL,
    )
    .await
    .unwrap();
    assert_eq!(a.status, 200);
    assert!(
        serde_json::from_slice::<Value>(&a.body).is_err(),
        "not JSON"
    );

    // Per API: only the listed ones.
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"status": 500, "apis": ["pims.subscription.services"]})),
    )
    .await;
    sim.raw_call(t, d, &[], STEPS_CALL).await.result();
    let r = sim
        .call(
            "phone-1",
            "get",
            "pims.subscription.services",
            json!({"vin": DEMO_VIN}),
        )
        .await;
    assert_eq!(label(&r), (500, 2204, "Server Error".into()));

    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"latencyMs": 150, "failRate": 0.0})),
    )
    .await;
    let start = Instant::now();
    sim.raw_call(t, d, &[], STEPS_CALL).await.result();
    assert!(start.elapsed() >= Duration::from_millis(150));

    let (status, cleared) = sim.admin("DELETE", "/admin/faults", None).await;
    assert_eq!((status, cleared), (200, json!({"faults": null})));
    sim.raw_call(t, d, &[], STEPS_CALL).await.result();

    // Invalid faults name the field.
    for (body, field) in [
        (json!({"failRate": 1.5}), "failRate"),
        (json!({"status": 200}), "status"),
        (json!({"apis": ["pims.nothing"]}), "apis[0]"),
        (json!({"latencyMs": "slow"}), "latencyMs"),
        (json!({"statuss": 500}), "statuss"),
    ] {
        let (status, e) = sim.admin("POST", "/admin/faults", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(e["field"], field, "{body} {e}");
    }
}

#[tokio::test]
async fn a_dropped_connection_after_the_work_and_an_idempotent_retry() {
    let sim = Sim::start().await;
    sim.server.pair_vehicle(DEMO_VIN, "phone-1").await.unwrap();
    sim.call(
        "phone-1",
        "set",
        "pims.vehicle.vin",
        json!({"vin": DEMO_VIN}),
    )
    .await
    .result();
    // Before the work: nothing happens, the connection closes without an answer.
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"dropConnection": true, "count": 1})),
    )
    .await;
    let auth = format!("Bearer {DEMO_TOKEN}");
    let headers = [
        ("authorization", auth.as_str()),
        ("pims-device-id", "phone-1"),
        ("idempotency-key", "ck-1"),
    ];
    let body =
        json!({"transactionId": "c1", "verb": "set", "api": "pims.vehicle.carkey"}).to_string();
    let e = send(sim.addr(), "POST", "/v1/calls", &headers, body.clone())
        .await
        .unwrap_err();
    assert!(!e.is_empty());
    assert!(sim.server.state().car_keys.is_empty(), "no work done");

    // After the work: the CarKey is activated but the answer is lost.
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"dropConnection": true, "afterProcessing": true, "count": 1})),
    )
    .await;
    assert!(
        send(sim.addr(), "POST", "/v1/calls", &headers, body.clone())
            .await
            .is_err()
    );
    assert_eq!(sim.server.state().car_keys.len(), 1);
    // The retry with the same key gets the first answer.
    let retry = send(sim.addr(), "POST", "/v1/calls", &headers, body)
        .await
        .unwrap();
    assert_eq!(
        retry.header(pims_sim::IDEMPOTENT_REPLAY_HEADER),
        Some("true")
    );
    assert_eq!(retry.json()["result"]["hasCarKey"], true);
}

#[tokio::test]
async fn admin_routes_need_the_admin_token() {
    let sim = Sim::start().await;
    let routes = [
        ("GET", "/admin/sms"),
        ("POST", "/admin/scenario"),
        ("GET", "/admin/state"),
        ("POST", "/admin/devices/d/disable"),
        ("POST", "/admin/vehicles/VR1AB12C3D4567890/pair"),
        ("POST", "/admin/carkeys/VR1AB12C3D4567890/suspend"),
        ("POST", "/admin/faults"),
        ("GET", "/admin/faults"),
        ("DELETE", "/admin/faults"),
        ("GET", "/admin/clock"),
        ("POST", "/admin/clock"),
    ];
    for (method, path) in routes {
        for headers in [
            vec![],
            vec![("authorization", "Bearer wrong")],
            vec![("authorization", "Bearer demo-token")],
        ] {
            let a = send(sim.addr(), method, path, &headers, "").await.unwrap();
            assert_eq!(a.status, 401, "{method} {path}");
            assert!(a.json()["error"].as_str().unwrap().contains("admin token"));
        }
    }
    // The user token is not an admin token, and the admin token is not a user token.
    let admin = sim.server.admin_token().to_owned();
    let r = sim
        .call_as(
            Some(&admin),
            Some("phone-1"),
            "get",
            "pims.subscription.steps",
            json!({"carAssociationID": "987654"}),
        )
        .await;
    assert_eq!(r.code(), 2301);
}

#[tokio::test]
async fn admin_scenario_state_and_errors() {
    let sim = Sim::start().await;
    // The state round-trips through the scenario route.
    sim.demo_steps("phone-1").await;
    let (status, state) = sim.admin("GET", "/admin/state", None).await;
    assert_eq!(status, 200);
    assert_eq!(state["stepLists"][0]["stepsId"], 132324);
    assert_eq!(state["nextStepsId"], 132325);
    let (status, loaded) = sim
        .admin("POST", "/admin/scenario", Some(state.clone()))
        .await;
    assert_eq!((status, loaded), (200, json!({"status": "loaded"})));
    assert_eq!(sim.admin("GET", "/admin/state", None).await.1, state);

    // A bad document is refused with the field and why, and the state is unchanged.
    for (doc, field) in [
        (
            json!({"accounts": [{"id": "a", "tokens": ["t"], "pin": "1"}]}),
            "accounts[0].pin",
        ),
        (json!({"accounts": [{"id": "a"}]}), "accounts[0]"),
        (
            json!({"vehicles": [{"vin": "VR1AB12C3D4567890", "colour": "red"}]}),
            "vehicles[0].colour",
        ),
        (
            json!({"carAssociations": [{"id": "1", "accountId": "x", "serviceCode": "S", "vin": DEMO_VIN}]}),
            "carAssociations[0].accountId",
        ),
        (json!([]), "$"),
    ] {
        let (status, e) = sim
            .admin("POST", "/admin/scenario", Some(doc.clone()))
            .await;
        assert_eq!(status, 400, "{doc}");
        assert_eq!(e["field"], field, "{doc}: {e}");
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid scenario: "),
            "{e}"
        );
    }
    assert_eq!(sim.admin("GET", "/admin/state", None).await.1, state);

    // A new scenario really replaces the state.
    let (status, _) = sim
        .admin(
            "POST",
            "/admin/scenario",
            Some(Scenario::default_scenario().to_value()),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sim.demo_steps("phone-9").await.0,
        132324,
        "counter back to the scenario's"
    );

    // Admin actions on things that do not exist.
    let (status, e) = sim
        .admin(
            "POST",
            "/admin/vehicles/VR1AB12C3D4567899/pair",
            Some(json!({"deviceId": "d"})),
        )
        .await;
    assert_eq!(status, 404, "{e}");
    let (status, e) = sim
        .admin(
            "POST",
            "/admin/vehicles/nope/pair",
            Some(json!({"deviceId": "d"})),
        )
        .await;
    assert_eq!((status, e["field"].clone()), (400, json!("vin")));
    let (status, e) = sim
        .admin(
            "POST",
            &format!("/admin/vehicles/{DEMO_VIN}/pair"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = sim
        .admin("POST", &format!("/admin/carkeys/{DEMO_VIN}/suspend"), None)
        .await;
    assert_eq!(status, 404, "no CarKey yet");
    let (status, e) = sim.admin("GET", "/admin/sms?phoneNumber=123", None).await;
    assert_eq!((status, e["field"].clone()), (400, json!("phoneNumber")));
    let (status, e) = sim
        .admin("POST", "/admin/clock", Some(json!({"advanceSecs": -1})))
        .await;
    assert_eq!((status, e["field"].clone()), (400, json!("advanceSecs")));
    let (_, all) = sim.admin("GET", "/admin/sms", None).await;
    assert_eq!(all, json!({"phoneNumber": null, "messages": []}));
}

/// Whether a date is RFC 3339 as the simulator writes it: `YYYY-MM-DDTHH:MM:SSZ`, four-digit year.
fn is_simulator_date(v: &Value) -> bool {
    v.as_str().is_some_and(|d| {
        let b = d.as_bytes();
        b.len() == 20
            && b[4] == b'-'
            && b[10] == b'T'
            && b[19] == b'Z'
            && b[..4].iter().all(u8::is_ascii_digit)
    })
}

#[tokio::test]
async fn the_clock_never_goes_past_year_9999() {
    let sim = Sim::start().await;
    let ten_years = 10 * 366 * 86_400;
    let mut refused = None;
    // About 800 jumps of ten years reach the bound; the loop is bounded either way.
    for _ in 0..1000 {
        let (status, body) = sim
            .admin(
                "POST",
                "/admin/clock",
                Some(json!({"advanceSecs": ten_years})),
            )
            .await;
        if status != 200 {
            refused = Some((status, body));
            break;
        }
        assert!(is_simulator_date(&body["now"]), "{body}");
    }
    let (status, body) = refused.expect("the clock kept moving past year 9999");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "advanceSecs", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("9999-01-01T00:00:00Z"),
        "{body}"
    );
    // What is left can still be used, up to the bound. (The clock follows real time too: the
    // headroom said shrinks by a second whenever a second passes between two requests, so the
    // step leaves a few seconds to spare.)
    let left = body["error"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .find_map(|w| w.parse::<u64>().ok())
        .unwrap();
    let (status, clock) = sim
        .admin(
            "POST",
            "/admin/clock",
            Some(json!({"advanceSecs": left.saturating_sub(5)})),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    let now = clock["now"].as_str().unwrap();
    assert!(now.starts_with("9998-12-31T23:59:5"), "{now}");
    // A step past the bound is refused, however little is left.
    let (status, body) = sim
        .admin("POST", "/admin/clock", Some(json!({"advanceSecs": 60})))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "advanceSecs", "{body}");
    // Dates computed from the clock (SMS expiry, CarKey reactivation) keep four-digit years.
    sim.server.clock().advance(Duration::MAX);
    sim.call(
        "phone-1",
        "get",
        "pims.authentication.smscode",
        json!({"type": "enrollment"}),
    )
    .await
    .result();
    let (_, outbox) = sim.admin("GET", "/admin/sms", None).await;
    let message = &outbox["messages"][0];
    assert!(
        is_simulator_date(&message["sentAt"]) && is_simulator_date(&message["expiresAt"]),
        "{message}"
    );
    let (_, clock) = sim.admin("GET", "/admin/clock", None).await;
    assert_eq!(clock["now"], "9999-01-01T00:00:00Z");
}

/// A keyed call body to `/v1/calls` from phone-1 of the demo account.
async fn keyed(sim: &Sim, key: &str, verb: &str, api: &str, params: Value) -> support::Answer {
    let auth = format!("Bearer {DEMO_TOKEN}");
    let headers = [
        ("authorization", auth.as_str()),
        ("pims-device-id", "phone-1"),
        ("idempotency-key", key),
    ];
    let body = json!({"transactionId": support::tid(), "verb": verb, "api": api,
                      "parameters": params})
    .to_string();
    send(sim.addr(), "POST", "/v1/calls", &headers, body)
        .await
        .unwrap()
}

/// The demo account's wrong-PIN counter, as `GET /admin/state` shows it.
async fn wrong_pins(sim: &Sim) -> u64 {
    let (_, state) = sim.admin("GET", "/admin/state", None).await;
    state["accounts"][0]["wrongPinCount"].as_u64().unwrap()
}

#[tokio::test]
async fn keyed_gets_are_replayed_without_sending_an_sms_or_counting_a_pin_again() {
    let sim = Sim::start().await;
    let smscode = "pims.authentication.smscode";
    let enrollment = json!({"type": "enrollment"});
    let first = keyed(&sim, "sms-1", "get", smscode, enrollment.clone()).await;
    let again = keyed(&sim, "sms-1", "get", smscode, enrollment.clone()).await;
    assert_eq!(first.json()["status"], "SUCCEEDED");
    assert_eq!(again.json()["status"], "SUCCEEDED");
    assert_eq!(
        again.header(pims_sim::IDEMPOTENT_REPLAY_HEADER),
        Some("true")
    );
    let outbox = sim.server.sms_outbox(Some(DEMO_PHONE_NUMBER));
    assert_eq!(outbox["messages"].as_array().unwrap().len(), 1, "one SMS");
    // A key reused for another call is refused, on a get as on a set.
    let other = keyed(&sim, "sms-1", "get", smscode, json!({"type": "resetPIN"})).await;
    assert_eq!(other.status, 400);
    assert_eq!(
        other.json()["error"]["label"],
        "Invalid Idempotency-Key parameter"
    );

    sim.enroll_demo("phone-1", DEMO_PIN).await;
    let otp = "pims.authentication.otp";
    let wrong = json!({"action": "withPIN", "pinCode": "0000"});
    for _ in 0..3 {
        let a = keyed(&sim, "otp-1", "get", otp, wrong.clone()).await;
        assert_eq!(a.json()["error"]["code"], 2308);
    }
    assert_eq!(
        wrong_pins(&sim).await,
        1,
        "one wrong PIN, however often it is resent"
    );
    // Another key is another attempt.
    keyed(&sim, "otp-2", "get", otp, wrong).await;
    assert_eq!(wrong_pins(&sim).await, 2);
    // A right PIN under a key: the same OTP again, not a second one.
    let right = json!({"action": "withPIN", "pinCode": DEMO_PIN});
    let a = keyed(&sim, "otp-3", "get", otp, right.clone()).await.json();
    let b = keyed(&sim, "otp-3", "get", otp, right).await.json();
    assert_eq!(a["result"]["otp"], b["result"]["otp"]);
    assert_eq!(wrong_pins(&sim).await, 0);
    // A pure read with a key takes the full path and is checked like any other call.
    let steps = json!({"carAssociationID": "987654"});
    let s1 = keyed(
        &sim,
        "steps-1",
        "get",
        "pims.subscription.steps",
        steps.clone(),
    )
    .await;
    let s2 = keyed(&sim, "steps-1", "get", "pims.subscription.steps", steps).await;
    assert_eq!(s1.json()["result"], s2.json()["result"]);
    assert_eq!(s2.header(pims_sim::IDEMPOTENT_REPLAY_HEADER), Some("true"));
    let s3 = keyed(
        &sim,
        "steps-1",
        "get",
        "pims.subscription.steps",
        json!({"stepsID": "132324"}),
    )
    .await;
    assert_eq!(s3.status, 400, "a key reused for another call");
}

#[tokio::test]
async fn faults_after_processing_do_the_work_then_fail_and_a_keyed_resend_is_replayed() {
    let sim = Sim::start().await;
    sim.enroll_demo("phone-1", DEMO_PIN).await;
    let otp = "pims.authentication.otp";
    let wrong = json!({"action": "withPIN", "pinCode": "9999"});
    // The issue's reproduction: a 500 after the work, twice.
    let fault = json!({"status": 500, "afterProcessing": true,
                       "apis": ["pims.authentication.otp"], "count": 2});
    let (status, _) = sim
        .admin("POST", "/admin/faults", Some(fault.clone()))
        .await;
    assert_eq!(status, 200);
    // Unkeyed, each attempt does the work: three sends, three wrong PINs, blocked.
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let r = sim.call("phone-1", "get", otp, wrong.clone()).await;
            v.push(r.status);
        }
        v
    };
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(wrong_pins(&sim).await, 3);
    sim.call(
        "phone-1",
        "set",
        "pims.authentication.enrollment",
        json!({"action": "remove"}),
    )
    .await
    .result();
    sim.enroll_demo("phone-1", DEMO_PIN).await;

    // Keyed: the first send does the work (then 500), the resends replay it (500, then the
    // recorded answer): one wrong PIN.
    sim.admin("POST", "/admin/faults", Some(fault)).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        let a = keyed(&sim, "k-500", "get", otp, wrong.clone()).await;
        answers.push((
            a.status,
            a.header(pims_sim::IDEMPOTENT_REPLAY_HEADER).is_some(),
        ));
        if a.status == 500 {
            let e = a.json();
            assert_eq!(e["error"]["code"], 2204, "{e}");
            assert_eq!(e["error"]["subCode"][0]["code"], "FAULT_INJECTED", "{e}");
        } else {
            assert_eq!(a.json()["error"]["code"], 2308);
        }
    }
    assert_eq!(answers, [(500, false), (500, false), (200, true)]);
    assert_eq!(wrong_pins(&sim).await, 1);

    // A dropped connection after the work: the request was read and done, no answer.
    sim.admin(
        "POST",
        "/admin/faults",
        Some(json!({"dropConnection": true, "afterProcessing": true, "apis": [otp], "count": 1})),
    )
    .await;
    let auth = format!("Bearer {DEMO_TOKEN}");
    let headers = [
        ("authorization", auth.as_str()),
        ("pims-device-id", "phone-1"),
        ("idempotency-key", "k-drop"),
    ];
    let body =
        json!({"transactionId": "d1", "verb": "get", "api": otp, "parameters": wrong}).to_string();
    let lost = send(sim.addr(), "POST", "/v1/calls", &headers, body.clone()).await;
    assert!(lost.is_err(), "no answer: {lost:?}");
    assert_eq!(wrong_pins(&sim).await, 2, "the work was done");
    let resend = send(sim.addr(), "POST", "/v1/calls", &headers, body)
        .await
        .unwrap();
    assert_eq!(
        resend.header(pims_sim::IDEMPOTENT_REPLAY_HEADER),
        Some("true")
    );
    assert_eq!(resend.json()["error"]["code"], 2308);
    assert_eq!(wrong_pins(&sim).await, 2, "not done again");
}

#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let sim = Sim::start().await;
    let a = send(sim.addr(), "GET", "/openapi.json", &[], "")
        .await
        .unwrap();
    assert_eq!(a.status, 200);
    let doc = a.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].is_object() && op["summary"].is_string(),
                "{method} {path}"
            );
            documented.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    assert!(documented.len() >= 14);
    let concrete = |path: &str| {
        path.replace("{deviceId}", "phone-1")
            .replace("{vin}", DEMO_VIN)
    };
    // Every documented route is served (never 404/405)...
    for (method, path) in &documented {
        let a = send(sim.addr(), method, &concrete(path), &[], "")
            .await
            .unwrap();
        assert!(
            ![404, 405].contains(&a.status),
            "{method} {path}: {}",
            a.status
        );
    }
    // ...and nothing else: other methods on these paths are 405, other paths 404.
    for path in paths.keys() {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if documented.iter().any(|(m, p)| m == method && p == path) {
                continue;
            }
            let a = send(sim.addr(), method, &concrete(path), &[], "")
                .await
                .unwrap();
            assert_eq!(a.status, 405, "{method} {path}");
        }
    }
    for path in [
        "/",
        "/v1",
        "/v1/call",
        "/admin",
        "/admin/devices/x",
        "/admin/unknown",
        "/openapi.yaml",
    ] {
        let a = send(sim.addr(), "GET", path, &[], "").await.unwrap();
        assert_eq!(a.status, 404, "{path}");
        assert!(a.json()["error"].is_string());
    }
    let health = send(sim.addr(), "GET", "/healthz", &[], "").await.unwrap();
    assert_eq!(health.json(), json!({"status": "ok"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_devices_enrol_at_once() {
    let n = 64;
    let sim = Arc::new(Sim::with_scenario(support::many_accounts(n)).await);
    let mut tasks = Vec::new();
    for i in 0..n {
        let sim = sim.clone();
        tasks.push(tokio::spawn(async move {
            let token = format!("token-{i}");
            let device = format!("device-{i}");
            let steps = json!({"carAssociationID": format!("assoc-{i}")});
            let api = "pims.subscription.steps";
            let r = sim
                .call_as(Some(&token), Some(&device), "get", api, steps.clone())
                .await;
            assert_eq!(
                support::statuses(r.result()).1,
                ["alreadyDone", "todo", "todo"]
            );
            sim.enroll(&token, &support::phone_of(i), &device, "4321")
                .await;
            let r = sim
                .call_as(Some(&token), Some(&device), "get", api, steps)
                .await;
            support::statuses(r.result())
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (id, statuses) = t.await.unwrap();
        assert_eq!(statuses, ["alreadyDone", "alreadyDone", "todo"]);
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "every device has its own stepsID");
    let state = sim.server.state();
    let enrolled = state
        .devices
        .iter()
        .filter(|d| d.status == pims_sim::DeviceStatus::Enrolled)
        .count();
    assert_eq!(enrolled, n, "no lost update");
    // Every PIN registered, kept as a hash only.
    assert!(state.accounts.iter().all(|a| a.pin.is_none()));
    assert_eq!(
        state
            .accounts
            .iter()
            .filter(|a| a.pin_hash.is_some())
            .count(),
        n
    );
    assert_eq!(state.step_lists.len(), n);
    assert!(
        state
            .sms_outbox
            .iter()
            .all(|m| m.state == pims_sim::SmsState::Consumed)
    );
}
