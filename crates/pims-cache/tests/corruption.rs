//! Damaged cache directories: random bytes, bit flips, truncation, a zero-length file, foreign
//! files, a damaged config or snapshot. Never a panic; a broken database is read for what can
//! be read, moved aside with one warning, and a fresh one serves again after the next merge;
//! the device id survives every one of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pims_cache::{DEVICE_FILE, DeviceId, ListKeys, MARKER_FILE, SLED_DIR, SledStore, StepCache};
use pims_types::StepsSelector;
use support::*;

const LISTS: u64 = 40;

/// Tiny deterministic generator (xorshift64*), so that every run damages the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A cache with LISTS lists in it, closed.
async fn populated(root: &Path) -> PathBuf {
    populated_with_id(root).await.0
}

/// A cache with LISTS lists in it, closed, and its device id.
async fn populated_with_id(root: &Path) -> (PathBuf, DeviceId) {
    let dir = root.join("cache");
    let cache = sled_cache(&dir);
    let ns = cache.namespace("acct").await.unwrap();
    for id in 0..LISTS {
        let keys = ListKeys::new().with_car_association_id(format!("car-{id}"));
        cache
            .merge(&ns, &keys, &three(id, true, id % 2 == 0, false))
            .await
            .unwrap();
    }
    (dir, cache.device_id().await.unwrap())
}

fn db_file(dir: &Path) -> PathBuf {
    dir.join(SLED_DIR).join("db")
}

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Opens `dir`, capturing the warnings the open logs.
fn open_logged(dir: &Path) -> (SledStore, String) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    let store = tracing::subscriber::with_default(subscriber, || {
        SledStore::open(dir, Default::default()).unwrap()
    });
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    (store, text)
}

/// What reopening a damaged cache did.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Moved aside, fresh database with the lists that could be read back.
    Quarantined { kept_lists: usize },
    /// sled recovered what it could; everything left reads fine.
    Recovered { lists: usize },
}

impl Outcome {
    fn quarantined(&self) -> bool {
        matches!(self, Outcome::Quarantined { .. })
    }
}

