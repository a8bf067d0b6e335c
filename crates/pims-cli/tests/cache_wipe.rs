//! `pims cache wipe` on a cache that cannot be written reports only what reached the disk:
//! a read-only cache (a read-only bind mount) and a full one (a 1 MiB tmpfs, filled), each in
//! a private mount namespace (`unshare -m`; tests run as root, so `chmod` would prove nothing).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::Command;

use serde_json::Value;
use support::{Home, Run};

const CAR: &str = "987654";

/// A home whose cache holds the documentation's list.
fn home_with_one_list() -> Home {
    let home = Home::new();
    home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(cached_lists(&home), 1);
    home
}

fn cached_lists(home: &Home) -> usize {
    let show = home.run(&["--json", "cache", "show"]).expect(0);
    let v: Value = serde_json::from_str(show.stdout.trim()).unwrap();
    v["lists"].as_array().unwrap().len()
}

/// Runs `script` with `sh` in a private mount namespace, with `$PIMS` the command, `$D` the
/// home's cache directory and `$T` a scratch directory, and `pims`'s environment.
fn in_private_namespace(home: &Home, script: &str) -> Run {
    let scratch = tempfile::tempdir().unwrap();
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
        ])
        .env("PIMS", env!("CARGO_BIN_EXE_pims"))
        .env("D", home.file("cache"))
        .env("T", scratch.path())
        .env("PIMS_HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("PIMS_TOKEN")
        .env_remove("RUST_LOG")
        .env_remove("PIMS_SIM_ADMIN_TOKEN")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `unshare` (util-linux's unshare is needed, and root): {e}")
        });
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.starts_with("unshare:") && !run.stderr.contains("mount: "),
        "cannot create a private mount namespace with a mount in it: {}",
        run.stderr
    );
    run
}

#[test]
fn wipe_on_a_read_only_cache_fails_and_says_the_list_is_still_there() {
    let home = home_with_one_list();
    let run = in_private_namespace(
        &home,
        r#"mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && exec "$PIMS" cache wipe"#,
    );
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(!run.stdout.contains("removed"), "{}", run.stdout);
    assert!(
        run.stderr.contains("nothing was removed")
            && run.stderr.contains("1 cached list is still there"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("read-only"), "{}", run.stderr);
    // It was indeed still there.
    assert_eq!(cached_lists(&home), 1);
    // `--json` still prints its one line: nothing removed, one list left.
    let run = in_private_namespace(
        &home,
        r#"mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && exec "$PIMS" --json cache wipe"#,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line: Value =
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    assert_eq!(
        (line["removedLists"].as_u64(), line["listsLeft"].as_u64()),
        (Some(0), Some(1))
    );
    assert!(
        line["error"].as_str().unwrap().contains("read-only"),
        "{line}"
    );
    // Once writable, the wipe goes through.
    let wipe = home.run(&["cache", "wipe"]).expect(0);
    assert!(wipe.stdout.contains("1 list removed"), "{}", wipe.stdout);
    assert_eq!(cached_lists(&home), 0);
}

#[test]
fn wipe_on_a_full_cache_reports_only_what_reached_the_disk() {
    let home = home_with_one_list();
    // The cache copied onto a 1 MiB tmpfs, the tmpfs filled, then wiped; then, with room
    // again, shown: what the wipe said must be what the disk holds.
    let run = in_private_namespace(
        &home,
        r#"set -e
cp -a "$D" "$T/saved"
mount -t tmpfs -o size=1m tmpfs "$D"
cp -a "$T/saved/." "$D/"
dd if=/dev/zero of="$D/filler" bs=4096 2>/dev/null || true
set +e
"$PIMS" cache wipe
echo "WIPE-EXIT $?"
rm -f "$D/filler"
"$PIMS" --json cache show"#,
    );
    let (wipe, show) = run
        .stdout
        .split_once("WIPE-EXIT ")
        .unwrap_or_else(|| panic!("stdout: {}\nstderr: {}", run.stdout, run.stderr));
    let (code, show) = show.split_once('\n').unwrap();
    let left = serde_json::from_str::<Value>(show.trim())
        .unwrap_or_else(|e| panic!("{e}: {show}\nstderr: {}", run.stderr))["lists"]
        .as_array()
        .unwrap()
        .len();
    match code.trim() {
        "0" => {
            assert!(wipe.contains("1 list removed"), "{wipe}");
            assert_eq!(left, 0, "reported removed, but still on disk");
        }
        "1" => {
            assert!(run.stderr.contains("nothing was removed"), "{}", run.stderr);
            assert_eq!(left, 1, "reported not removed, but gone");
        }
        other => panic!(
            "exit {other}\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        ),
    }
    eprintln!("full cache: wipe exit {}, {left} list(s) left", code.trim());
}

#[test]
fn wipe_refuses_a_cache_that_is_a_link_and_leaves_the_tree_behind_it_alone() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let home = Home::new();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("notes.txt"), b"mine").unwrap();
    std::fs::set_permissions(
        elsewhere.path().join("notes.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(elsewhere.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    symlink(elsewhere.path(), home.file("cache")).unwrap();
    let run = home.run(&["cache", "wipe"]).expect(2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(elsewhere.path()), 0o755);
    assert_eq!(mode(&elsewhere.path().join("notes.txt")), 0o644);
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        1,
        "nothing created there"
    );
}
