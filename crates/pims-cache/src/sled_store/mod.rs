//! The sled store: persistent, crash-safe, and harmless when sled 0.34 misbehaves.

mod engine;
mod files;
mod group_commit;
mod identity;
mod layout;
mod lock;
mod opening;
mod registry;
mod salvage;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use tracing::warn;

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::store::{
    BatchSwap, Degradation, DegradedReason, Entry, Health, KeySwap, StepStore, Swap, check_batch,
};

use engine::Engine;
use group_commit::GroupCommit;
use lock::LockFile;
use opening::{open_dir, settle_device_id};

pub use identity::DEVICE_FILE;
pub use layout::{MARKER_FILE, SLED_DIR};
pub use lock::LOCK_FILE;
pub use opening::Recovery;

/// The default size of sled's page cache: 4 MiB (sled's own default is 1 GiB).
pub const DEFAULT_PAGE_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// The smallest page cache accepted.
pub const MIN_PAGE_CACHE_BYTES: u64 = 64 * 1024;

/// Options of [`SledStore::open`].
///
/// ```
/// let o = pims_cache::SledOptions::new().page_cache_bytes(8 << 20);
/// assert_eq!(o.page_cache_bytes, 8 << 20);
/// assert_eq!(pims_cache::SledOptions::default().page_cache_bytes, pims_cache::DEFAULT_PAGE_CACHE_BYTES);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SledOptions {
    /// The size of sled's page cache in bytes (default [`DEFAULT_PAGE_CACHE_BYTES`]).
    pub page_cache_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            page_cache_bytes: DEFAULT_PAGE_CACHE_BYTES,
        }
    }
}

impl SledOptions {
    /// The defaults.
    ///
    /// ```
    /// assert_eq!(pims_cache::SledOptions::new(), pims_cache::SledOptions::default());
    /// ```
    pub fn new() -> Self {
        SledOptions::default()
    }

    /// With another page cache size (at least [`MIN_PAGE_CACHE_BYTES`]).
    ///
    /// ```
    /// let o = pims_cache::SledOptions::new().page_cache_bytes(1 << 20);
    /// assert_eq!(o.page_cache_bytes, 1 << 20);
    /// ```
    pub fn page_cache_bytes(mut self, bytes: u64) -> Self {
        self.page_cache_bytes = bytes;
        self
    }
}

/// Counters of one open store.
///
/// ```
/// # futures_executor::block_on(async {
/// # let dir = tempfile::tempdir().unwrap();
/// use pims_cache::StepStore;
/// let store = pims_cache::SledStore::open(dir.path().join("c"), Default::default()).unwrap();
/// let _ = store.compare_and_swap(b"k", None, Some(b"v")).await.unwrap();
/// store.flush().await.unwrap();
/// store.flush().await.unwrap(); // nothing new: no physical flush
/// let stats = store.stats();
/// assert_eq!((stats.writes, stats.flushes), (1, 1));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StoreStats {
    /// Completed writes (swaps and removals) since the store was opened.
    pub writes: u64,
    /// Physical flushes since the store was opened (concurrent flush requests share one).
    pub flushes: u64,
}

/// The engine the store runs on now (sled, or the memory fallback a degradation swapped in),
/// with its health.
struct ActiveEngine {
    engine: Engine,
    health: Health,
    /// Bumped at every degradation, so that two threads failing on the same engine degrade
    /// it once.
    generation: u64,
}

/// Written keys not yet covered by a flush: key -> (write sequence number, value written).
type Pending = HashMap<Vec<u8>, (u64, Option<Vec<u8>>)>;

/// The open store of one directory (shared by every handle of this process).
pub(crate) struct Inner {
    id: u64,
    key: PathBuf,
    dir: PathBuf,
    page_cache_bytes: u64,
    active: RwLock<ActiveEngine>,
    commits: GroupCommit,
    recovery: Option<Recovery>,
    lock: Mutex<Option<LockFile>>,
    /// Keys written since the last flush that covered them.
    pending: Mutex<Pending>,
    /// Every operation holds it to read, a batch (`swap_all`) to write: no one sees half a
    /// batch. (This process holds the directory alone, so this lock covers every writer.)
    batch_gate: RwLock<()>,
    /// Degradations so far: the store's contents were replaced that many times.
    epoch: AtomicU64,
    /// The device id kept in its own file (`pims-cache.device`), once known.
    device: Mutex<Option<DeviceId>>,
}

