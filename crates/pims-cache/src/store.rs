//! The storage abstraction under the cache: an ordered byte map with compare-and-swap, prefix
//! scans and a durability barrier, plus the store's health.

use std::fmt;

use async_trait::async_trait;

use crate::device::DeviceId;
use crate::error::CacheError;

/// The outcome of [`StepStore::compare_and_swap`].
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::{MemoryStore, StepStore, Swap};
/// let store = MemoryStore::new();
/// assert_eq!(store.compare_and_swap(b"k", None, Some(b"v")).await.unwrap(), Swap::Swapped);
/// assert_eq!(store.compare_and_swap(b"k", None, Some(b"w")).await.unwrap(),
///     Swap::Conflict { current: Some(b"v".to_vec()) });
/// # });
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

/// One key of [`StepStore::swap_all`]: replace `expected` (None: absent) by `new` (None:
/// remove). An entry whose `new` equals its `expected` is a condition only: the batch goes
/// through only if the key still holds `expected`, and the key is not written.
///
/// ```
/// let only_if_absent = pims_cache::KeySwap::check(b"k", None);
/// assert_eq!(only_if_absent.new, None);
/// assert!(only_if_absent.is_check());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySwap<'a> {
    /// The key.
    pub key: &'a [u8],
    /// What the key must hold (None: absent).
    pub expected: Option<&'a [u8]>,
    /// What it holds afterwards (None: removed).
    pub new: Option<&'a [u8]>,
}

impl<'a> KeySwap<'a> {
    /// Replace `expected` by `new` at `key`.
    ///
    /// ```
    /// let s = pims_cache::KeySwap::new(b"k", None, Some(b"v"));
    /// assert!(!s.is_check());
    /// ```
    pub fn new(key: &'a [u8], expected: Option<&'a [u8]>, new: Option<&'a [u8]>) -> Self {
        KeySwap { key, expected, new }
    }

    /// Only require that `key` holds `expected`.
    ///
    /// ```
    /// assert!(pims_cache::KeySwap::check(b"k", Some(b"v")).is_check());
    /// ```
    pub fn check(key: &'a [u8], expected: Option<&'a [u8]>) -> Self {
        KeySwap {
            key,
            expected,
            new: expected,
        }
    }

    /// Whether this entry writes nothing (a condition only).
    ///
    /// ```
    /// assert!(!pims_cache::KeySwap::new(b"k", Some(b"v"), None).is_check());
    /// ```
    pub fn is_check(&self) -> bool {
        self.new == self.expected
    }
}

/// The outcome of [`StepStore::swap_all`].
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::{BatchSwap, KeySwap, MemoryStore, StepStore};
/// let store = MemoryStore::new();
/// let batch = [KeySwap::new(b"a", None, Some(b"1")), KeySwap::new(b"b", None, Some(b"2"))];
/// assert_eq!(store.swap_all(&batch).await.unwrap(), BatchSwap::Swapped);
/// // Nothing of a batch is written when one of its keys holds something else.
/// let batch = [KeySwap::new(b"c", None, Some(b"3")), KeySwap::new(b"a", None, Some(b"x"))];
/// assert_eq!(store.swap_all(&batch).await.unwrap(),
///     BatchSwap::Conflict { index: 1, current: Some(b"1".to_vec()) });
/// assert_eq!(store.get(b"c").await.unwrap(), None);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum BatchSwap {
    /// Every key held what was expected; every change has been made, at once.
    Swapped,
    /// Entry `index` of the batch found `current` instead: nothing was written.
    Conflict {
        /// Which entry of the batch failed (the first one found).
        index: usize,
        /// What its key holds now (None: absent).
        current: Option<Vec<u8>>,
    },
}

