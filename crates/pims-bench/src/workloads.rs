//! The cache workloads of B3, B4, B5 and B7, and their baselines, shared by the criterion
//! benches (`benches/micro.rs`) and the `pims-bench` command.
//!
//! Every list is the documentation's three-step list, `trusterPhoneNumber` done and the other
//! two to do, reachable by its own stepsID and a carAssociationID; list `i` has stepsID
//! `i + 1` and carAssociationID `CAR_BASE + i`.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use pims_cache::testkit::Forwarding;
use pims_cache::{
    CacheError, ListKeys, Merged, Namespace, SledOptions, SledStore, StepCache, StepStore,
    StoreStats,
};
use pims_types::{Step, StepName, StepStatus, StepsId, StepsList, StepsSelector, merge};

use crate::executor::run_inline;

/// The carAssociationID of list 0 (list `i` has `CAR_BASE + i`).
pub const CAR_BASE: u64 = 100_000_000;

/// The account every benchmark list is cached under.
pub const BENCH_ACCOUNT: &str = "bench";

/// List `i`: the documentation's three steps; `device_done` makes its second step
/// `alreadyDone` (the durable change of B4 and B5).
///
/// ```
/// let todo = pims_bench::bench_list(7, false);
/// assert_eq!(todo.steps_id().as_str(), "8");
/// assert_eq!(todo.len(), 3);
/// assert!(!todo.all_done());
/// assert_ne!(pims_bench::bench_list(7, true), todo);
/// ```
pub fn bench_list(i: u64, device_done: bool) -> StepsList {
    let second = if device_done {
        StepStatus::AlreadyDone
    } else {
        StepStatus::Todo
    };
    StepsList::new(
        StepsId::number(i + 1),
        vec![
            Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
            Step::new(StepName::DeviceActivation, second, 2),
            Step::new(StepName::MediumCarKey, StepStatus::Todo, 3),
        ],
    )
}

/// The carAssociationID of list `i`.
///
/// ```
/// assert_eq!(pims_bench::car_association_id(0), "100000000");
/// ```
pub fn car_association_id(i: u64) -> String {
    (CAR_BASE + i).to_string()
}

/// The keys a steps request by carAssociationID gives for list `i`.
///
/// ```
/// let k = pims_bench::bench_keys(3);
/// assert_eq!(k.car_association_id.as_deref(), Some("100000003"));
/// ```
pub fn bench_keys(i: u64) -> ListKeys {
    ListKeys::new().with_car_association_id(car_association_id(i))
}

