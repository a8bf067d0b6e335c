//! The state file through the library: restarts keep everything, bad files are refused, one
//! simulator per file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::Sim;

use pims_sim::{DEMO_PHONE_NUMBER, DEMO_PIN, DEMO_VIN, Scenario, SimConfig, SimError, SimServer};

fn config(path: &std::path::Path) -> SimConfig {
    SimConfig::default().state_file(path.to_owned())
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
    let sim = Sim::with_config(config(&path).scenario(Scenario::empty())).await;
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
    // Released by shutdown, and no pid left behind to name a process that is gone.
    let lock = dir.path().join("sim.json.lock");
    assert_eq!(std::fs::read(&lock).unwrap(), b"");
    SimServer::start(config(&path))
        .await
        .unwrap()
        .shutdown()
        .await;
    assert_eq!(std::fs::read(&lock).unwrap(), b"");
}

#[tokio::test]
async fn start_errors_are_clear() {
    let taken = SimServer::start(SimConfig::default()).await.unwrap();
    let e = SimServer::start(SimConfig::default().addr(taken.addr()))
        .await
        .unwrap_err();
    assert!(matches!(e, SimError::Bind { .. }), "{e:?}");
    assert!(e.to_string().contains(&taken.addr().to_string()));
    assert!(std::error::Error::source(&e).is_some());

    let e = SimServer::start(SimConfig::default().admin_token("has space"))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("admin_token"));

    let mut scenario = Scenario::default_scenario();
    scenario.vehicles[0].vin = "bad".into();
    let e = SimServer::start(SimConfig::default().scenario(scenario))
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
    let config = SimConfig::default()
        .scenario(scenario.clone())
        .admin_token("CANARY-ADMIN");
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

/// The PIN canary of the tests below: it must never be found on disk or in an answer.
const CANARY_PIN: &str = "97531864";

async fn otp(sim: &Sim, pin: &str) -> support::Reply {
    let body = json!({"action": "withPIN", "pinCode": pin});
    sim.call("phone-1", "get", "pims.authentication.otp", body)
        .await
}

#[tokio::test]
async fn the_pin_is_kept_as_a_salted_hash_and_still_verifies_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim-state.json");
    // A document written by hand gives the PIN in clear, for an enrolled device.
    let mut scenario = Scenario::default_scenario();
    scenario.accounts[0].pin = Some(pims_types::Secret::new(CANARY_PIN));
    scenario.devices.push(pims_sim::DeviceSpec {
        id: "phone-1".into(),
        account_id: Some("demo".into()),
        status: pims_sim::DeviceStatus::Enrolled,
    });
    let sim = Sim::with_config(config(&path).scenario(scenario)).await;
    otp(&sim, CANARY_PIN).await.result();
    let (status, state) = sim.admin("GET", "/admin/state", None).await;
    assert_eq!(status, 200);
    let account = &state["accounts"][0];
    assert!(account.get("pin").is_none(), "{account}");
    let hash = account["pinHash"].as_str().unwrap().to_owned();
    assert!(hash.starts_with("$pbkdf2-sha256$i="), "{hash}");
    let on_disk = std::fs::read_to_string(&path).unwrap();
    for shown in [state.to_string(), on_disk.clone()] {
        assert!(!shown.contains(CANARY_PIN), "the PIN in clear: {shown}");
    }
    assert!(
        on_disk.contains(&hash),
        "the state file keeps the same hash"
    );
    sim.server.shutdown().await;

    // The state file round-trips: the PIN still verifies, a wrong one still counts.
    let sim = Sim::with_config(config(&path)).await;
    assert_eq!(
        sim.server.state().accounts[0]
            .pin_hash
            .as_ref()
            .unwrap()
            .as_str(),
        hash,
        "loading keeps the hash as it is"
    );
    otp(&sim, CANARY_PIN).await.result();
    assert_eq!(otp(&sim, "13572468").await.code(), 2308);
    assert_eq!(sim.server.state().accounts[0].wrong_pin_count, 1);
    // A PIN changed through the API is kept hashed too.
    let r = sim
        .call(
            "phone-1",
            "set",
            "pims.authentication.pincode",
            json!({"action": "update", "oldPIN": CANARY_PIN, "newPIN": "86429753"}),
        )
        .await;
    r.result();
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(!on_disk.contains("86429753") && !on_disk.contains(CANARY_PIN));
    sim.server.shutdown().await;

    // A document may give the hash (a state exported by GET /admin/state), not both.
    let exported = Scenario::from_json(on_disk.as_bytes()).unwrap();
    let sim = Sim::with_scenario(exported.clone()).await;
    otp(&sim, "86429753").await.result();
    let mut both = exported;
    both.accounts[0].pin = Some(pims_types::Secret::new(CANARY_PIN));
    let e = SimServer::start(SimConfig::default().scenario(both))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("accounts[0].pin"));
    assert!(!format!("{e} {e:?}").contains(CANARY_PIN));
    // A pinHash that is not one is refused by name, without quoting it.
    let e = Scenario::from_json(
        br#"{"accounts": [{"id": "a", "tokens": ["t"], "pinHash": "97531864"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("accounts[0].pinHash"));
    assert!(!e.to_string().contains(CANARY_PIN), "{e}");
}

#[cfg(unix)]
mod files {
    //! The files beside the state file are never reached through a symbolic link; non-regular
    //! and oversized files are refused without being read.
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::path::Path;

    const OUTSIDE: &[u8] = b"a file of the user, outside the simulator's reach\n";

