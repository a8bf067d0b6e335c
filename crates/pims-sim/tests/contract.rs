//! The simulator keeps to its OpenAPI document (`GET /openapi.json`, docs/openapi.json): what
//! the contract stage of `cargo xtask ci` (schemathesis) found the server and the document
//! disagreeing on, each over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;

use serde_json::{Value, json};

use pims_sim::{DEMO_FIRST_STEPS_ID, DEMO_VIN};
use support::{Sim, send};

/// docs/openapi.json, from the workspace root.
fn committed_document_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// The document without what changes with each release (`info.version`).
fn comparable(mut doc: Value) -> Value {
    doc["info"]["version"] = Value::Null;
    doc
}

#[tokio::test]
async fn the_served_document_is_the_one_in_docs() {
    let sim = Sim::start().await;
    let answer = send(sim.addr(), "GET", "/openapi.json", &[], "")
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let served = answer.json();
    let path = committed_document_path();
    // UPDATE_OPENAPI=1 cargo test -p pims-sim --test contract: writes the served document.
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let mut text = serde_json::to_string_pretty(&served).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    assert!(
        comparable(served) == comparable(committed),
        "docs/openapi.json is not the document pims-sim serves: regenerate it with \
         UPDATE_OPENAPI=1 cargo test -p pims-sim --test contract"
    );
}

#[tokio::test]
async fn optional_fault_fields_refuse_null() {
    let sim = Sim::start().await;
    for field in ["apis", "status", "failRate", "retryAfterSecs", "count"] {
        let (status, e) = sim
            .admin("POST", "/admin/faults", Some(json!({ field: null })))
            .await;
        assert_eq!(status, 400, "{field}: {e}");
        assert_eq!(e["field"], field, "{e}");
        assert!(
            e["error"].as_str().unwrap().contains("null"),
            "{field}: {e}"
        );
    }
    // Nothing was set.
    assert_eq!(
        sim.admin("GET", "/admin/faults", None).await.1,
        json!({"faults": null})
    );
    // Left out, they are fine.
    let (status, _) = sim
        .admin("POST", "/admin/faults", Some(json!({"latencyMs": 0})))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_scenario_refuses_a_null_next_steps_id() {
    let sim = Sim::start().await;
    let (status, e) = sim
        .admin(
            "POST",
            "/admin/scenario",
            Some(json!({"version": 1, "nextStepsId": null})),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["field"], "nextStepsId", "{e}");
    let (status, _) = sim
        .admin(
            "POST",
            "/admin/scenario",
            Some(json!({"version": 1, "nextStepsId": 7})),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn whole_numbers_may_be_written_with_a_fraction() {
    // JSON Schema reads 5.0 as the integer 5: so does the simulator.
    let sim = Sim::start().await;
    let (status, clock) = sim
        .admin("POST", "/admin/clock", Some(json!({"advanceSecs": 60.0})))
        .await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["offsetSecs"], 60);
    let (status, faults) = sim
        .admin(
            "POST",
            "/admin/faults",
            Some(json!({"latencyMs": 0.0, "count": 2.0, "status": 503.0})),
        )
        .await;
    assert_eq!(status, 200, "{faults}");
    assert_eq!(faults["faults"]["count"], 2);
    sim.admin("DELETE", "/admin/faults", None).await;
    let (status, _) = sim
        .admin(
            "POST",
            "/admin/scenario",
            Some(json!({"version": 1.0, "settings": {"smsHourlyQuota": 20.0}})),
        )
        .await;
    assert_eq!(status, 200);
    // A fraction is still refused.
    let (status, e) = sim
        .admin("POST", "/admin/clock", Some(json!({"advanceSecs": 1.5})))
        .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("advanceSecs")));

    // In a call's parameters too: stepsID 132324.0 is stepsID 132324.
    let sim = Sim::start().await;
    let (steps_id, _) = sim.demo_steps("phone-1").await;
    assert_eq!(steps_id, DEMO_FIRST_STEPS_ID);
    let plain = sim
        .call(
            "phone-1",
            "get",
            "pims.subscription.step",
            json!({"stepsID": DEMO_FIRST_STEPS_ID}),
        )
        .await;
    let spelled = sim
        .call(
            "phone-1",
            "get",
            "pims.subscription.step",
            serde_json::from_str(&format!(r#"{{"stepsID": {DEMO_FIRST_STEPS_ID}.0}}"#)).unwrap(),
        )
        .await;
    assert_eq!(spelled.status, 200, "{:?}", spelled.envelope);
    assert_eq!(spelled.result(), plain.result());
}

#[tokio::test]
async fn an_unreadable_sms_query_gets_the_admin_error_envelope() {
    let sim = Sim::start().await;
    let auth = format!("Bearer {}", sim.server.admin_token());
    let answer = send(
        sim.addr(),
        "GET",
        "/admin/sms?phoneNumber=%2B33612345678&phoneNumber=%2B33612345679",
        &[("authorization", &auth)],
        "",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 400);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let e = answer.json();
    assert_eq!(e["field"], "phoneNumber", "{e}");
    assert!(e["error"].as_str().unwrap().contains("phoneNumber"), "{e}");
}

#[tokio::test]
async fn the_document_says_what_each_api_takes() {
    let sim = Sim::start().await;
    let doc = send(sim.addr(), "GET", "/openapi.json", &[], "")
        .await
        .unwrap()
        .json();
    let schemas = &doc["components"]["schemas"];
    // One variant per API and verb, naming the documented alias too.
    let variants = schemas["CallBody"]["oneOf"].as_array().unwrap();
    assert_eq!(variants.len(), 13);
    let steps = variants
        .iter()
        .find(|v| v["title"] == "pims.subscription.steps.get")
        .unwrap();
    assert_eq!(
        steps["properties"]["api"]["enum"],
        json!(["pims.subscription.steps", "pims.vehicle.steps"])
    );
    // The VIN and phone-number rules of the handlers are in the admin routes' parameters.
    let suspend = &doc["paths"]["/admin/carkeys/{vin}/suspend"]["post"];
    assert_eq!(
        suspend["parameters"][0]["schema"]["pattern"],
        "^[A-HJ-NPR-Z0-9]{17}$"
    );
    let sms = &doc["paths"]["/admin/sms"]["get"];
    assert_eq!(
        sms["parameters"][0]["schema"]["pattern"],
        "^\\+[1-9][0-9]{7,14}$"
    );
    // The faults' real bounds, and no null where the server refuses one.
    let faults = &schemas["FaultSpec"]["properties"];
    assert_eq!(faults["latencyMs"]["maximum"], pims_sim::MAX_LATENCY_MS);
    assert_eq!(faults["apis"]["type"], "array");
    assert_eq!(
        schemas["Scenario"]["properties"]["nextStepsId"]["type"],
        "integer"
    );
    // The example of the VIN path parameter is the demo vehicle.
    assert_eq!(suspend["parameters"][0]["example"], DEMO_VIN);
}