/// The default [`StepStore`]: sled 0.34.7 in a directory of its own, made safe.
///
/// - One open per directory per process: every `open` of the same directory (by any path
///   naming it) returns a handle to the same store; it closes when the last handle drops.
/// - A lock file (`pims-cache.lock`, holding the holder's pid) is taken before sled is
///   opened: a second process gets [`CacheError::InUse`] at once.
/// - sled's page cache is small ([`DEFAULT_PAGE_CACHE_BYTES`]).
/// - What it creates is private: the directory 0700, its files 0600. Nothing else in the
///   directory is touched, and a symbolic link at the directory's own path is refused.
/// - The device id lives in its own file beside sled's directory (`pims-cache.device`), so
///   that a recovery cannot lose it.
/// - A database sled cannot open (or that makes it panic), or that has lost its contents, is
///   read for what can still be read, then moved aside as `<dir>/sled.corrupt-<timestamp>`;
///   a fresh one starts with what was read back, with one warning
///   ([`recovery`](SledStore::recovery) says where it went and what was kept).
/// - A directory that cannot be written (read-only, permissions, full disk), at open or
///   later, degrades the store: it goes on working from memory (on a copy of what was on
///   disk, when it can be read) and [`health`](StepStore::health) says so.
/// - Concurrent [`flush`](StepStore::flush)es share one physical flush (group commit).
///
/// Reads and writes run on the calling task (sled serves them from memory and its write
/// buffer); a flush that has something to flush, and the device id file's write, run on tokio's
/// blocking pool when called inside a runtime (in place otherwise), so no method stalls an
/// async worker on the disk.
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::{SledOptions, SledStore, StepCache, StepStore};
/// use std::sync::Arc;
/// # let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("cache");
/// let store = SledStore::open(&path, SledOptions::default()).unwrap();
/// assert!(store.health().is_durable());
/// // Same directory, same process: the same store.
/// let again = SledStore::open(&path, SledOptions::default()).unwrap();
/// let cache = StepCache::new(Arc::new(again));
/// let id = cache.device_id().await.unwrap();
/// drop(cache);
/// drop(store);
/// // Closed and reopened: the device id survived.
/// let cache = StepCache::new(Arc::new(SledStore::open(&path, SledOptions::default()).unwrap()));
/// assert_eq!(cache.device_id().await.unwrap(), id);
/// # });
/// ```
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("dir", &self.inner.dir)
            .field("health", &self.health())
            .finish()
    }
}

impl SledStore {
    /// Opens (creating it if needed) the cache in directory `path`; see the type's
    /// documentation for what happens when the directory is in use, broken or unwritable.
    /// Only [`CacheError::InUse`], a refused option and a path that is a symbolic link
    /// ([`CacheError::InvalidInput`]: the store does not follow one for its own directory; links
    /// among the path's parents are fine) are errors; with several opens of one directory, the
    /// first one's options apply.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let small = pims_cache::SledOptions::new().page_cache_bytes(1);
    /// assert!(pims_cache::SledStore::open(dir.path(), small).is_err());
    /// ```
    pub fn open(path: impl AsRef<Path>, options: SledOptions) -> Result<SledStore, CacheError> {
        if options.page_cache_bytes < MIN_PAGE_CACHE_BYTES {
            return Err(CacheError::invalid(
                "page_cache_bytes",
                format!("expected at least {MIN_PAGE_CACHE_BYTES}"),
            ));
        }
        let path = path.as_ref();
        let dir = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        match std::fs::symlink_metadata(&dir) {
            // A link would make the store create, lock and restrict files wherever it points.
            Ok(m) if m.file_type().is_symlink() => {
                return Err(CacheError::invalid(
                    "cache directory",
                    "it is a symbolic link, which the cache does not follow for its own directory: give the path of the directory itself",
                ));
            }
            Ok(_) => {}
            // Create it first, so that every spelling of the path canonicalises to one key.
            Err(_) => {
                let _ = layout::private_dir(&dir);
            }
        }
        let key = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        let inner = registry::shared(key.clone(), |id| {
            open_inner(id, key.clone(), &key, options.page_cache_bytes)
        })?;
        Ok(SledStore { inner })
    }

