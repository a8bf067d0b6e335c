//! What a [`SledStore`](super::SledStore) runs on: sled on disk, a volatile copy of it, or an
//! empty map; and the guarded opening of sled (sled 0.34 can panic on a damaged database and
//! reports a held lock as an opaque I/O error).

use std::fs;
use std::io;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::memory::MemoryStore;
use crate::store::{BatchSwap, DegradedReason, Entry, KeySwap, Swap};

use super::{files, layout};

/// The tree holding the store's own format record (apart from the cache's keys).
const META_TREE: &[u8] = b"pims-cache";
const FORMAT_KEY: &[u8] = b"format";
pub(crate) const FORMAT_VALUE: &[u8] = b"1";

/// sled's log file inside its directory (sled 0.34: `<path>/db`).
const SLED_LOG_FILE: &str = "db";

/// Largest database copied into memory when the disk cannot be written.
const VOLATILE_COPY_LIMIT: u64 = 256 * 1024 * 1024;

/// How long to wait for sled's own file lock when ours is held (a handle of this process
/// that is still closing).
const SLED_LOCK_WAIT: Duration = Duration::from_secs(3);

/// The storage under a store.
pub(crate) enum Engine {
    /// sled.
    Sled(sled::Db),
    /// A map.
    Memory(MemoryStore),
}

impl Engine {
    pub(crate) fn get(&self, key: &[u8]) -> sled::Result<Option<Vec<u8>>> {
        match self {
            Engine::Sled(db) => Ok(db.get(key)?.map(|v| v.to_vec())),
            Engine::Memory(m) => Ok(m.read(key)),
        }
    }

    pub(crate) fn swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> sled::Result<Swap> {
        match self {
            Engine::Sled(db) => match db.compare_and_swap(key, expected, new)? {
                Ok(()) => Ok(Swap::Swapped),
                Err(e) => Ok(Swap::Conflict {
                    current: e.current.map(|v| v.to_vec()),
                }),
            },
            Engine::Memory(m) => Ok(m.swap(key, expected, new)),
        }
    }

    /// Sets (or removes) `key` unconditionally.
    pub(crate) fn put(&self, key: &[u8], value: Option<&[u8]>) -> sled::Result<()> {
        match (self, value) {
            (Engine::Sled(db), Some(v)) => db.insert(key, v).map(|_| ()),
            (Engine::Sled(db), None) => db.remove(key).map(|_| ()),
            (Engine::Memory(m), Some(v)) => {
                let current = m.read(key);
                let _ = m.swap(key, current.as_deref(), Some(v));
                Ok(())
            }
            (Engine::Memory(m), None) => {
                m.take(key);
                Ok(())
            }
        }
    }

    pub(crate) fn take(&self, key: &[u8]) -> sled::Result<Option<Vec<u8>>> {
        match self {
            Engine::Sled(db) => Ok(db.remove(key)?.map(|v| v.to_vec())),
            Engine::Memory(m) => Ok(m.take(key)),
        }
    }

