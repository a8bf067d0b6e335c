//! The upgrade from layout 1 (earlier versions: the namespace spelled out in every key, JSON
//! records) on a real sled directory: every list, link and `alreadyDone` carried over, the old
//! entries gone; and the same when the upgrading process is killed at random moments.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pims_cache::{SledOptions, SledStore, StepCache, StepStore, Swap};
use pims_types::{StepStatus, StepsSelector, Vin};
use support::*;

const TEST: &str = "killed_while_upgrading_the_cache_loses_nothing";
const DIR_ENV: &str = "PIMS_CACHE_TEST_DIR";
const DEVICE: &str = "0b6f0c55-9f3b-4b8e-9d51-3f1f4e0a7c21";
const ACCOUNTS: [&str; 2] = ["alice@example.com", "bob"];
const VINS: [&str; 3] = [
    "VR1AB12C3D4567890",
    "ZFA31200000123456",
    "VF3AB12C3D4567891",
];

fn segment(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u16::try_from(s.len()).unwrap().to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// What list `i` of account `a` holds in the old cache: its steps done pattern.
fn pattern(a: usize, i: usize) -> [bool; 3] {
    let n = a * 7 + i;
    [
        n.is_multiple_of(2),
        n.is_multiple_of(3),
        n.is_multiple_of(5),
    ]
}

fn car(i: usize) -> String {
    format!("car-{i}")
}

fn vin_of(i: usize) -> Option<&'static str> {
    VINS.get(i).copied()
}

/// Writes a layout-1 cache of `lists` lists per account into `dir`, as earlier versions did.
fn write_old_cache(dir: &Path, lists: usize) {
    let store = SledStore::open(dir, SledOptions::default()).unwrap();
    let put = |k: &[u8], v: &[u8]| {
        assert_eq!(
            store.compare_and_swap(k, None, Some(v)).unwrap(),
            Swap::Swapped
        );
    };
    put(b"d", format!("\x01\"{DEVICE}\"").as_bytes());
    for (a, account) in ACCOUNTS.iter().enumerate() {
        let mut ns = Vec::new();
        segment(&mut ns, account);
        segment(&mut ns, DEVICE);
        for i in 0..lists {
            let sid = (1000 + i).to_string();
            let [p, d, k] = pattern(a, i);
            let status = |done: bool| if done { "alreadyDone" } else { "todo" };
            let vin = vin_of(i).map_or(String::new(), |v| format!(",\"vin\":\"{v}\""));
            let record = format!(
                "\x01{{\"id\":{sid},\"car\":\"{}\"{vin},\"steps\":[[\"trusterPhoneNumber\",\"{}\",1],\
                 [\"deviceActivation\",\"{}\",2],[\"mediumCarKey\",\"{}\",3]]}}",
                car(i),
                status(p),
                status(d),
                status(k)
            );
            let mut key = vec![b'l'];
            key.extend_from_slice(&ns);
            segment(&mut key, &sid);
            put(&key, record.as_bytes());
            let target = format!("\x01\"{sid}\"");
            let mut ikey = vec![b'i'];
            ikey.extend_from_slice(&ns);
            ikey.push(b'c');
            segment(&mut ikey, &car(i));
            put(&ikey, target.as_bytes());
            if let Some(v) = vin_of(i) {
                let mut ikey = vec![b'i'];
                ikey.extend_from_slice(&ns);
                ikey.push(b'v');
                segment(&mut ikey, v);
                put(&ikey, target.as_bytes());
            }
        }
    }
    store.flush().unwrap();
}

/// Entries of the old layout still in the store.
fn old_entries(store: &dyn StepStore) -> usize {
    let mut n = 0;
    for tag in [b"l", b"i"] {
        store
            .scan_prefix(tag, &mut |_, _| {
                n += 1;
                ControlFlow::Continue(())
            })
            .unwrap();
    }
    n
}

