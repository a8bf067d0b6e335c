//! The state file (`--state FILE`): loaded at start, written back after every change (temp
//! file in the same directory, fsync, rename, fsync of the directory), held by one process at
//! a time through a lock file next to it (`FILE.lock`).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::SimError;
use crate::scenario::Scenario;

/// An open state file, locked for this process.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
    /// Held for the lifetime of the simulator: the OS releases the lock when it is closed.
    _lock: File,
    /// The generation last written (writes of older snapshots are skipped).
    written: Mutex<Option<u64>>,
}

fn err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> SimError + 'a {
    move |source| SimError::StateFile {
        path: path.to_owned(),
        action,
        source,
    }
}

fn open_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

impl StateFile {
    /// Locks the state file and reads it: `Some(scenario)` when it exists, `None` when it does
    /// not yet. A file that is not a valid document is refused (never overwritten).
    pub(crate) fn open(path: &Path) -> Result<(StateFile, Option<Scenario>), SimError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(err(path, "create its directory"))?;
        }
        let lock_path = lock_path(path);
        let mut lock = open_private(&lock_path).map_err(err(path, "open its lock file"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let pid = lock
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(SimError::StateInUse {
                    path: path.to_owned(),
                    pid,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(err(path, "lock")(e)),
        }
        // Best effort: the pid only makes the "in use" error more helpful.
        let _ = lock
            .set_len(0)
            .and_then(|()| write!(lock, "{}", std::process::id()));

        let scenario = match fs::read(path) {
            Ok(bytes) => Some(Scenario::from_json(&bytes)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(err(path, "read")(e)),
        };
        Ok((
            StateFile {
                path: path.to_owned(),
                _lock: lock,
                written: Mutex::new(None),
            },
            scenario,
        ))
    }

    /// Writes the snapshot of `generation` unless a newer one is already on disk. Blocking.
    pub(crate) fn write(&self, generation: u64, bytes: &[u8]) -> Result<(), SimError> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written.is_some_and(|w| w >= generation) {
            return Ok(());
        }
        let tmp = tmp_path(&self.path);
        let result = (|| {
            let mut file = open_private(&tmp)?;
            file.set_len(0)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Makes the rename itself durable; not supported everywhere.
                let _ = File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                *written = Some(generation);
                Ok(())
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(err(&self.path, "write")(e))
            }
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

fn sibling(path: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_owned());
    path.with_file_name(format!("{prefix}{name}{suffix}"))
}

fn lock_path(path: &Path) -> PathBuf {
    sibling(path, "", ".lock")
}

fn tmp_path(path: &Path) -> PathBuf {
    sibling(path, ".", ".tmp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_atomic_and_ordered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        let (file, loaded) = StateFile::open(&path).unwrap();
        assert!(loaded.is_none());
        let doc = Scenario::default_scenario().to_json_pretty();
        file.write(2, doc.as_bytes()).unwrap();
        // An older snapshot never overwrites a newer one.
        file.write(1, b"{}").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), doc);
        assert!(!tmp_path(&path).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(file);
        let (_file, loaded) = StateFile::open(&path).unwrap();
        assert_eq!(loaded.unwrap(), Scenario::default_scenario());
    }

    #[test]
    fn a_second_opener_is_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let (_held, _) = StateFile::open(&path).unwrap();
        match StateFile::open(&path).unwrap_err() {
            SimError::StateInUse { pid, .. } => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_corrupt_file_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::write(&path, b"{\"accounts\": [").unwrap();
        assert!(matches!(
            StateFile::open(&path).unwrap_err(),
            SimError::Scenario { .. }
        ));
        assert_eq!(fs::read(&path).unwrap(), b"{\"accounts\": [");
    }
}