    /// A file outside the state's directory, 0644, that nothing may touch.
    fn outside_file(dir: &Path) -> std::path::PathBuf {
        let target = dir.join("outside.txt");
        std::fs::write(&target, OUTSIDE).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        target
    }

    fn untouched(target: &Path) {
        assert_eq!(
            std::fs::read(target).unwrap(),
            OUTSIDE,
            "{}",
            target.display()
        );
        let mode = std::fs::metadata(target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[tokio::test]
    async fn a_planted_temporary_file_symlink_is_never_followed() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside_file(outside.path());
        let dangling = outside.path().join("created-by-the-simulator.txt");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim-state.json");
        let tmp = dir.path().join(".sim-state.json.tmp");
        for planted in [&target, &dangling] {
            let _ = std::fs::remove_file(&tmp);
            symlink(planted, &tmp).unwrap();
            let sim = Sim::with_config(config(&path)).await;
            // A change that puts a pending SMS code (a secret) in the state.
            sim.call(
                "phone-1",
                "get",
                "pims.authentication.smscode",
                json!({"type": "enrollment"}),
            )
            .await
            .result();
            let code = sim.latest_code(DEMO_PHONE_NUMBER).await;
            sim.server.shutdown().await;
            untouched(&target);
            assert!(!dangling.exists(), "a dangling link was followed");
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert!(meta.is_file());
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
            let state = std::fs::read_to_string(&path).unwrap();
            assert!(
                state.contains(&code),
                "the state was written where it belongs"
            );
        }
    }

    #[tokio::test]
    async fn a_symlink_at_the_state_file_or_its_lock_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside_file(outside.path());
        for name in ["sim-state.json", "sim-state.json.lock"] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sim-state.json");
            symlink(&target, dir.path().join(name)).unwrap();
            let e = SimServer::start(config(&path)).await.unwrap_err();
            assert!(matches!(e, SimError::FileRefused { .. }), "{name}: {e:?}");
            let text = e.to_string();
            assert!(
                text.contains("symbolic link") && text.contains(name),
                "{text}"
            );
            untouched(&target);
        }
    }

    #[tokio::test]
    async fn fifos_devices_and_oversized_state_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.json");
        mkfifo(&fifo);
        let big = dir.path().join("big.json");
        // Sparse, one byte over the cap (tests/process.rs tries gigabytes under a memory limit).
        std::fs::File::create(&big)
            .unwrap()
            .set_len(pims_sim::MAX_FILE_BYTES + 1)
            .unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        for (path, words) in [
            (&fifo, "a FIFO"),
            (&big, "larger than the cap of 64 MiB"),
            (&sub, "a directory"),
        ] {
            // A FIFO must not block start-up (nobody writes to it): the guard is generous.
            let started = tokio::time::timeout(
                std::time::Duration::from_secs(60),
                SimServer::start(config(path)),
            )
            .await
            .expect("start-up blocked");
            let e = started.unwrap_err();
            assert!(matches!(e, SimError::FileRefused { .. }), "{e:?}");
            assert!(e.to_string().contains(words), "{e}");
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        let e = Scenario::from_file(&fifo).unwrap_err();
        assert!(e.to_string().contains("scenario file") && e.to_string().contains("a FIFO"));
        let e = Scenario::from_file(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
    }

    #[tokio::test]
    async fn reset_moves_an_unusable_state_aside_without_reading_it() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside_file(outside.path());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim-state.json");
        let default = Scenario::default_scenario();
        // Absent, then valid: written in place, nothing moved.
        for _ in 0..2 {
            let done = pims_sim::reset_state_file(&path, default.clone()).unwrap();
            assert!(done.moved_aside.is_none() && done.damage.is_none());
            let state = Scenario::from_json(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(state, default);
        }
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Oversized (sparse), a FIFO, a symlink, invalid JSON: each moved aside as it is.
        type Plant = Box<dyn Fn(&Path)>;
        let plants: Vec<(Plant, &str)> = vec![
            (
                Box::new(|p| {
                    let file = std::fs::File::create(p).unwrap();
                    file.set_len(pims_sim::MAX_FILE_BYTES + 1).unwrap();
                }),
                "larger than the cap",
            ),
            (Box::new(mkfifo), "a FIFO"),
            (
                Box::new(move |p| symlink(&target, p).unwrap()),
                "symbolic link",
            ),
            (
                Box::new(|p| std::fs::write(p, b"{\"accounts\": [").unwrap()),
                "invalid scenario",
            ),
        ];
        for (plant, words) in plants {
            std::fs::remove_file(&path).unwrap();
            plant(&path);
            let before = std::fs::symlink_metadata(&path).unwrap();
            let done = pims_sim::reset_state_file(&path, default.clone()).unwrap();
            let why = done.damage.unwrap().to_string();
            assert!(why.contains(words), "{why}");
            let aside = done.moved_aside.unwrap();
            assert!(aside.starts_with(dir.path()), "{}", aside.display());
            let moved = std::fs::symlink_metadata(&aside).unwrap();
            assert_eq!(
                (moved.file_type(), moved.len()),
                (before.file_type(), before.len()),
                "moved as it was"
            );
            std::fs::remove_file(&aside).unwrap();
            let state = Scenario::from_json(&std::fs::read(&path).unwrap()).unwrap();
            assert_eq!(state, default);
        }
        untouched(&outside.path().join("outside.txt"));
        // A running simulator keeps its state file.
        let sim = SimServer::start(config(&path)).await.unwrap();
        let e = pims_sim::reset_state_file(&path, default).unwrap_err();
        assert!(matches!(e, SimError::StateInUse { .. }), "{e:?}");
        sim.shutdown().await;
    }
}
