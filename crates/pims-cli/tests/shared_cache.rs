//! `pims --cache postgres://…` (or `PIMS_CACHE_URL`): the step cache in a PostgreSQL database
//! shared by several processes, each with a home of its own, against one simulator. A real
//! server is started by the test harness; without PostgreSQL installed these tests say why and
//! return (under `CI=true` they fail).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims_cache_postgres::test_server::TestServer;
use serde_json::Value;
use support::{Home, all_done, enrol_device, example_rows, in_process_sim};

/// A password that the test server (trust authentication) ignores: it must never be shown.
const CANARY_PASSWORD: &str = "canary-db-pw-77031";

/// The URL of a fresh database, with the canary password in it.
fn database(server: &TestServer) -> String {
    server
        .fresh_url()
        .replacen("postgres@", &format!("postgres:{CANARY_PASSWORD}@"), 1)
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn two_processes_on_one_database_share_the_device_the_sticky_steps_and_the_resets() {
    let Some(server) = TestServer::shared() else {
        return;
    };
    let db = database(server);
    let (rt, sim) = in_process_sim(None);
    let url = sim.base_url();
    let (a, b) = (Home::new(), Home::new());
    let remote = [
        "--url",
        &url,
        "--token",
        pims_sim::DEMO_TOKEN,
        "--cache",
        &db,
    ];
    let steps = |home: &Home, extra: &[&str]| {
        home.run(
            &[
                &remote[..],
                &["steps", "--car-association-id", "987654"],
                extra,
            ]
            .concat(),
        )
    };

    // A's first call creates the device id in the database; B is the same device.
    assert_eq!(steps(&a, &[]).expect(0).step_rows(), example_rows());
    let show = |home: &Home| {
        json(
            &home
                .run(&[&remote[..], &["--json", "cache", "show"]].concat())
                .expect(0)
                .stdout,
        )
    };
    let (on_a, on_b) = (show(&a), show(&b));
    assert_eq!(on_a["deviceId"], on_b["deviceId"]);
    assert_eq!(on_b["lists"].as_array().unwrap().len(), 1);
    assert_eq!(
        on_b["cacheDatabase"].as_str().unwrap(),
        db.split('?')
            .next()
            .unwrap()
            .replace(&format!(":{CANARY_PASSWORD}"), "")
    );

    // The shared device enrolled: both see alreadyDone...
    let device = on_a["deviceId"].as_str().unwrap().to_owned();
    enrol_device(&rt, &sim, &device);
    let _ = steps(&a, &[]).expect(0);
    let done = steps(&b, &[]).expect(0).statuses();
    assert_eq!(
        done[1],
        ("deviceActivation".to_owned(), "alreadyDone".to_owned())
    );
    // ...and it stays so for B after the backend disabled the device.
    rt.block_on(sim.disable_device(&device)).unwrap();
    assert_eq!(steps(&b, &[]).expect(0).statuses()[1].1, "alreadyDone");
    // A resets; B's next call sees it.
    assert_eq!(steps(&a, &["--reset"]).expect(0).statuses()[1].1, "todo");
    assert_eq!(steps(&b, &[]).expect(0).statuses()[1].1, "todo");
    assert_ne!(steps(&b, &[]).statuses(), all_done());

    // Nothing of the cache is in either home, and the password is nowhere.
    for home in [&a, &b] {
        assert!(!home.file("cache").exists(), "a sled cache was made");
        for (path, bytes) in support::all_bytes(home.path()) {
            assert!(
                !support::contains(&bytes, CANARY_PASSWORD),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn the_environment_variable_and_cache_wipe() {
    let Some(server) = TestServer::shared() else {
        return;
    };
    let db = database(server);
    let (_rt, sim) = in_process_sim(None);
    let url = sim.base_url();
    let home = Home::new();
    let run = |args: &[&str]| {
        support::Run::from_output(
            home.command()
                .env("PIMS_CACHE_URL", &db)
                .args(["--url", &url, "--token", pims_sim::DEMO_TOKEN])
                .args(args)
                .output()
                .unwrap(),
        )
    };
    // Looking creates nothing: no table yet, an empty cache.
    let empty = run(&["cache", "show"]).expect(0);
    assert!(
        empty.stdout.contains("is empty: no list fetched yet"),
        "{}",
        empty.stdout
    );
    assert_eq!(
        server.psql(
            TestServer::database_of(&db),
            "select count(*) from pg_tables where schemaname = 'public'"
        ),
        "0"
    );
    run(&["steps", "--car-association-id", "987654"]).expect(0);
    let wiped = run(&["--json", "cache", "wipe"]).expect(0);
    assert_eq!(json(&wiped.stdout)["removedLists"], 1);
    let shown = json(&run(&["--json", "cache", "show"]).expect(0).stdout);
    assert_eq!(shown["lists"].as_array().unwrap().len(), 0);
    assert!(shown["deviceId"].is_string(), "the device id is kept");
    for r in [&empty, &wiped] {
        assert!(!r.stdout.contains(CANARY_PASSWORD) && !r.stderr.contains(CANARY_PASSWORD));
    }
}

#[test]
fn a_bad_url_is_bad_usage_and_a_server_down_a_failure_neither_echoing_the_password() {
    let home = Home::new();
    let bad = home
        .run(&[
            "--cache",
            &format!("mysql://svc:{CANARY_PASSWORD}@db/x"),
            "cache",
            "show",
        ])
        .expect(2);
    assert!(
        bad.stderr.contains("--cache takes a PostgreSQL URL"),
        "{}",
        bad.stderr
    );
    // Nothing listens on port 1 of loopback.
    let down = format!("postgres://svc:{CANARY_PASSWORD}@127.0.0.1:1/steps?connect_timeout=2");
    let shown = home.run(&["--cache", &down, "cache", "show"]).expect(1);
    assert!(
        shown
            .stderr
            .contains("the cache postgres://svc@127.0.0.1:1/steps cannot be used"),
        "{}",
        shown.stderr
    );
    let steps = home
        .run(&["--cache", &down, "steps", "--car-association-id", "987654"])
        .expect(1);
    assert!(
        steps.stderr.contains("postgres://svc@127.0.0.1:1/steps"),
        "{}",
        steps.stderr
    );
    for r in [&bad, &shown, &steps] {
        assert!(!r.stdout.contains(CANARY_PASSWORD), "{}", r.stdout);
        assert!(!r.stderr.contains(CANARY_PASSWORD), "{}", r.stderr);
    }
}
