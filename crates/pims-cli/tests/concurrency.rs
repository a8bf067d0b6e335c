//! Two `pims` processes on one home: the second fails at once naming the first (exit 3), and
//! the home is never corrupted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Home, example_rows};

#[test]
fn a_second_run_on_a_busy_home_fails_clearly_and_touches_nothing() {
    // A backend that accepts connections and never answers: the first run holds the home
    // until its deadline.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let home = Home::new();
    let mut first = home
        .background(&[
            "--url",
            &url,
            "--token",
            "t",
            "--timeout",
            "30",
            "steps",
            "--car-association-id",
            "987654",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id().to_string();
    let lock = home.file("pims.lock");
    let started = Instant::now();
    while std::fs::read_to_string(&lock).unwrap_or_default().trim() != pid {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first run never took the home"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let second = home
        .run(&["steps", "--car-association-id", "987654"])
        .expect(3);
    assert_eq!(second.stderr.lines().count(), 1, "{}", second.stderr);
    assert!(
        second.stderr.contains("in use by another pims process"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&format!("pid {pid}")),
        "{}",
        second.stderr
    );
    assert!(second.stdout.is_empty());
    // Refused before the embedded simulator started: its state file was never written.
    assert!(!home.file("sim-state.json").exists());

    first.kill().unwrap();
    first.wait().unwrap();
    // The home works again, whole.
    let run = home
        .run(&["steps", "--car-association-id", "987654"])
        .expect(0);
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
}

#[test]
fn parallel_runs_never_corrupt_the_home() {
    let home = Home::new();
    let children: Vec<_> = (0..4)
        .map(|_| {
            home.background(&["steps", "--car-association-id", "987654"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut succeeded = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        match out.status.code() {
            Some(0) => succeeded += 1,
            Some(3) => {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("in use"), "{err}");
            }
            other => panic!(
                "unexpected exit {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    assert!(succeeded >= 1);
    // Whatever interleaving happened, the home is one consistent installation.
    let run = home
        .run(&["steps", "--car-association-id", "987654"])
        .expect(0);
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
    assert!(run.stdout.starts_with("stepsID 132324\n"), "{}", run.stdout);
}

#[test]
fn a_cache_held_by_another_program_stops_the_run_before_the_simulator_starts() {
    let home = Home::new();
    // This test process holds the cache, as an app sharing the directory would (opened, and
    // locked, the way an app opens it: through the facade's builder).
    let store = pims::Pims::builder()
        .cache_dir(home.file("cache"))
        .open_cache()
        .unwrap();
    let run = home
        .run(&["steps", "--car-association-id", "987654"])
        .expect(3);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("in use by another process"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("pid {}", std::process::id())),
        "{}",
        run.stderr
    );
    assert!(
        !home.file("sim-state.json").exists(),
        "the simulator was started"
    );
    drop(store);
    let run = home
        .run(&["steps", "--car-association-id", "987654"])
        .expect(0);
    assert_eq!(run.step_rows(), example_rows(), "{}", run.stdout);
}
