//! The state file (`--state FILE`): loaded at start, written back after every change (a new
//! temporary file `.FILE.tmp` in the same directory, fsync, rename, fsync of the directory),
//! held by one process at a time through a lock file next to it (`FILE.lock`). None of the
//! three is ever reached through a symbolic link; FILE is read only when it is a regular file
//! of at most [`MAX_FILE_BYTES`](crate::MAX_FILE_BYTES) (see `files.rs`).

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::SimError;
use crate::files::{self, Symlinks};
use crate::model::Model;
use crate::scenario::Scenario;

/// An open state file, locked for this process.
#[derive(Debug)]
pub(crate) struct StateFile {
    path: PathBuf,
    /// Held for the lifetime of the simulator: the OS releases the lock when it is closed.
    lock: File,
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

impl StateFile {
    /// Locks the state file and reads it: `Some(scenario)` when it exists, `None` when it does
    /// not yet. A file that is not a valid document is refused (never overwritten), and so is
    /// one that is not a regular file, is a symbolic link, or is over the size cap.
    pub(crate) fn open(path: &Path) -> Result<(StateFile, Option<Scenario>), SimError> {
        let state = StateFile::lock(path)?;
        let scenario = match files::read_document(path, "state file", Symlinks::Refuse)? {
            Some(bytes) => Some(Scenario::from_json(&bytes)?),
            None => None,
        };
        Ok((state, scenario))
    }

    /// Takes the lock of the state file (creating its directory and lock file as needed),
    /// without reading the state file.
    fn lock(path: &Path) -> Result<StateFile, SimError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(err(path, "create its directory"))?;
        }
        let mut lock = files::open_private(&lock_path(path), "lock file")?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let pid = (&lock)
                    .take(32)
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
        Ok(StateFile {
            path: path.to_owned(),
            lock,
            written: Mutex::new(None),
        })
    }

    /// Writes the snapshot of `generation` unless a newer one is already on disk. Blocking.
    pub(crate) fn write(&self, generation: u64, bytes: &[u8]) -> Result<(), SimError> {
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        if written.is_some_and(|w| w >= generation) {
            return Ok(());
        }
        let tmp = tmp_path(&self.path);
        // Whatever is at the temporary name (left by a crash, or planted: a symbolic link) is
        // unlinked, never opened; the file is then created afresh, and creation fails rather
        // than follow anything put there meanwhile.
        let _ = fs::remove_file(&tmp);
        let result = (|| {
            let mut file = files::create_new_private(&tmp)?;
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

impl Drop for StateFile {
    fn drop(&mut self) {
        // Still held: empty the pid so that nobody is later told a dead process holds it.
        let _ = self.lock.set_len(0);
    }
}

/// What [`reset_state_file`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct StateReset {
    /// Where the previous state went, when it could not be used.
    pub moved_aside: Option<PathBuf>,
    /// Why it could not be used: refused without being read (a symbolic link, not a regular
    /// file, over [`MAX_FILE_BYTES`](crate::MAX_FILE_BYTES)), unreadable, or not a valid
    /// document.
    pub damage: Option<SimError>,
}

/// Puts `scenario` in the state file at `path`, as a simulator started on it would keep it (PINs
/// hashed), without starting one: what `pims sim reset` needs. The state file's lock is taken
/// (`SimError::StateInUse` when a simulator holds it). A previous state that cannot be used is
/// moved aside to `FILE.corrupt-<unix seconds>` first, by renaming it: one refused for its kind
/// or size is never read, a symbolic link is moved (never followed). Blocking.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("sim-state.json");
/// std::fs::write(&path, b"{\"accounts\": [").unwrap();
/// let done = pims_sim::reset_state_file(&path, pims_sim::Scenario::default_scenario()).unwrap();
/// let aside = done.moved_aside.unwrap();
/// assert_eq!(std::fs::read(&aside).unwrap(), b"{\"accounts\": [");
/// assert!(done.damage.is_some());
/// let state = pims_sim::Scenario::from_json(&std::fs::read(&path).unwrap()).unwrap();
/// assert_eq!(state, pims_sim::Scenario::default_scenario());
/// ```
pub fn reset_state_file(path: &Path, scenario: Scenario) -> Result<StateReset, SimError> {
    let doc = Model::from_scenario(scenario)?.to_scenario();
    let bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|e| err(path, "write")(std::io::Error::other(e.to_string())))?;
    let state = StateFile::lock(path)?;
    let damage = match files::open_document(path, "state file", Symlinks::Refuse) {
        Ok(None) => None,
        Ok(Some(file)) => files::read_opened(file, "state file", path)
            .and_then(|bytes| Scenario::from_json(&bytes))
            .err(),
        Err(e) => Some(e),
    };
    let moved_aside = match &damage {
        Some(why) => {
            let aside = aside_path(path);
            fs::rename(path, &aside).map_err(err(path, "move aside"))?;
            tracing::warn!(aside = %aside.display(), reason = %why, "unusable state file moved aside");
            Some(aside)
        }
        None => None,
    };
    state.write(1, &bytes)?;
    Ok(StateReset {
        moved_aside,
        damage,
    })
}

/// A free name `FILE.corrupt-<unix seconds>[-n]` beside the state file.
fn aside_path(path: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!(".corrupt-{secs}");
    std::iter::once(base.clone())
        .chain((1..1000).map(|n| format!("{base}-{n}")))
        .map(|suffix| sibling(path, "", &suffix))
        .find(|p| p.symlink_metadata().is_err())
        .unwrap_or_else(|| sibling(path, "", &base))
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