fn cache_error(what: &str) -> impl Fn(CacheError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// How many entries one page of [`BenchCache::record_bytes`]'s scan holds.
const SCAN_PAGE: usize = 256;

/// A real step cache (pims-cache's `StepCache` on a `SledStore` with its default options)
/// in a directory, with the benchmark's namespace. Its methods are synchronous: each drives the
/// async cache with [`run_inline`] (on the calling thread, done at the first poll outside a
/// tokio runtime); [`merge_async`](Self::merge_async) is the merge as a task awaits it.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let cache = pims_bench::BenchCache::open(&dir.path().join("c")).unwrap();
/// cache.populate(0, 10).unwrap();
/// assert_eq!(cache.lookup(3).unwrap(), Some(pims_bench::bench_list(3, false)));
/// let m = cache.merge(3, &pims_bench::bench_list(3, true)).unwrap();
/// assert!(m.changed && m.durable);
/// ```
#[derive(Debug, Clone)]
pub struct BenchCache {
    store: SledStore,
    cache: StepCache,
    ns: Namespace,
}

impl BenchCache {
    /// Opens (creating) the cache in `dir`, with the product's default options.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(pims_bench::BenchCache::open(dir.path()).is_ok());
    /// ```
    pub fn open(dir: &Path) -> Result<BenchCache, String> {
        let store =
            SledStore::open(dir, SledOptions::default()).map_err(cache_error("open the cache"))?;
        if !store.health().is_durable() {
            return Err(format!("the cache is not durable: {}", store.health()));
        }
        let cache = StepCache::new(Arc::new(store.clone()));
        let ns = run_inline(cache.namespace(BENCH_ACCOUNT)).map_err(cache_error("namespace"))?;
        Ok(BenchCache { store, cache, ns })
    }

    /// Opens the cache in `dir` in an existing namespace (B8 fills the facade's own).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let first = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// let ns = first.namespace().clone();
    /// drop(first);
    /// let again = pims_bench::BenchCache::open_in(dir.path(), ns.clone()).unwrap();
    /// assert_eq!(again.namespace(), &ns);
    /// ```
    pub fn open_in(dir: &Path, ns: Namespace) -> Result<BenchCache, String> {
        let store =
            SledStore::open(dir, SledOptions::default()).map_err(cache_error("open the cache"))?;
        let cache = StepCache::new(Arc::new(store.clone()));
        Ok(BenchCache { store, cache, ns })
    }

    /// The namespace the lists go to.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// assert_eq!(c.namespace().account(), pims_bench::BENCH_ACCOUNT);
    /// ```
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The step cache itself.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// assert!(c.step_cache().health().is_durable());
    /// ```
    pub fn step_cache(&self) -> &StepCache {
        &self.cache
    }

    /// Caches lists `first .. first + count` (to-do state) quickly: through the normal merge,
    /// on two threads, without a flush per list (pims-cache's `testkit::Forwarding` with
    /// `skip_flushes`: a million durable inserts would take hours of `fsync`), then one flush
    /// of the store. The measured operations never go through it.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// c.populate(100, 5).unwrap();
    /// assert!(c.lookup(104).unwrap().is_some());
    /// assert!(c.lookup(105).unwrap().is_none());
    /// ```
    pub fn populate(&self, first: u64, count: usize) -> Result<(), String> {
        self.populate_on(first, count, 2)
    }

    /// [`populate`](Self::populate) on `threads` threads (at least 1): with one, the same calls
    /// in the same order every time, so that the files written are the same from one
    /// preparation to the next (what a counted figure opening them needs).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// c.populate_on(0, 3, 1).unwrap();
    /// assert!(c.lookup(2).unwrap().is_some());
    /// ```
    pub fn populate_on(&self, first: u64, count: usize, threads: u64) -> Result<(), String> {
        let unflushed = Forwarding::new(self.store.clone());
        unflushed.skip_flushes(true);
        let bulk = StepCache::new(Arc::new(unflushed));
        let threads = threads.max(1);
        let count = count as u64;
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let (bulk, ns) = (&bulk, &self.ns);
                    scope.spawn(move || -> Result<(), String> {
                        let mut i = first + t;
                        while i < first + count {
                            run_inline(bulk.merge(ns, &bench_keys(i), &bench_list(i, false)))
                                .map_err(cache_error("populate"))?;
                            i += threads;
                        }
                        Ok(())
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|w| {
                w.join()
                    .map_err(|_| "a populating thread panicked".to_owned())?
            })
        })?;
        run_inline(self.store.flush()).map_err(cache_error("flush"))
    }

    /// `StepCache::merge` of `list` as list `i` (asked by its carAssociationID).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// assert!(c.merge(0, &pims_bench::bench_list(0, false)).unwrap().changed);
    /// assert!(!c.merge(0, &pims_bench::bench_list(0, false)).unwrap().changed);
    /// ```
    pub fn merge(&self, i: u64, list: &StepsList) -> Result<Merged, String> {
        self.merge_keys(&bench_keys(i), list)
    }

    /// `StepCache::merge` with keys made beforehand.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// let m = c.merge_keys(&pims_bench::bench_keys(1), &pims_bench::bench_list(1, true)).unwrap();
    /// assert!(m.list.step(&pims_types::StepName::DeviceActivation).is_some());
    /// ```
    pub fn merge_keys(&self, keys: &ListKeys, list: &StepsList) -> Result<Merged, String> {
        run_inline(self.cache.merge(&self.ns, keys, list)).map_err(cache_error("merge"))
    }

    /// [`merge`](Self::merge), awaited (B5: tasks on a runtime, as the facade calls the cache).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// let m = c.merge_async(2, &pims_bench::bench_list(2, true)).await.unwrap();
    /// assert!(m.changed && m.durable);
    /// # }
    /// ```
    pub async fn merge_async(&self, i: u64, list: &StepsList) -> Result<Merged, String> {
        self.cache
            .merge(&self.ns, &bench_keys(i), list)
            .await
            .map_err(cache_error("merge"))
    }

    /// `StepCache::get` of list `i` by its carAssociationID (B7's lookup).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// assert_eq!(c.lookup(0).unwrap(), None);
    /// ```
    pub fn lookup(&self, i: u64) -> Result<Option<StepsList>, String> {
        let selector =
            StepsSelector::car_association_id(car_association_id(i)).map_err(|e| e.to_string())?;
        self.lookup_selector(&selector)
    }

    /// `StepCache::get` with a selector made beforehand.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// let s = pims_types::StepsSelector::steps_id("1").unwrap();
    /// assert_eq!(c.lookup_selector(&s).unwrap(), None);
    /// ```
    pub fn lookup_selector(&self, selector: &StepsSelector) -> Result<Option<StepsList>, String> {
        run_inline(self.cache.get(&self.ns, selector)).map_err(cache_error("get"))
    }

    /// The cache directory.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// assert!(c.store_dir().join(pims_cache::MARKER_FILE).exists());
    /// ```
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// The store's counters (writes, physical flushes).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// let before = c.stats();
    /// c.merge(0, &pims_bench::bench_list(0, false)).unwrap();
    /// assert!(c.stats().writes > before.writes);
    /// ```
    pub fn stats(&self) -> StoreStats {
        self.store.stats()
    }

    /// The bytes the directory holds.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// c.populate(0, 100).unwrap();
    /// assert!(c.disk_usage().unwrap().allocated > 0);
    /// ```
    pub fn disk_usage(&self) -> Result<DiskUsage, String> {
        disk_usage(self.store.path())
    }

    /// The bytes of the record the cache holds for list `i`, read back from the store (B4's
    /// baseline writes exactly these bytes).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let c = pims_bench::BenchCache::open(dir.path()).unwrap();
    /// c.merge(9, &pims_bench::bench_list(9, true)).unwrap();
    /// let bytes = c.record_bytes(9).unwrap();
    /// assert!(String::from_utf8_lossy(&bytes).contains(&pims_bench::car_association_id(9)));
    /// ```
    pub fn record_bytes(&self, i: u64) -> Result<Vec<u8>, String> {
        let marker = car_association_id(i);
        // The list record is the value holding its carAssociationID; index entries hold a
        // stepsID only (and the benchmark's stepsIDs are far shorter).
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = run_inline(self.store.scan(b"", after.as_deref(), SCAN_PAGE))
                .map_err(cache_error("scan"))?;
            let done = page.len() < SCAN_PAGE;
            for (k, v) in page {
                if v.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                    return Ok(v);
                }
                after = Some(k);
            }
            if done {
                return Err(format!("no record of list {i} in the store"));
            }
        }
    }
}

