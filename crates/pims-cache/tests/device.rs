//! The device id file (`pims-cache.device`, beside sled's directory): a recovery of a damaged
//! database keeps the device id, even when the process that wrote it was killed; a cache made
//! by an earlier version (the id only in the database) gets its file; a damaged, oversized,
//! linked or special id file is handled without reading it whole and without blocking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use pims_cache::{DEVICE_FILE, DeviceId, ListKeys, SLED_DIR, SledStore, StepCache};
use pims_types::StepsSelector;
use support::*;

const DIR_ENV: &str = "PIMS_CACHE_TEST_DIR";
const LISTS: u64 = 12;

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

/// Runs `f` (opening a cache), capturing the warnings it logs.
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

fn device_file(dir: &Path) -> std::path::PathBuf {
    dir.join(DEVICE_FILE)
}

/// A closed cache with LISTS lists; its device id.
async fn populated(dir: &Path) -> DeviceId {
    let cache = sled_cache(dir);
    let ns = cache.namespace("acct").await.unwrap();
    for id in 0..LISTS {
        let keys = ListKeys::new().with_car_association_id(format!("car-{id}"));
        cache
            .merge(&ns, &keys, &three(id, true, false, false))
            .await
            .unwrap();
    }
    cache.device_id().await.unwrap()
}

