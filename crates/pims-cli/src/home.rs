//! The pims home: where the command keeps the SDK cache (`cache/`), the embedded simulator's
//! state (`sim-state.json`) and its lock (`pims.lock`).
//!
//! `--home DIR`, else `$PIMS_HOME`, else the platform data directory + `pims`
//! (`~/.local/share/pims` on Linux). One pims process at a time uses a home: the lock is taken
//! before anything in it is opened, and a second process is refused at once (exit 3) instead of
//! waiting or racing.
//!
//! The threat model: the home is a directory the user owns, mode 0700, so that nobody else can
//! plant a file or a link in it. pims makes it 0700 when the user owns it, and refuses (exit 2)
//! one owned by someone else or that cannot be made private. The home itself must not be a
//! symbolic link: a link may have been planted in a shared place (`PIMS_HOME=/tmp/pims`) to
//! send pims into a directory of the user's it would then chmod and write in; refusing it costs
//! the user one flag (the directory itself), and the check holds without a race (the directory
//! is opened with `O_NOFOLLOW` and checked through that handle). `pims.lock` is opened without
//! following a link and must be a regular file of the user's with no other name.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::failure::Failure;
use crate::files;

/// The lock file's name inside the home.
const LOCK_FILE: &str = "pims.lock";

/// The home's mode.
const PRIVATE: u32 = 0o700;

/// Where the home is, before it is opened.
pub(crate) fn resolve(flag: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    dirs::data_dir().map(|d| d.join("pims")).ok_or_else(|| {
        Failure::usage("no data directory is known for this user: pass --home DIR or set PIMS_HOME")
    })
}

/// Whether a command needs to write in the home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writes {
    /// It does (the embedded simulator's state, `cache wipe`): a read-only home is refused.
    Needed,
    /// It can do without (`--url`: the cache then works from memory).
    Optional,
}

/// An open, locked home. The lock goes when this is dropped (or the process ends).
#[derive(Debug)]
pub(crate) struct Home {
    dir: PathBuf,
    /// The lock; `None` in a read-only home that has no lock file (nothing can be written
    /// there, by this process or another).
    lock: Option<File>,
    /// Whether the home could be written (the lock file opened for writing).
    writable: bool,
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
        builder.mode(PRIVATE);
    }
    builder.create(dir)
}

fn a_link(dir: &Path) -> Failure {
    let target = fs::read_link(dir)
        .map(|t| format!(" (to {})", t.display()))
        .unwrap_or_default();
    Failure::usage(format!(
        "the pims home {} is a symbolic link{target}, which pims does not follow: pass the \
         directory itself with --home DIR or PIMS_HOME",
        dir.display()
    ))
}

/// Opens the home directory itself, never through a link, and checks it through that handle.
fn open_dir(dir: &Path) -> Result<File, Failure> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use nix::fcntl::OFlag;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW).bits());
    }
    options.open(dir).map_err(|e| {
        if files::is_refused_link(&e) {
            a_link(dir)
        } else {
            unusable(dir, "cannot open it", &e)
        }
    })
}