/// One entry of a scan: key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// What [`StepStore::get_following`] read: an entry, and the entry its value points to.
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::{Followed, MemoryStore, StepStore};
/// let store = MemoryStore::new();
/// let _ = store.compare_and_swap(b"i/car", None, Some(b"\x02list-7")).await.unwrap();
/// let _ = store.compare_and_swap(b"l/list-7", None, Some(b"record")).await.unwrap();
/// // The index entry, then the record its value names (after its tag byte).
/// assert_eq!(
///     store.get_following(b"i/car", b"\x02", b"l/").await.unwrap(),
///     Followed { value: Some(b"\x02list-7".to_vec()), target: Some(b"record".to_vec()) }
/// );
/// # });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Followed {
    /// What the key asked for holds (None: absent).
    pub value: Option<Vec<u8>>,
    /// What the key it points to holds (None: absent, or the value does not start with the
    /// tag and so points nowhere).
    pub target: Option<Vec<u8>>,
}

/// A persistent (or not, or shared) ordered byte map: what [`StepCache`](crate::StepCache) is
/// built on. Object safe (`Arc<dyn StepStore>`), async.
///
/// # The contract (what [`testkit`](crate#the-conformance-kit) checks)
///
/// - **Linearizable per key**: `get`, `compare_and_swap`, `remove` and every key of a
///   `swap_all` act on one key atomically, in one order that every process using the store
///   sees (for a store shared between processes, across all of them).
/// - **`swap_all` is all or nothing**: either every entry's key held its `expected` value and
///   every change is made at once (no reader sees half of it), or nothing is written. Across a
///   crash, a store that cannot make a batch durable at once (sled, below) keeps a prefix of
///   its changes in the batch's order; the cache orders every batch so that any prefix is a
///   state its link protocol tolerates (`docs/cache.md`, "One list, three names").
/// - **`get_many`** answers for every key, in order; it need not be a snapshot of all of them
///   at one instant (the cache conditions its writes on what it read). Nor need
///   **`get_following`** be one: the cache checks that the record claims the link it came by.
/// - **`scan`** gives the entries whose key starts with `prefix`, in key order, after `after`
///   (exclusive), at most `limit`; an entry present during a whole paged scan is seen once.
/// - **`flush`** returns once every change completed before it is durable (as far as
///   [`health`](StepStore::health) allows). It is called after every cache operation,
///   changed or not (a read may have seen a change another caller has not flushed yet), so it
///   must return at once when there is nothing to flush; concurrent callers may share one
///   physical flush.
/// - **`generation`** changes whenever any entry changes, by any writer; it is read before the
///   entries it vouches for, and moves only once a change is visible. While it stays the same
///   the cache reuses what it decoded instead of reading again, so a store other processes
///   also write (a shared network store) returns `None`: no in-process memo may then hide
///   another process's change.
/// - **Failure**: a local store may degrade (go on from memory, saying so in `health`); a
///   shared store never degrades to a local copy: it fails the call, and the facade answers
///   from the backend as it does for a degraded cache.
/// - **Never on an async worker**: no method may block the calling thread for long: a store
///   whose work blocks (disk `fsync`, a synchronous driver) moves it to a blocking pool, as
///   [`SledStore`](crate::SledStore) does with its flushes.
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::{MemoryStore, StepStore};
/// let store = MemoryStore::new();
/// let _ = store.compare_and_swap(b"a1", None, Some(b"x")).await.unwrap();
/// let _ = store.compare_and_swap(b"a2", None, Some(b"y")).await.unwrap();
/// let _ = store.compare_and_swap(b"b1", None, Some(b"z")).await.unwrap();
/// // Paged: one entry at a time, each page after the last key seen.
/// let page = store.scan(b"a", None, 1).await.unwrap();
/// assert_eq!(page, [(b"a1".to_vec(), b"x".to_vec())]);
/// let page = store.scan(b"a", Some(b"a1"), 1).await.unwrap();
/// assert_eq!(page, [(b"a2".to_vec(), b"y".to_vec())]);
/// assert!(store.scan(b"a", Some(b"a2"), 1).await.unwrap().is_empty());
/// assert_eq!(store.get_many(&[b"a1", b"zz"]).await.unwrap(), [Some(b"x".to_vec()), None]);
/// store.flush().await.unwrap();
/// assert_eq!(store.remove(b"a1").await.unwrap(), Some(b"x".to_vec()));
/// assert_eq!(store.get(b"a1").await.unwrap(), None);
/// # });
/// ```
#[async_trait]
pub trait StepStore: Send + Sync + fmt::Debug {
    /// The value of `key`.
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError>;

