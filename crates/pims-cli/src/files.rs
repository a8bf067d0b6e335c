//! How the CLI opens the files it handles itself. In the home, never through a symbolic link
//! (`O_NOFOLLOW`: a link planted there is refused, not followed). Anywhere, never a FIFO or a
//! device (opened non-blocking so that a FIFO cannot hang the open, then refused unless it is a
//! regular file), and never read past a cap (a link to `/dev/zero` cannot fill the memory).

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Whether a symbolic link at the last component of a path is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Links {
    /// Follow it: a path the user named (`--scenario FILE`).
    Follow,
    /// Refuse it: a file of the home, whose name anyone who could write there may have planted.
    Refuse,
}

/// The open flags for `links`: always non-blocking (a FIFO), `O_NOFOLLOW` when refused.
pub(crate) fn set_flags(options: &mut OpenOptions, links: Links) {
    #[cfg(unix)]
    {
        use nix::fcntl::OFlag;
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = OFlag::O_NONBLOCK;
        if links == Links::Refuse {
            flags |= OFlag::O_NOFOLLOW;
        }
        options.custom_flags(flags.bits());
    }
    #[cfg(not(unix))]
    let _ = (options, links);
}

/// Whether an open failed because the path is a symbolic link that was not followed.
pub(crate) fn is_refused_link(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// What a file that is not a regular file is, in words (`None` for a regular file).
pub(crate) fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    let kind = meta.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_symlink() {
        return Some("a symbolic link");
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO");
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Opens `path` for reading: a regular file only.
pub(crate) fn open_regular(path: &Path, links: Links) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    set_flags(&mut options, links);
    let file = options.open(path)?;
    match not_regular(&file.metadata()?) {
        None => Ok(file),
        Some(what) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file"),
        )),
    }
}

/// The whole of a regular file of at most `cap` bytes.
pub(crate) fn read_capped(path: &Path, cap: u64, links: Links) -> io::Result<Vec<u8>> {
    let file = open_regular(path, links)?;
    let mut bytes = Vec::new();
    // One byte more than the cap tells "too large" from "exactly the cap", without trusting
    // the size the file claims (it can grow while being read).
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is larger than {}", size(cap)),
        ));
    }
    Ok(bytes)
}

/// A size for people: `8 MiB`, `512 KiB`, `100 bytes`.
pub(crate) fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Moves `path` (a link itself, never its target) to a free name beside it,
/// `<name>.<label>-<seconds>` (then `-2`, `-3`, … when taken), and gives that name.
pub(crate) fn move_aside(path: &Path, label: &str) -> io::Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    for n in 1..=100u32 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let aside = path.with_file_name(format!("{name}.{label}-{secs}{suffix}"));
        // The home is this user's and locked by this process: nobody else makes names in it
        // between the look and the rename.
        if std::fs::symlink_metadata(&aside).is_err() {
            std::fs::rename(path, &aside)?;
            return Ok(aside);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free name to move it to",
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_capped(&file, 5, Links::Refuse).unwrap(), b"12345");
        let e = read_capped(&file, 4, Links::Refuse).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "it is larger than 4 bytes");
        // A link to an endless device: refused in the home, capped when followed.
        let zero = tmp.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(is_refused_link(
            &read_capped(&zero, 4, Links::Refuse).unwrap_err()
        ));
        let e = read_capped(&zero, 4, Links::Follow).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
    }

    #[test]
    fn a_fifo_is_refused_without_waiting() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = read_capped(&fifo, 4, Links::Follow).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
    }

    #[test]
    fn moving_aside_takes_a_free_name_and_moves_links_themselves() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("state.json");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let first = move_aside(&link, "corrupt").unwrap();
        assert!(std::fs::symlink_metadata(&first).unwrap().is_symlink());
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let second = move_aside(&link, "corrupt").unwrap();
        assert_ne!(first, second);
        assert!(std::fs::symlink_metadata(&link).is_err());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(8 * 1024 * 1024), "8 MiB");
        assert_eq!(size(2048), "2 KiB");
        assert_eq!(size(100), "100 bytes");
    }
}