    /// Entries under `prefix` after `after`, at most `limit` (None: all).
    pub(crate) fn entries(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: Option<usize>,
    ) -> sled::Result<Vec<Entry>> {
        match self {
            Engine::Sled(db) => {
                let from = match after {
                    Some(a) if a >= prefix => Bound::Excluded(a.to_vec()),
                    _ => Bound::Included(prefix.to_vec()),
                };
                db.range((from, Bound::Unbounded))
                    .take_while(|r| r.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
                    .take(limit.unwrap_or(usize::MAX))
                    .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
                    .collect()
            }
            Engine::Memory(m) => Ok(m.entries(prefix, after, limit)),
        }
    }

    /// The batch: every condition checked, then every change made, in the batch's order. The
    /// caller excludes every other operation of the store meanwhile (`SledStore`'s batch gate),
    /// so no reader sees half of it. Not a sled transaction: in sled 0.34 one switches the
    /// whole tree to a global lock that a commit can only take between two flushes, which
    /// serialises every later change behind the disk (no flush is shared any more).
    pub(crate) fn swap_all(&self, swaps: &[KeySwap<'_>]) -> sled::Result<BatchSwap> {
        match self {
            Engine::Sled(_) => {
                for (index, s) in swaps.iter().enumerate() {
                    let current = self.get(s.key)?;
                    if current.as_deref() != s.expected {
                        return Ok(BatchSwap::Conflict { index, current });
                    }
                }
                for s in swaps.iter().filter(|s| !s.is_check()) {
                    self.put(s.key, s.new)?;
                }
                Ok(BatchSwap::Swapped)
            }
            Engine::Memory(m) => Ok(m.swap_all_now(swaps)),
        }
    }

    /// Makes every write so far durable. sled's own flush ends with `sync_file_range` on
    /// Linux, which writes the pages but neither the drive's cache nor the file's metadata, so
    /// an acknowledged change could be lost on power loss: the log file is `fdatasync`ed too
    /// (`dir` is the cache directory).
    pub(crate) fn flush(&self, dir: &Path) -> sled::Result<()> {
        match self {
            Engine::Sled(db) => {
                db.flush()?;
                let log = dir.join(layout::SLED_DIR).join(SLED_LOG_FILE);
                files::open_regular(&log, fs::OpenOptions::new().read(true))?.sync_data()?;
                Ok(())
            }
            Engine::Memory(_) => Ok(()),
        }
    }

    /// Closes the engine; sled's drop flushes and may panic on an I/O failure, which must
    /// not escape.
    pub(crate) fn close(self) {
        if let Engine::Sled(db) = self {
            let _ = db.flush();
            let _ = catch_unwind(AssertUnwindSafe(move || drop(db)));
        }
    }
}

/// Why sled could not be opened.
#[derive(Debug)]
pub(crate) enum OpenFailure {
    /// sled's own lock is held (by a process that ignored ours).
    Busy,
    /// The disk refused: read-only, permissions, full.
    Refused(DegradedReason, String),
    /// The database is damaged, foreign, or made sled panic.
    Broken(String),
}

fn classify(e: sled::Error) -> OpenFailure {
    match e {
        sled::Error::Io(io) => classify_io(&io),
        other => OpenFailure::Broken(other.to_string()),
    }
}

fn classify_io(io: &io::Error) -> OpenFailure {
    let text = io.to_string();
    if text.contains("could not acquire lock") {
        return OpenFailure::Busy;
    }
    match DegradedReason::of_io(io) {
        DegradedReason::Io => match io.kind() {
            // A vanished directory or an interrupted call: the disk, not the data.
            io::ErrorKind::NotFound | io::ErrorKind::Interrupted => {
                OpenFailure::Refused(DegradedReason::Io, text)
            }
            _ => OpenFailure::Broken(text),
        },
        reason => OpenFailure::Refused(reason, text),
    }
}

/// Opens sled at `path`, catching its panics, waiting a little for its lock.
pub(crate) fn open_sled(
    path: &Path,
    cache_bytes: u64,
    temporary: bool,
) -> Result<sled::Db, OpenFailure> {
    let started = Instant::now();
    loop {
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::LowSpace)
            // We flush ourselves, before acknowledging a change; no background thread.
            .flush_every_ms(None)
            .temporary(temporary);
        let outcome = catch_unwind(AssertUnwindSafe(|| config.open()));
        match outcome {
            Ok(Ok(db)) => return Ok(db),
            Ok(Err(e)) => match classify(e) {
                OpenFailure::Busy if started.elapsed() < SLED_LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                failure => return Err(failure),
            },
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                return Err(OpenFailure::Broken(format!("sled panicked: {what}")));
            }
        }
    }
}

/// Opens the cache's sled database in `dir`, checking that it holds what a complete cache
/// holds; creates it (and the marker) when new.
pub(crate) fn open_disk(dir: &Path, cache_bytes: u64) -> Result<sled::Db, OpenFailure> {
    let complete = layout::has_marker(dir);
    let sled_dir = dir.join(layout::SLED_DIR);
    // (A link in place of sled's directory is refused: broken, moved aside.)
    layout::private_dir(&sled_dir).map_err(|e| classify_io(&e))?;
    check_sled_files(&sled_dir)?;
    let db = open_sled(&sled_dir, cache_bytes, false)?;
    match check_format(&db, complete) {
        Ok(()) => {}
        Err(failure) => {
            Engine::Sled(db).close();
            return Err(failure);
        }
    }
    // sled does not sync its directory: make its files' entries durable before the marker
    // says the cache is complete.
    if !complete && let Err(e) = files::sync_dir(&sled_dir).and_then(|()| layout::write_marker(dir))
    {
        Engine::Sled(db).close();
        return Err(classify_io(&e));
    }
    layout::restrict_sled(dir);
    Ok(db)
}

/// The largest `conf` sled is let read (it holds a few settings, about 100 bytes).
const SLED_CONF_CAP: u64 = 64 * 1024;

/// The largest snapshot sled is let read whole (a page table: a few MiB for a million lists).
const SLED_SNAPSHOT_CAP: u64 = 256 * 1024 * 1024;

