//! The state file through the library: restarts keep everything, bad files are refused, one
//! simulator per file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::Sim;

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_PIN, DEMO_VIN, Scenario, SimConfig, SimError, SimServer};

fn config(path: &std::path::Path) -> SimConfig {
    SimConfig {
        state_file: Some(path.to_owned()),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn a_restart_with_the_state_file_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("sim.json");
    let sim = Sim::with_config(config(&path)).await;
    assert!(path.exists(), "written at start");
    let (id, _) = sim.demo_steps("phone-1").await;
    sim.enroll_demo("phone-1", DEMO_PIN).await;
    sim.admin(
        "POST",
        &format!("/admin/vehicles/{DEMO_VIN}/pair"),
        Some(json!({"deviceId": "phone-1"})),
    )
    .await;
    sim.call(
        "phone-1",
        "set",
        "pims.vehicle.vin",
        json!({"vin": DEMO_VIN}),
    )
    .await
    .result();
    sim.call("phone-1", "set", "pims.vehicle.carkey", json!({}))
        .await
        .result();
    sim.call(
        "phone-1",
        "get",
        "pims.authentication.smscode",
        json!({"type": "resetPIN"}),
    )
    .await
    .result();
    let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
    let before = sim.server.state();
    sim.server.shutdown().await;

    // A scenario given at restart is ignored: the state file is the continuing state.
    let sim = Sim::with_config(SimConfig {
        scenario: Some(Scenario::empty()),
        ..config(&path)
    })
    .await;
    assert_eq!(sim.server.state(), before);
    assert_eq!(
        sim.demo_steps("phone-1").await,
        (
            id,
            vec![
                "alreadyDone".into(),
                "alreadyDone".into(),
                "alreadyDone".into()
            ]
        )
    );
    assert_eq!(
        sim.demo_steps("phone-2").await.0,
        id + 1,
        "the counter continues"
    );
    // The pending SMS code and the PIN survived.
    sim.call(
        "phone-1",
        "set",
        "pims.authentication.pincode",
        json!({"action": "reset", "pinCode": "8642", "smsCode": code}),
    )
    .await
    .result();
    sim.call(
        "phone-1",
        "get",
        "pims.authentication.otp",
        json!({"action": "withPIN", "pinCode": "8642"}),
    )
    .await
    .result();
    // Admin changes are written too.
    sim.server.disable_device("phone-1").await.unwrap();
    sim.server.shutdown().await;
    let on_disk = Scenario::from_json(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(on_disk.devices[0].status, pims_sim::DeviceStatus::Disabled);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the state file holds secrets: owner only");
    }
}

#[tokio::test]
async fn a_bad_state_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.json");
    let bad = br#"{"accounts": [{"id": "a", "tokens": ["t"], "trustedPhoneNumber": "12"}]}"#;
    std::fs::write(&path, bad).unwrap();
    let e = SimServer::start(config(&path)).await.unwrap_err();
    assert_eq!(e.field(), Some("accounts[0].trustedPhoneNumber"));
    assert_eq!(std::fs::read(&path).unwrap(), bad);
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(
        SimServer::start(config(&path)).await.unwrap_err(),
        SimError::Scenario { .. }
    ));
}

#[tokio::test]
async fn one_simulator_per_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.json");
    let first = SimServer::start(config(&path)).await.unwrap();
    match SimServer::start(config(&path)).await.unwrap_err() {
        SimError::StateInUse { pid, .. } => assert_eq!(pid, Some(std::process::id())),
        other => panic!("{other:?}"),
    }
    first.shutdown().await;
    // Released by shutdown.
    SimServer::start(config(&path))
        .await
        .unwrap()
        .shutdown()
        .await;
}

#[tokio::test]
async fn start_errors_are_clear() {
    let taken = SimServer::start(SimConfig::default()).await.unwrap();
    let e = SimServer::start(SimConfig {
        addr: taken.addr(),
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(e, SimError::Bind { .. }), "{e:?}");
    assert!(e.to_string().contains(&taken.addr().to_string()));
    assert!(std::error::Error::source(&e).is_some());

    let e = SimServer::start(SimConfig {
        admin_token: Some("has space".into()),
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("admin_token"));

    let mut scenario = Scenario::default_scenario();
    scenario.vehicles[0].vin = "bad".into();
    let e = SimServer::start(SimConfig {
        scenario: Some(scenario),
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert_eq!(e.field(), Some("vehicles[0].vin"));
}

#[test]
fn start_outside_a_runtime_is_an_error_not_a_panic() {
    let e = futures_lite_block_on(SimServer::start(SimConfig::default())).unwrap_err();
    assert!(matches!(e, SimError::NoRuntime));
}

/// Polls a future to completion without a tokio runtime.
fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[tokio::test]
async fn debug_output_hides_secrets() {
    let mut scenario = Scenario::default_scenario();
    scenario.accounts[0].pin = Some(pims_types::Secret::new("97531864"));
    scenario.accounts[0]
        .tokens
        .push(pims_types::Secret::new("CANARY-TOKEN"));
    let config = SimConfig {
        scenario: Some(scenario.clone()),
        admin_token: Some("CANARY-ADMIN".into()),
        ..SimConfig::default()
    };
    let sim = SimServer::start(config.clone()).await.unwrap();
    for shown in [
        format!("{config:?}"),
        format!("{sim:?}"),
        format!("{scenario:?}"),
        format!("{:?}", sim.state()),
    ] {
        for canary in ["97531864", "CANARY-TOKEN", "CANARY-ADMIN", "demo-token"] {
            assert!(!shown.contains(canary), "{canary} in {shown}");
        }
    }
    let e =
        Scenario::from_json(br#"{"accounts": [{"id": "a", "tokens": ["t"], "pin": 97531864}]}"#)
            .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("97531864"));
}
