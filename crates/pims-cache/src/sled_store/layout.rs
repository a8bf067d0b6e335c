//! The cache directory on disk: its layout, the modes of what the store creates, the format
//! marker, and moving a broken database aside.
//!
//! ```text
//! <dir>/                      0700 when the store creates it (an existing one keeps its mode)
//! <dir>/pims-cache.lock       0600  the lock file (holder's pid)
//! <dir>/pims-cache.device     0600  the device id, apart from sled's files
//! <dir>/pims-cache.format     0600  written once the store is fully created
//! <dir>/sled/                 0700  sled's own files (conf, db, blobs/, snap.*), 0600
//! <dir>/sled.corrupt-<secs>/        a broken database, moved aside
//! ```
//!
//! Modes are set only on what the store (or sled, for it) creates, each named: never by walking
//! the directory, and never through a symbolic link. Anything else in the directory is left
//! as it is.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::files;

/// The name of sled's directory inside the cache directory.
pub const SLED_DIR: &str = "sled";
/// The name of the format marker, written once a cache directory is fully created: a cache
/// with the marker whose database comes up empty has lost its data.
pub const MARKER_FILE: &str = "pims-cache.format";
const MARKER_TEXT: &str = "pims-cache 1\n";
/// Largest marker read (it holds 13 bytes).
const MARKER_CAP: u64 = 64;

/// The files sled creates at the top of its directory, by name.
fn is_sleds_file(name: &str) -> bool {
    name == "conf" || name == "db" || name.starts_with("snap.")
}
/// sled's directory of large values, and its files (named by number).
const SLED_BLOBS: &str = "blobs";

/// A refusal of a symbolic link where the store needs a directory of its own.
fn link_refused(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} is a symbolic link (not followed)", path.display()),
    )
}

/// Creates the directory `path` 0700 (and its missing parents, 0700) if it does not exist.
/// An existing directory is used as it is: its mode is its owner's choice. A symbolic link or
/// another file at `path` is refused.
pub(crate) fn private_dir(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(m) if m.file_type().is_symlink() => return Err(link_refused(path)),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", path.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        builder.recursive(true).create(parent)?;
        builder.recursive(false);
    }
    match builder.create(path) {
        Ok(()) => {
            // The umask may have taken bits away: it is ours, make it exactly 0700.
            files::set_mode(&files::open_dir(path)?, 0o700)
        }
        // Created meanwhile by someone else: used as it is, if it is a directory.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => files::open_dir(path).map(|_| ()),
        Err(e) => Err(e),
    }
}

/// Whether `path` is a directory itself (not a link to one).
pub(crate) fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Makes sled's directory 0700 and sled's own files in it 0600 (sled creates them with the
/// process umask), each by name and through a descriptor that did not follow a link. Best
/// effort: the cache directory's own privacy is the real barrier.
pub(crate) fn restrict_sled(dir: &Path) {
    let sled = dir.join(SLED_DIR);
    let Ok(handle) = files::open_dir(&sled) else {
        return;
    };
    let _ = files::set_mode(&handle, 0o700);
    let Ok(entries) = fs::read_dir(&sled) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_sleds_file(name) {
            restrict_file(&entry.path());
        } else if name == SLED_BLOBS {
            restrict_blobs(&entry.path());
        }
    }
}

fn restrict_blobs(blobs: &Path) {
    let Ok(handle) = files::open_dir(blobs) else {
        return;
    };
    let _ = files::set_mode(&handle, 0o700);
    let Ok(entries) = fs::read_dir(blobs) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name
            .to_str()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            restrict_file(&entry.path());
        }
    }
}

fn restrict_file(path: &Path) {
    if let Ok(file) = files::open_regular(path, OpenOptions::new().read(true)) {
        let _ = files::set_mode(&file, 0o600);
    }
}

/// Whether the store in `dir` was fully created once (so an empty sled means lost data).
pub(crate) fn has_marker(dir: &Path) -> bool {
    files::read_capped(&dir.join(MARKER_FILE), MARKER_CAP)
        .is_ok_and(|t| t == MARKER_TEXT.as_bytes())
}

/// Writes the marker durably.
pub(crate) fn write_marker(dir: &Path) -> io::Result<()> {
    files::write_atomic(dir, MARKER_FILE, MARKER_TEXT.as_bytes())
}

/// Removes the marker, durably (nothing to do when there is none).
pub(crate) fn remove_marker(dir: &Path) -> io::Result<()> {
    match fs::remove_file(dir.join(MARKER_FILE)) {
        Ok(()) => files::sync_dir(dir),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Moves `path` aside as `<path>.corrupt-<unix seconds>` (with `-<n>` if taken); returns the
/// new name. A link is moved itself, never what it points to.
pub(crate) fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cache".to_owned());
    for n in 0..1000u32 {
        let suffix = if n == 0 {
            format!("{name}.corrupt-{secs}")
        } else {
            format!("{name}.corrupt-{secs}-{n}")
        };
        let target = path.with_file_name(suffix);
        if fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        fs::rename(path, &target)?;
        if let Some(parent) = path.parent() {
            let _ = files::sync_dir(parent);
        }
        return Ok(target);
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many quarantined caches with this timestamp",
    ))
}

