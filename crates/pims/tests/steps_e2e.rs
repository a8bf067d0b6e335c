//! End-to-end: the facade against a real pims-sim over HTTP on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims::Pims;
use pims_types::{
    ErrorCode, Message, Parameters, StepName, StepStatus, StepsSelector, StepsStatusFilter, Verb,
};
use serde_json::json;
use support::*;

use StepStatus::{AlreadyDone, Todo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documentation_examples_exactly() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());

    for name in [
        "steps-by-car-association.json",
        "steps-by-steps-id.json",
        "next-step.json",
    ] {
        let doc = fixture(name);
        let call = &doc["call"];
        let verb: Verb = serde_json::from_value(call["verb"].clone()).unwrap();
        let m = pims
            .call(
                verb,
                call["api"].as_str().unwrap(),
                steps_params(call["parameters"].clone()),
            )
            .await;
        let mut expected = doc["answer"].clone();
        expected.as_object_mut().unwrap().remove("transactionId");
        assert_eq!(without_tid(&m), expected, "{name}");
        // Keys in the documentation's order.
        assert_eq!(
            serde_json::to_string(&without_tid(&m)).unwrap(),
            serde_json::to_string(&expected).unwrap(),
            "{name}"
        );
        assert!(m.transaction_id().has_documented_shape());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_activation_walk_turns_each_step_done_in_order() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());

    let first = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(
        statuses(&first),
        [
            ("trusterPhoneNumber".into(), AlreadyDone),
            ("deviceActivation".into(), Todo),
            ("mediumCarKey".into(), Todo)
        ]
    );
    let id = first.steps_id().as_str().to_owned();
    assert_eq!(
        pims.next_step(&id).send().await.unwrap().unwrap().name,
        StepName::DeviceActivation
    );

    assert!(
        !pims
            .activation()
            .is_device_activated()
            .send()
            .await
            .unwrap()
    );
    assert_eq!(
        pims.activation().account_blocked().send().await.unwrap(),
        pims::AccountBlocked::NotBlocked
    );
    enroll(&pims, &sim).await;
    assert!(
        pims.activation()
            .is_device_activated()
            .send()
            .await
            .unwrap()
    );
    let second = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(second.list.steps()[1].status, AlreadyDone);
    assert_eq!(second.list.steps()[2].status, Todo);
    assert_eq!(
        pims.next_step(&id).send().await.unwrap().unwrap().name,
        StepName::MediumCarKey
    );

    car_key(&pims, &sim).await;
    let third = pims.steps(by_car()).send().await.unwrap();
    assert!(third.all_done(), "{:?}", statuses(&third));

    // Nothing left: SUCCEEDED with a null result, exactly as documented.
    let m = pims
        .get_async(
            "pims.subscription.step",
            Parameters::new().with("stepsID", id.as_str()),
        )
        .await;
    let mut expected = fixture("next-step-none.json")["answer"].clone();
    expected.as_object_mut().unwrap().remove("transactionId");
    assert_eq!(without_tid(&m), expected);
    assert!(pims.next_step(&id).send().await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sticky_until_reset_and_the_filter_applies_after_the_merge() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());
    enroll(&pims, &sim).await;
    let done = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(done.list.steps()[1].status, AlreadyDone);

    // The backend turns the step back to todo...
    sim.disable_device(&device_id(&pims).await).await.unwrap();
    let backend_view = raw_steps(&sim, &device_id(&pims).await).await;
    assert_eq!(backend_view["deviceActivation"]["status"], "todo");

    // ...the facade still says alreadyDone, through every identifier of the list.
    let sticky = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(sticky.list.steps()[1].status, AlreadyDone);
    let by_id = StepsSelector::steps_id(sticky.steps_id().as_str()).unwrap();
    let by_vin = StepsSelector::vin(pims_sim::DEMO_VIN).unwrap();
    for sel in [by_id.clone(), by_vin.clone()] {
        let l = pims.steps(sel).send().await.unwrap();
        assert_eq!(
            l.list.step(&StepName::DeviceActivation).unwrap().status,
            AlreadyDone
        );
    }
    // The filter never lists a cached alreadyDone as todo.
    let todo = pims
        .steps(by_id.clone())
        .status(StepsStatusFilter::Todo)
        .send()
        .await
        .unwrap();
    assert_eq!(
        todo.steps()
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>(),
        [StepName::MediumCarKey]
    );
    assert_eq!(
        pims.next_step(by_id.value())
            .send()
            .await
            .unwrap()
            .unwrap()
            .name,
        StepName::MediumCarKey
    );

    // resetSteps wipes the list, whatever identifier selected it.
    let reset = pims.steps(by_vin).reset(true).send().await.unwrap();
    assert_eq!(reset.list.steps()[1].status, Todo);
    let after = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(after.list.steps()[1].status, Todo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_by_an_identifier_never_used_before_wipes_the_list() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());
    enroll(&pims, &sim).await;
    let done = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(done.list.steps()[1].status, AlreadyDone);
    sim.disable_device(&device_id(&pims).await).await.unwrap();
    let reset = pims
        .steps(StepsSelector::vin(pims_sim::DEMO_VIN).unwrap())
        .reset(true)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.steps_id(), done.steps_id(), "one list");
    assert_eq!(reset.list.steps()[1].status, Todo);
    assert_eq!(
        pims.steps(by_car()).send().await.unwrap().list.steps()[1].status,
        Todo
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otp_on_a_disabled_device_invalidates_the_cached_steps() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());
    enroll(&pims, &sim).await;
    let otp = pims
        .activation()
        .otp_with_pin(pims::Pin::parse(PIN).unwrap())
        .send()
        .await
        .unwrap();
    assert!(!otp.expose().is_empty());
    assert_eq!(
        pims.steps(by_car()).send().await.unwrap().list.steps()[1].status,
        AlreadyDone
    );

    sim.disable_device(&device_id(&pims).await).await.unwrap();
    let m = otp_with_pin(&pims).await;
    assert_eq!(m.error().unwrap().code, ErrorCode::DEVICE_DISABLED);
    assert_eq!(
        m.error().unwrap().label,
        "inwebo: device is disabled or unknown"
    );
    // No reset asked: the stale alreadyDone is gone all the same.
    let after = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(after.list.steps()[1].status, Todo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invalidation_policy_can_be_turned_off() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = builder(&sim, dir.path())
        .policies(pims::Policies::default().invalidate_on_device_error(false))
        .build()
        .unwrap();
    enroll(&pims, &sim).await;
    pims.steps(by_car()).send().await.unwrap();
    sim.disable_device(&device_id(&pims).await).await.unwrap();
    let e = pims
        .activation()
        .otp_with_pin(pims::Pin::parse(PIN).unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::DEVICE_DISABLED);
    let after = pims.steps(by_car()).send().await.unwrap();
    assert_eq!(after.list.steps()[1].status, AlreadyDone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_steps_id_of_another_device_is_2346_and_never_served_from_cache() {
    let sim = sim().await;
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = facade(&sim, a_dir.path());
    let b = facade(&sim, b_dir.path());
    assert_ne!(device_id(&a).await, device_id(&b).await);
    let list = a.steps(by_car()).send().await.unwrap();
    let id = list.steps_id().as_str().to_owned();

    let m = b
        .get_async(
            "pims.subscription.step",
            Parameters::new().with("stepsID", id.as_str()),
        )
        .await;
    let e = m.error().unwrap();
    assert_eq!(e.code, ErrorCode::NO_STEP_FOR_STEPS_ID);
    assert_eq!(e.label, format!("No Step for this stepsID {id}"));
    let e = b
        .steps(StepsSelector::steps_id(id.as_str()).unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NO_STEP_FOR_STEPS_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_facade_on_the_same_cache_after_a_restart_sees_the_cached_state() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let device = {
        let pims = facade(&sim, dir.path());
        enroll(&pims, &sim).await;
        pims.steps(by_car()).send().await.unwrap();
        let device = device_id(&pims).await;
        pims.release();
        device
    };
    sim.disable_device(&device).await.unwrap();
    let again = facade(&sim, dir.path());
    assert_eq!(device_id(&again).await, device);
    let l = again.steps(by_car()).send().await.unwrap();
    assert_eq!(l.list.steps()[1].status, AlreadyDone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_facades_share_one_cache_directory_by_account() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let alice = builder(&sim, dir.path()).account("alice").build().unwrap();
    let bob = builder(&sim, dir.path()).account("bob").build().unwrap();
    enroll(&alice, &sim).await;
    assert_eq!(
        alice.steps(by_car()).send().await.unwrap().list.steps()[1].status,
        AlreadyDone
    );
    // The same device and carAssociationID, another account: never alice's cached list.
    sim.disable_device(&device_id(&alice).await).await.unwrap();
    let b = bob.steps(by_car()).send().await.unwrap();
    assert_eq!(b.list.steps()[1].status, Todo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_callers_each_get_exactly_one_callback() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..100 {
        let tx = tx.clone();
        let params = if i % 2 == 0 {
            Parameters::new().with("carAssociationID", "987654")
        } else {
            Parameters::new().with("vin", "bad")
        };
        pims.get("pims.subscription.steps", params, move |m: Message| {
            tx.send((i, m)).unwrap();
        });
    }
    drop(tx);
    let mut seen = vec![0u32; 100];
    while let Some((i, m)) = rx.recv().await {
        seen[i] += 1;
        assert_eq!(m.is_success(), i % 2 == 0, "{i}: {}", m.to_json_string());
    }
    assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_the_right_failed_message() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());
    let huge = "9".repeat(1 << 20);
    let cases = [
        ("pims.nothing", json!({}), 2002, "API not supported"),
        (
            "pims.subscription.steps",
            json!({}),
            2101,
            "Missing carAssociationID parameter",
        ),
        (
            "pims.subscription.steps",
            json!({"carAssociationID": "987654", "stepsID": "1"}),
            2102,
            "Invalid stepsID parameter",
        ),
        (
            "pims.subscription.steps",
            json!({"vin": "VR1"}),
            2102,
            "Invalid vin parameter",
        ),
        (
            "pims.subscription.steps",
            json!({"carAssociationID": ""}),
            2102,
            "Invalid carAssociationID parameter",
        ),
        (
            "pims.subscription.steps",
            json!({"carAssociationID": [1]}),
            2102,
            "Invalid carAssociationID parameter",
        ),
        (
            "pims.subscription.steps",
            json!({"carAssociationID": "987654", "stepsStatus": "done"}),
            2102,
            "Invalid stepsStatus parameter",
        ),
        (
            "pims.subscription.steps",
            json!({"carAssociationID": "987654", "resetSteps": "maybe"}),
            2102,
            "Invalid resetSteps parameter",
        ),
        (
            "pims.subscription.steps",
            json!({"carAssociationID": huge}),
            2102,
            "Invalid carAssociationID parameter",
        ),
        (
            "pims.subscription.step",
            json!({}),
            2101,
            "Missing stepsID parameter",
        ),
        (
            "pims.subscription.services",
            json!({}),
            2101,
            "Missing vin parameter",
        ),
        (
            "pims.authentication.trustedphonenumber",
            json!({"junk": huge}),
            2102,
            "Invalid junk parameter",
        ),
    ];
    for (api, params, code, label) in cases {
        let m = pims.get_async(api, steps_params(params)).await;
        let e = m
            .error()
            .unwrap_or_else(|| panic!("{api}: {}", m.to_json_string()));
        assert_eq!((e.code.as_u32(), e.label.as_str()), (code, label), "{api}");
    }
    // Success always carries a result (null for operations without output).
    let m = pims
        .set_async(
            "pims.vehicle.vin",
            Parameters::new().with("vin", pims_sim::DEMO_VIN),
        )
        .await;
    assert!(
        m.to_json_string()
            .ends_with(r#""status":"SUCCEEDED","result":null}"#),
        "{}",
        m.to_json_string()
    );
    // A verb the API does not have.
    let m = pims
        .set_async("pims.subscription.steps", Parameters::new())
        .await;
    assert_eq!(m.error().unwrap().code, ErrorCode::API_NOT_SUPPORTED);
    // The documented aliases work.
    let m = pims
        .get_async(
            "pims.vehicle.steps",
            steps_params(
                json!({"carAssociationID": 987654, "resetStep": "false", "stepStatus": "todo"}),
            ),
        )
        .await;
    assert!(m.is_success(), "{}", m.to_json_string());
    assert_eq!(m.result().unwrap().as_object().unwrap().len(), 3); // stepsID + 2 todo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_and_subscriptions() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let (events, _keep) = tokio::sync::broadcast::channel(8);
    let pims = builder(&sim, dir.path())
        .event_source("acme.events", events.clone())
        .into_uninitialized();
    let before = pims
        .get_async("pims.subscription.steps", Parameters::new())
        .await;
    assert_eq!(
        before.error().unwrap().code,
        ErrorCode::FACADE_NOT_INITIALIZED
    );

    let init = pims.initialize(Parameters::new().with("profile", "demo"));
    assert!(init.is_success(), "{}", init.to_json_string());
    let twice = pims.initialize(Parameters::new());
    assert_eq!(
        twice.error().unwrap().code,
        ErrorCode::FACADE_ALREADY_INITIALIZED
    );

    // No API of the component is subscribable.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let t = tx.clone();
    pims.subscribe("pims.subscription.steps", Parameters::new(), move |m| {
        t.send(m).unwrap()
    });
    assert_eq!(
        rx.recv().await.unwrap().error().unwrap().code,
        ErrorCode::API_NOT_SUPPORTED
    );

    // An embedder's event source: ack, RESULT events with the subscription's id, 2005 twice.
    let t = tx.clone();
    pims.subscribe("acme.events", Parameters::new(), move |m| {
        t.send(m).unwrap()
    });
    let ack = rx.recv().await.unwrap();
    assert!(ack.is_success());
    let t = tx.clone();
    pims.subscribe("acme.events", Parameters::new(), move |m| {
        t.send(m).unwrap()
    });
    assert_eq!(
        rx.recv().await.unwrap().error().unwrap().code,
        ErrorCode::DUPLICATE_COMMAND
    );
    events.send(json!({"n": 1})).unwrap();
    let ev = rx.recv().await.unwrap();
    assert_eq!(ev.status(), pims_types::Status::Result);
    assert_eq!(ev.transaction_id(), ack.transaction_id());
    assert_eq!(ev.result().unwrap(), &json!({"n": 1}));
    let t = tx.clone();
    pims.unsubscribe("acme.events", move |m| t.send(m).unwrap());
    assert!(rx.recv().await.unwrap().is_success());
    let t = tx.clone();
    pims.unsubscribe("pims.subscription.steps", move |m| t.send(m).unwrap());
    assert_eq!(
        rx.recv().await.unwrap().error().unwrap().code,
        ErrorCode::API_NOT_SUPPORTED
    );

    pims.release();
    let after = pims
        .get_async("pims.subscription.steps", Parameters::new())
        .await;
    assert_eq!(
        after.error().unwrap().code,
        ErrorCode::FACADE_NOT_INITIALIZED
    );
    // Released facades can be initialised again.
    assert!(pims.initialize(Parameters::new()).is_success());
}

#[test]
fn works_without_a_runtime_of_the_callers() {
    // A tokio runtime only for the simulator, on its own thread: the facade is made outside it.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let sim = support::sim().await;
            addr_tx.send(sim.base_url()).unwrap();
            let _ = stop_rx.await;
            sim.shutdown().await;
        });
    });
    let url = addr_rx.recv().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pims = Pims::new();
    assert!(pims.owns_runtime());
    let init = pims.initialize(
        Parameters::new()
            .with("environnement", url.as_str())
            .with("credential", pims_sim::DEMO_TOKEN)
            .with(
                "profile",
                json!({"account": "demo", "cacheDirectory": dir.path().to_str().unwrap()}),
            ),
    );
    assert!(init.is_success(), "{}", init.to_json_string());
    let (tx, rx) = std::sync::mpsc::channel();
    pims.get(
        "pims.subscription.steps",
        Parameters::new().with("carAssociationID", "987654"),
        move |m| tx.send(m).unwrap(),
    );
    let m = rx.recv().unwrap();
    assert!(m.is_success(), "{}", m.to_json_string());
    drop(pims);
    stop_tx.send(()).unwrap();
    server.join().unwrap();
}

/// The backend's own view of the list, bypassing the SDK (raw HTTP).
async fn raw_steps(sim: &pims_sim::SimServer, device: &str) -> serde_json::Value {
    let body = json!({"transactionId": "953cfefb-bc72", "verb": "get",
        "api": "pims.subscription.steps", "parameters": {"carAssociationID": "987654"}});
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v1/calls", sim.base_url()))
        .bearer_auth(pims_sim::DEMO_TOKEN)
        .header("Pims-Device-Id", device)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["result"].clone()
}

#[test]
fn unsubscribing_from_the_acknowledgement_does_not_deadlock() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (events, _keep) = tokio::sync::broadcast::channel::<serde_json::Value>(4);
    let dir = tempfile::tempdir().unwrap();
    let sim = rt.block_on(sim());
    let pims = {
        let _in_runtime = rt.enter();
        builder(&sim, dir.path())
            .event_source("acme.events", events.clone())
            .build()
            .unwrap()
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let p = pims.clone();
    std::thread::spawn(move || {
        let inner = p.clone();
        let tx = done_tx.clone();
        p.subscribe("acme.events", Parameters::new(), move |m| {
            if m.is_success() {
                let tx = tx.clone();
                inner.unsubscribe("acme.events", move |u| {
                    let _ = tx.send(u);
                });
            }
        });
    });
    let unsub = done_rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("deadlock: the unsubscribe never answered");
    assert!(unsub.is_success());
    // Released facades refuse new subscriptions.
    pims.release();
    let (tx, rx) = std::sync::mpsc::channel();
    pims.subscribe("acme.events", Parameters::new(), move |m| {
        let _ = tx.send(m);
    });
    assert_eq!(
        rx.recv().unwrap().error().unwrap().code,
        ErrorCode::FACADE_NOT_INITIALIZED
    );
}
