//! The in-memory store: for tests, for apps that want no disk, and the fallback of a degraded
//! sled store.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::CacheError;
use crate::store::{Health, StepStore, Swap, Visit};

/// A [`StepStore`] in memory. Clones share the same map. Nothing survives the process
/// ([`Health::Volatile`]). Never blocks for long: every operation is one lock of a map.
///
/// ```
/// use pims_cache::{MemoryStore, StepStore};
/// let a = MemoryStore::new();
/// let b = a.clone();
/// let _ = a.compare_and_swap(b"k", None, Some(b"v")).unwrap();
/// assert_eq!(b.get(b"k").unwrap(), Some(b"v".to_vec()));
/// assert_eq!(b.len(), 1);
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
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let current = map.get(key).map(Vec::as_slice);
        if current != expected {
            return Swap::Conflict {
                current: current.map(<[u8]>::to_vec),
            };
        }
        match new {
            Some(v) => {
                map.insert(key.to_vec(), v.to_vec());
            }
            None => {
                map.remove(key);
            }
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        Swap::Swapped
    }

    pub(crate) fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        let old = map.remove(key);
        if old.is_some() {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        old
    }

    pub(crate) fn entries(&self, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl StepStore for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.read(key))
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        Ok(self.swap(key, expected, new))
    }

    fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.take(key))
    }

    fn scan_prefix(&self, prefix: &[u8], visit: &mut Visit<'_>) -> Result<(), CacheError> {
        // A snapshot, so that the visitor runs without the lock held.
        for (k, v) in self.entries(prefix) {
            if visit(&k, &v).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), CacheError> {
        Ok(())
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
    use std::ops::ControlFlow;

    #[test]
    fn compare_and_swap_removes_and_conflicts() {
        let s = MemoryStore::new();
        assert_eq!(
            s.compare_and_swap(b"k", None, Some(b"1")).unwrap(),
            Swap::Swapped
        );
        assert_eq!(
            s.compare_and_swap(b"k", Some(b"2"), None).unwrap(),
            Swap::Conflict {
                current: Some(b"1".to_vec())
            }
        );
        assert_eq!(
            s.compare_and_swap(b"k", Some(b"1"), None).unwrap(),
            Swap::Swapped
        );
        assert!(s.is_empty());
    }

    #[test]
    fn scan_stops_at_the_prefix_end_and_on_break() {
        let s = MemoryStore::new();
        for k in [&b"a"[..], b"ab", b"ac", b"b"] {
            let _ = s.compare_and_swap(k, None, Some(b"")).unwrap();
        }
        let mut seen = Vec::new();
        s.scan_prefix(b"a", &mut |k, _| {
            seen.push(k.to_vec());
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(seen, [b"a".to_vec(), b"ab".to_vec(), b"ac".to_vec()]);
        let mut n = 0;
        s.scan_prefix(b"", &mut |_, _| {
            n += 1;
            ControlFlow::Break(())
        })
        .unwrap();
        assert_eq!(n, 1);
    }
}
