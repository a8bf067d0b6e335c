//! The storage abstraction under the cache: an ordered byte map with compare-and-swap, prefix
//! scans and a durability barrier, plus the store's health.

use std::fmt;
use std::ops::ControlFlow;

use crate::device::DeviceId;
use crate::error::CacheError;

/// The outcome of [`StepStore::compare_and_swap`].
///
/// ```
/// use pims_cache::{MemoryStore, StepStore, Swap};
/// let store = MemoryStore::new();
/// assert_eq!(store.compare_and_swap(b"k", None, Some(b"v")).unwrap(), Swap::Swapped);
/// assert_eq!(store.compare_and_swap(b"k", None, Some(b"w")).unwrap(),
///     Swap::Conflict { current: Some(b"v".to_vec()) });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Swap {
    /// The expected value was there and has been replaced.
    Swapped,
    /// Something else was there: the current value (None: absent), to retry from.
    Conflict {
        /// What the key holds now.
        current: Option<Vec<u8>>,
    },
}

/// Why a store is degraded.
///
/// ```
/// assert_eq!(pims_cache::DegradedReason::NoSpace.as_str(), "no space left");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DegradedReason {
    /// The cache directory is on a read-only file system.
    ReadOnly,
    /// The process may not write the cache directory.
    PermissionDenied,
    /// The disk (or a quota) is full.
    NoSpace,
    /// Another I/O failure.
    Io,
    /// The cache was unreadable and could not be moved aside.
    Unrecoverable,
}

impl DegradedReason {
    /// A short description.
    ///
    /// ```
    /// assert_eq!(pims_cache::DegradedReason::ReadOnly.as_str(), "read-only file system");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            DegradedReason::ReadOnly => "read-only file system",
            DegradedReason::PermissionDenied => "permission denied",
            DegradedReason::NoSpace => "no space left",
            DegradedReason::Io => "I/O error",
            DegradedReason::Unrecoverable => "unreadable cache that could not be moved aside",
        }
    }

    /// Classifies an I/O error.
    #[cfg_attr(not(feature = "sled"), allow(dead_code))]
    pub(crate) fn of_io(e: &std::io::Error) -> DegradedReason {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::ReadOnlyFilesystem => DegradedReason::ReadOnly,
            K::PermissionDenied => DegradedReason::PermissionDenied,
            K::StorageFull | K::QuotaExceeded => DegradedReason::NoSpace,
            _ => DegradedReason::Io,
        }
    }
}

impl fmt::Display for DegradedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A degraded store's diagnosis.
///
/// ```
/// use pims_cache::{Degradation, DegradedReason};
/// let d = Degradation::new(DegradedReason::NoSpace, "flush failed");
/// assert_eq!(d.to_string(), "no space left: flush failed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degradation {
    /// The class of failure.
    pub reason: DegradedReason,
    /// What failed, for logs and `cache show` (a path and the operating system's message).
    pub detail: String,
}