/// Every list of the old cache is there, by each of its names, with its alreadyDone steps.
fn check_upgraded(dir: &Path, lists: usize) {
    let store = Arc::new(SledStore::open(dir, SledOptions::default()).unwrap());
    let cache = StepCache::new(store.clone());
    assert_eq!(cache.device_id().unwrap().as_str(), DEVICE);
    for (a, account) in ACCOUNTS.iter().enumerate() {
        let ns = cache.namespace(*account).unwrap();
        for i in 0..lists {
            let sid = (1000 + i).to_string();
            let by_sid = cache
                .get(&ns, &StepsSelector::steps_id(&sid).unwrap())
                .unwrap()
                .unwrap_or_else(|| panic!("{account} list {i} lost"));
            let done: Vec<bool> = by_sid
                .steps()
                .iter()
                .map(|s| s.status == StepStatus::AlreadyDone)
                .collect();
            assert_eq!(done, pattern(a, i), "{account} list {i}");
            assert!(by_sid.steps_id().is_number(), "the stepsID keeps its form");
            let by_car = StepsSelector::car_association_id(car(i)).unwrap();
            assert_eq!(cache.get(&ns, &by_car).unwrap().as_ref(), Some(&by_sid));
            if let Some(v) = vin_of(i) {
                let by_vin = StepsSelector::Vin(Vin::parse(v).unwrap());
                assert_eq!(cache.get(&ns, &by_vin).unwrap().as_ref(), Some(&by_sid));
            }
        }
    }
    assert_eq!(old_entries(&*store), 0);
    let report = cache.check().unwrap();
    assert_eq!(report.lists, ACCOUNTS.len() * lists);
    assert_eq!(
        report.links,
        ACCOUNTS.len() * (lists + VINS.len().min(lists))
    );
    assert_eq!(report.unreadable_removed + report.dangling_removed, 0);
    // Each account sees its own lists only.
    let alice = cache.namespace(ACCOUNTS[0]).unwrap();
    assert!(
        cache
            .lists(Some(&alice))
            .unwrap()
            .iter()
            .all(|l| l.account == ACCOUNTS[0])
    );
}

#[test]
fn a_layout_1_cache_is_upgraded_on_first_use_and_stays_upgraded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    write_old_cache(&dir, 50);
    check_upgraded(&dir, 50);
    // Again after a restart: nothing to upgrade, everything still there.
    check_upgraded(&dir, 50);
}

#[test]
fn killed_while_upgrading_the_cache_loses_nothing() {
    const LISTS: usize = 1500;
    if child_mode().as_deref() == Some("upgrade") {
        let dir = std::env::var(DIR_ENV).unwrap();
        let cache = sled_cache(Path::new(&dir));
        println!("opened");
        let n = cache.lists(None).unwrap().len();
        println!("upgraded {n}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let run = |kill_after: Option<Duration>| -> bool {
        let mut child = Reaped(
            child(TEST, "upgrade")
                .env(DIR_ENV, &dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        assert!(after_marker(&mut lines, "opened").is_some(), "child opened");
        if let Some(d) = kill_after {
            std::thread::sleep(d);
            child.0.kill().unwrap();
        }
        let finished = after_marker(&mut lines, "upgraded").is_some();
        child.0.wait().unwrap();
        finished
    };
    // How long an upgrade takes here, uninterrupted.
    write_old_cache(&dir, LISTS);
    let started = Instant::now();
    assert!(run(None));
    let span = started.elapsed();
    check_upgraded(&dir, LISTS);
    // Then killed at moments spread over that span, each time from a fresh old cache; and a
    // second kill into the half-upgraded state before the last run finishes it.
    let mut interrupted = 0;
    for cycle in 0..12u32 {
        std::fs::remove_dir_all(&dir).unwrap();
        write_old_cache(&dir, LISTS);
        let at = span.mul_f64(f64::from(cycle % 6) / 6.0 + 0.05);
        if !run(Some(at)) {
            interrupted += 1;
        }
        if cycle % 2 == 1 && !run(Some(at / 2)) {
            interrupted += 1;
        }
        check_upgraded(&dir, LISTS);
    }
    eprintln!("upgrade runs interrupted: {interrupted} of 18; an uninterrupted one took {span:?}");
    assert!(
        interrupted > 0,
        "no run was interrupted: the kills came too late"
    );
}
