//! The in-memory store: for tests, for apps that want no disk, and the fallback of a degraded
//! sled store.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;

use crate::error::CacheError;
use crate::store::{BatchSwap, Entry, Health, KeySwap, StepStore, Swap, check_batch};

/// A [`StepStore`] in memory. Clones share the same map. Nothing survives the process
/// ([`Health::Volatile`]). Never blocks for long: every operation is one lock of a map.
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::{MemoryStore, StepStore};
/// let a = MemoryStore::new();
/// let b = a.clone();
/// let _ = a.compare_and_swap(b"k", None, Some(b"v")).await.unwrap();
/// assert_eq!(b.get(b"k").await.unwrap(), Some(b"v".to_vec()));
/// assert_eq!(b.len(), 1);
/// # });
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    map: Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>,
    /// Bumped by every change, under the map's write lock.
    generation: Arc<AtomicU64>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// ```
    /// assert!(pims_cache::MemoryStore::new().is_empty());
    /// ```
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Number of entries.
    ///
    /// ```
    /// assert_eq!(pims_cache::MemoryStore::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the store holds nothing.
    ///
    /// ```
    /// assert!(pims_cache::MemoryStore::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Entry count only: values are cached lists, not for logs.
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .finish()
    }
}

impl MemoryStore {
    pub(crate) fn read(&self, key: &[u8]) -> Option<Vec<u8>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(key).cloned()
    }

    pub(crate) fn swap(&self, key: &[u8], expected: Option<&[u8]>, new: Option<&[u8]>) -> Swap {
        match self.swap_all_now(&[KeySwap::new(key, expected, new)]) {
            BatchSwap::Swapped => Swap::Swapped,
            BatchSwap::Conflict { current, .. } => Swap::Conflict { current },
        }
    }

    /// The batch under one write lock: checked whole, then applied whole.
    pub(crate) fn swap_all_now(&self, swaps: &[KeySwap<'_>]) -> BatchSwap {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        for (index, s) in swaps.iter().enumerate() {
            let current = map.get(s.key).map(Vec::as_slice);
            if current != s.expected {
                return BatchSwap::Conflict {
                    index,
                    current: current.map(<[u8]>::to_vec),
                };
            }
        }
        let mut changed = false;
        for s in swaps.iter().filter(|s| !s.is_check()) {
            changed = true;
            match s.new {
                Some(v) => {
                    map.insert(s.key.to_vec(), v.to_vec());
                }
                None => {
                    map.remove(s.key);
                }
            }
        }
        if changed {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        BatchSwap::Swapped
    }

    pub(crate) fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let old = map.remove(key);
        if old.is_some() {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        old
    }

    /// Entries under `prefix` after `after`, at most `limit` (None: all).
    pub(crate) fn entries(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: Option<usize>,
    ) -> Vec<Entry> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let from = match after {
            Some(a) if a >= prefix => Bound::Excluded(a),
            _ => Bound::Included(prefix),
        };
        map.range::<[u8], _>((from, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit.unwrap_or(usize::MAX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[async_trait]
impl StepStore for MemoryStore {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.read(key))
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(keys.iter().map(|k| map.get(*k).cloned()).collect())
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        Ok(self.swap(key, expected, new))
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        check_batch(swaps)?;
        Ok(self.swap_all_now(swaps))
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.take(key))
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        Ok(self.entries(prefix, after, Some(limit)))
    }

    async fn flush(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn needs_flush(&self) -> bool {
        false
    }

    fn health(&self) -> Health {
        Health::Volatile
    }

    fn generation(&self) -> Option<u64> {
        Some(self.generation.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    #[test]
    fn compare_and_swap_removes_and_conflicts() {
        block_on(async {
            let s = MemoryStore::new();
            assert_eq!(
                s.compare_and_swap(b"k", None, Some(b"1")).await.unwrap(),
                Swap::Swapped
            );
            assert_eq!(
                s.compare_and_swap(b"k", Some(b"2"), None).await.unwrap(),
                Swap::Conflict {
                    current: Some(b"1".to_vec())
                }
            );
            assert_eq!(
                s.compare_and_swap(b"k", Some(b"1"), None).await.unwrap(),
                Swap::Swapped
            );
            assert!(s.is_empty());
        });
    }

    #[test]
    fn scan_stops_at_the_prefix_end_and_pages() {
        block_on(async {
            let s = MemoryStore::new();
            for k in [&b"a"[..], b"ab", b"ac", b"b"] {
                let _ = s.compare_and_swap(k, None, Some(b"")).await.unwrap();
            }
            let keys = |page: Vec<Entry>| page.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
            let all = s.scan(b"a", None, 10).await.unwrap();
            assert_eq!(keys(all), [b"a".to_vec(), b"ab".to_vec(), b"ac".to_vec()]);
            assert_eq!(keys(s.scan(b"", None, 1).await.unwrap()), [b"a".to_vec()]);
            let rest = s.scan(b"a", Some(b"ab"), 10).await.unwrap();
            assert_eq!(keys(rest), [b"ac".to_vec()]);
            // An `after` before the prefix starts from the prefix.
            assert_eq!(s.scan(b"b", Some(b"a"), 10).await.unwrap().len(), 1);
        });
    }

    #[test]
    fn a_batch_of_checks_only_changes_no_generation() {
        block_on(async {
            let s = MemoryStore::new();
            let _ = s.compare_and_swap(b"k", None, Some(b"1")).await.unwrap();
            let g = s.generation();
            let check = [KeySwap::check(b"k", Some(b"1")), KeySwap::check(b"j", None)];
            assert_eq!(s.swap_all(&check).await.unwrap(), BatchSwap::Swapped);
            assert_eq!(s.generation(), g);
            let twice = [KeySwap::check(b"k", None), KeySwap::check(b"k", None)];
            assert!(s.swap_all(&twice).await.is_err());
        });
    }
}
