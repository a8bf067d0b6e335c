//! [`Forwarding`]: a store that passes every call to another one, counting and bending what a
//! test needs (reads of a key, writes asked for, flushes skipped, a scan that strays from its
//! prefix, a hook run at a scan): the one wrapper the kit's suites, the crate's tests and the
//! benchmarks share.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::store::{BatchSwap, Entry, Followed, Health, KeySwap, StepStore, Swap};

/// What a scan hook runs: another writer's change, at that exact moment.
pub type Hook = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// When a scan hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Before the scan reads the store.
    Before,
    /// After it read it, before its caller sees the entries.
    After,
}

/// A [`StepStore`] that forwards every call to `S`, and can count reads of each key and the
/// calls that may write, skip flushes (a bulk load), hide the generation (a store shared
/// between processes), make scans ignore their prefix (a custom store's bug), let other tasks
/// run before each call (a network store's round trip), and run a hook once at the first scan
/// of a given prefix (a concurrent writer, made deterministic).
///
/// `S` may be unsized: [`Forwarding::shared`] wraps an `Arc<dyn StepStore>` (what a
/// [`StoreFactory`](super::StoreFactory) opens).
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::testkit::Forwarding;
/// use pims_cache::{MemoryStore, StepStore};
/// let store = Forwarding::new(MemoryStore::new());
/// store.get(b"k").await.unwrap();
/// assert_eq!(store.reads_of(b"k"), 1);
/// store.hide_generation(true);
/// assert_eq!(store.generation(), None);
/// # });
/// ```
pub struct Forwarding<S: ?Sized> {
    inner: Arc<S>,
    reads: Mutex<HashMap<Vec<u8>, usize>>,
    writes: AtomicUsize,
    calls: AtomicUsize,
    failing: AtomicBool,
    skip_flushes: AtomicBool,
    hide_generation: AtomicBool,
    stray: AtomicBool,
    yields: AtomicBool,
    hook: Mutex<Option<(Vec<u8>, When, Hook)>>,
    write_hook: Mutex<Option<(Vec<u8>, Hook)>>,
}

impl<S: fmt::Debug + ?Sized> fmt::Debug for Forwarding<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Forwarding").field(&self.inner).finish()
    }
}

impl<S> Forwarding<S> {
    /// Forwards to `inner`, bending nothing yet.
    ///
    /// ```
    /// let s = pims_cache::testkit::Forwarding::new(pims_cache::MemoryStore::new());
    /// assert!(s.inner().is_empty());
    /// ```
    pub fn new(inner: S) -> Self {
        Forwarding::shared(Arc::new(inner))
    }
}

impl<S: ?Sized> Forwarding<S> {
    /// Forwards to a store shared with others (writes through them are not counted here).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use pims_cache::{MemoryStore, StepStore};
    /// let store: Arc<dyn StepStore> = Arc::new(MemoryStore::new());
    /// let s = pims_cache::testkit::Forwarding::shared(store);
    /// assert!(s.generation().is_some());
    /// ```
    pub fn shared(inner: Arc<S>) -> Self {
        Forwarding {
            inner,
            reads: Mutex::default(),
            writes: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
            skip_flushes: AtomicBool::new(false),
            hide_generation: AtomicBool::new(false),
            stray: AtomicBool::new(false),
            yields: AtomicBool::new(false),
            hook: Mutex::new(None),
            write_hook: Mutex::new(None),
        }
    }

    /// The store forwarded to.
    ///
    /// ```
    /// let s = pims_cache::testkit::Forwarding::new(pims_cache::MemoryStore::new());
    /// assert_eq!(s.inner().len(), 0);
    /// ```
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// How many times `key` was read (by `get` or `get_many`).
    ///
    /// ```
    /// let s = pims_cache::testkit::Forwarding::new(pims_cache::MemoryStore::new());
    /// assert_eq!(s.reads_of(b"k"), 0);
    /// ```
    pub fn reads_of(&self, key: &[u8]) -> usize {
        let reads = self.reads.lock().unwrap_or_else(PoisonError::into_inner);
        reads.get(key).copied().unwrap_or(0)
    }

