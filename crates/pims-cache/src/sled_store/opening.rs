//! Opening a cache directory: the lock taken, sled opened; an unreadable database read back
//! and moved aside (one warning, a [`Recovery`] to tell); a directory that cannot be written
//! worked from memory instead (degraded); the device id file and the database's copy brought
//! into agreement.

use std::path::{Path, PathBuf};

use tracing::warn;

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::keys;
use crate::store::{Degradation, DegradedReason, Health};

use super::engine::{self, Engine, OpenFailure};
use super::identity::{self, Stored};
use super::layout;
use super::lock::{LockError, LockFile};
use super::salvage::{self, Salvage};

/// What [`SledStore::open`](crate::SledStore::open) did about an unreadable cache: where the
/// broken database went, and what could be read back from it first.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let store = pims_cache::SledStore::open(dir.path().join("c"), Default::default()).unwrap();
/// assert!(store.recovery().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// The broken database, moved aside (`<dir>/sled.corrupt-<unix seconds>`; a file that
    /// stood where the cache directory should be: `<dir>.corrupt-<unix seconds>`).
    pub moved_to: PathBuf,
    /// What was wrong with it.
    pub reason: String,
    /// How many cached lists were read back from it into the fresh database.
    pub kept_lists: usize,
    /// Whether this device's id survived (from its own file, or read back from the database);
    /// when not, the next [`StepCache::device_id`](crate::StepCache::device_id) creates one.
    pub kept_device_id: bool,
}

/// What open found, before it becomes an `Inner`.
pub(super) struct Opened {
    pub(super) engine: Engine,
    pub(super) health: Health,
    pub(super) lock: Option<LockFile>,
    pub(super) recovery: Option<Recovery>,
}

fn in_use(dir: &Path, pid: Option<u32>) -> CacheError {
    CacheError::InUse {
        path: dir.to_path_buf(),
        pid,
    }
}

/// Working from memory because the directory cannot be written.
fn degraded(
    dir: &Path,
    cache_bytes: u64,
    lock: Option<LockFile>,
    reason: DegradedReason,
    detail: String,
) -> Opened {
    warn!(
        dir = %dir.display(), reason = %reason, error = %detail,
        "pims-cache: the cache directory cannot be written; working from memory (nothing cached now survives a restart)"
    );
    Opened {
        engine: engine::volatile(dir, cache_bytes),
        health: Health::Degraded(Degradation::new(
            reason,
            format!("{}: {detail}", dir.display()),
        )),
        lock,
        recovery: None,
    }
}

/// [`degraded`] by an error of the directory itself, before its lock is held.
fn unwritable(dir: &Path, cache_bytes: u64, e: &std::io::Error) -> Opened {
    degraded(
        dir,
        cache_bytes,
        None,
        DegradedReason::of_io(e),
        e.to_string(),
    )
}

pub(super) fn open_dir(dir: &Path, cache_bytes: u64) -> Result<Opened, CacheError> {
    let mut recovery = None;
    // A file where the directory should be: not ours to read, so move it aside. (A link was
    // refused before.)
    if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        match layout::move_aside(dir) {
            Ok(moved_to) => {
                warn!(path = %dir.display(), moved_to = %moved_to.display(),
                    "pims-cache: a file stood where the cache directory should be; moved it aside");
                recovery = Some(Recovery {
                    moved_to,
                    reason: "a file stood where the cache directory should be".to_owned(),
                    kept_lists: 0,
                    kept_device_id: false,
                });
            }
            Err(e) => {
                return Ok(unwritable(dir, cache_bytes, &e));
            }
        }
    }
    if let Err(e) = layout::private_dir(dir) {
        return Ok(unwritable(dir, cache_bytes, &e));
    }
    let lock = match LockFile::acquire(dir) {
        Ok(lock) => lock,
        Err(LockError::Held { pid }) => return Err(in_use(dir, pid)),
        Err(LockError::Io(e)) => {
            return Ok(unwritable(dir, cache_bytes, &e));
        }
    };
    match engine::open_disk(dir, cache_bytes) {
        Ok(db) => Ok(Opened {
            engine: Engine::Sled(db),
            health: Health::Durable,
            lock: Some(lock),
            recovery,
        }),
        Err(OpenFailure::Busy) => Err(in_use(dir, None)),
        Err(OpenFailure::Refused(reason, detail)) => {
            Ok(degraded(dir, cache_bytes, Some(lock), reason, detail))
        }
        Err(OpenFailure::Broken(why)) => recover(dir, cache_bytes, lock, why),
    }
}

