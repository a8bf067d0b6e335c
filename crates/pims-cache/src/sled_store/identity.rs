//! The device id file: the device's identity with the backend, kept beside sled's directory
//! (not in it), so that moving a broken database aside cannot lose it. One line: the id.

use std::io;
use std::path::Path;

use crate::device::{DeviceId, MAX_DEVICE_ID_LEN};

use super::files;

/// The name of the device id file inside the cache directory.
pub const DEVICE_FILE: &str = "pims-cache.device";

/// Largest device id file read: an id and a newline, with room to spare.
const CAP: u64 = 4 * MAX_DEVICE_ID_LEN as u64;

/// What the device id file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stored {
    /// There is none.
    Absent,
    /// A valid id.
    Id(DeviceId),
    /// Something that is not one (why: never the content).
    Unreadable(String),
}

/// Reads the device id file of `dir` (capped, not through a link, a regular file only).
pub(crate) fn read(dir: &Path) -> Stored {
    let bytes = match files::read_capped(&dir.join(DEVICE_FILE), CAP) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Stored::Absent,
        Err(e) => return Stored::Unreadable(e.to_string()),
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Stored::Unreadable(format!("{DEVICE_FILE} is not text"));
    };
    match DeviceId::parse(text.strip_suffix('\n').unwrap_or(text)) {
        Ok(id) => Stored::Id(id),
        Err(e) => Stored::Unreadable(format!("{DEVICE_FILE}: {e}")),
    }
}

/// Writes `id` as the device id of `dir`, atomically and durably (0600).
pub(crate) fn write(dir: &Path, id: &DeviceId) -> io::Result<()> {
    files::write_atomic(dir, DEVICE_FILE, format!("{id}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), Stored::Absent);
        let id = DeviceId::generate();
        write(dir.path(), &id).unwrap();
        assert_eq!(read(dir.path()), Stored::Id(id.clone()));
        let path = dir.path().join(DEVICE_FILE);
        for junk in [&b"not an id\n"[..], b"", b"\xff\xfe", &[b'a'; 600]] {
            std::fs::write(&path, junk).unwrap();
            assert!(
                matches!(read(dir.path()), Stored::Unreadable(_)),
                "{junk:?}"
            );
        }
        // Rewriting repairs it.
        write(dir.path(), &id).unwrap();
        assert_eq!(read(dir.path()), Stored::Id(id));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_device_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(DEVICE_FILE)).unwrap();
        match read(dir.path()) {
            Stored::Unreadable(why) => assert!(why.contains("symbolic link"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