#[tokio::test]
async fn a_killed_writer_then_damage_to_conf_or_the_log_keeps_the_device_id() {
    if child_mode().as_deref() == Some("write-then-hang") {
        // Child: cache lists, say which device id, then wait to be killed (no clean close).
        let dir = std::env::var(DIR_ENV).unwrap();
        let cache = sled_cache(dir.as_ref());
        let ns = cache.namespace("acct").await.unwrap();
        for id in 0..LISTS {
            let keys = ListKeys::new().with_car_association_id(format!("car-{id}"));
            assert!(
                cache
                    .merge(&ns, &keys, &three(id, true, false, false))
                    .await
                    .unwrap()
                    .durable
            );
        }
        let mut out = std::io::stdout();
        writeln!(out, "\nDEVICE {}", cache.device_id().await.unwrap()).unwrap();
        out.flush().unwrap();
        wait_for_parent();
        return;
    }
    for damage in ["conf", "log"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        let mut writer = Reaped(
            child(
                "a_killed_writer_then_damage_to_conf_or_the_log_keeps_the_device_id",
                "write-then-hang",
            )
            .env(DIR_ENV, &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
        );
        let mut lines = BufReader::new(writer.0.stdout.take().unwrap()).lines();
        let device = after_marker(&mut lines, "DEVICE ").expect("the child did not cache");
        writer.0.kill().unwrap(); // SIGKILL: nothing closed
        writer.0.wait().unwrap();

        match damage {
            "conf" => fs::write(dir.join(SLED_DIR).join("conf"), b"segment_size: lots\n").unwrap(),
            _ => fs::File::create(dir.join(SLED_DIR).join("db"))
                .map(drop)
                .unwrap(),
        }
        let (store, logs) = logged(|| SledStore::open(&dir, Default::default()).unwrap());
        let recovery = store.recovery().expect("moved aside").clone();
        assert_eq!(logs.matches(" WARN ").count(), 1, "{logs}");
        assert!(recovery.kept_device_id, "{recovery:?}");
        let cache = StepCache::new(Arc::new(store));
        assert_eq!(
            cache.device_id().await.unwrap().as_str(),
            device,
            "{damage}"
        );
        // The config was damaged, not the log: every list was read back.
        let expected_lists = if damage == "conf" { LISTS as usize } else { 0 };
        assert_eq!(recovery.kept_lists, expected_lists, "{damage}");
        assert_eq!(
            cache.lists(None).await.unwrap().len(),
            expected_lists,
            "{damage}"
        );
        drop(cache);
        // And in the next process too (the file is what carries it).
        assert_eq!(sled_cache(&dir).device_id().await.unwrap().as_str(), device);
    }
}

#[tokio::test]
async fn a_cache_of_an_earlier_version_gets_its_device_id_file_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = populated(&dir).await;
    // Earlier versions kept the id in the database only.
    fs::remove_file(device_file(&dir)).unwrap();
    let (store, logs) = logged(|| SledStore::open(&dir, Default::default()).unwrap());
    assert_eq!(logs, "", "an upgrade is not worth a warning");
    assert_eq!(
        fs::read_to_string(device_file(&dir)).unwrap(),
        format!("{device}\n")
    );
    assert_eq!(
        StepCache::new(Arc::new(store)).device_id().await.unwrap(),
        device
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(device_file(&dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn a_damaged_device_id_file_is_rewritten_from_the_databases_copy_with_one_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = populated(&dir).await;
    let junk: [&[u8]; 4] = [b"", b"not an id\n", b"\xff\xfe\xfd", &[b'7'; 10_000]];
    for bytes in junk {
        fs::write(device_file(&dir), bytes).unwrap();
        let (store, logs) = logged(|| SledStore::open(&dir, Default::default()).unwrap());
        assert_eq!(logs.matches(" WARN ").count(), 1, "{logs}");
        assert!(logs.contains("rewrote it"), "{logs}");
        assert_eq!(
            StepCache::new(Arc::new(store)).device_id().await.unwrap(),
            device
        );
        assert_eq!(
            fs::read_to_string(device_file(&dir)).unwrap(),
            format!("{device}\n")
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_device_id_file_that_is_a_link_or_a_fifo_is_neither_followed_nor_waited_for() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = populated(&dir).await;
    let outside = tmp.path().join("outside");
    fs::write(&outside, b"precious\n").unwrap();

    // /dev/zero: reading it whole would never end.
    fs::remove_file(device_file(&dir)).unwrap();
    symlink("/dev/zero", device_file(&dir)).unwrap();
    assert_eq!(sled_cache(&dir).device_id().await.unwrap(), device);
    assert!(fs::symlink_metadata(device_file(&dir)).unwrap().is_file());

    // A link to a file elsewhere: replaced by our file, never written through.
    fs::remove_file(device_file(&dir)).unwrap();
    symlink(&outside, device_file(&dir)).unwrap();
    assert_eq!(sled_cache(&dir).device_id().await.unwrap(), device);
    assert_eq!(fs::read(&outside).unwrap(), b"precious\n");
    assert!(fs::symlink_metadata(device_file(&dir)).unwrap().is_file());

    // A FIFO: opening it for reading must not wait for a writer.
    fs::remove_file(device_file(&dir)).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(device_file(&dir))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(sled_cache(&dir).device_id().await.unwrap(), device);
    assert!(fs::symlink_metadata(device_file(&dir)).unwrap().is_file());
}

#[tokio::test]
async fn an_unreadable_id_file_and_a_lost_database_give_a_new_id_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = populated(&dir).await;
    fs::write(device_file(&dir), b"not a device id\n").unwrap();
    fs::File::create(dir.join(SLED_DIR).join("db")).unwrap();
    let (store, logs) = logged(|| SledStore::open(&dir, Default::default()).unwrap());
    // The quarantine, and the id that cannot be kept.
    assert!(logs.contains("moved it aside"), "{logs}");
    assert!(logs.contains("a new device id will be created"), "{logs}");
    assert!(!store.recovery().unwrap().kept_device_id);
    let cache = StepCache::new(Arc::new(store));
    let fresh = cache.device_id().await.unwrap();
    assert_ne!(fresh, device);
    drop(cache);
    // Kept from then on.
    assert_eq!(
        fs::read_to_string(device_file(&dir)).unwrap(),
        format!("{fresh}\n")
    );
    assert_eq!(sled_cache(&dir).device_id().await.unwrap(), fresh);
}

#[tokio::test]
async fn wipe_keeps_the_device_id_file_and_lists_come_back_under_the_same_id() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = populated(&dir).await;
    let cache = sled_cache(&dir);
    let removed = cache.wipe().await.unwrap();
    assert_eq!(
        (removed.lists, removed.durable_lists),
        (LISTS as usize, LISTS as usize)
    );
    assert!(removed.durable);
    drop(cache);
    assert_eq!(
        fs::read_to_string(device_file(&dir)).unwrap(),
        format!("{device}\n")
    );
    let cache = sled_cache(&dir);
    assert_eq!(cache.device_id().await.unwrap(), device);
    let ns = cache.namespace("acct").await.unwrap();
    assert_eq!(
        cache
            .get(&ns, &StepsSelector::car_association_id("car-1").unwrap())
            .await
            .unwrap(),
        None
    );
}