/// What a directory holds on disk.
///
/// ```
/// let d = pims_bench::DiskUsage { apparent: 10, allocated: 4096, files: 1 };
/// assert_eq!(d.allocated, 4096);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskUsage {
    /// The sum of the files' lengths.
    pub apparent: u64,
    /// The blocks allocated to them (what `du` counts).
    pub allocated: u64,
    /// How many files.
    pub files: u64,
}

/// The disk usage of everything under `dir`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("f"), [0u8; 100]).unwrap();
/// let d = pims_bench::disk_usage(dir.path()).unwrap();
/// assert_eq!((d.apparent, d.files), (100, 1));
/// ```
pub fn disk_usage(dir: &Path) -> Result<DiskUsage, String> {
    let mut total = DiskUsage::default();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", d.display()))?;
            let meta = entry
                .metadata()
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                total.apparent += meta.len();
                total.allocated += meta.blocks() * 512;
                total.files += 1;
            }
        }
    }
    Ok(total)
}

/// B3's baseline: the same merge on a `HashMap` behind a `Mutex` (keyed by carAssociationID;
/// written only when the merged list differs).
///
/// ```
/// let map = pims_bench::MapCache::default();
/// let key = pims_bench::car_association_id(0);
/// map.merge(&key, &pims_bench::bench_list(0, true));
/// let again = map.merge(&key, &pims_bench::bench_list(0, false));
/// assert_eq!(again, pims_bench::bench_list(0, true)); // sticky
/// ```
#[derive(Debug, Default)]
pub struct MapCache {
    // std's hasher (SipHash-1-3) with fixed keys instead of per-process random ones: the same
    // work per lookup, and the same table layout in every process (B3i counts it: with random
    // keys, how often a probe meets another key's tag changes from one process to the next,
    // which moved the count per merge by up to 3%).
    lists: Mutex<HashMap<String, StepsList, BuildHasherDefault<DefaultHasher>>>,
}

