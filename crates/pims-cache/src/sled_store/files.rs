//! The files the store opens itself in the cache directory (the lock file, the marker, the
//! device id file): opened without following a symbolic link, regular files only, read with a
//! size cap, written atomically. A link or a device planted in the directory can then neither
//! redirect a write nor make a read last for ever (`/dev/zero`) or block (a FIFO).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// Adds the flags every open of our own files uses: no symbolic link followed at the last
/// component, and no blocking open (a FIFO would wait for a writer).
pub(crate) fn no_follow(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use nix::fcntl::OFlag;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits());
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// Opens files 0600 when they are created.
pub(crate) fn private_file(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = options;
}

/// Opens `path` with `options` (plus [`no_follow`]) and checks that it is a regular file with
/// one name: a hard link planted in the directory would otherwise let a write (the lock's
/// truncation, its chmod) reach a file elsewhere, as a symbolic link would.
pub(crate) fn open_regular(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    no_follow(options);
    let file = options.open(path).map_err(|e| named(path, e))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} has {} names (a hard link to a file elsewhere): remove it",
                    path.display(),
                    meta.nlink()
                ),
            ));
        }
    }
    Ok(file)
}

/// An open error naming the path; a symbolic link refused by `O_NOFOLLOW` is said so.
fn named(path: &Path, e: io::Error) -> io::Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is a symbolic link (not followed)", path.display()),
        );
    }
    let _ = path;
    e
}

/// The contents of the regular file `path`, at most `cap` bytes: a larger file is an
/// `InvalidData` error, read no further than `cap + 1` bytes.
pub(crate) fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path, OpenOptions::new().read(true))?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is larger than {cap} bytes", path.display()),
        ));
    }
    Ok(bytes)
}

/// Replaces `dir/name` by `bytes`, atomically and durably: a temporary file created
/// exclusively (0600) in `dir`, written, synced, renamed over `name` (a link at `name` is
/// replaced, never followed), then the directory synced.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Opens the directory `path` itself (not a link to one).
pub(crate) fn open_dir(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use nix::fcntl::OFlag;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlag::O_NOFOLLOW | OFlag::O_DIRECTORY).bits());
    }
    let dir = options.open(path).map_err(|e| named(path, e))?;
    if !dir.metadata()?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is not a directory", path.display()),
        ));
    }
    Ok(dir)
}

/// Makes a directory's entries (creations, renames) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        open_dir(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Sets the permission bits of an open file or directory (`fchmod`: the object opened, never
/// what a path points to now), when they differ.
pub(crate) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = file.metadata()?.permissions().mode() & 0o7777;
        if current != mode {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (file, mode);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn reads_are_capped_and_regular_only() {
        let root = tempfile::tempdir().unwrap();
        let f = root.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_capped(&f, 5).unwrap(), b"12345");
        let e = read_capped(&f, 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // A link to /dev/zero is refused before reading anything.
        symlink("/dev/zero", root.path().join("zero")).unwrap();
        let e = read_capped(&root.path().join("zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // A device itself is refused too; so is a FIFO (without blocking).
        let e = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let fifo = root.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let e = read_capped(&fifo, 10).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn atomic_writes_replace_a_link_without_following_it() {
        let root = tempfile::tempdir().unwrap();
        let outside = root.path().join("outside");
        std::fs::write(&outside, b"keep").unwrap();
        let dir = root.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        symlink(&outside, dir.join("name")).unwrap();
        write_atomic(&dir, "name", b"new").unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
        assert_eq!(std::fs::read(dir.join("name")).unwrap(), b"new");
        let meta = std::fs::symlink_metadata(dir.join("name")).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn a_directory_link_is_not_opened() {
        let root = tempfile::tempdir().unwrap();
        let real = root.path().join("real");
        std::fs::create_dir(&real).unwrap();
        symlink(&real, root.path().join("link")).unwrap();
        assert!(open_dir(&real).is_ok());
        assert!(open_dir(&root.path().join("link")).is_err());
    }
}