    /// The cache directory.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let store = pims_cache::SledStore::open(dir.path(), Default::default()).unwrap();
    /// assert!(store.path().ends_with(dir.path().file_name().unwrap()));
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.dir
    }

    /// Whether the store's writes survive the process (the same as [`StepStore::health`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let store = pims_cache::SledStore::open(dir.path(), Default::default()).unwrap();
    /// assert_eq!(store.health(), pims_cache::Health::Durable);
    /// ```
    pub fn health(&self) -> Health {
        self.inner.active().health.clone()
    }

    /// Whether the store is degraded (see [`Health`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let store = pims_cache::SledStore::open(dir.path(), Default::default()).unwrap();
    /// assert!(!store.is_degraded());
    /// ```
    pub fn is_degraded(&self) -> bool {
        self.health().is_degraded()
    }

    /// Where an unreadable cache found at open was moved, if one was.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("c"), b"not a directory").unwrap();
    /// let store = pims_cache::SledStore::open(dir.path().join("c"), Default::default()).unwrap();
    /// assert!(store.recovery().unwrap().moved_to.exists());
    /// ```
    pub fn recovery(&self) -> Option<&Recovery> {
        self.inner.recovery.as_ref()
    }

    /// Counters (writes, physical flushes) since the store was opened.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let store = pims_cache::SledStore::open(dir.path(), Default::default()).unwrap();
    /// assert_eq!(store.stats().writes, 0);
    /// ```
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            writes: self.inner.commits.writes(),
            flushes: self.inner.commits.flushes(),
        }
    }

    #[cfg(test)]
    pub(crate) fn same_store(&self, other: &SledStore) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Inner {
    fn active(&self) -> std::sync::RwLockReadGuard<'_, ActiveEngine> {
        self.active.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `op` on the engine; if the disk fails, degrades and runs it once more on the
    /// fallback. `op` reports whether it wrote `writes` (key, value written; None: removed).
    fn run<T>(
        &self,
        what: &'static str,
        writes: &[(&[u8], Option<&[u8]>)],
        op: impl Fn(&Engine) -> sled::Result<(T, bool)>,
    ) -> Result<T, CacheError> {
        let mut retried = false;
        loop {
            let active = self.active();
            match op(&active.engine) {
                Ok((value, wrote)) => {
                    if wrote {
                        for (key, new) in writes {
                            self.wrote(&active, key, *new);
                        }
                    }
                    return Ok(value);
                }
                Err(e) if !retried => {
                    let generation = active.generation;
                    drop(active);
                    self.degrade(generation, what, &e);
                    retried = true;
                }
                Err(e) => return Err(CacheError::storage(what, e)),
            }
        }
    }

    /// Counts a completed write and, on disk, remembers its key until a flush covers it:
    /// if that flush fails, the store degrades and carries these writes over.
    fn wrote(&self, active: &ActiveEngine, key: &[u8], new: Option<&[u8]>) {
        let seq = self.commits.wrote();
        if active.health.is_durable() {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            match pending.get_mut(key) {
                Some(entry) if entry.0 > seq => {}
                _ => {
                    pending.insert(key.to_vec(), (seq, new.map(<[u8]>::to_vec)));
                }
            }
        }
    }

    /// Stops using the disk: the store goes on from a volatile copy of it (or from an empty
    /// map when that fails too), with the writes no flush covered carried over. One warning.
    fn degrade(&self, generation: u64, what: &str, e: &sled::Error) {
        let mut active = self.active.write().unwrap_or_else(PoisonError::into_inner);
        if active.generation != generation {
            return; // another thread already replaced the failing engine
        }
        active.generation += 1;
        let reason = match e {
            sled::Error::Io(io) => DegradedReason::of_io(io),
            _ => DegradedReason::Io,
        };
        let on_disk = active.health.is_durable();
        let fallback = if on_disk {
            engine::volatile(&self.dir, self.page_cache_bytes)
        } else {
            Engine::Memory(Default::default())
        };
        // Unflushed writes: their latest value is still readable from sled's memory (its
        // reads keep working after a failed write); else the value written.
        let pending =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        for (key, (_, written)) in pending {
            let value = active.engine.get(&key).unwrap_or(written);
            let _ = fallback.put(&key, value.as_deref());
        }
        let old = std::mem::replace(&mut active.engine, fallback);
        old.close();
        // What callers remembered of the old contents may be gone (an empty fallback).
        self.epoch.fetch_add(1, Ordering::SeqCst);
        // The content changed under every reader: count it as a write.
        self.commits.wrote();
        if on_disk {
            warn!(
                dir = %self.dir.display(), error = %e, reason = %reason,
                "pims-cache: the cache directory cannot be written; working from memory (nothing cached from now on survives a restart)"
            );
            active.health = Health::Degraded(Degradation::new(
                reason,
                format!("{what} failed in {}: {e}", self.dir.display()),
            ));
        }
    }

    /// The physical flush of the group-commit leader, covering writes up to `upto`.
    fn flush_engine(&self, upto: u64) -> Result<(), CacheError> {
        let active = self.active();
        if !active.health.is_durable() {
            return Ok(());
        }
        match active.engine.flush(&self.dir) {
            Ok(()) => {
                self.pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retain(|_, (seq, _)| *seq > upto);
                Ok(())
            }
            Err(e) => {
                let generation = active.generation;
                drop(active);
                self.degrade(generation, "flush", &e);
                Err(CacheError::storage("flush", e))
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let active = self
            .active
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let engine = std::mem::replace(&mut active.engine, Engine::Memory(Default::default()));
        engine.close();
        layout::restrict_sled(&self.dir);
        // Released after sled is closed, so that the next holder finds it closed.
        drop(
            self.lock
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        registry::unregister(&self.key, self.id);
    }
}

/// Reads and writes run on the calling task: sled serves them from memory and its write
/// buffer. What waits on the disk (a flush's `fsync`, writing the device id file) runs on
/// tokio's blocking pool when called from a runtime (in place otherwise).
#[async_trait]
impl StepStore for SledStore {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        let _gate = self.inner.beside_batches();
        self.inner.run("read", &[], |e| Ok((e.get(key)?, false)))
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let _gate = self.inner.beside_batches();
        self.inner.run("read", &[], |e| {
            let values = keys.iter().map(|k| e.get(k)).collect::<sled::Result<_>>()?;
            Ok((values, false))
        })
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        let _gate = self.inner.beside_batches();
        self.inner.run("write", &[(key, new)], |e| {
            let swap = e.swap(key, expected, new)?;
            let wrote = swap == Swap::Swapped;
            Ok((swap, wrote))
        })
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        check_batch(swaps)?;
        let writes: Vec<(&[u8], Option<&[u8]>)> = swaps
            .iter()
            .filter(|s| !s.is_check())
            .map(|s| (s.key, s.new))
            .collect();
        let _gate = self
            .inner
            .batch_gate
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.run("write", &writes, |e| {
            let outcome = e.swap_all(swaps)?;
            let wrote = outcome == BatchSwap::Swapped && !writes.is_empty();
            Ok((outcome, wrote))
        })
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        let _gate = self.inner.beside_batches();
        self.inner.run("write", &[(key, None)], |e| {
            let old = e.take(key)?;
            let wrote = old.is_some();
            Ok((old, wrote))
        })
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        // Collected whole: a page that fails half-way is read again on the fallback.
        let _gate = self.inner.beside_batches();
        self.inner.run("scan", &[], |e| {
            Ok((e.entries(prefix, after, Some(limit))?, false))
        })
    }

    fn needs_flush(&self) -> bool {
        !self.inner.commits.is_settled()
    }

    async fn flush(&self) -> Result<(), CacheError> {
        if self.inner.commits.is_settled() {
            return Ok(()); // nothing to flush: no trip to the blocking pool
        }
        let inner = self.inner.clone();
        off_runtime("flush", move || {
            inner.commits.sync(|upto| inner.flush_engine(upto))
        })
        .await
    }

    fn health(&self) -> Health {
        SledStore::health(self)
    }

    fn generation(&self) -> Option<u64> {
        // This process holds the directory alone (the lock file), so every change goes
        // through this store and is counted.
        Some(self.inner.commits.writes())
    }

    fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::SeqCst)
    }

    async fn kept_device_id(&self) -> Result<Option<DeviceId>, CacheError> {
        Ok(self
            .inner
            .device
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone())
    }

    async fn keep_device_id(&self, id: &DeviceId) -> Result<Option<DeviceId>, CacheError> {
        let (inner, id) = (self.inner.clone(), id.clone());
        off_runtime("write", move || Ok(inner.keep_device_id(&id))).await
    }
}