/// The database of `dir` is unreadable: reads back what it can, moves sled's directory
/// aside (the lock, the device id file and anything else in `dir` stay), starts a fresh
/// database with what was read. One warning.
fn recover(
    dir: &Path,
    cache_bytes: u64,
    lock: LockFile,
    why: String,
) -> Result<Opened, CacheError> {
    let salvaged = salvage::salvage(dir, cache_bytes);
    let moved_to = match quarantine(dir) {
        Ok(moved_to) => moved_to,
        Err(e) => {
            return Ok(degraded(
                dir,
                cache_bytes,
                Some(lock),
                DegradedReason::Unrecoverable,
                format!("{why}; moving it aside failed: {e}"),
            ));
        }
    };
    let mut opened = match engine::open_disk(dir, cache_bytes) {
        Ok(db) => Opened {
            engine: Engine::Sled(db),
            health: Health::Durable,
            lock: Some(lock),
            recovery: None,
        },
        Err(OpenFailure::Busy) => return Err(in_use(dir, None)),
        Err(OpenFailure::Refused(reason, detail)) => {
            degraded(dir, cache_bytes, Some(lock), reason, detail)
        }
        Err(OpenFailure::Broken(again)) => degraded(
            dir,
            cache_bytes,
            Some(lock),
            DegradedReason::Unrecoverable,
            format!("a fresh cache is unreadable too: {again}"),
        ),
    };
    let kept_lists = restore(dir, &opened.engine, &salvaged);
    let kept_device_id = salvaged.device.is_some() || matches!(identity::read(dir), Stored::Id(_));
    let device = if kept_device_id {
        "the device id kept"
    } else {
        "no device id could be read: a new one will be created"
    };
    warn!(
        dir = %dir.display(), moved_to = %moved_to.display(), reason = %why,
        "pims-cache: the cache was unreadable; moved it aside and started a fresh one ({kept_lists} cached lists read back, {device})"
    );
    opened.recovery = Some(Recovery {
        moved_to,
        reason: why,
        kept_lists,
        kept_device_id,
    });
    Ok(opened)
}

/// Writes what was read back from a broken database into the fresh one; how many lists.
fn restore(dir: &Path, engine: &Engine, salvaged: &Salvage) -> usize {
    let mut written = salvaged
        .entries
        .iter()
        .all(|(k, v)| engine.put(k, Some(v)).is_ok());
    if let Some(id) = &salvaged.device
        && let Ok(bytes) = id.to_record()
    {
        written &= engine.put(keys::DEVICE, Some(&bytes)).is_ok();
    }
    if written && engine.flush(dir).is_ok() {
        salvaged.lists()
    } else {
        0
    }
}

/// Moves sled's directory aside, inside the cache directory (whose lock stays held, and whose
/// device id file stays where it is). The marker goes first: a cache without it is a new
/// one, which a crash in between then starts again.
fn quarantine(dir: &Path) -> std::io::Result<PathBuf> {
    layout::remove_marker(dir)?;
    layout::move_aside(&dir.join(layout::SLED_DIR))
}

/// Brings the device id file and the database's device id entry into agreement, once the
/// store is open: the file is the truth (the entry follows it, for earlier versions, which
/// read the entry); an entry without a file (a cache made by an earlier version, or a damaged
/// file) is copied out into the file. Returns the id the file holds, if any.
pub(super) fn settle_device_id(dir: &Path, opened: &Opened) -> Option<DeviceId> {
    let stored = identity::read(dir);
    let entry = opened
        .engine
        .get(keys::DEVICE)
        .ok()
        .flatten()
        .and_then(|bytes| DeviceId::from_record(&bytes).ok());
    match stored {
        Stored::Id(id) => {
            if entry.as_ref() != Some(&id)
                && let Ok(bytes) = id.to_record()
                && opened.engine.put(keys::DEVICE, Some(&bytes)).is_ok()
                && opened.health.is_durable()
            {
                let _ = opened.engine.flush(dir);
            }
            Some(id)
        }
        Stored::Absent | Stored::Unreadable(_) => {
            let unreadable = match &stored {
                Stored::Unreadable(why) => Some(why.as_str()),
                _ => None,
            };
            let Some(id) = entry else {
                if let Some(why) = unreadable {
                    warn!(reason = %why, "pims-cache: the device id file is unreadable and the cache holds no other copy: a new device id will be created");
                }
                return None;
            };
            // Only the lock's holder writes the directory.
            let written = opened.lock.is_some() && identity::write(dir, &id).is_ok();
            if let Some(why) = unreadable {
                if written {
                    warn!(reason = %why, "pims-cache: the device id file was unreadable; rewrote it from the cache's copy of the id");
                } else {
                    warn!(reason = %why, "pims-cache: the device id file is unreadable and cannot be rewritten now; using the cache's copy of the id");
                }
            }
            written.then_some(id)
        }
    }
}