impl MapCache {
    /// Merges `fresh` into the list cached under `key`; returns the merged list.
    ///
    /// ```
    /// let map = pims_bench::MapCache::default();
    /// let l = pims_bench::bench_list(1, false);
    /// assert_eq!(map.merge("k", &l), l);
    /// ```
    pub fn merge(&self, key: &str, fresh: &StepsList) -> StepsList {
        let mut lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        match lists.get(key) {
            Some(cached) => {
                let merged = merge(cached, fresh);
                if &merged != cached {
                    lists.insert(key.to_owned(), merged.clone());
                }
                merged
            }
            None => {
                lists.insert(key.to_owned(), fresh.clone());
                fresh.clone()
            }
        }
    }
}

/// B4's baseline: `File::write_all` + `sync_data` of the record's bytes, rewriting them in
/// place at the start of a file created (and made durable) beforehand. The file never grows,
/// so `sync_data` has no metadata to commit: the cheapest durable write of those bytes.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let mut f = pims_bench::DurableFile::create(&dir.path().join("log"), b"record").unwrap();
/// f.write_durably(b"RECORD").unwrap();
/// f.write_durably(b"record").unwrap();
/// assert_eq!(std::fs::read(dir.path().join("log")).unwrap(), b"record");
/// ```
#[derive(Debug)]
pub struct DurableFile {
    file: File,
}

impl DurableFile {
    /// Creates (truncates) the file with `initial` in it, durably.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// assert!(pims_bench::DurableFile::create(&dir.path().join("f"), b"x").is_ok());
    /// ```
    pub fn create(path: &Path, initial: &[u8]) -> Result<DurableFile, String> {
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = File::create(path).map_err(fail)?;
        file.write_all(initial)
            .and_then(|()| file.sync_all())
            .map_err(fail)?;
        Ok(DurableFile { file })
    }

    /// Back to the start, `write_all(bytes)`, then `sync_data()`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut f = pims_bench::DurableFile::create(&dir.path().join("f"), b"x").unwrap();
    /// assert!(f.write_durably(b"y").is_ok());
    /// ```
    pub fn write_durably(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(bytes))
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("durable write: {e}"))
    }
}

/// A cheap, deterministic sequence of list indices in `0..n` (lookups hit lists all over
/// the cache, not one hot list).
///
/// ```
/// let mut seq = pims_bench::Scatter::new(1000);
/// let a = seq.next_index();
/// let b = seq.next_index();
/// assert!(a < 1000 && b < 1000);
/// assert_ne!(a, b);
/// ```
#[derive(Debug, Clone)]
pub struct Scatter {
    state: u64,
    n: u64,
}

impl Scatter {
    /// Indices in `0..n` (`n` at least 1).
    ///
    /// ```
    /// assert_eq!(pims_bench::Scatter::new(1).next_index(), 0);
    /// ```
    pub fn new(n: u64) -> Scatter {
        Scatter {
            state: 0x9E37_79B9_7F4A_7C15,
            n: n.max(1),
        }
    }

    /// The next index (xorshift64*).
    ///
    /// ```
    /// let mut s = pims_bench::Scatter::new(10);
    /// assert!((0..100).all(|_| s.next_index() < 10));
    /// ```
    pub fn next_index(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_change_merge_writes_nothing_and_change_is_durable() {
        let dir = tempfile::tempdir().unwrap();
        let c = BenchCache::open(dir.path()).unwrap();
        c.populate(0, 50).unwrap();
        let before = c.stats();
        for i in 0..50 {
            let m = c.merge(i, &bench_list(i, false)).unwrap();
            assert!(!m.changed);
        }
        assert_eq!(c.stats().writes, before.writes, "a no-change merge wrote");
        let m = c.merge(7, &bench_list(7, true)).unwrap();
        assert!(m.changed && m.durable);
        assert!(c.stats().flushes > before.flushes);
        assert_eq!(c.lookup(7).unwrap(), Some(bench_list(7, true)));
    }

    #[test]
    fn populated_lists_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let ns = {
            let c = BenchCache::open(dir.path()).unwrap();
            c.populate(0, 200).unwrap();
            c.namespace().clone()
        };
        let c = BenchCache::open_in(dir.path(), ns).unwrap();
        for i in [0, 99, 199] {
            assert_eq!(c.lookup(i).unwrap(), Some(bench_list(i, false)), "list {i}");
        }
    }

    #[test]
    fn record_bytes_are_the_cached_record() {
        let dir = tempfile::tempdir().unwrap();
        let c = BenchCache::open(dir.path()).unwrap();
        c.populate(0, 3).unwrap();
        let bytes = c.record_bytes(1).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("100000001"), "{text}");
        assert!(bytes.len() < 64, "{} bytes", bytes.len());
    }
}
