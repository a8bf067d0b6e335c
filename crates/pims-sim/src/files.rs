//! How the simulator opens files: the documents it reads (the state file, a scenario file) are
//! read only when they are regular files of at most [`MAX_FILE_BYTES`], checked on the opened
//! handle (no race with the path), and never block on a FIFO; the files it keeps beside the
//! state file (the state file itself, its lock and temporary files) are never reached through a
//! symbolic link, and the temporary file is created afresh (`O_EXCL`), mode `0600`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use crate::error::SimError;

/// The largest state or scenario file the simulator reads (64 MiB): far more than any real
/// state, small enough that a file gone wrong (or `/dev/zero`) cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Whether a symbolic link at the path itself may be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Symlinks {
    /// Yes: a file the user names (`--scenario`).
    Follow,
    /// No: the files the simulator keeps (state, lock, temporary).
    Refuse,
}

/// What the refusal of a file says about it.
fn refused(what: &'static str, path: &Path, reason: impl Into<String>) -> SimError {
    SimError::FileRefused {
        what,
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// The reason given for a symbolic link that is not followed.
const SYMLINK: &str = "is a symbolic link, which the simulator does not follow for its own \
     files: remove it, or give the real path";

/// Adds the flags of every open: never block on a FIFO, and `O_NOFOLLOW` when asked.
fn flags(options: &mut OpenOptions, symlinks: Symlinks) {
    #[cfg(unix)]
    {
        use nix::fcntl::OFlag;
        use std::os::unix::fs::OpenOptionsExt;
        let mut bits = OFlag::O_NONBLOCK;
        if symlinks == Symlinks::Refuse {
            bits |= OFlag::O_NOFOLLOW;
        }
        options.custom_flags(bits.bits());
    }
    #[cfg(not(unix))]
    let _ = (options, symlinks);
}

/// Whether an open failed because the path is a symbolic link and `O_NOFOLLOW` was given.
fn is_symlink_refusal(e: &io::Error, path: &Path) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32)
            && path.symlink_metadata().is_ok_and(|m| m.is_symlink())
    }
    #[cfg(not(unix))]
    {
        let _ = (e, path);
        false
    }
}

/// What kind of file a non-regular one is, for the refusal.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The metadata of an opened file, which must be a regular file (checked on the handle, not
/// the path, so nothing can be swapped in between).
fn regular_file(
    file: &File,
    what: &'static str,
    path: &Path,
) -> Result<std::fs::Metadata, SimError> {
    let meta = file.metadata().map_err(|source| SimError::File {
        what,
        path: path.to_owned(),
        action: "inspect",
        source,
    })?;
    if !meta.is_file() {
        return Err(refused(
            what,
            path,
            format!("is {}, not a regular file: refused", kind(&meta)),
        ));
    }
    Ok(meta)
}

/// Opens a document for reading: `Ok(None)` when there is none at `path`. The opened handle
/// must be a regular file of at most [`MAX_FILE_BYTES`]; nothing is read yet.
pub(crate) fn open_document(
    path: &Path,
    what: &'static str,
    symlinks: Symlinks,
) -> Result<Option<File>, SimError> {
    let mut options = OpenOptions::new();
    options.read(true);
    flags(&mut options, symlinks);
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_symlink_refusal(&e, path) => return Err(refused(what, path, SYMLINK)),
        Err(source) => {
            return Err(SimError::File {
                what,
                path: path.to_owned(),
                action: "open",
                source,
            });
        }
    };
    let meta = regular_file(&file, what, path)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(what, path, Some(meta.len())));
    }
    Ok(Some(file))
}

fn too_large(what: &'static str, path: &Path, len: Option<u64>) -> SimError {
    let size = len.map(|n| format!(" ({n} bytes)")).unwrap_or_default();
    refused(
        what,
        path,
        format!(
            "is larger than the cap of {} MiB{size}: refused without reading it",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

/// Reads an opened document, at most [`MAX_FILE_BYTES`] even if it grows meanwhile.
pub(crate) fn read_opened(
    file: File,
    what: &'static str,
    path: &Path,
) -> Result<Vec<u8>, SimError> {
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| SimError::File {
            what,
            path: path.to_owned(),
            action: "read",
            source,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(what, path, None));
    }
    Ok(bytes)
}

/// Reads a whole document (see [`open_document`]); `Ok(None)` when there is none.
pub(crate) fn read_document(
    path: &Path,
    what: &'static str,
    symlinks: Symlinks,
) -> Result<Option<Vec<u8>>, SimError> {
    match open_document(path, what, symlinks)? {
        Some(file) => read_opened(file, what, path).map(Some),
        None => Ok(None),
    }
}

/// Opens (creating it `0600` when missing) a file the simulator keeps beside the state file,
/// for reading and writing, never through a symbolic link. It must be a regular file with no
/// other hard link (the simulator writes into it).
pub(crate) fn open_private(path: &Path, what: &'static str) -> Result<File, SimError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    private_mode(&mut options);
    flags(&mut options, Symlinks::Refuse);
    let file = options.open(path).map_err(|source| {
        if is_symlink_refusal(&source, path) {
            refused(what, path, SYMLINK)
        } else {
            SimError::File {
                what,
                path: path.to_owned(),
                action: "open",
                source,
            }
        }
    })?;
    let meta = regular_file(&file, what, path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(refused(
                what,
                path,
                "has other hard links: refused (remove it; the simulator makes a new one)",
            ));
        }
    }
    Ok(file)
}

/// Creates a new file, `0600`, failing when anything (a file, a symbolic link) is at `path`:
/// `O_CREAT | O_EXCL` never follows a link.
pub(crate) fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    private_mode(&mut options);
    flags(&mut options, Symlinks::Refuse);
    options.open(path)
}

fn private_mode(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = options;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn documents_are_regular_files_under_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.json");
        assert!(
            read_document(&path, "x", Symlinks::Refuse)
                .unwrap()
                .is_none()
        );
        std::fs::write(&path, b"{}").unwrap();
        assert_eq!(
            read_document(&path, "x", Symlinks::Refuse)
                .unwrap()
                .unwrap(),
            b"{}"
        );
        // A sparse file over the cap is refused from its size, without reading it.
        let big = dir.path().join("big.json");
        File::create(&big)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let e = read_document(&big, "state file", Symlinks::Refuse).unwrap_err();
        assert!(matches!(e, SimError::FileRefused { .. }), "{e:?}");
        assert!(e.to_string().contains("64 MiB"), "{e}");
        // A directory, a device.
        let e = read_document(dir.path(), "x", Symlinks::Follow).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let e = read_document(Path::new("/dev/zero"), "x", Symlinks::Follow).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
    }

    #[test]
    fn symlinks_are_followed_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        std::fs::write(&target, b"{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(
            read_document(&link, "x", Symlinks::Follow)
                .unwrap()
                .is_some()
        );
        let e = read_document(&link, "state file", Symlinks::Refuse).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let e = open_private(&link, "lock file").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(create_new_private(&link).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"{}");
    }
}