impl Inner {
    /// The batch gate's shared side: any operation but a batch.
    fn beside_batches(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.batch_gate
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// [`StepStore::keep_device_id`], on a thread that may wait for the disk.
    fn keep_device_id(&self, id: &DeviceId) -> Option<DeviceId> {
        let mut kept = self.device.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(earlier) = &*kept {
            return Some(earlier.clone());
        }
        // Only the lock's holder writes the directory.
        let holds_lock = self
            .lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        if !holds_lock {
            return None;
        }
        match identity::write(&self.dir, id) {
            Ok(()) => {
                *kept = Some(id.clone());
                Some(id.clone())
            }
            Err(e) => {
                if self.active().health.is_durable() {
                    warn!(error = %e, "pims-cache: the device id file cannot be written; the id is kept in the cache's database only");
                } else {
                    tracing::debug!(error = %e, "pims-cache: no device id file (the cache directory cannot be written)");
                }
                None
            }
        }
    }
}

/// Runs `f`, which may wait for the disk, where it cannot stall an async worker: on tokio's
/// blocking pool inside a runtime; in place outside one (a plain `block_on` blocks its own
/// thread anyway).
async fn off_runtime<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, CacheError> + Send + 'static,
) -> Result<T, CacheError> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime
            .spawn_blocking(f)
            .await
            .unwrap_or_else(|e| Err(CacheError::storage(what, std::io::Error::other(e)))),
        Err(_) => f(),
    }
}