    /// The values of `keys`, in order: one round trip on a network store. The default reads
    /// them one by one.
    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get(key).await?);
        }
        Ok(values)
    }

    /// Reads `key` and, when its value is `tag` followed by a name, the entry `prefix ‖ name`:
    /// an index entry and the record it names, in one read (one round trip on a network
    /// store: a lookup by an identifier then costs one read, not two in a row). The default
    /// reads one, then the other.
    async fn get_following(
        &self,
        key: &[u8],
        tag: &[u8],
        prefix: &[u8],
    ) -> Result<Followed, CacheError> {
        let value = self.get(key).await?;
        let target = match value.as_deref().and_then(|v| v.strip_prefix(tag)) {
            Some(name) => self.get(&[prefix, name].concat()).await?,
            None => None,
        };
        Ok(Followed { value, target })
    }

    /// Atomically replaces the value of `key` by `new` (None: removes it) if it is `expected`
    /// (None: absent); otherwise reports what is there.
    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError>;

    /// Several compare-and-swaps as one, all or nothing (see the contract above): one batch on
    /// sled, one transaction on a database. A key named twice is refused
    /// ([`CacheError::InvalidInput`]).
    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError>;

    /// Removes `key` unconditionally; returns what it held.
    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError>;

    /// At most `limit` entries whose key starts with `prefix` and comes after `after`
    /// (exclusive; None: from the first), in key order. Fewer than `limit`: the scan is done.
    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError>;

    /// Makes every change completed before this call durable (as far as [`health`] allows),
    /// then returns. Concurrent callers may share one physical flush.
    ///
    /// [`health`]: StepStore::health
    async fn flush(&self) -> Result<(), CacheError>;

    /// Whether a [`flush`](StepStore::flush) now could have anything to do: a cheap,
    /// synchronous hint (no I/O), so that the cache skips the call after a read or a no-change
    /// merge. False only when every completed change is durable already (or the store has no
    /// flush: a memory store, a database whose every write commits durably). The default,
    /// true, always calls `flush`.
    fn needs_flush(&self) -> bool {
        true
    }

    /// Whether the store's writes survive the process, as far as the store knows now (no
    /// round trip: a network store answers from its last operation).
    fn health(&self) -> Health;

    /// A number that changes whenever any entry changes (see the contract above), or None
    /// when the store cannot tell, or is shared with other processes. The default is None:
    /// always read.
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
    async fn kept_device_id(&self) -> Result<Option<DeviceId>, CacheError> {
        Ok(None)
    }

    /// Keeps `id` apart from the entries, durably, unless an id is kept already, and returns
    /// the id kept (the earlier one if there was one, so that concurrent callers agree); None
    /// when the store keeps none apart (the default) or could not keep it now (an unwritable
    /// directory): the cache then relies on its entry.
    async fn keep_device_id(&self, id: &DeviceId) -> Result<Option<DeviceId>, CacheError> {
        let _ = id;
        Ok(None)
    }
}

/// Refuses a batch that names a key twice (its outcome would depend on the order).
pub(crate) fn check_batch(swaps: &[KeySwap<'_>]) -> Result<(), CacheError> {
    for (i, s) in swaps.iter().enumerate() {
        if swaps[..i].iter().any(|t| t.key == s.key) {
            return Err(CacheError::invalid(
                "swap_all",
                "a key is named twice in one batch",
            ));
        }
    }
    Ok(())
}