impl Degradation {
    /// A diagnosis.
    ///
    /// ```
    /// let d = pims_cache::Degradation::new(pims_cache::DegradedReason::Io, "x");
    /// assert_eq!(d.detail, "x");
    /// ```
    pub fn new(reason: DegradedReason, detail: impl Into<String>) -> Self {
        Degradation {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Degradation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

/// Whether a store's writes survive the process.
///
/// ```
/// use pims_cache::{Health, MemoryStore, StepStore};
/// assert_eq!(MemoryStore::new().health(), Health::Volatile);
/// assert!(!Health::Volatile.is_degraded());
/// assert!(Health::Durable.is_durable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// Changes are on disk once [`StepStore::flush`] returns.
    Durable,
    /// An in-memory store by design: nothing survives the process.
    Volatile,
    /// The disk store cannot be written: the store works from memory (nothing it is told now
    /// survives the process) and says why.
    Degraded(Degradation),
}

impl Health {
    /// Whether a successful flush makes changes survive a crash.
    ///
    /// ```
    /// assert!(!pims_cache::Health::Volatile.is_durable());
    /// ```
    pub fn is_durable(&self) -> bool {
        matches!(self, Health::Durable)
    }

    /// Whether the store is degraded (it should be durable but is not).
    ///
    /// ```
    /// use pims_cache::{Degradation, DegradedReason, Health};
    /// assert!(Health::Degraded(Degradation::new(DegradedReason::ReadOnly, "x")).is_degraded());
    /// ```
    pub fn is_degraded(&self) -> bool {
        matches!(self, Health::Degraded(_))
    }

    /// The diagnosis of a degraded store.
    ///
    /// ```
    /// assert!(pims_cache::Health::Durable.degradation().is_none());
    /// ```
    pub fn degradation(&self) -> Option<&Degradation> {
        match self {
            Health::Degraded(d) => Some(d),
            _ => None,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Health::Durable => f.write_str("durable"),
            Health::Volatile => f.write_str("in memory"),
            Health::Degraded(d) => write!(f, "degraded ({d})"),
        }
    }
}

/// The visitor of [`StepStore::scan_prefix`]: called with each key and value, it returns
/// `Break` to stop the scan.
///
/// ```
/// use std::ops::ControlFlow;
/// let mut count = 0;
/// let visit: &mut pims_cache::Visit<'_> = &mut |_k, _v| { count += 1; ControlFlow::Continue(()) };
/// assert!(visit(b"k", b"v").is_continue());
/// ```
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// A persistent (or not) ordered byte map: what [`StepCache`](crate::StepCache) is built on.
///
/// Every method may block the calling thread (disk I/O, `fsync`, waiting for a shared flush):
/// async callers use `spawn_blocking`. Implementations must be safe to call from many threads
/// at once; `compare_and_swap` must be atomic per key. The cache never holds a lock across
/// calls: every multi-key change is a sequence of single-key compare-and-swaps ordered so that
/// a crash between two of them leaves nothing wrong (see `docs/cache.md`).
///
/// `flush` is called after every cache operation, changed or not (a read may have observed a
/// change another thread has not flushed yet), so it must return at once when there is nothing
/// to flush.
///
/// ```
/// use std::ops::ControlFlow;
/// use pims_cache::{MemoryStore, StepStore};
/// let store = MemoryStore::new();
/// let _ = store.compare_and_swap(b"a1", None, Some(b"x")).unwrap();
/// let _ = store.compare_and_swap(b"b1", None, Some(b"y")).unwrap();
/// let mut seen = Vec::new();
/// store.scan_prefix(b"a", &mut |k, _| { seen.push(k.to_vec()); ControlFlow::Continue(()) }).unwrap();
/// assert_eq!(seen, [b"a1".to_vec()]);
/// store.flush().unwrap();
/// assert_eq!(store.remove(b"a1").unwrap(), Some(b"x".to_vec()));
/// assert_eq!(store.get(b"a1").unwrap(), None);
/// ```
pub trait StepStore: Send + Sync + fmt::Debug {
    /// The value of `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError>;

    /// Atomically replaces the value of `key` by `new` (None: removes it) if it is `expected`
    /// (None: absent); otherwise reports what is there.
    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError>;

    /// Removes `key` unconditionally; returns what it held.
    fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError>;

    /// Calls `visit` for every entry whose key starts with `prefix`, in key order, until it
    /// returns `Break`. Implementations should not hold a lock while calling `visit`.
    fn scan_prefix(&self, prefix: &[u8], visit: &mut Visit<'_>) -> Result<(), CacheError>;

    /// Makes every change completed before this call durable (as far as [`health`] allows),
    /// then returns. Concurrent callers may share one physical flush.
    ///
    /// [`health`]: StepStore::health
    fn flush(&self) -> Result<(), CacheError>;

    /// Whether the store's writes survive the process.
    fn health(&self) -> Health;

    /// A number that changes whenever any entry changes, read before the entries it vouches
    /// for (it moves only once a change is visible), or None when the store cannot tell.
    /// While it stays the same, the cache reuses what it decoded instead of reading again.
    /// The default is None: always read.
    fn generation(&self) -> Option<u64> {
        None
    }

    /// A number that changes when the store's contents may have been replaced wholesale (a
    /// degraded store going on from a copy of its data, or from an empty map when no copy
    /// could be made): a cache then forgets what it remembered of the store (its namespace
    /// ids) and reads it again. The default is 0, forever: a store whose contents only change
    /// through its own methods.
    fn epoch(&self) -> u64 {
        0
    }

    /// The device id this store keeps apart from its entries, where losing them (a damaged
    /// database moved aside) cannot lose it; None when none is kept yet, or when the store
    /// keeps none apart (the default: the cache then keeps it as one of its entries only).
    /// [`SledStore`](crate::SledStore) keeps it in a file beside sled's directory.
    fn kept_device_id(&self) -> Result<Option<DeviceId>, CacheError> {
        Ok(None)
    }

    /// Keeps `id` apart from the entries, durably, unless an id is kept already, and returns
    /// the id kept (the earlier one if there was one, so that concurrent callers agree); None
    /// when the store keeps none apart (the default) or could not keep it now (an unwritable
    /// directory): the cache then relies on its entry.
    fn keep_device_id(&self, id: &DeviceId) -> Result<Option<DeviceId>, CacheError> {
        let _ = id;
        Ok(None)
    }
}