fn open_inner(id: u64, key: PathBuf, dir: &Path, cache_bytes: u64) -> Result<Inner, CacheError> {
    let opened = open_dir(dir, cache_bytes)?;
    let device = settle_device_id(dir, &opened);
    Ok(Inner {
        id,
        key,
        dir: dir.to_path_buf(),
        page_cache_bytes: cache_bytes,
        active: RwLock::new(ActiveEngine {
            engine: opened.engine,
            health: opened.health,
            generation: 0,
        }),
        commits: GroupCommit::default(),
        recovery: opened.recovery,
        lock: Mutex::new(opened.lock),
        pending: Mutex::new(HashMap::new()),
        batch_gate: RwLock::new(()),
        epoch: AtomicU64::new(0),
        device: Mutex::new(device),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_store_per_directory_per_process() {
        let root = tempfile::tempdir().unwrap();
        let a = SledStore::open(root.path().join("c"), SledOptions::default()).unwrap();
        let b = SledStore::open(root.path().join("x/../c"), SledOptions::default()).unwrap();
        assert!(a.same_store(&b));
        #[cfg(unix)]
        {
            // A link among the parents is followed; the directory's own path may not be one.
            std::os::unix::fs::symlink(root.path(), root.path().join("up")).unwrap();
            let c = SledStore::open(root.path().join("up/c"), SledOptions::default()).unwrap();
            assert!(a.same_store(&c));
            std::os::unix::fs::symlink(root.path().join("c"), root.path().join("link")).unwrap();
            let e = SledStore::open(root.path().join("link"), SledOptions::default()).unwrap_err();
            assert!(e.to_string().contains("symbolic link"), "{e}");
        }
    }

    #[test]
    fn reopening_after_the_last_handle_drops_is_a_new_store() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("c");
        futures_executor::block_on(async {
            for i in 0..20u8 {
                let s = SledStore::open(&path, SledOptions::default()).unwrap();
                assert!(s.health().is_durable());
                if i > 0 {
                    assert_eq!(s.get(b"k").await.unwrap(), Some(vec![i - 1]));
                }
                let _ = s.remove(b"k").await.unwrap();
                let _ = s.compare_and_swap(b"k", None, Some(&[i])).await.unwrap();
                s.flush().await.unwrap();
            }
        });
    }

    #[test]
    fn dropping_on_another_thread_while_reopening_is_safe() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("c");
        for _ in 0..10 {
            let s = SledStore::open(&path, SledOptions::default()).unwrap();
            let t = std::thread::spawn(move || drop(s));
            let again = SledStore::open(&path, SledOptions::default()).unwrap();
            t.join().unwrap();
            assert!(again.health().is_durable());
        }
    }
}
