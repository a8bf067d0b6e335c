//! An unwritable cache directory: a read-only bind mount, and a full disk (a tiny tmpfs), each
//! inside a private mount namespace (`unshare -m`) so that nothing leaks to the host. Tests
//! run as root, so `chmod` would prove nothing. The cache must report itself degraded and
//! keep answering.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use pims_cache::{DegradedReason, ListKeys, SledStore, StepCache};
use pims_types::StepsSelector;
use support::*;

const DIR_ENV: &str = "PIMS_CACHE_TEST_DIR";
const DEVICE_ENV: &str = "PIMS_CACHE_TEST_DEVICE";
const DONE: &str = "CHILD-DONE";

/// Runs test `test` of this binary again inside a private mount namespace, in child mode
/// `mode`, and fails (saying why) if the namespace cannot be made or the child fails.
fn in_private_namespace(test: &str, mode: &str, envs: &[(&str, &Path)], device: &str) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, mode)
        .env(DEVICE_ENV, device);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot create a private mount namespace: running `unshare` failed: {e} (util-linux's unshare is needed, and root)")
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("unshare failed") || stderr.starts_with("unshare:") {
        panic!("cannot create a private mount namespace (unshare -m): {stderr}");
    }
    assert!(
        out.status.success() && stdout.contains(DONE),
        "the child failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    if let Some(line) = stdout.lines().find(|l| l.contains(DONE)) {
        eprintln!("child: {line}");
    }
}