/// Opens the damaged `dir` and checks the invariants every outcome shares: no panic, a
/// working durable store, nothing unreadable, one warning at most, the device id `device` (when
/// given) kept, and lists served again after the next merge.
async fn reopen(dir: &Path, device: Option<&DeviceId>) -> Outcome {
    let (store, logs) = open_logged(dir);
    assert!(store.health().is_durable(), "{:?}", store.health());
    let warnings = logs.matches(" WARN ").count();
    let outcome = match store.recovery() {
        Some(recovery) => {
            assert_eq!(warnings, 1, "one warning: {logs}");
            assert!(logs.contains("moved it aside"), "{logs}");
            let name = recovery
                .moved_to
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if dir.is_file() || !recovery.moved_to.starts_with(dir) {
                // (A file that stood where the directory should be.)
                assert!(name.starts_with("cache.corrupt-"), "{name}");
            } else {
                // sled's directory, moved aside inside the cache directory.
                assert!(name.starts_with("sled.corrupt-"), "{name}");
                assert_eq!(recovery.moved_to.parent(), Some(dir));
            }
            // The damaged files are kept for inspection.
            assert!(recovery.moved_to.exists());
            assert_eq!(recovery.kept_device_id, device.is_some(), "{recovery:?}");
            Outcome::Quarantined {
                kept_lists: recovery.kept_lists,
            }
        }
        None => {
            assert_eq!(warnings, 0, "{logs}");
            Outcome::Recovered { lists: 0 }
        }
    };
    let cache = StepCache::new(Arc::new(store));
    if let Some(device) = device {
        assert_eq!(
            &cache.device_id().await.unwrap(),
            device,
            "the device id changed"
        );
    }
    let report = cache.check().await.unwrap();
    assert_eq!(
        report.unreadable_removed, 0,
        "a torn record survived: {report:?}"
    );
    // (Links to lists sled dropped are misses, removed by the check: harmless.)
    let outcome = match outcome {
        Outcome::Quarantined { kept_lists } => {
            assert_eq!(
                report.lists, kept_lists,
                "what was read back, and only that"
            );
            Outcome::Quarantined { kept_lists }
        }
        Outcome::Recovered { .. } => Outcome::Recovered {
            lists: report.lists,
        },
    };
    // Served again after the next merge.
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::new().with_car_association_id("car-new");
    let m = cache
        .merge(&ns, &keys, &three(999, false, true, false))
        .await
        .unwrap();
    assert!(m.durable);
    let got = cache
        .get(&ns, &StepsSelector::car_association_id("car-new").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done(&got), ["deviceActivation"]);
    let device_now = cache.device_id().await.unwrap();
    drop(cache);
    // And it stays fine across a restart, under the same device id.
    let again = sled_cache(dir);
    assert_eq!(again.device_id().await.unwrap(), device_now);
    let ns = again.namespace("acct").await.unwrap();
    assert!(
        again
            .get(&ns, &StepsSelector::steps_id("999").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    outcome
}

async fn damaged(damage: impl FnOnce(&Path)) -> Outcome {
    let root = tempfile::tempdir().unwrap();
    let (dir, device) = populated_with_id(root.path()).await;
    damage(&dir);
    reopen(&dir, Some(&device)).await
}

/// Every list of `populated`, with its alreadyDone steps, served by carAssociationID.
async fn all_lists_served(dir: &Path) {
    let cache = sled_cache(dir);
    let ns = cache.namespace("acct").await.unwrap();
    for id in 0..LISTS {
        let list = cache
            .get(
                &ns,
                &StepsSelector::car_association_id(format!("car-{id}")).unwrap(),
            )
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("list {id} lost"));
        let expected = if id % 2 == 0 {
            vec!["trusterPhoneNumber", "deviceActivation"]
        } else {
            vec!["trusterPhoneNumber"]
        };
        assert_eq!(done(&list), expected, "list {id}");
    }
}

#[tokio::test]
async fn random_bytes_over_the_database() {
    for seed in 1..=5 {
        let outcome = damaged(|dir| {
            let len = fs::metadata(db_file(dir)).unwrap().len();
            let mut rng = Rng(seed);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            fs::write(db_file(dir), bytes).unwrap();
        })
        .await;
        assert!(outcome.quarantined(), "seed {seed}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_zero_length_database() {
    let outcome = damaged(|dir| {
        fs::File::create(db_file(dir)).unwrap();
    })
    .await;
    assert_eq!(outcome, Outcome::Quarantined { kept_lists: 0 });
}

#[tokio::test]
async fn a_database_truncated_to_its_first_bytes() {
    for len in [1, 17, 100] {
        let outcome = damaged(|dir| {
            fs::OpenOptions::new()
                .write(true)
                .open(db_file(dir))
                .unwrap()
                .set_len(len)
                .unwrap();
        })
        .await;
        assert_eq!(
            outcome,
            Outcome::Quarantined { kept_lists: 0 },
            "truncated to {len}"
        );
    }
}

#[tokio::test]
async fn a_database_truncated_anywhere() {
    let mut rng = Rng(7);
    for _ in 0..12 {
        let cut = rng.next();
        // Whatever sled keeps, nothing unreadable is served (checked by `reopen`).
        let outcome = damaged(|dir| {
            let len = fs::metadata(db_file(dir)).unwrap().len();
            let f = fs::OpenOptions::new()
                .write(true)
                .open(db_file(dir))
                .unwrap();
            f.set_len(cut % len).unwrap();
        })
        .await;
        eprintln!("truncated: {outcome:?}");
        if let Outcome::Recovered { lists } = outcome {
            assert!(lists as u64 <= LISTS);
        }
    }
}

#[tokio::test]
async fn bit_flips_in_the_database() {
    for seed in 1..=12u64 {
        let outcome = damaged(|dir| {
            let mut bytes = fs::read(db_file(dir)).unwrap();
            let mut rng = Rng(seed * 7919);
            for _ in 0..seed {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= 1 << rng.below(8);
            }
            fs::write(db_file(dir), bytes).unwrap();
        })
        .await;
        eprintln!("{seed} flips: {outcome:?}");
        if let Outcome::Recovered { lists } = outcome {
            assert!(lists as u64 <= LISTS, "seed {seed}");
        }
    }
}

#[tokio::test]
async fn a_damaged_sled_config_file_loses_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (dir, device) = populated_with_id(root.path()).await;
    fs::write(dir.join(SLED_DIR).join("conf"), b"segment_size: lots\n").unwrap();
    let outcome = reopen(&dir, Some(&device)).await;
    // The data file was intact: every list was read back before the rest moved aside.
    assert_eq!(
        outcome,
        Outcome::Quarantined {
            kept_lists: LISTS as usize
        }
    );
    all_lists_served(&dir).await;
}

#[tokio::test]
async fn a_foreign_file_in_place_of_the_database() {
    for foreign in [
        &b"{\"hello\": \"world\"}\n"[..],
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"SQLite format 3\x00",
    ] {
        let outcome = damaged(|dir| fs::write(db_file(dir), foreign).unwrap()).await;
        assert_eq!(outcome, Outcome::Quarantined { kept_lists: 0 });
    }
}

#[tokio::test]
async fn a_foreign_snapshot_file_loses_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (dir, device) = populated_with_id(root.path()).await;
    fs::write(dir.join(SLED_DIR).join("snap.0000000000000100"), b"junk").unwrap();
    let outcome = reopen(&dir, Some(&device)).await;
    assert_eq!(
        outcome,
        Outcome::Quarantined {
            kept_lists: LISTS as usize
        }
    );
    all_lists_served(&dir).await;
}

#[tokio::test]
async fn a_damaged_snapshot_of_sleds_own_loses_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (dir, device) = populated_with_id(root.path()).await;
    // sled writes a snapshot when it opens a log that went further than its last one.
    drop(sled_cache(&dir));
    let snap = fs::read_dir(dir.join(SLED_DIR))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .expect("sled wrote a snapshot");
    let mut bytes = fs::read(&snap).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    fs::write(&snap, bytes).unwrap();
    let outcome = reopen(&dir, Some(&device)).await;
    assert_eq!(
        outcome,
        Outcome::Quarantined {
            kept_lists: LISTS as usize
        }
    );
    all_lists_served(&dir).await;
}

