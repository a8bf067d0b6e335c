//! The lock file: taken before sled is opened, so a second process learns at once that the
//! directory is in use, and by whom, instead of sled's opaque lock error.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use super::files;

/// Largest lock file read (it holds a pid and a newline).
const LOCK_CAP: u64 = 64;

/// The name of the lock file inside the cache directory (it holds the holder's pid).
pub const LOCK_FILE: &str = "pims-cache.lock";

/// A held lock (released when dropped, or by the kernel when the process dies).
#[derive(Debug)]
pub(crate) struct LockFile {
    file: File,
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub(crate) enum LockError {
    /// Another process holds it.
    Held { pid: Option<u32> },
    /// The file could not be opened or locked.
    Io(io::Error),
}

impl LockFile {
    /// Takes the lock of `dir` without waiting, and writes our pid into it. The lock file is
    /// opened without following a link, and must be a regular file.
    pub(crate) fn acquire(dir: &Path) -> Result<LockFile, LockError> {
        let path = dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        files::private_file(&mut options);
        let mut file = files::open_regular(&path, &mut options).map_err(LockError::Io)?;
        // Ours by name: 0600 whoever created it.
        files::set_mode(&file, 0o600).map_err(LockError::Io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(LockError::Held { pid: holder(&path) }),
            Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
        // Informational only: the lock itself is the flock, which dies with its process.
        let pid = format!("{}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(pid.as_bytes()))
            .map_err(LockError::Io)?;
        Ok(LockFile { file })
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        // A stale pid would mislead whoever reads it next; best effort.
        let _ = self.file.set_len(0);
    }
}

/// The pid the holder wrote (it may be writing it right now: retry briefly).
fn holder(path: &Path) -> Option<u32> {
    for _ in 0..20 {
        if let Ok(bytes) = files::read_capped(path, LOCK_CAP)
            && let Ok(text) = std::str::from_utf8(&bytes)
            && let Ok(pid) = text.trim().parse()
        {
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_in_the_same_process_is_refused_with_our_pid() {
        let dir = tempfile::tempdir().unwrap();
        let held = LockFile::acquire(dir.path()).unwrap();
        match LockFile::acquire(dir.path()) {
            Err(LockError::Held { pid }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(held);
        let again = LockFile::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        drop(again);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_hard_link_is_refused_and_the_file_behind_it_is_untouched() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"important data").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        std::fs::hard_link(&outside, cache.join(LOCK_FILE)).unwrap();
        match LockFile::acquire(&cache) {
            Err(LockError::Io(e)) => assert!(e.to_string().contains("hard link"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(std::fs::read(&outside).unwrap(), b"important data");
        let mode = std::fs::metadata(&outside).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_or_fifo_is_refused_and_nothing_behind_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"precious").unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        std::os::unix::fs::symlink(&outside, cache.join(LOCK_FILE)).unwrap();
        match LockFile::acquire(&cache) {
            Err(LockError::Io(e)) => assert!(e.to_string().contains("symbolic link"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
        std::fs::remove_file(cache.join(LOCK_FILE)).unwrap();
        nix::unistd::mkfifo(&cache.join(LOCK_FILE), nix::sys::stat::Mode::S_IRWXU).unwrap();
        match LockFile::acquire(&cache) {
            Err(LockError::Io(e)) => assert!(e.to_string().contains("not a regular file"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // The holder's pid is never read from a device.
        std::fs::remove_file(cache.join(LOCK_FILE)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", cache.join(LOCK_FILE)).unwrap();
        assert_eq!(holder(&cache.join(LOCK_FILE)), None);
    }
}