/// The home must be the user's and private: made 0700 when it is the user's, refused otherwise.
#[cfg(unix)]
fn make_private(dir: &Path, handle: &File) -> Result<(), Failure> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = handle
        .metadata()
        .map_err(|e| unusable(dir, "cannot look at it", &e))?;
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Failure::usage(format!(
            "the pims home {} belongs to uid {}, not to you (uid {me}): pims keeps secrets and \
             its lock there, so it uses only a directory of yours: pass --home DIR or set \
             PIMS_HOME to one",
            dir.display(),
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode == PRIVATE {
        return Ok(());
    }
    handle
        .set_permissions(fs::Permissions::from_mode(PRIVATE))
        .map_err(|e| {
            Failure::usage(format!(
                "the pims home {} is mode {mode:04o} and cannot be made private (0700: {e}): \
                 run chmod 700 on it, or pass another --home DIR",
                dir.display()
            ))
        })?;
    crate::render::warn(&format!(
        "the pims home {} was mode {mode:04o}: made it 0700, so that only you can use it",
        dir.display()
    ));
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_dir: &Path, _handle: &File) -> Result<(), Failure> {
    Ok(())
}

/// The lock file must be pims's own: a regular file of the user's with no other name (not a
/// hard link to a file elsewhere, which truncating it would empty).
fn check_lock_file(lock_path: &Path, lock: &File) -> Result<(), Failure> {
    let refuse = |why: String| {
        Failure::usage(format!(
            "{} is {why}, not the lock file pims makes: remove it and run pims again",
            lock_path.display()
        ))
    };
    let meta = lock
        .metadata()
        .map_err(|e| refuse(format!("unreadable ({e})")))?;
    if let Some(what) = files::not_regular(&meta) {
        return Err(refuse(what.to_owned()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() != 1 {
            return Err(refuse(format!(
                "a file with {} names (hard links)",
                meta.nlink()
            )));
        }
        let me = nix::unistd::geteuid().as_raw();
        if meta.uid() != me {
            return Err(refuse(format!("a file of uid {}", meta.uid())));
        }
    }
    Ok(())
}

/// Opens the lock file: for writing, or (`Writes::Optional`, read-only file system) for
/// reading only, when it exists. `Ok((None, false))`: read-only and no lock file.
fn open_lock(dir: &Path, writes: Writes) -> Result<(Option<File>, bool), Failure> {
    let lock_path = dir.join(LOCK_FILE);
    let refused = |e: &std::io::Error| {
        if files::is_refused_link(e) {
            Failure::usage(format!(
                "{} is a symbolic link, which pims does not follow in its home: remove it and \
                 run pims again",
                lock_path.display()
            ))
        } else {
            unusable(dir, "cannot write in it", e)
        }
    };
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    files::set_flags(&mut options);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let (lock, writable) = match options.open(&lock_path) {
        Ok(lock) => (Some(lock), true),
        Err(e)
            if writes == Writes::Optional && e.kind() == std::io::ErrorKind::ReadOnlyFilesystem =>
        {
            let mut options = OpenOptions::new();
            options.read(true);
            files::set_flags(&mut options);
            match options.open(&lock_path) {
                Ok(lock) => (Some(lock), false),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, false),
                Err(e) => return Err(refused(&e)),
            }
        }
        Err(e) => return Err(refused(&e)),
    };
    if let Some(lock) = &lock {
        check_lock_file(&lock_path, lock)?;
    }
    Ok((lock, writable))
}

/// Whether process `pid` exists (another than this one).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    #[cfg(unix)]
    {
        use nix::errno::Errno;
        let Ok(raw) = i32::try_from(pid) else {
            return false;
        };
        if raw <= 0 {
            return false;
        }
        // Signal 0: no signal is sent, only whether the process exists is checked.
        matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None),
            Ok(()) | Err(Errno::EPERM)
        )
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The holder's pid, as " (pid N)", when the lock file names a process that exists: the pid
/// of a process that exited uncleanly may still be there until the next holder writes its own.
fn holder(lock: &File) -> String {
    let mut text = String::new();
    let _ = lock.take(32).read_to_string(&mut text);
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|pid| alive(*pid))
        .map(|pid| format!(" (pid {pid})"))
        .unwrap_or_default()
}

