//! The Steps component over real HTTP: the documentation's example, stepsID binding,
//! validation, the next step, the services.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::{Sim, statuses};

const STEPS: &str = "pims.subscription.steps";
const STEP: &str = "pims.subscription.step";

#[tokio::test]
async fn the_first_request_reproduces_the_documentation_example() {
    let sim = Sim::start().await;
    // The documentation's example (fixtures/steps-by-car-association.json).
    let r = sim.demo_steps_call("phone-1").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.result(),
        &json!({
            "stepsID": 132324,
            "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "alreadyDone", "order": 1},
            "deviceActivation": {"name": "deviceActivation", "status": "todo", "order": 2},
            "mediumCarKey": {"name": "mediumCarKey", "status": "todo", "order": 3}
        })
    );
    // Same keys in the same order, stepsID as a JSON number.
    let keys: Vec<&String> = r.result().as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "stepsID",
            "trusterPhoneNumber",
            "deviceActivation",
            "mediumCarKey"
        ]
    );
    assert_eq!(r.result()["stepsID"], json!(pims_sim::DEMO_FIRST_STEPS_ID));
    assert_eq!(r.answer.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn steps_ids_are_per_device_stable_and_unknown_to_others() {
    let sim = Sim::start().await;
    let (first, _) = sim.demo_steps("phone-1").await;
    let (again, _) = sim.demo_steps("phone-1").await;
    let (other, _) = sim.demo_steps("phone-2").await;
    assert_eq!(first, 132324);
    assert_eq!(again, first);
    assert_eq!(other, 132325);

    // The stepsID works on its device, by string or integer, with the legacy spellings.
    for params in [
        json!({"stepsID": "132324"}),
        json!({"stepsID": 132324, "resetSteps": "false", "stepsStatus": "all"}),
        json!({"stepsId": "132324", "resetStep": true, "stepStatus": "all"}),
    ] {
        let r = sim.call("phone-1", "get", STEPS, params).await;
        assert_eq!(statuses(r.result()).0, 132324);
    }
    // Another device (same account) does not know it.
    let r = sim
        .call("phone-2", "get", STEPS, json!({"stepsID": "132324"}))
        .await;
    assert_eq!(
        r.error(),
        (200, 2346, "No Step for this stepsID 132324".into())
    );
    let r = sim
        .call("phone-2", "get", STEP, json!({"stepsID": 132324}))
        .await;
    assert_eq!(
        r.error(),
        (200, 2346, "No Step for this stepsID 132324".into())
    );
    // Nor does a stepsID nobody was given.
    let r = sim
        .call("phone-1", "get", STEP, json!({"stepsID": "abc"}))
        .await;
    assert_eq!(
        r.error(),
        (200, 2346, "No Step for this stepsID abc".into())
    );
    let r = sim
        .call("phone-1", "get", STEPS, json!({"stepsID": "999"}))
        .await;
    assert_eq!(r.code(), 2346);
}

#[tokio::test]
async fn steps_ids_are_bound_to_the_account_too() {
    let sim = Sim::with_scenario(support::many_accounts(1)).await;
    let (id, _) = sim.demo_steps("phone-1").await;
    // Another account on the same device id cannot read the demo account's list.
    let r = sim
        .call_as(
            Some("token-0"),
            Some("phone-1"),
            "get",
            STEPS,
            json!({"stepsID": id}),
        )
        .await;
    assert_eq!(r.code(), 2346);
    // Nor use the demo account's carAssociationID.
    let r = sim
        .call_as(
            Some("token-0"),
            Some("phone-1"),
            "get",
            STEPS,
            json!({"carAssociationID": "987654"}),
        )
        .await;
    assert_eq!(
        r.error(),
        (400, 2102, "Invalid carAssociationID parameter".into())
    );
}

#[tokio::test]
async fn the_vin_selects_a_list_the_device_already_has() {
    let sim = Sim::start().await;
    let vin = pims_sim::DEMO_VIN;
    // The first request of a device must name the car association.
    let r = sim.call("phone-1", "get", STEPS, json!({"vin": vin})).await;
    assert_eq!(r.error(), (400, 2102, "Invalid vin parameter".into()));
    let (id, _) = sim.demo_steps("phone-1").await;
    let r = sim.call("phone-1", "get", STEPS, json!({"vin": vin})).await;
    assert_eq!(
        statuses(r.result()),
        (id, vec!["alreadyDone".into(), "todo".into(), "todo".into()])
    );
    // The pims.vehicle.steps alias reaches the same list.
    let r = sim
        .call("phone-1", "get", "pims.vehicle.steps", json!({"vin": vin}))
        .await;
    assert_eq!(statuses(r.result()).0, id);
}

#[tokio::test]
async fn the_status_filter_keeps_the_steps_id() {
    let sim = Sim::start().await;
    let todo = sim
        .call(
            "phone-1",
            "get",
            STEPS,
            json!({"carAssociationID": 987654, "stepsStatus": "todo"}),
        )
        .await;
    assert_eq!(
        todo.result(),
        &json!({"stepsID": 132324,
            "deviceActivation": {"name": "deviceActivation", "status": "todo", "order": 2},
            "mediumCarKey": {"name": "mediumCarKey", "status": "todo", "order": 3}})
    );
    let done = sim
        .call(
            "phone-1",
            "get",
            STEPS,
            json!({"stepsID": "132324", "stepsStatus": "alreadyDone"}),
        )
        .await;
    assert_eq!(
        done.result(),
        &json!({"stepsID": 132324,
            "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "alreadyDone", "order": 1}})
    );
}

#[tokio::test]
async fn the_next_step_keeps_its_order_and_is_null_when_done() {
    let mut scenario = pims_sim::Scenario::default_scenario();
    scenario.car_associations[0].steps = vec!["trusterPhoneNumber".into()];
    let sim = Sim::with_scenario(scenario).await;
    let (id, statuses) = sim.demo_steps("phone-1").await;
    assert_eq!(statuses, ["alreadyDone"]);
    let r = sim
        .call("phone-1", "get", STEP, json!({"stepsID": id.to_string()}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.envelope["result"], serde_json::Value::Null);
    assert!(r.envelope.as_object().unwrap().contains_key("result"));

    let sim = Sim::start().await;
    let (id, _) = sim.demo_steps("phone-1").await;
    let r = sim
        .call("phone-1", "get", STEP, json!({"stepsID": id}))
        .await;
    assert_eq!(
        r.result(),
        &json!({"deviceActivation": {"name": "deviceActivation", "status": "todo", "order": 2}})
    );
}

#[tokio::test]
async fn validation_errors_name_the_parameter() {
    let sim = Sim::start().await;
    let cases = [
        (STEPS, json!({}), 2101, "Missing carAssociationID parameter"),
        (
            STEPS,
            json!({"resetSteps": false}),
            2101,
            "Missing carAssociationID parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": "987654", "stepsID": "1"}),
            2102,
            "Invalid stepsID parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": "987654", "vin": pims_sim::DEMO_VIN}),
            2102,
            "Invalid vin parameter",
        ),
        (
            STEPS,
            json!({"stepsID": "1", "vin": pims_sim::DEMO_VIN}),
            2102,
            "Invalid vin parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": ""}),
            2102,
            "Invalid carAssociationID parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": true}),
            2102,
            "Invalid carAssociationID parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": "nope"}),
            2102,
            "Invalid carAssociationID parameter",
        ),
        (
            STEPS,
            json!({"stepsID": 1.5}),
            2102,
            "Invalid stepsID parameter",
        ),
        (
            STEPS,
            json!({"stepsID": ["1"]}),
            2102,
            "Invalid stepsID parameter",
        ),
        (
            STEPS,
            json!({"vin": "VR1AB12C3D456789O"}),
            2102,
            "Invalid vin parameter",
        ),
        (STEPS, json!({"vin": 12}), 2102, "Invalid vin parameter"),
        (
            STEPS,
            json!({"carAssociationID": "987654", "stepsStatus": "done"}),
            2102,
            "Invalid stepsStatus parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": "987654", "stepsStatus": 1}),
            2102,
            "Invalid stepsStatus parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": "987654", "resetSteps": "yes"}),
            2102,
            "Invalid resetSteps parameter",
        ),
        (
            STEPS,
            json!({"carAssociationID": "x".repeat(100_000 / 2)}),
            2102,
            "Invalid carAssociationID parameter",
        ),
        (STEP, json!({}), 2101, "Missing stepsID parameter"),
        (
            STEP,
            json!({"stepsID": ""}),
            2102,
            "Invalid stepsID parameter",
        ),
        (
            "pims.subscription.services",
            json!({}),
            2101,
            "Missing vin parameter",
        ),
        (
            "pims.subscription.services",
            json!({"vin": "short"}),
            2102,
            "Invalid vin parameter",
        ),
    ];
    for (api, params, code, label) in cases {
        let r = sim.call("phone-1", "get", api, params.clone()).await;
        assert_eq!(r.error(), (400, code, label.to_owned()), "{api} {params}");
    }
    // Unknown extra parameters are ignored.
    let r = sim
        .call(
            "phone-1",
            "get",
            STEPS,
            json!({"carAssociationID": "987654", "colour": [1]}),
        )
        .await;
    assert_eq!(statuses(r.result()).0, 132324);
}

