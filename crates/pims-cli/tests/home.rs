//! The home cannot be turned against its user: it is the user's and private (tightened, or
//! refused), links planted in it are not followed, the lock names only a live holder, `sim
//! reset` clears a state it must not read, and a read-only home still serves `--url`.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use support::{Home, example_rows};

const CAR: &str = "987654";

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_loose_home_of_the_user_is_made_private() {
    let home = Home::new();
    fs::set_permissions(home.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let run = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
    assert_eq!(mode(home.path()), 0o700);
    assert!(
        run.stderr.contains("was mode 0777: made it 0700"),
        "says what it did: {}",
        run.stderr
    );
    // Once private, nothing more is said.
    let again = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
}

#[test]
fn a_home_of_another_user_is_refused_and_left_alone() {
    let home = Home::new();
    let theirs = home.file("theirs");
    fs::create_dir(&theirs).unwrap();
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let run = home
        .run(&[
            "--home",
            theirs.to_str().unwrap(),
            "steps",
            "--car-association-id",
            CAR,
        ])
        .expect(2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("belongs to uid 65534"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--home"),
        "says what to do: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    // Not chmodded, nothing created in it.
    assert_eq!(mode(&theirs), 0o777);
    assert!(fs::read_dir(&theirs).unwrap().next().is_none());
}

#[test]
fn a_linked_home_is_refused() {
    let home = Home::new();
    let real = home.file("real");
    fs::create_dir(&real).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o755)).unwrap();
    let link = home.file("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let run = home
        .run(&[
            "--home",
            link.to_str().unwrap(),
            "steps",
            "--car-association-id",
            CAR,
        ])
        .expect(2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert!(
        run.stderr.contains(real.to_str().unwrap()),
        "names the directory to pass: {}",
        run.stderr
    );
    assert_eq!(mode(&real), 0o755, "what the link points to was chmodded");
    assert!(fs::read_dir(&real).unwrap().next().is_none());
}

#[test]
fn a_planted_lock_link_is_not_followed() {
    let home = Home::new();
    // Planted while the home was loose: a link to a file of the user's outside the home.
    let outside = tempfile::tempdir().unwrap();
    let precious = outside.path().join("precious.txt");
    fs::write(&precious, b"keep me").unwrap();
    std::os::unix::fs::symlink(&precious, home.file("pims.lock")).unwrap();
    let run = home.run(&["steps", "--car-association-id", CAR]).expect(2);
    assert!(run.stderr.contains("pims.lock"), "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert!(run.stderr.contains("remove it"), "{}", run.stderr);
    assert_eq!(fs::read(&precious).unwrap(), b"keep me");
    assert!(!home.file("sim-state.json").exists());
}

#[test]
fn a_clean_exit_leaves_no_pid_behind() {
    let home = Home::new();
    home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(fs::read_to_string(home.file("pims.lock")).unwrap(), "");
    // A failed command exits cleanly too.
    home.run(&["next-step", "--steps-id", "999"]).expect(1);
    assert_eq!(fs::read_to_string(home.file("pims.lock")).unwrap(), "");
}

#[test]
fn the_in_use_message_names_only_a_live_holder() {
    let home = Home::new();
    home.run(&["cache", "show"]).expect(0);
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(home.file("pims.lock"))
        .unwrap();
    lock.lock().unwrap();
    // The pid of a process that is gone (a holder killed before the next one wrote its own).
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    fs::write(home.file("pims.lock"), dead.to_string()).unwrap();
    let run = home.run(&["cache", "show"]).expect(3);
    assert!(run.stderr.contains("in use"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("pid"),
        "a dead pid is named: {}",
        run.stderr
    );
    // A live holder is named.
    fs::write(home.file("pims.lock"), std::process::id().to_string()).unwrap();
    let run = home.run(&["cache", "show"]).expect(3);
    assert!(
        run.stderr
            .contains(&format!("(pid {})", std::process::id())),
        "{}",
        run.stderr
    );
    drop(lock);
}

/// `pims sim reset` with `sim-state.json` replaced by something it must not read: it ends
/// (the command's guard timeout would fail a hang), moves the thing itself aside, and starts
/// afresh.
fn reset_moves_aside(home: &Home, kind: &str) {
    let run = home.run(&["sim", "reset"]).expect(0);
    assert!(run.stdout.contains("default scenario"), "{}", run.stdout);
    assert!(run.stderr.contains("moved it, unread"), "{}", run.stderr);
    assert!(run.stderr.contains(kind), "{}", run.stderr);
    let state = fs::symlink_metadata(home.file("sim-state.json")).unwrap();
    assert!(state.is_file(), "a fresh state file");
    let aside: Vec<_> = fs::read_dir(home.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("sim-state.json.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "moved aside once");
    let run = home.run(&["steps", "--car-association-id", CAR]).expect(0);
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
}

#[test]
fn sim_reset_moves_a_link_to_dev_zero_aside_unread() {
    let home = Home::new();
    std::os::unix::fs::symlink("/dev/zero", home.file("sim-state.json")).unwrap();
    reset_moves_aside(&home, "a symbolic link");
    let aside = fs::read_dir(home.path())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .unwrap();
    assert_eq!(
        fs::read_link(aside.path()).unwrap(),
        std::path::Path::new("/dev/zero"),
        "the link itself was moved"
    );
}

#[test]
fn sim_reset_moves_a_fifo_aside_unread() {
    let home = Home::new();
    let status = Command::new("mkfifo")
        .arg(home.file("sim-state.json"))
        .status()
        .unwrap();
    assert!(status.success());
    reset_moves_aside(&home, "a FIFO");
}

#[test]
fn sim_reset_moves_an_oversized_state_aside_unread() {
    let home = Home::new();
    // Sparse: 65 MiB claimed, nothing written.
    let file = fs::File::create(home.file("sim-state.json")).unwrap();
    file.set_len(65 * 1024 * 1024).unwrap();
    drop(file);
    reset_moves_aside(&home, "larger than the cap of 64 MiB");
}

/// Runs `pims ARGS` with the home bind-mounted read-only, in a private mount namespace.
fn run_read_only(home: &Home, args: &[&str]) -> support::Run {
    let dir = home.path().to_str().unwrap();
    let script =
        format!("mount --bind {dir} {dir} && mount -o remount,bind,ro {dir} && exec \"$0\" \"$@\"");
    let mut cmd = assert_cmd::Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_pims"))
        .args(args)
        .env("PIMS_HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("PIMS_TOKEN")
        .env_remove("RUST_LOG")
        .timeout(Duration::from_secs(60));
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.starts_with("unshare:") && !stderr.starts_with("mount:"),
        "cannot make a private mount namespace (util-linux and root are needed): {stderr}"
    );
    support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

#[test]
fn a_read_only_home_still_serves_url_from_the_backend() {
    let (rt, sim) = support::in_process_sim(None);
    let url = sim.base_url();
    let home = Home::new();
    let steps = [
        "--url",
        url.as_str(),
        "--token",
        pims_sim::DEMO_TOKEN,
        "steps",
        "--car-association-id",
        CAR,
    ];
    // Once writable (a cache and a lock file exist), once with no lock file at all.
    home.run(&steps).expect(0);
    let fresh = Home::new();
    for home in [&home, &fresh] {
        let run = run_read_only(home, &steps).expect(0);
        assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
        assert!(
            run.stderr
                .contains("answers come from the backend and nothing is remembered"),
            "a clear warning: {}",
            run.stderr
        );
    }
    // The embedded simulator needs to write its state: still a clear refusal.
    let run = run_read_only(&home, &["steps", "--car-association-id", CAR]).expect(2);
    assert!(run.stderr.contains("--home"), "{}", run.stderr);
    rt.block_on(sim.shutdown());
}
