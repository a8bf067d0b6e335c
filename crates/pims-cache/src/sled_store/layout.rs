//! The cache directory on disk: its layout, permissions, the format marker, and moving a
//! broken cache aside.
//!
//! ```text
//! <dir>/                      0700
//! <dir>/pims-cache.lock       0600  the lock file (holder's pid)
//! <dir>/pims-cache.format     0600  written once the store is fully created
//! <dir>/sled/                 0700  sled's own files (conf, db, blobs/, snap.*), 0600
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The name of sled's directory inside the cache directory.
///
/// ```
/// assert_eq!(pims_cache::SLED_DIR, "sled");
/// ```
pub const SLED_DIR: &str = "sled";
/// The name of the format marker, written once a cache directory is fully created: a cache
/// with the marker whose database comes up empty has lost its data.
///
/// ```
/// assert_eq!(pims_cache::MARKER_FILE, "pims-cache.format");
/// ```
pub const MARKER_FILE: &str = "pims-cache.format";
const MARKER_TEXT: &str = "pims-cache 1\n";

/// Opens files 0600.
pub(crate) fn private_file(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// Creates `path` (and missing parents) 0700, or makes an existing one 0700.
pub(crate) fn private_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)?;
    set_mode(path, 0o700)
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = fs::metadata(path)?.permissions().mode() & 0o777;
        if current != mode {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Makes every directory under `root` 0700 and every file 0600 (sled creates its files with
/// the process umask). Best effort: the 0700 cache directory is the real barrier.
pub(crate) fn restrict(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => {
                let _ = set_mode(&path, 0o700);
                restrict(&path);
            }
            Ok(t) if t.is_file() => {
                let _ = set_mode(&path, 0o600);
            }
            _ => {}
        }
    }
}

/// Whether the store in `dir` was fully created once (so an empty sled means lost data).
pub(crate) fn has_marker(dir: &Path) -> bool {
    fs::read_to_string(dir.join(MARKER_FILE)).is_ok_and(|t| t == MARKER_TEXT)
}

/// Writes the marker durably (temporary file, fsync, rename, fsync of the directory).
pub(crate) fn write_marker(dir: &Path) -> io::Result<()> {
    let tmp = dir.join(format!("{MARKER_FILE}.tmp"));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    private_file(&mut options);
    let mut f = options.open(&tmp)?;
    f.write_all(MARKER_TEXT.as_bytes())?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(MARKER_FILE))?;
    sync_dir(dir)
}

/// Makes a directory's entries (creations, renames) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Moves `path` aside as `<path>.corrupt-<unix seconds>` (with `-<n>` if taken); returns the
/// new name.
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
            let _ = sync_dir(parent);
        }
        return Ok(target);
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many quarantined caches with this timestamp",
    ))
}

/// Copies the regular files and directories under `src` into `dst` (created 0700), refusing
/// trees larger than `limit` bytes.
pub(crate) fn copy_tree(src: &Path, dst: &Path, limit: u64) -> io::Result<u64> {
    private_dir(dst)?;
    let mut total = 0u64;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += copy_tree(&from, &to, limit.saturating_sub(total))?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
            if total > limit {
                return Err(io::Error::other(
                    "the cache is too large to copy into memory",
                ));
            }
            fs::copy(&from, &to)?;
            set_mode(&to, 0o600)?;
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
    #[test]
    fn private_modes() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("a/b");
        private_dir(&d).unwrap();
        fs::write(d.join("f"), b"x").unwrap();
        restrict(root.path());
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(
            fs::metadata(d.join("f")).unwrap().permissions().mode() & 0o777,
            0o600
        );
        write_marker(&d).unwrap();
        assert!(has_marker(&d));
        assert_eq!(
            fs::metadata(d.join(MARKER_FILE))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }

    #[test]
    fn copy_tree_respects_its_limit() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("a"), [0u8; 10]).unwrap();
        fs::write(src.join("sub/b"), [0u8; 10]).unwrap();
        assert_eq!(copy_tree(&src, &root.path().join("ok"), 100).unwrap(), 20);
        assert!(root.path().join("ok/sub/b").exists());
        assert!(copy_tree(&src, &root.path().join("no"), 15).is_err());
    }
}