/// A store format this version does not know (a later version's, say) is refused, never read
/// as its own: moved aside with one warning naming the format, nothing read back from it but
/// the device id.
#[tokio::test]
async fn a_store_of_an_unknown_format_is_moved_aside_not_read() {
    let root = tempfile::tempdir().unwrap();
    let (dir, device) = populated_with_id(root.path()).await;
    {
        let db = sled::Config::new()
            .path(dir.join(SLED_DIR))
            .mode(sled::Mode::LowSpace)
            .open()
            .unwrap();
        let meta = db.open_tree(b"pims-cache").unwrap();
        assert_eq!(meta.get(b"format").unwrap().as_deref(), Some(&b"1"[..]));
        meta.insert(b"format", b"2").unwrap();
        db.flush().unwrap();
    }
    let (store, logs) = open_logged(&dir);
    assert_eq!(logs.matches(" WARN ").count(), 1, "{logs}");
    let recovery = store.recovery().unwrap();
    assert!(
        recovery.reason.contains("unknown store format \"2\""),
        "{recovery:?}"
    );
    assert_eq!(
        recovery.kept_lists, 0,
        "nothing read from an unknown format"
    );
    assert!(recovery.kept_device_id);
    assert!(recovery.moved_to.join("db").exists(), "kept for inspection");
    let cache = StepCache::new(Arc::new(store));
    assert_eq!(cache.device_id().await.unwrap(), device);
    assert!(cache.lists(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_cache_of_an_earlier_version_keeps_its_device_id_through_a_recovery() {
    // Earlier versions kept the device id only in the database: damage there, with no id file,
    // is read back from the database's log before it moves aside.
    let root = tempfile::tempdir().unwrap();
    let (dir, device) = populated_with_id(root.path()).await;
    fs::remove_file(dir.join(DEVICE_FILE)).unwrap();
    fs::write(dir.join(SLED_DIR).join("conf"), b"segment_size: lots\n").unwrap();
    assert_eq!(
        reopen(&dir, Some(&device)).await,
        Outcome::Quarantined {
            kept_lists: LISTS as usize
        }
    );
    assert_eq!(
        fs::read_to_string(dir.join(DEVICE_FILE)).unwrap(),
        format!("{device}\n")
    );
}

#[tokio::test]
async fn a_lost_database_without_an_id_file_gets_a_new_device_id_and_one_warning() {
    // Nothing readable anywhere: the only case where the id changes.
    let root = tempfile::tempdir().unwrap();
    let (dir, device) = populated_with_id(root.path()).await;
    fs::remove_file(dir.join(DEVICE_FILE)).unwrap();
    fs::File::create(db_file(&dir)).unwrap();
    assert_eq!(
        reopen(&dir, None).await,
        Outcome::Quarantined { kept_lists: 0 }
    );
    assert_ne!(sled_cache(&dir).device_id().await.unwrap(), device);
}

#[tokio::test]
async fn a_file_where_the_cache_directory_should_be() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cache");
    fs::write(&dir, b"not a directory").unwrap();
    assert_eq!(
        reopen(&dir, None).await,
        Outcome::Quarantined { kept_lists: 0 }
    );
}

#[tokio::test]
async fn unrelated_files_beside_the_database_are_left_alone() {
    // Not damage: nothing is lost, nothing moves.
    let root = tempfile::tempdir().unwrap();
    let dir = populated(root.path()).await;
    fs::write(dir.join("notes.txt"), b"mine").unwrap();
    fs::write(dir.join(SLED_DIR).join("README"), b"also mine").unwrap();
    assert_eq!(
        reopen(&dir, None).await,
        Outcome::Recovered {
            lists: LISTS as usize
        }
    );
    assert_eq!(fs::read(dir.join("notes.txt")).unwrap(), b"mine");
}

#[tokio::test]
async fn a_cache_without_its_marker_is_completed_not_moved() {
    // The marker is written last at creation; a crash before it leaves a cache that is
    // whole, which opens as it is.
    let root = tempfile::tempdir().unwrap();
    let dir = populated(root.path()).await;
    fs::remove_file(dir.join(MARKER_FILE)).unwrap();
    assert_eq!(
        reopen(&dir, None).await,
        Outcome::Recovered {
            lists: LISTS as usize
        }
    );
    assert!(dir.join(MARKER_FILE).exists());
}

#[cfg(unix)]
#[tokio::test]
async fn the_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = populated(root.path()).await;
    let mut stack = vec![dir.clone()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700,
            "{d:?}"
        );
        for e in fs::read_dir(&d).unwrap().flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                files += 1;
                assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{:?}", e.path());
            }
        }
    }
    assert!(files >= 4, "lock, marker, sled's conf and db");
}
