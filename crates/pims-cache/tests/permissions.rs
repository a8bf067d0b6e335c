//! Modes are set only on what the cache creates, and never through a symbolic link: unrelated
//! files in the cache directory keep theirs, and a cache path that is a link is refused
//! without touching the tree it points to (tests run as root: a chmod there would succeed).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use pims_cache::{CacheError, ListKeys, SLED_DIR, SledStore};
use support::*;

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Every path under `root` (links not followed) with its mode.
fn modes(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = vec![(root.to_path_buf(), mode(root))];
    if fs::symlink_metadata(root).unwrap().is_dir() {
        let mut entries: Vec<_> = fs::read_dir(root).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            out.extend(modes(&e.path()));
        }
    }
    out
}

/// A tree of someone's files: 0755 directories, 0644 files.
fn someones_tree(root: &Path) {
    fs::create_dir_all(root.join("sub/deep")).unwrap();
    fs::write(root.join("notes.txt"), b"mine").unwrap();
    fs::write(root.join("sub/deep/f.txt"), b"mine too").unwrap();
    for d in [root, &root.join("sub"), &root.join("sub/deep")] {
        set_mode(d, 0o755);
    }
    set_mode(&root.join("notes.txt"), 0o644);
    set_mode(&root.join("sub/deep/f.txt"), 0o644);
}

/// Opens the cache, caches a list, closes it (the store restricts sled's files at both ends).
async fn use_cache(dir: &Path) {
    let cache = sled_cache(dir);
    let ns = cache.namespace("acct").await.unwrap();
    let keys = ListKeys::new().with_car_association_id("987654");
    cache
        .merge(&ns, &keys, &three(1, true, false, false))
        .await
        .unwrap();
}

#[tokio::test]
async fn unrelated_files_in_the_cache_directory_keep_their_modes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    use_cache(&dir).await;
    someones_tree(&dir);
    fs::write(dir.join(SLED_DIR).join("README"), b"also mine").unwrap();
    set_mode(&dir.join(SLED_DIR).join("README"), 0o644);
    let unrelated = |dir: &Path| {
        [
            "notes.txt",
            "sub",
            "sub/deep",
            "sub/deep/f.txt",
            "sled/README",
        ]
        .map(|p| (p, mode(&dir.join(p))))
    };
    let before = unrelated(&dir);
    assert_eq!(before[0].1, 0o644);
    use_cache(&dir).await;
    use_cache(&dir).await;
    assert_eq!(unrelated(&dir), before);
    // What the cache created is still private.
    assert_eq!(mode(&dir.join(SLED_DIR)), 0o700);
    assert_eq!(mode(&dir.join(SLED_DIR).join("db")), 0o600);
    assert_eq!(mode(&dir.join(pims_cache::LOCK_FILE)), 0o600);
    assert_eq!(mode(&dir.join(pims_cache::DEVICE_FILE)), 0o600);
}

#[test]
fn a_cache_path_that_is_a_link_is_refused_and_the_tree_behind_it_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    someones_tree(&elsewhere);
    let link = tmp.path().join("cache");
    symlink(&elsewhere, &link).unwrap();
    let before = modes(&elsewhere);

    let err = SledStore::open(&link, Default::default()).unwrap_err();
    assert!(
        matches!(err, CacheError::InvalidInput { .. }),
        "expected a refusal, got {err:?}"
    );
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(
        modes(&elsewhere),
        before,
        "the tree behind the link changed"
    );

    // A dangling link is refused too, and nothing is created where it points.
    let dangling = tmp.path().join("dangling");
    symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    assert!(SledStore::open(&dangling, Default::default()).is_err());
    assert!(!tmp.path().join("nowhere").exists());
}

#[tokio::test]
async fn a_link_in_place_of_sleds_directory_is_moved_aside_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let device = {
        use_cache(&dir).await;
        sled_cache(&dir).device_id().await.unwrap()
    };
    let elsewhere = tmp.path().join("elsewhere");
    someones_tree(&elsewhere);
    let before = modes(&elsewhere);
    fs::rename(dir.join(SLED_DIR), tmp.path().join("old-sled")).unwrap();
    symlink(&elsewhere, dir.join(SLED_DIR)).unwrap();

    let store = SledStore::open(&dir, Default::default()).unwrap();
    assert!(store.health().is_durable(), "{}", store.health());
    let recovery = store.recovery().expect("the link was moved aside").clone();
    // The link itself moved, not what it points to.
    assert!(
        fs::symlink_metadata(&recovery.moved_to)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(fs::symlink_metadata(dir.join(SLED_DIR)).unwrap().is_dir());
    assert_eq!(
        pims_cache::StepCache::new(std::sync::Arc::new(store))
            .device_id()
            .await
            .unwrap(),
        device
    );
    assert_eq!(modes(&elsewhere), before);
    assert!(!elsewhere.join("db").exists() && !elsewhere.join("conf").exists());
}

#[tokio::test]
async fn links_to_devices_among_sleds_files_are_moved_aside_unread() {
    // sled reads its config and its latest snapshot whole: a link to /dev/zero there would
    // never end. The database is broken (moved aside, with one warning); the device id stays.
    for name in ["conf", "snap.ffffffffffffffff"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        use_cache(&dir).await;
        let device = sled_cache(&dir).device_id().await.unwrap();
        let planted = dir.join(SLED_DIR).join(name);
        let _ = fs::remove_file(&planted);
        symlink("/dev/zero", &planted).unwrap();
        let store = SledStore::open(&dir, Default::default()).unwrap();
        assert!(store.health().is_durable(), "{name}: {}", store.health());
        let recovery = store.recovery().expect("moved aside").clone();
        assert!(
            recovery.reason.contains("not a regular file"),
            "{recovery:?}"
        );
        let cache = pims_cache::StepCache::new(std::sync::Arc::new(store));
        assert_eq!(cache.device_id().await.unwrap(), device, "{name}");
        // The log itself was fine: the list was read back.
        assert_eq!(recovery.kept_lists, 1, "{name}");
    }
}

#[tokio::test]
async fn sleds_oversized_config_or_snapshot_is_moved_aside_unread() {
    // A sparse 10 GiB file costs no disk, but sled would read it whole into memory.
    for name in ["conf", "snap.ffffffffffffffff"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        use_cache(&dir).await;
        let device = sled_cache(&dir).device_id().await.unwrap();
        let planted = dir.join(SLED_DIR).join(name);
        fs::File::create(&planted)
            .unwrap()
            .set_len(10 * 1024 * 1024 * 1024)
            .unwrap();
        let store = SledStore::open(&dir, Default::default()).unwrap();
        assert!(store.health().is_durable(), "{name}: {}", store.health());
        let recovery = store.recovery().expect("moved aside").clone();
        assert!(recovery.reason.contains("refused unread"), "{recovery:?}");
        let cache = pims_cache::StepCache::new(std::sync::Arc::new(store));
        assert_eq!(cache.device_id().await.unwrap(), device, "{name}");
    }
}
