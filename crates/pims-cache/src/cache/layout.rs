//! The layout record (`V`): which layout of the key spaces a store holds (`keys::SPACES`). It
//! is written before the cache's first entry in a store that has none, and checked before the
//! cache reads or removes anything: a store of another layout is refused
//! ([`CacheError::UnsupportedLayout`]), never misread, never cleaned up. It lives among the
//! entries, so every store has it (memory, sled, a custom or shared one).
//!
//! A store without the record is this layout's: an empty one, one written before the record
//! existed, or one of layout 1 (never released), whose retired entries (`l`, `i`) are left
//! where they are, unread (see `docs/cache.md`, "Key spaces").

use std::sync::{Mutex, PoisonError};

use tracing::warn;

use super::StepCache;
use crate::error::CacheError;
use crate::keys;
use crate::record;
use crate::scan;
use crate::store::Swap;

/// What a call is about to do with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Use {
    /// Read or remove entries: the store must be of this layout, or have no record yet.
    Read,
    /// Write an entry: the record is written first if there is none.
    Write,
}

/// What this cache knows of its store's layout record.
#[derive(Default)]
pub(super) struct Checked(Mutex<Seen>);

#[derive(Debug, Default, Clone, Copy)]
enum Seen {
    #[default]
    Nothing,
    /// No record, at this store epoch and generation (None: the store has no counter).
    Absent { epoch: u64, generation: Option<u64> },
    /// This layout's record, at this store epoch (it never changes afterwards).
    Ours { epoch: u64 },
}

impl StepCache {
    /// Refuses a store of another layout; for a [`Use::Write`], records this layout first in
    /// a store that has no record. Costs no store read once the record was seen.
    pub(super) async fn layout(&self, wanted: Use) -> Result<(), CacheError> {
        let epoch = self.store.epoch();
        let seen = *self.layout.0.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(seen, Seen::Ours { epoch: e } if e == epoch) {
            return Ok(());
        }
        // (Read before the record it vouches for.)
        let generation = self.store.generation();
        if let Seen::Absent {
            epoch: e,
            generation: Some(g),
        } = seen
            && wanted == Use::Read
            && e == epoch
            && generation == Some(g)
        {
            return Ok(());
        }
        let mut current = self.store.get(keys::LAYOUT_KEY).await?;
        // Two rounds: a conflict means another writer recorded a layout, read on the second.
        for _ in 0..2 {
            let seen = match current.as_deref() {
                Some(bytes) => match record::decode_number(bytes) {
                    Ok(keys::LAYOUT) => Seen::Ours { epoch },
                    Ok(found) => return Err(CacheError::UnsupportedLayout { found: Some(found) }),
                    Err(_) => return Err(CacheError::UnsupportedLayout { found: None }),
                },
                None if wanted == Use::Read => Seen::Absent { epoch, generation },
                None => {
                    self.warn_of_retired_entries().await?;
                    let ours = record::encode_number(keys::LAYOUT);
                    match self
                        .store
                        .compare_and_swap(keys::LAYOUT_KEY, None, Some(&ours))
                        .await?
                    {
                        Swap::Swapped => Seen::Ours { epoch },
                        Swap::Conflict { current: now } => {
                            current = now;
                            continue;
                        }
                    }
                }
            };
            *self.layout.0.lock().unwrap_or_else(PoisonError::into_inner) = seen;
            return Ok(());
        }
        Err(CacheError::Contention { attempts: 2 })
    }

    /// Whether this layout's record was seen in the store (at its current epoch): then every
    /// use is allowed, with no store access.
    pub(super) fn layout_known(&self) -> bool {
        let seen = *self.layout.0.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(seen, Seen::Ours { epoch } if epoch == self.store.epoch())
    }

    /// Says so when a store about to be recorded as this layout holds layout 1's entries
    /// (left unread, not removed: they are not this layout's to delete).
    async fn warn_of_retired_entries(&self) -> Result<(), CacheError> {
        let mut found = false;
        for tag in keys::RETIRED {
            found |= scan::any(&*self.store, &[tag]).await?;
        }
        if found {
            warn!(
                "pims-cache: this cache holds entries of layout 1 (a development build's, never released); they are not read, and its lists are cached again as they are seen"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_executor::block_on;

    use super::*;
    use crate::memory::MemoryStore;
    use crate::store::StepStore;
    use crate::testkit::Forwarding;

    #[test]
    fn the_record_is_read_once_then_trusted() {
        block_on(async {
            let store = Arc::new(Forwarding::new(MemoryStore::new()));
            store.hide_generation(true);
            let reads = || store.reads_of(keys::LAYOUT_KEY);
            let cache = StepCache::new(store.clone());
            cache.layout(Use::Read).await.unwrap();
            cache.layout(Use::Read).await.unwrap(); // no counter: an absent record is read again
            assert_eq!(reads(), 2);
            cache.layout(Use::Write).await.unwrap();
            let after_write = reads();
            for wanted in [Use::Read, Use::Write, Use::Read] {
                cache.layout(wanted).await.unwrap();
            }
            assert_eq!(reads(), after_write);
            // Another cache over the store finds it, once.
            let other = StepCache::new(store.clone());
            other.layout(Use::Write).await.unwrap();
            other.layout(Use::Read).await.unwrap();
            assert_eq!(reads(), after_write + 1);
            assert_eq!(
                store.get(keys::LAYOUT_KEY).await.unwrap(),
                Some(record::encode_number(keys::LAYOUT))
            );
        });
    }

    #[test]
    fn a_record_written_meanwhile_is_read_not_overwritten() {
        block_on(async {
            let store = Arc::new(MemoryStore::new());
            let cache = StepCache::new(store.clone());
            cache.layout(Use::Read).await.unwrap();
            let later = record::encode_number(keys::LAYOUT + 1);
            let _ = store
                .compare_and_swap(keys::LAYOUT_KEY, None, Some(&later))
                .await
                .unwrap();
            assert!(matches!(
                cache.layout(Use::Write).await,
                Err(CacheError::UnsupportedLayout { found: Some(3) })
            ));
            assert_eq!(store.get(keys::LAYOUT_KEY).await.unwrap(), Some(later));
        });
    }
}