/// sled opens (and reads whole) its files following links: its `conf`, `db` and `snap.*` must
/// be regular files of its own directory (a link there, to `/dev/zero` say, or a FIFO, is
/// foreign: broken, moved aside without being read), and the two it reads whole, `conf` and
/// `snap.*`, no larger than a cap (a runaway or planted 10 GiB file would need as much memory).
fn check_sled_files(sled_dir: &Path) -> Result<(), OpenFailure> {
    let entries = match fs::read_dir(sled_dir) {
        Ok(entries) => entries,
        Err(e) => return Err(classify_io(&e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let cap = match name.as_ref() {
            "conf" => SLED_CONF_CAP,
            SLED_LOG_FILE => u64::MAX,
            snap if snap.starts_with("snap.") => SLED_SNAPSHOT_CAP,
            _ => continue,
        };
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            return Err(OpenFailure::Broken(format!(
                "sled's {name} is not a regular file"
            )));
        }
        // The entry's own metadata: the file type above says it is not a link.
        let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if len > cap {
            return Err(OpenFailure::Broken(format!(
                "sled's {name} is {len} bytes, over the {cap} it may be (refused unread)"
            )));
        }
    }
    Ok(())
}

/// The store's format record, if it has one.
pub(crate) fn format_of(db: &sled::Db) -> sled::Result<Option<sled::IVec>> {
    if !db.tree_names().iter().any(|n| n.as_ref() == META_TREE) {
        return Ok(None);
    }
    db.open_tree(META_TREE)?.get(FORMAT_KEY)
}

fn check_format(db: &sled::Db, complete: bool) -> Result<(), OpenFailure> {
    let format = format_of(db).map_err(classify)?;
    match format {
        Some(v) if v.as_ref() == FORMAT_VALUE => Ok(()),
        Some(v) => Err(OpenFailure::Broken(format!(
            "unknown store format {:?}",
            String::from_utf8_lossy(&v)
        ))),
        // sled recovers a damaged log by dropping what it cannot read, silently: a complete
        // cache whose format record is gone has lost its data.
        None if complete => Err(OpenFailure::Broken(
            "the database lost its contents (its format record is gone)".to_owned(),
        )),
        None => {
            if !db.is_empty() {
                return Err(OpenFailure::Broken(
                    "a database that is not a pims cache".to_owned(),
                ));
            }
            let meta = db.open_tree(META_TREE).map_err(classify)?;
            meta.insert(FORMAT_KEY, FORMAT_VALUE).map_err(classify)?;
            db.flush().map_err(classify)?;
            Ok(())
        }
    }
}

/// Where volatile copies go: memory-backed when the system has it.
fn volatile_base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if cfg!(target_os = "linux") && shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// The prefix of volatile copies: `pims-cache-volatile-<pid>-<random>`.
const COPY_PREFIX: &str = "pims-cache-volatile-";

/// Opens a copy of the sled database in `sled_dir` (of the names `keep` chooses at its top)
/// in volatile space: a directory created exclusively, 0700, removed when the copy closes.
pub(crate) fn open_copy(
    sled_dir: &Path,
    cache_bytes: u64,
    keep: &dyn Fn(&str) -> bool,
) -> Result<sled::Db, String> {
    let base = volatile_base();
    sweep_stale_copies(&base);
    let copy = tempfile::Builder::new()
        .prefix(&format!("{COPY_PREFIX}{}-", std::process::id()))
        .tempdir_in(&base)
        .map_err(|e| e.to_string())?
        // sled removes it (a temporary database) when it closes.
        .keep();
    let opened = layout::copy_tree(sled_dir, &copy, VOLATILE_COPY_LIMIT, keep)
        .map_err(|e| e.to_string())
        .and_then(|_| open_sled(&copy, cache_bytes, true).map_err(|e| format!("{e:?}")));
    if opened.is_err() {
        let _ = fs::remove_dir_all(&copy);
    }
    opened
}

/// What a store works on when its directory cannot be written: a copy of the database in
/// volatile space (so what was cached, and the device id, stay visible), or an empty map.
pub(crate) fn volatile(dir: &Path, cache_bytes: u64) -> Engine {
    let source = dir.join(layout::SLED_DIR);
    if source.join(SLED_LOG_FILE).is_file() {
        match open_copy(&source, cache_bytes, &|_| true) {
            Ok(db) => return Engine::Sled(db),
            Err(why) => {
                tracing::debug!(reason = %why, "pims-cache: no volatile copy of the cache");
            }
        }
    }
    Engine::Memory(MemoryStore::new())
}

/// Removes volatile copies left by processes that died without closing them.
fn sweep_stale_copies(base: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(COPY_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next() else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