    /// How many calls asked to write: `compare_and_swap`, `remove`, and `swap_all` with an
    /// entry that is not a check, whether or not they changed anything.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use pims_cache::{KeySwap, MemoryStore, StepStore};
    /// let s = pims_cache::testkit::Forwarding::new(MemoryStore::new());
    /// let _ = s.swap_all(&[KeySwap::check(b"k", None)]).await.unwrap();
    /// assert_eq!(s.writes(), 0);
    /// let _ = s.remove(b"k").await.unwrap();
    /// assert_eq!(s.writes(), 1);
    /// # });
    /// ```
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// How many async calls were made to this store (failed ones included).
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use pims_cache::StepStore;
    /// let s = pims_cache::testkit::Forwarding::new(pims_cache::MemoryStore::new());
    /// s.get_many(&[b"a", b"b"]).await.unwrap();
    /// assert_eq!(s.calls(), 1);
    /// # });
    /// ```
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Whether every async call fails ([`CacheError::Storage`]) instead of reaching the
    /// inner store: a shared store that is down (it fails; it never degrades).
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use pims_cache::StepStore;
    /// let s = pims_cache::testkit::Forwarding::new(pims_cache::MemoryStore::new());
    /// s.fail_calls(true);
    /// assert!(s.get(b"k").await.is_err());
    /// s.fail_calls(false);
    /// assert!(s.get(b"k").await.is_ok());
    /// # });
    /// ```
    pub fn fail_calls(&self, fail: bool) {
        self.failing.store(fail, Ordering::SeqCst);
    }

    /// Whether `flush` returns at once without flushing (loading many entries, then one
    /// flush of the inner store).
    pub fn skip_flushes(&self, skip: bool) {
        self.skip_flushes.store(skip, Ordering::SeqCst);
    }

    /// Whether `generation` answers None, as a store shared between processes does.
    ///
    /// ```
    /// use pims_cache::StepStore;
    /// let s = pims_cache::testkit::Forwarding::new(pims_cache::MemoryStore::new());
    /// assert!(s.generation().is_some());
    /// s.hide_generation(true);
    /// assert!(s.generation().is_none());
    /// ```
    pub fn hide_generation(&self, hide: bool) {
        self.hide_generation.store(hide, Ordering::SeqCst);
    }

    /// Whether scans ignore their prefix and return every entry (a custom store's bug, which
    /// the cache must survive without removing what is not its own).
    pub fn stray_scans(&self, stray: bool) {
        self.stray.store(stray, Ordering::SeqCst);
    }

    /// Whether every call first lets the other tasks of its thread run, once, as a network
    /// store's round trip does: concurrent callers then interleave between any two calls,
    /// even over a store that never waits (a memory store's calls complete at once).
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// use pims_cache::StepStore;
    /// let s = pims_cache::testkit::Forwarding::new(pims_cache::MemoryStore::new());
    /// s.yield_calls(true);
    /// assert_eq!(s.get(b"k").await.unwrap(), None);
    /// # });
    /// ```
    pub fn yield_calls(&self, yields: bool) {
        self.yields.store(yields, Ordering::SeqCst);
    }

    /// Runs `hook` once, `when` the first scan of exactly `prefix` happens.
    pub fn on_scan(&self, prefix: &[u8], when: When, hook: Hook) {
        *self.hook.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((prefix.to_vec(), when, hook));
    }

    /// Runs `hook` once, right after the first write (`compare_and_swap`, `remove`, or a
    /// `swap_all` writing something) of a key starting with `prefix` returns from the store:
    /// another writer's change between two steps of an operation.
    pub fn after_write(&self, prefix: &[u8], hook: Hook) {
        *self
            .write_hook
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((prefix.to_vec(), hook));
    }

