//! The kit fails broken stores: each fault below, planted in a memory store, is caught by the
//! cases that say they check it (and would pass unnoticed otherwise).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use async_trait::async_trait;

use super::{StoreFactory, concurrency, contract, model, rules, run};
use crate::error::CacheError;
use crate::memory::MemoryStore;
use crate::store::{BatchSwap, Entry, Health, KeySwap, StepStore, Swap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// `swap_all` as one compare-and-swap after another, each a round trip: a conflict leaves
    /// the earlier ones written.
    HalfBatches,
    /// `generation` is always 0.
    StuckGeneration,
    /// A reopen finds an empty store.
    Forgetful,
    /// `scan` includes `after` itself.
    InclusiveAfter,
    /// `get_many` answers absent keys last.
    UnorderedGetMany,
    /// `scan` ignores its prefix.
    StrayScans,
}

#[derive(Debug)]
struct Broken {
    inner: MemoryStore,
    fault: Fault,
}

#[async_trait]
impl StepStore for Broken {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let mut values = self.inner.get_many(keys).await?;
        if self.fault == Fault::UnorderedGetMany {
            values.sort_by_key(Option::is_none);
        }
        Ok(values)
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        self.inner.compare_and_swap(key, expected, new).await
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        if self.fault != Fault::HalfBatches {
            return self.inner.swap_all(swaps).await;
        }
        for (index, s) in swaps.iter().enumerate() {
            let swap = self
                .inner
                .compare_and_swap(s.key, s.expected, s.new)
                .await?;
            if let Swap::Conflict { current } = swap {
                return Ok(BatchSwap::Conflict { index, current });
            }
            // One round trip per key, as a naive network store would make.
            tokio::task::yield_now().await;
        }
        Ok(BatchSwap::Swapped)
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.inner.remove(key).await
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        if self.fault == Fault::StrayScans {
            return self.inner.scan(b"", after, limit).await;
        }
        let mut page = self.inner.scan(prefix, after, limit).await?;
        if self.fault == Fault::InclusiveAfter
            && let Some(a) = after
            && let Some(v) = self.inner.get(a).await?
            && a.starts_with(prefix)
        {
            page.insert(0, (a.to_vec(), v));
            page.truncate(limit);
        }
        Ok(page)
    }

    async fn flush(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn health(&self) -> Health {
        Health::Volatile
    }

    fn generation(&self) -> Option<u64> {
        match self.fault {
            Fault::StuckGeneration => Some(0),
            _ => self.inner.generation(),
        }
    }
}

struct BrokenFactory(Fault);

#[async_trait]
impl StoreFactory for BrokenFactory {
    type Place = MemoryStore;

    async fn create(&self) -> Result<MemoryStore, CacheError> {
        Ok(MemoryStore::new())
    }

    async fn open(&self, place: &MemoryStore) -> Result<Arc<dyn StepStore>, CacheError> {
        let inner = match self.0 {
            Fault::Forgetful => MemoryStore::new(),
            _ => place.clone(),
        };
        Ok(Arc::new(Broken {
            inner,
            fault: self.0,
        }))
    }
}

/// Whether the case fails (panics) on a store with `fault`.
macro_rules! fails {
    ($fault:expr, $case:path) => {
        catch_unwind(AssertUnwindSafe(|| run($case(&BrokenFactory($fault))))).is_err()
    };
}

#[test]
fn a_batch_that_is_not_all_or_nothing_is_caught() {
    assert!(fails!(
        Fault::HalfBatches,
        contract::swap_all_writes_nothing_when_one_key_differs
    ));
    assert!(fails!(
        Fault::HalfBatches,
        concurrency::batches_over_two_keys_keep_their_sum
    ));
}

#[test]
fn a_generation_that_does_not_move_is_caught() {
    let fault = Fault::StuckGeneration;
    assert!(fails!(
        fault,
        contract::the_generation_moves_with_every_change_only
    ));
    // The cache trusts it and serves a list another cache has reset since.
    assert!(fails!(
        fault,
        rules::a_change_made_through_another_cache_on_the_same_store_is_seen_at_once
    ));
}

#[test]
fn a_store_that_forgets_at_a_restart_is_caught() {
    let fault = Fault::Forgetful;
    assert!(fails!(fault, contract::flushed_changes_survive_a_reopen));
    assert!(fails!(
        fault,
        rules::the_device_id_and_the_lists_survive_a_reopen
    ));
    assert!(fails!(fault, model::the_cache_behaves_like_the_model));
}

#[test]
fn a_scan_that_repeats_the_last_key_is_caught() {
    let fault = Fault::InclusiveAfter;
    assert!(fails!(
        fault,
        contract::scan_stays_in_its_prefix_after_after_within_limit
    ));
    assert!(fails!(fault, contract::a_paged_scan_sees_every_entry_once));
}

#[test]
fn a_scan_that_strays_from_its_prefix_is_caught() {
    assert!(fails!(
        Fault::StrayScans,
        contract::scan_stays_in_its_prefix_after_after_within_limit
    ));
}

#[test]
fn get_many_out_of_order_is_caught() {
    assert!(fails!(
        Fault::UnorderedGetMany,
        contract::get_many_answers_every_key_in_order
    ));
}
