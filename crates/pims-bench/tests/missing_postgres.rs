//! Without PostgreSQL installed, `pims-bench` reports B9-B11 as skipped, with the reason, and
//! still succeeds; under `CI=true` they are not measured and the run fails. The installation
//! is hidden from the `pims-bench` process by an empty tmpfs over `/usr/lib/postgresql` in a
//! private mount namespace (`unshare -m`, as root), as pims-cache-postgres's own test does.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

const INSTALL_ROOT: &str = "/usr/lib/postgresql";

/// Runs `pims-bench --quick --only B9,B10,B11` with PostgreSQL hidden: its success, its
/// output (stdout then stderr) and its report.
fn run_hidden(ci: Option<&str>) -> (bool, String, serde_json::Value) {
    let exe = env!("CARGO_BIN_EXE_pims-bench");
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("report.json");
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
    cmd.args(["--quick", "--no-build", "--only", "B9,B10,B11", "--out"])
        .arg(&report)
        .env("CARGO_TARGET_DIR", out_dir.path())
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
    if text.starts_with("unshare:") || text.contains("mount:") {
        panic!("cannot hide PostgreSQL in a private mount namespace: {text}");
    }
    let report = std::fs::read_to_string(&report)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (out.status.success(), text, report)
}

#[test]
fn a_missing_postgresql_is_a_skip_except_under_ci() {
    let (passed, text, report) = run_hidden(None);
    assert!(passed, "{text}");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "B9, B10 and B11's two rows: {report}");
    for row in rows {
        assert_eq!(row["skipped"], true, "{row}");
        assert_eq!(row["ours"], serde_json::Value::Null, "{row}");
        let note = row["note"].as_str().unwrap();
        assert!(
            note.starts_with("NOT MEASURED (skipped): PostgreSQL is not installed"),
            "{note}"
        );
    }

    let (passed, text, report) = run_hidden(Some("true"));
    assert!(!passed, "CI=true: a missing PostgreSQL passed: {text}");
    assert!(text.contains("not measured: B9, B10, B11, B11"), "{text}");
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(row["skipped"], false, "{row}");
        assert!(
            row["note"]
                .as_str()
                .unwrap()
                .contains("PostgreSQL is not installed"),
            "{row}"
        );
    }
    // The harness's panic is the row's reason, not a backtrace on the terminal.
    assert!(!text.contains("panicked at"), "{text}");
}
