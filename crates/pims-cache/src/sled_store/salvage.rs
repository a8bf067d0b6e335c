//! Reading what can be read from a database sled refuses, before it is moved aside.
//!
//! sled's log file (`db`) is the truth; its `conf` (settings it rewrites from ours) and its
//! `snap.*` files (a summary of the log, rebuilt from it) only speed up opening. A damaged
//! config or snapshot thus loses nothing: a copy of the log alone, opened in volatile space,
//! usually gives every entry back. A damaged log gives what sled can replay of it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::device::DeviceId;
use crate::keys;

use super::engine::{self, Engine};
use super::layout;

/// What was read back.
#[derive(Debug, Default)]
pub(crate) struct Salvage {
    /// Every entry, when the database is a pims cache of the known format (else none).
    pub(crate) entries: Vec<(Vec<u8>, Vec<u8>)>,
    /// The device id entry's id, when it reads.
    pub(crate) device: Option<DeviceId>,
}

impl Salvage {
    /// How many list records are among the entries.
    pub(crate) fn lists(&self) -> usize {
        self.entries
            .iter()
            .filter(|(k, _)| k.first() == Some(&keys::LIST))
            .count()
    }
}

/// Reads what it can of the database of `dir` (left as it is: a copy is opened).
pub(crate) fn salvage(dir: &Path, cache_bytes: u64) -> Salvage {
    let sled_dir = dir.join(layout::SLED_DIR);
    if !layout::is_real_dir(&sled_dir) {
        return Salvage::default();
    }
    let log_only = |name: &str| name != "conf" && !name.starts_with("snap.");
    let db = match engine::open_copy(&sled_dir, cache_bytes, &log_only) {
        Ok(db) => db,
        Err(why) => {
            tracing::debug!(reason = %why, "pims-cache: nothing could be read from the broken cache");
            return Salvage::default();
        }
    };
    // sled may panic on what it reads of a damaged log, too.
    let read = catch_unwind(AssertUnwindSafe(|| read_all(&db))).unwrap_or_default();
    Engine::Sled(db).close();
    read
}

fn read_all(db: &sled::Db) -> Salvage {
    let device = db
        .get(keys::DEVICE)
        .ok()
        .flatten()
        .and_then(|v| DeviceId::from_record(&v).ok());
    let ours = engine::format_of(db)
        .ok()
        .flatten()
        .is_some_and(|f| f.as_ref() == engine::FORMAT_VALUE);
    let entries = if ours {
        db.iter()
            .map_while(Result::ok)
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    } else {
        Vec::new()
    };
    Salvage { entries, device }
}
