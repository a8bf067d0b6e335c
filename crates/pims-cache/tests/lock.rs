//! Two processes on one cache directory: the second learns at once that it is in use, and by
//! whom.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use pims_cache::{CacheError, SledStore};
use support::*;

const DIR_ENV: &str = "PIMS_CACHE_TEST_DIR";

#[tokio::test]
async fn a_second_process_gets_in_use_within_a_second() {
    if child_mode().as_deref() == Some("hold") {
        // Child: open the cache, say so, hold it until the parent closes our stdin.
        let dir = std::env::var(DIR_ENV).unwrap();
        let cache = sled_cache(dir.as_ref());
        let id = cache.device_id().await.unwrap();
        let mut out = std::io::stdout();
        writeln!(out, "\nREADY {} {id}", std::process::id()).unwrap();
        out.flush().unwrap();
        wait_for_parent();
        return;
    }

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let mut holder = Reaped(
        child("a_second_process_gets_in_use_within_a_second", "hold")
            .env(DIR_ENV, &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(holder.0.stdout.take().unwrap()).lines();
    let ready = after_marker(&mut lines, "READY ").expect("the child did not open the cache");
    let mut parts = ready.split(' ');
    let pid: u32 = parts.next().unwrap().parse().unwrap();
    let device_id = parts.next().unwrap().to_owned();

    let started = Instant::now();
    let err = SledStore::open(&dir, Default::default()).unwrap_err();
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(1), "took {waited:?}");
    match &err {
        CacheError::InUse {
            path,
            pid: holder_pid,
        } => {
            assert_eq!(*holder_pid, Some(pid));
            assert!(path.ends_with("cache"));
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(
        err.to_string()
            .ends_with(&format!("is in use by another process (pid {pid})")),
        "{err}"
    );

    // Once the holder is gone, the cache opens, with the holder's state.
    drop(holder.0.stdin.take());
    assert!(holder.0.wait().unwrap().success());
    let cache = sled_cache(&dir);
    assert_eq!(cache.device_id().await.unwrap().as_str(), device_id);
}

#[test]
fn a_killed_holder_does_not_leave_the_directory_locked() {
    if child_mode().as_deref() == Some("hold-forever") {
        let dir = std::env::var(DIR_ENV).unwrap();
        let _cache = sled_cache(dir.as_ref());
        println!("\nREADY");
        std::io::stdout().flush().unwrap();
        wait_for_parent();
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let mut holder = Reaped(
        child(
            "a_killed_holder_does_not_leave_the_directory_locked",
            "hold-forever",
        )
        .env(DIR_ENV, &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let mut lines = BufReader::new(holder.0.stdout.take().unwrap()).lines();
    assert!(after_marker(&mut lines, "READY").is_some());
    assert!(
        SledStore::open(&dir, Default::default())
            .unwrap_err()
            .is_in_use()
    );
    holder.0.kill().unwrap(); // SIGKILL, while it holds the lock
    holder.0.wait().unwrap();
    let store = SledStore::open(&dir, Default::default()).unwrap();
    assert!(store.health().is_durable());
}
