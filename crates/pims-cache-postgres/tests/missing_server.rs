//! Without PostgreSQL installed, the tests say why they skip and pass; under `CI=true` they
//! fail. The installation is hidden from a child process of this test binary by an empty
//! tmpfs over `/usr/lib/postgresql` in a private mount namespace (`unshare -m`).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use pims_cache_postgres::test_server::TestServer;
use support::*;

const TEST: &str = "a_missing_server_is_a_skip_except_under_ci";
const INSTALL_ROOT: &str = "/usr/lib/postgresql";

/// Runs the child test with PostgreSQL hidden; its exit status and output.
fn run_hidden(ci: Option<&str>) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = if Path::new(INSTALL_ROOT).is_dir() {
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs none {INSTALL_ROOT} && exec \"$0\" \"$@\""
            ))
            .arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, "hidden")
        .env_remove("CI");
    if let Some(v) = ci {
        cmd.env("CI", v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run `unshare` (util-linux, as root): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if text.contains("unshare failed") || text.starts_with("unshare:") || text.contains("mount:") {
        panic!("cannot hide PostgreSQL in a private mount namespace: {text}");
    }
    (out.status.success(), text)
}

#[test]
fn a_missing_server_is_a_skip_except_under_ci() {
    if child_mode().is_some() {
        assert!(
            TestServer::shared().is_none(),
            "a server started without PostgreSQL"
        );
        println!("NO SERVER, SKIPPED");
        return;
    }
    let (passed, text) = run_hidden(None);
    assert!(passed, "{text}");
    assert!(text.contains("NO SERVER, SKIPPED"), "{text}");
    assert!(
        text.contains("skipped: PostgreSQL is not installed"),
        "{text}"
    );
    for ci in ["true", "1"] {
        let (passed, text) = run_hidden(Some(ci));
        assert!(!passed, "CI={ci}: a missing server passed: {text}");
        assert!(text.contains("PostgreSQL is not installed"), "{text}");
        assert!(!text.contains("NO SERVER, SKIPPED"), "{text}");
    }
    let (passed, text) = run_hidden(Some("false"));
    assert!(passed, "CI=false: {text}");
}