fn mount(args: &[&str]) {
    let out = Command::new("mount").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mount {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 1 MiB tmpfs on `mnt` (inside the child's private mount namespace).
fn mount_tiny_tmpfs(mnt: &Path) {
    mount(&[
        "-t",
        "tmpfs",
        "-o",
        "size=1m",
        "tmpfs",
        mnt.to_str().unwrap(),
    ]);
}

/// Fills the file system of `dir` up with a file of zeros.
fn fill(dir: &Path) {
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
}

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(std::env::var(name).unwrap())
}

#[tokio::test]
async fn a_read_only_directory_degrades_the_cache_and_answers_go_on() {
    if child_mode().as_deref() == Some("read-only") {
        let dir = env_path(DIR_ENV);
        let dir = dir.to_str().unwrap();
        mount(&["--bind", dir, dir]);
        mount(&["-o", "remount,bind,ro", dir]);
        assert!(std::fs::write(Path::new(dir).join("probe"), b"x").is_err());

        let store = SledStore::open(dir, Default::default()).unwrap();
        let health = store.health();
        let degradation = health.degradation().expect("degraded");
        assert_eq!(degradation.reason, DegradedReason::ReadOnly, "{health}");
        assert!(store.is_degraded());
        let cache = StepCache::new(std::sync::Arc::new(store));
        // What was on disk is still served, under the same device id.
        assert_eq!(
            cache.device_id().await.unwrap().as_str(),
            std::env::var(DEVICE_ENV).unwrap()
        );
        let ns = cache.namespace("acct").await.unwrap();
        let car = StepsSelector::car_association_id("987654").unwrap();
        let cached = cache.get(&ns, &car).await.unwrap().unwrap();
        assert_eq!(done(&cached), ["trusterPhoneNumber"]);
        // Merges, resets and lookups keep working; nothing claims to be durable.
        let m = cache
            .merge(
                &ns,
                &ListKeys::from(&car),
                &three(132324, false, true, false),
            )
            .await
            .unwrap();
        assert_eq!(done(&m.list), ["trusterPhoneNumber", "deviceActivation"]);
        assert!(m.changed && !m.durable);
        assert_eq!(cache.get(&ns, &car).await.unwrap().unwrap(), m.list);
        let r = cache.reset(&ns, &car).await.unwrap();
        assert_eq!((r.lists, r.durable), (1, false));
        assert_eq!(cache.get(&ns, &car).await.unwrap(), None);
        println!("\n{DONE}");
        return;
    }

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = {
        let cache = sled_cache(&dir);
        let ns = cache.namespace("acct").await.unwrap();
        let keys = ListKeys::new().with_car_association_id("987654");
        cache
            .merge(&ns, &keys, &three(132324, true, false, false))
            .await
            .unwrap();
        cache.device_id().await.unwrap()
    };
    in_private_namespace(
        "a_read_only_directory_degrades_the_cache_and_answers_go_on",
        "read-only",
        &[(DIR_ENV, &dir)],
        device.as_str(),
    );
    // Nothing the child did reached the directory.
    let cache = sled_cache(&dir);
    let ns = cache.namespace("acct").await.unwrap();
    let list = cache
        .get(&ns, &StepsSelector::steps_id("132324").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done(&list), ["trusterPhoneNumber"]);
}

#[tokio::test]
async fn a_full_disk_degrades_the_cache_and_answers_go_on() {
    if child_mode().as_deref() == Some("full-disk") {
        let mnt = env_path(DIR_ENV);
        mount_tiny_tmpfs(&mnt);
        let dir = mnt.join("cache");
        let store = SledStore::open(&dir, Default::default()).unwrap();
        assert!(store.health().is_durable());
        let cache = StepCache::new(std::sync::Arc::new(store.clone()));
        let device = cache.device_id().await.unwrap();
        let ns = cache.namespace("acct").await.unwrap();
        let keys = ListKeys::new().with_car_association_id("987654");
        let m = cache
            .merge(&ns, &keys, &three(1, true, false, false))
            .await
            .unwrap();
        assert!(m.durable);

        // Fill the disk.
        fill(&mnt);

        // Keep changing lists until a flush meets the full disk.
        let mut failed_at = None;
        for i in 0..5000u64 {
            let keys = ListKeys::new().with_car_association_id(format!("car-{i}"));
            let m = cache
                .merge(&ns, &keys, &three(100 + i, i % 2 == 0, true, false))
                .await
                .unwrap();
            if !m.durable {
                failed_at = Some(i);
                break;
            }
        }
        let i = failed_at.expect("the disk never filled up");
        let health = store.health();
        assert_eq!(
            health.degradation().unwrap().reason,
            DegradedReason::NoSpace,
            "{health}"
        );
        // The change that met the full disk is still seen, and so is what came before.
        let last = cache
            .get(
                &ns,
                &StepsSelector::car_association_id(format!("car-{i}")).unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last.steps_id().as_str(), (100 + i).to_string());
        let first = cache
            .get(&ns, &StepsSelector::car_association_id("987654").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done(&first), ["trusterPhoneNumber"]);
        assert_eq!(cache.device_id().await.unwrap(), device);
        // Answers go on: sticky merges, resets.
        let m = cache
            .merge(&ns, &keys, &three(1, false, false, true))
            .await
            .unwrap();
        assert_eq!(done(&m.list), ["trusterPhoneNumber", "mediumCarKey"]);
        assert!(!m.durable);
        assert_eq!(
            cache
                .reset(&ns, &StepsSelector::steps_id("1").unwrap())
                .await
                .unwrap()
                .lists,
            1
        );
        assert_eq!(
            cache
                .get(&ns, &StepsSelector::car_association_id("987654").unwrap())
                .await
                .unwrap(),
            None
        );
        println!("\n{DONE} after {i} changes");
        return;
    }

    let tmp = tempfile::tempdir().unwrap();
    in_private_namespace(
        "a_full_disk_degrades_the_cache_and_answers_go_on",
        "full-disk",
        &[(DIR_ENV, tmp.path())],
        "",
    );
    // The tmpfs lived in the child's namespace only.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// A full disk and no volatile space for a copy: the store goes on from an empty map with only
/// the unflushed writes, so the namespaces' id entries are gone while some of their lists
/// survive. No account may then see another's lists: not one remembered by a running cache,
/// not one created afterwards, not through a fresh cache.
#[tokio::test]
async fn degraded_to_an_empty_map_accounts_stay_apart() {
    if child_mode().as_deref() == Some("empty-fallback") {
        let mnt = env_path(DIR_ENV);
        mount_tiny_tmpfs(&mnt);
        // No room for the volatile copy either.
        mount(&["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", "/dev/shm"]);
        let dir = mnt.join("cache");
        let store = SledStore::open(&dir, Default::default()).unwrap();
        let cache = StepCache::new(std::sync::Arc::new(store.clone()));
        let alice = cache.namespace("alice").await.unwrap();
        assert!(
            cache
                .merge(&alice, &ListKeys::new(), &three(1, true, false, false))
                .await
                .unwrap()
                .durable
        );
        fill(&mnt);
        let mut last = None;
        for i in 0..5000u64 {
            let m = cache
                .merge(&alice, &ListKeys::new(), &three(100 + i, true, true, false))
                .await
                .unwrap();
            if !m.durable {
                last = Some(100 + i);
                break;
            }
        }
        let last = last.expect("the disk never filled up").to_string();
        assert!(store.health().is_degraded());
        let by_sid = |s: &str| StepsSelector::steps_id(s).unwrap();

        // A new account through a fresh cache: it does not inherit alice's surviving list.
        let fresh = StepCache::new(std::sync::Arc::new(store.clone()));
        let dave = fresh.namespace("dave").await.unwrap();
        fresh
            .merge(&dave, &ListKeys::new(), &three(5, false, false, false))
            .await
            .unwrap();
        assert_eq!(
            fresh.get(&dave, &by_sid(&last)).await.unwrap(),
            None,
            "dave sees alice's list"
        );
        // Alice, through the cache that remembered her id, does not see dave's list.
        assert_eq!(
            cache.get(&alice, &by_sid("5")).await.unwrap(),
            None,
            "alice sees dave's list"
        );
        // A third account on the same running cache.
        let carol = cache.namespace("carol").await.unwrap();
        assert_eq!(cache.get(&carol, &by_sid(&last)).await.unwrap(), None);
        cache
            .merge(&carol, &ListKeys::new(), &three(7, false, false, true))
            .await
            .unwrap();
        assert_eq!(
            cache.get(&alice, &by_sid("7")).await.unwrap(),
            None,
            "alice sees carol's list"
        );
        assert_eq!(
            fresh.get(&dave, &by_sid("7")).await.unwrap(),
            None,
            "dave sees carol's list"
        );
        assert!(cache.get(&carol, &by_sid("7")).await.unwrap().is_some());
        // Alice goes on caching (durable: false), under an id of her own again.
        cache
            .merge(&alice, &ListKeys::new(), &three(9, true, false, false))
            .await
            .unwrap();
        assert!(cache.get(&alice, &by_sid("9")).await.unwrap().is_some());
        assert_eq!(cache.get(&carol, &by_sid("9")).await.unwrap(), None);
        println!("{DONE}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    in_private_namespace(
        "degraded_to_an_empty_map_accounts_stay_apart",
        "empty-fallback",
        &[(DIR_ENV, tmp.path())],
        "",
    );
}

/// `wipe` on a read-only cache removes nothing on disk, and says so: no removal is durable.
#[tokio::test]
async fn wipe_on_a_read_only_cache_reports_no_durable_removal() {
    if child_mode().as_deref() == Some("wipe-read-only") {
        let dir = env_path(DIR_ENV);
        let dir = dir.to_str().unwrap();
        mount(&["--bind", dir, dir]);
        mount(&["-o", "remount,bind,ro", dir]);
        let cache = StepCache::new(std::sync::Arc::new(
            SledStore::open(dir, Default::default()).unwrap(),
        ));
        let removed = cache.wipe().await.unwrap();
        assert_eq!(removed.lists, 1, "{removed:?}");
        assert!(!removed.durable, "{removed:?}");
        assert_eq!(removed.durable_lists, 0, "{removed:?}");
        println!("\n{DONE}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = {
        let cache = sled_cache(&dir);
        let ns = cache.namespace("acct").await.unwrap();
        let keys = ListKeys::new().with_car_association_id("987654");
        cache
            .merge(&ns, &keys, &three(132324, true, false, false))
            .await
            .unwrap();
        cache.device_id().await.unwrap()
    };
    in_private_namespace(
        "wipe_on_a_read_only_cache_reports_no_durable_removal",
        "wipe-read-only",
        &[(DIR_ENV, &dir)],
        device.as_str(),
    );
    let cache = sled_cache(&dir);
    assert_eq!(
        cache.lists(None).await.unwrap().len(),
        1,
        "the list is still there"
    );
}

/// `wipe` on a full disk: what it reports durably removed is gone from the disk.
#[tokio::test]
async fn wipe_on_a_full_disk_reports_only_what_reached_the_disk() {
    const LISTS: u64 = 40;
    if child_mode().as_deref() == Some("wipe-full-disk") {
        let mnt = env_path(DIR_ENV);
        mount_tiny_tmpfs(&mnt);
        let dir = mnt.join("cache");
        {
            let cache = sled_cache(&dir);
            let ns = cache.namespace("acct").await.unwrap();
            for i in 0..LISTS {
                let keys = ListKeys::new().with_car_association_id(format!("car-{i}"));
                assert!(
                    cache
                        .merge(&ns, &keys, &three(i, true, false, false))
                        .await
                        .unwrap()
                        .durable
                );
            }
        }
        fill(&mnt);
        let removed = {
            let cache = sled_cache(&dir);
            cache.wipe().await.unwrap()
        };
        assert_eq!(removed.lists, LISTS as usize, "{removed:?}");
        assert!(removed.durable_lists <= removed.lists);
        assert_eq!(removed.durable, removed.durable_lists == removed.lists);
        // Room again: what is on disk now?
        std::fs::remove_file(mnt.join("filler")).unwrap();
        let left = sled_cache(&dir).lists(None).await.unwrap().len();
        assert!(
            left <= removed.lists - removed.durable_lists,
            "{left} lists left although {removed:?}"
        );
        println!("\n{DONE} {removed:?}, {left} left on disk");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    in_private_namespace(
        "wipe_on_a_full_disk_reports_only_what_reached_the_disk",
        "wipe-full-disk",
        &[(DIR_ENV, tmp.path())],
        "",
    );
}