impl Home {
    /// Creates the home if needed (0700), makes sure it is the user's and private, and locks
    /// it for this process.
    pub(crate) fn open(dir: PathBuf, writes: Writes) -> Result<Home, Failure> {
        // `home/` and `home/.` name the link itself, not what it points to.
        let dir: PathBuf = dir.components().collect();
        if dir.as_os_str().is_empty() {
            return Err(Failure::usage(
                "the pims home is an empty path: pass --home DIR or set PIMS_HOME",
            ));
        }
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(a_link(&dir)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_private_dir(&dir).map_err(|e| unusable(&dir, "cannot create it", &e))?;
            }
            Err(e) => return Err(unusable(&dir, "cannot look at it", &e)),
        }
        let handle = open_dir(&dir)?;
        make_private(&dir, &handle)?;
        let (lock, writable) = open_lock(&dir, writes)?;
        if let Some(lock) = &lock {
            match lock.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Failure::Busy(format!(
                        "the pims home {} is in use by another pims process{}: wait for it to \
                         finish, or use another --home",
                        dir.display(),
                        holder(lock)
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(unusable(&dir, "cannot lock it", &e));
                }
            }
        }
        if let (Some(mut lock), true) = (lock.as_ref(), writable) {
            // The pid only makes the "in use" message more helpful: best effort.
            let _ = lock
                .set_len(0)
                .and_then(|()| lock.seek(SeekFrom::Start(0)))
                .and_then(|_| write!(lock, "{}", std::process::id()));
        }
        Ok(Home {
            dir,
            lock,
            writable,
        })
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

impl Drop for Home {
    /// A clean exit leaves no pid behind: the lock file is emptied while still held.
    fn drop(&mut self) {
        if let (Some(lock), true) = (&self.lock, self.writable) {
            let _ = lock.set_len(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: PathBuf) -> Result<Home, Failure> {
        Home::open(dir, Writes::Needed)
    }

    #[test]
    fn a_second_open_is_refused_with_the_pid() {
        let tmp = tempfile::tempdir().unwrap();
        let first = open(tmp.path().join("h")).unwrap();
        // The pid in the lock file is this process's: a second process would be named.
        let text = fs::read_to_string(tmp.path().join("h").join(LOCK_FILE)).unwrap();
        assert_eq!(text, std::process::id().to_string());
        let second = open(tmp.path().join("h")).unwrap_err();
        let Failure::Busy(message) = &second else {
            panic!("not busy: {second:?}")
        };
        assert!(
            message.contains("in use by another pims process"),
            "{message}"
        );
        assert_eq!(second.exit_code(), 3);
        drop(first);
        // A clean release leaves no pid behind.
        let text = fs::read_to_string(tmp.path().join("h").join(LOCK_FILE)).unwrap();
        assert_eq!(text, "");
        open(tmp.path().join("h")).unwrap();
    }

    #[test]
    fn a_dead_pid_is_not_named() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        assert!(!alive(dead));
        assert!(!alive(0));
        assert!(!alive(u32::MAX));
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("lock");
        fs::write(&file, dead.to_string()).unwrap();
        assert_eq!(holder(&File::open(&file).unwrap()), "");
    }

    #[test]
    fn a_home_under_a_file_is_bad_usage() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        let e = open(file.join("home")).unwrap_err();
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
        let home = open(tmp.path().join("h")).unwrap();
        let mode = fs::metadata(home.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_home_is_refused_whatever_its_spelling() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        for spelling in [link.clone(), link.join(""), link.join(".")] {
            let e = open(spelling.clone()).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{spelling:?}");
            let Failure::Usage(m) = e else { panic!() };
            assert!(m.contains("symbolic link"), "{m}");
            assert!(m.contains(real.to_str().unwrap()), "{m}");
        }
        assert!(fs::read_dir(&real).unwrap().next().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_file_with_another_name_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("h");
        fs::create_dir(&home).unwrap();
        let precious = tmp.path().join("precious");
        fs::write(&precious, b"keep me").unwrap();
        fs::hard_link(&precious, home.join(LOCK_FILE)).unwrap();
        let e = open(home).unwrap_err();
        let Failure::Usage(m) = e else { panic!() };
        assert!(m.contains("hard links"), "{m}");
        assert_eq!(fs::read(&precious).unwrap(), b"keep me");
    }
}