/// Copies the regular files and directories under the directory `src` (not a link) into the
/// existing private directory `dst`, refusing trees larger than `limit` bytes. `keep` chooses
/// among the names at the top of `src`. Links, devices and FIFOs are skipped.
pub(crate) fn copy_tree(
    src: &Path,
    dst: &Path,
    limit: u64,
    keep: &dyn Fn(&str) -> bool,
) -> io::Result<u64> {
    if !is_real_dir(src) {
        return Err(link_refused(src));
    }
    let mut total = 0u64;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        if !entry.file_name().to_str().is_some_and(keep) {
            continue;
        }
        let from = entry.path();
        let to = dst.join(entry.file_name());
        // (The entry's own type: a link is not followed.)
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let mut builder = fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            builder.create(&to)?;
            total += copy_tree(&from, &to, limit.saturating_sub(total), &|_| true)?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
            if total > limit {
                return Err(io::Error::other(
                    "the cache is too large to copy into memory",
                ));
            }
            fs::copy(&from, &to)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&to, fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn move_aside_picks_a_free_name() {
        let root = tempfile::tempdir().unwrap();
        let a = root.path().join("cache");
        fs::create_dir(&a).unwrap();
        let first = move_aside(&a).unwrap();
        fs::create_dir(&a).unwrap();
        let second = move_aside(&a).unwrap();
        assert_ne!(first, second);
        assert!(
            first
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("cache.corrupt-")
        );
        assert!(!a.exists());
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn modes_only_on_what_the_store_names() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("a/b");
        private_dir(&d).unwrap();
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        let sled = d.join(SLED_DIR);
        private_dir(&sled).unwrap();
        fs::create_dir(sled.join(SLED_BLOBS)).unwrap();
        let open = fs::Permissions::from_mode(0o644);
        for name in [
            "conf",
            "db",
            "snap.0000000000000100",
            "blobs/12",
            "README",
            "blobs/x",
        ] {
            fs::write(sled.join(name), b"x").unwrap();
            fs::set_permissions(sled.join(name), open.clone()).unwrap();
        }
        fs::set_permissions(sled.join(SLED_BLOBS), fs::Permissions::from_mode(0o755)).unwrap();
        restrict_sled(&d);
        for name in ["conf", "db", "snap.0000000000000100", "blobs/12"] {
            assert_eq!(mode(&sled.join(name)), 0o600, "{name}");
        }
        assert_eq!(mode(&sled.join(SLED_BLOBS)), 0o700);
        // Not sled's: left alone.
        assert_eq!(mode(&sled.join("README")), 0o644);
        assert_eq!(mode(&sled.join("blobs/x")), 0o644);
        // An existing directory keeps its mode.
        fs::set_permissions(&d, fs::Permissions::from_mode(0o750)).unwrap();
        private_dir(&d).unwrap();
        assert_eq!(mode(&d), 0o750);
        write_marker(&d).unwrap();
        assert!(has_marker(&d));
        assert_eq!(mode(&d.join(MARKER_FILE)), 0o600);
        remove_marker(&d).unwrap();
        assert!(!has_marker(&d));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_refused_and_never_followed() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let root = tempfile::tempdir().unwrap();
        let elsewhere = root.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::write(elsewhere.join("db"), b"x").unwrap();
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(elsewhere.join("db"), fs::Permissions::from_mode(0o644)).unwrap();
        let link = root.path().join("link");
        symlink(&elsewhere, &link).unwrap();
        assert!(private_dir(&link).is_err());
        // sled's directory as a link: nothing changes behind it.
        let d = root.path().join("cache");
        private_dir(&d).unwrap();
        symlink(&elsewhere, d.join(SLED_DIR)).unwrap();
        restrict_sled(&d);
        assert_eq!(mode(&elsewhere), 0o755);
        assert_eq!(mode(&elsewhere.join("db")), 0o644);
        assert!(copy_tree(&d.join(SLED_DIR), &root.path().join("copy"), 100, &|_| true).is_err());
        // A marker that is a link to /dev/zero is no marker, and is not read.
        symlink("/dev/zero", d.join(MARKER_FILE)).unwrap();
        assert!(!has_marker(&d));
    }

    #[test]
    fn copy_tree_respects_its_limit_and_its_filter() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("a"), [0u8; 10]).unwrap();
        fs::write(src.join("conf"), [0u8; 10]).unwrap();
        fs::write(src.join("sub/b"), [0u8; 10]).unwrap();
        let ok = root.path().join("ok");
        fs::create_dir(&ok).unwrap();
        assert_eq!(copy_tree(&src, &ok, 100, &|_| true).unwrap(), 30);
        assert!(ok.join("sub/b").exists());
        let some = root.path().join("some");
        fs::create_dir(&some).unwrap();
        assert_eq!(copy_tree(&src, &some, 100, &|n| n != "conf").unwrap(), 20);
        assert!(!some.join("conf").exists());
        let no = root.path().join("no");
        fs::create_dir(&no).unwrap();
        assert!(copy_tree(&src, &no, 15, &|_| true).is_err());
    }
}