#[tokio::test]
async fn services_of_a_vehicle() {
    let sim = Sim::start().await;
    let r = sim
        .call(
            "phone-1",
            "get",
            "pims.subscription.services",
            json!({"vin": pims_sim::DEMO_VIN}),
        )
        .await;
    let services = r.result()["services"].as_array().unwrap();
    assert_eq!(services.len(), 3);
    assert_eq!(
        services[0],
        json!({"code": "REMOTE_COMMANDS", "name": "Remote Commands"})
    );
    let r = sim
        .call(
            "phone-1",
            "get",
            "pims.subscription.services",
            json!({"vin": "VR1AB12C3D4567899"}),
        )
        .await;
    assert_eq!(r.result(), &json!({"services": []}));
}

#[tokio::test]
async fn sixty_four_devices_get_distinct_steps_ids_at_once() {
    let sim = std::sync::Arc::new(Sim::start().await);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let sim = sim.clone();
        tasks.push(tokio::spawn(async move {
            sim.demo_steps(&format!("device-{i}")).await.0
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    let expected: Vec<u64> = (132324..132324 + 64).collect();
    assert_eq!(ids, expected, "no id lost or given twice");
    assert_eq!(sim.server.state().step_lists.len(), 64);
    assert_eq!(sim.server.state().next_steps_id, Some(132324 + 64));
}
