//! The pims home: where the command keeps the SDK cache (`cache/`), the embedded simulator's
//! state (`sim-state.json`) and its lock (`pims.lock`).
//!
//! `--home DIR`, else `$PIMS_HOME`, else the platform data directory + `pims`
//! (`~/.local/share/pims` on Linux). One pims process at a time uses a home: the lock is taken
//! before anything in it is opened, and a second process is refused at once with the holder's
//! pid (exit 3) instead of waiting or racing.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// The lock file's name inside the home.
const LOCK_FILE: &str = "pims.lock";

/// Where the home is, before it is opened.
pub(crate) fn resolve(flag: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    dirs::data_dir().map(|d| d.join("pims")).ok_or_else(|| {
        Failure::usage("no data directory is known for this user: pass --home DIR or set PIMS_HOME")
    })
}

/// An open, locked home. The lock goes when this is dropped (or the process ends).
#[derive(Debug)]
pub(crate) struct Home {
    dir: PathBuf,
    _lock: File,
}

fn unusable(dir: &Path, what: &str, e: &std::io::Error) -> Failure {
    Failure::usage(format!(
        "cannot use {} as the pims home ({what}: {e}): pass a writable --home DIR or set PIMS_HOME",
        dir.display()
    ))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

impl Home {
    /// Creates the home if needed (0700) and locks it for this process.
    pub(crate) fn open(dir: PathBuf) -> Result<Home, Failure> {
        create_private_dir(&dir).map_err(|e| unusable(&dir, "cannot create it", &e))?;
        let lock_path = dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut lock = options
            .open(&lock_path)
            .map_err(|e| unusable(&dir, "cannot write in it", &e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = lock
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse::<u32>().ok())
                    .map(|pid| format!(" (pid {pid})"))
                    .unwrap_or_default();
                return Err(Failure::Busy(format!(
                    "the pims home {} is in use by another pims process{holder}: wait for it to \
                     finish, or use another --home",
                    dir.display()
                )));
            }
            Err(fs::TryLockError::Error(e)) => return Err(unusable(&dir, "cannot lock it", &e)),
        }
        // The pid only makes the "in use" message more helpful: best effort.
        let _ = lock
            .set_len(0)
            .and_then(|()| lock.seek(SeekFrom::Start(0)))
            .and_then(|_| write!(lock, "{}", std::process::id()));
        Ok(Home { dir, _lock: lock })
    }

    /// The home directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The SDK's cache directory.
    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.dir.join("cache")
    }

    /// The embedded simulator's state file.
    pub(crate) fn sim_state(&self) -> PathBuf {
        self.dir.join("sim-state.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_is_refused_with_the_pid() {
        let tmp = tempfile::tempdir().unwrap();
        let first = Home::open(tmp.path().join("h")).unwrap();
        let second = Home::open(tmp.path().join("h")).unwrap_err();
        let Failure::Busy(message) = &second else {
            panic!("not busy: {second:?}")
        };
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert_eq!(second.exit_code(), 3);
        drop(first);
        Home::open(tmp.path().join("h")).unwrap();
    }

    #[test]
    fn a_home_under_a_file_is_bad_usage() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        let e = Home::open(file.join("home")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let Failure::Usage(message) = e else {
            panic!("not usage")
        };
        assert!(message.contains("--home"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn the_home_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::open(tmp.path().join("h")).unwrap();
        let mode = fs::metadata(home.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
