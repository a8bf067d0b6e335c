//! How the CLI opens the files of the home it handles itself (the lock): never through a
//! symbolic link (`O_NOFOLLOW`: a link planted there is refused, not followed), never a FIFO or a
//! device (opened non-blocking so that a FIFO cannot hang the open, then refused unless it is a
//! regular file). The simulator's state and scenario files are opened by pims-sim's own code
//! (`reset_state_file`, `Scenario::from_file`), the cache's files by pims-cache's.

use std::fs::OpenOptions;
use std::io;

/// The open flags of a file of the home: non-blocking (a FIFO cannot hang the open) and
/// `O_NOFOLLOW` (a link planted there is refused, not followed).
pub(crate) fn set_flags(options: &mut OpenOptions) {
    #[cfg(unix)]
    {
        use nix::fcntl::OFlag;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOFOLLOW).bits());
    }
    #[cfg(not(unix))]
    let _ = options;
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