    async fn fire_write<'k>(&self, mut keys: impl Iterator<Item = &'k [u8]>) {
        let hook = {
            let mut slot = self
                .write_hook
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match &*slot {
                Some((p, _)) if keys.any(|k| k.starts_with(p)) => slot.take(),
                _ => None,
            }
        };
        if let Some((_, hook)) = hook {
            hook().await;
        }
    }

    /// Every async call starts here: counted, let other tasks run (when asked), failed (when
    /// asked).
    async fn enter(&self, operation: &'static str) -> Result<(), CacheError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.yields.load(Ordering::SeqCst) {
            yield_once().await;
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(CacheError::storage(
                operation,
                std::io::Error::other("the store fails on purpose (Forwarding::fail_calls)"),
            ));
        }
        Ok(())
    }

    fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    fn count(&self, key: &[u8]) {
        let mut reads = self.reads.lock().unwrap_or_else(PoisonError::into_inner);
        *reads.entry(key.to_vec()).or_default() += 1;
    }

    async fn fire(&self, prefix: &[u8], now: When) {
        let hook = {
            let mut slot = self.hook.lock().unwrap_or_else(PoisonError::into_inner);
            match &*slot {
                Some((p, when, _)) if p == prefix && *when == now => slot.take(),
                _ => None,
            }
        };
        if let Some((_, _, hook)) = hook {
            hook().await;
        }
    }
}

#[async_trait]
impl<S: StepStore + ?Sized> StepStore for Forwarding<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.enter("read").await?;
        self.count(key);
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        self.enter("read").await?;
        for key in keys {
            self.count(key);
        }
        self.inner.get_many(keys).await
    }

    async fn get_following(
        &self,
        key: &[u8],
        tag: &[u8],
        prefix: &[u8],
    ) -> Result<Followed, CacheError> {
        self.enter("read").await?;
        self.count(key);
        let followed = self.inner.get_following(key, tag, prefix).await?;
        if let Some(name) = followed.value.as_deref().and_then(|v| v.strip_prefix(tag)) {
            self.count(&[prefix, name].concat());
        }
        Ok(followed)
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        self.enter("write").await?;
        self.wrote();
        let swap = self.inner.compare_and_swap(key, expected, new).await?;
        self.fire_write(std::iter::once(key)).await;
        Ok(swap)
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        self.enter("write").await?;
        if swaps.iter().any(|s| !s.is_check()) {
            self.wrote();
        }
        let outcome = self.inner.swap_all(swaps).await?;
        let written = swaps.iter().filter(|s| !s.is_check()).map(|s| s.key);
        self.fire_write(written).await;
        Ok(outcome)
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.enter("write").await?;
        self.wrote();
        let old = self.inner.remove(key).await?;
        self.fire_write(std::iter::once(key)).await;
        Ok(old)
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        self.enter("scan").await?;
        self.fire(prefix, When::Before).await;
        let stray = self.stray.load(Ordering::SeqCst);
        let page = self
            .inner
            .scan(if stray { b"" } else { prefix }, after, limit)
            .await?;
        self.fire(prefix, When::After).await;
        Ok(page)
    }

    async fn flush(&self) -> Result<(), CacheError> {
        self.enter("flush").await?;
        if self.skip_flushes.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.inner.flush().await
    }

    fn needs_flush(&self) -> bool {
        // A skipped flush has nothing to do; else whatever the inner store says.
        !self.skip_flushes.load(Ordering::SeqCst) && self.inner.needs_flush()
    }

    fn health(&self) -> Health {
        self.inner.health()
    }

    fn generation(&self) -> Option<u64> {
        if self.hide_generation.load(Ordering::SeqCst) {
            return None;
        }
        self.inner.generation()
    }

    fn epoch(&self) -> u64 {
        self.inner.epoch()
    }

    async fn kept_device_id(&self) -> Result<Option<DeviceId>, CacheError> {
        self.enter("read").await?;
        self.inner.kept_device_id().await
    }

    async fn keep_device_id(&self, id: &DeviceId) -> Result<Option<DeviceId>, CacheError> {
        self.enter("write").await?;
        self.inner.keep_device_id(id).await
    }
}

/// Returns Pending once (waking itself at once), then Ready: the rest of the calling task runs
/// after the tasks already waiting, on any executor.
fn yield_once() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
}
