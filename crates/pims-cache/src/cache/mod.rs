//! The step cache: the sticky rule applied atomically over any [`StepStore`].
//!
//! One type, [`StepCache`], whose methods live beside what they hold:
//!
//! - `rules`: the rule itself (merge, get, reset, invalidate, wipe, lists);
//! - `links`: the compare-and-swap protocol by which list records and their identifier links
//!   are written, followed and removed, in an order a crash cannot make wrong;
//! - `repair`: reading with repair (unreadable records and dangling links removed) and `check`;
//! - `device_id`: the device id, created once;
//! - `layout`: the store's layout record, written before the first entry, checked before any;
//! - `outcomes`: what the calls answer.

use std::fmt;
use std::sync::{Arc, OnceLock};

use tracing::warn;

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::memo::Memo;
use crate::memory::MemoryStore;
use crate::namespace::Namespace;
use crate::spaces::Spaces;
use crate::store::{Health, StepStore};

mod device_id;
mod layout;
mod links;
mod outcomes;
mod repair;
mod rules;

pub use outcomes::{CachedList, CheckReport, Merged, Removed};

/// How many times one compare-and-swap loop retries before giving up with
/// [`CacheError::Contention`]. Every conflict means another writer made progress, so this is
/// only reached under pathological contention on one list.
const MAX_ATTEMPTS: u32 = 1000;

/// Longest stepsID the cache accepts in a key (the wire model already bounds real ones).
const MAX_STEPS_ID_LEN: usize = 1024;

/// The step cache: the sticky `alreadyDone` rule, atomically, over any [`StepStore`].
///
/// Cheap to clone (clones share the store); safe to use from many tasks and threads. Every
/// method is async and never blocks its thread for long: a change is made durable before the
/// method returns, the store moving what waits on the disk off the async workers (see
/// [`StepStore`]'s contract). From synchronous code, run it on any executor
/// (`futures_executor::block_on`, a tokio runtime).
///
/// Storage failures on the sled store do not surface here: the store degrades to memory and
/// [`health`](StepCache::health) says so, while every method keeps answering.
///
/// ```
/// # futures_executor::block_on(async {
/// use pims_cache::{ListKeys, StepCache};
/// use pims_types::*;
///
/// let cache = StepCache::in_memory();
/// let ns = cache.namespace("account-1").await.unwrap();
/// let by_car = StepsSelector::car_association_id("987654").unwrap();
/// let keys = ListKeys::from(&by_car);
///
/// let answer = |status| StepsList::new(StepsId::number(132324), vec![
///     Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
///     Step::new(StepName::DeviceActivation, status, 2)]);
///
/// cache.merge(&ns, &keys, &answer(StepStatus::AlreadyDone)).await.unwrap();
/// // The backend now says todo: the cache keeps alreadyDone.
/// let m = cache.merge(&ns, &keys, &answer(StepStatus::Todo)).await.unwrap();
/// assert!(m.list.all_done());
/// assert!(!m.changed);
/// // One list, three names.
/// assert_eq!(cache.get(&ns, &StepsSelector::steps_id("132324").unwrap()).await.unwrap(), Some(m.list));
/// // resetSteps: true
/// cache.reset(&ns, &by_car).await.unwrap();
/// assert_eq!(cache.get(&ns, &StepsSelector::steps_id("132324").unwrap()).await.unwrap(), None);
/// # });
/// ```
#[derive(Clone)]
pub struct StepCache {
    store: Arc<dyn StepStore>,
    device: Arc<OnceLock<DeviceId>>,
    memo: Arc<Memo>,
    spaces: Arc<Spaces>,
    layout: Arc<layout::Checked>,
}

impl fmt::Debug for StepCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepCache")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl StepCache {
    /// A cache over `store`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let cache = pims_cache::StepCache::new(Arc::new(pims_cache::MemoryStore::new()));
    /// assert!(cache.health().degradation().is_none());
    /// ```
    pub fn new(store: Arc<dyn StepStore>) -> StepCache {
        StepCache {
            store,
            device: Arc::new(OnceLock::new()),
            memo: Arc::new(Memo::default()),
            spaces: Arc::new(Spaces::default()),
            layout: Arc::new(layout::Checked::default()),
        }
    }

    /// A cache over a fresh [`MemoryStore`] (nothing survives the process).
    ///
    /// ```
    /// assert_eq!(pims_cache::StepCache::in_memory().health(), pims_cache::Health::Volatile);
    /// ```
    pub fn in_memory() -> StepCache {
        StepCache::new(Arc::new(MemoryStore::new()))
    }

    /// The store under this cache.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let cache = pims_cache::StepCache::in_memory();
    /// assert!(cache.store().get(b"d").await.unwrap().is_none());
    /// # });
    /// ```
    pub fn store(&self) -> &Arc<dyn StepStore> {
        &self.store
    }

    /// Whether the store's writes survive the process (see [`Health`]).
    ///
    /// ```
    /// assert!(!pims_cache::StepCache::in_memory().health().is_degraded());
    /// ```
    pub fn health(&self) -> Health {
        self.store.health()
    }

    /// The namespace of `account` on this device ([`device_id`](StepCache::device_id)).
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let cache = pims_cache::StepCache::in_memory();
    /// let ns = cache.namespace("acct").await.unwrap();
    /// assert_eq!(ns.device(), &cache.device_id().await.unwrap());
    /// # });
    /// ```
    pub async fn namespace(&self, account: impl Into<String>) -> Result<Namespace, CacheError> {
        let account = account.into();
        Namespace::check_account(&account)?;
        Namespace::new(account, self.device_id().await?)
    }

    /// Flushes; whether the cached state is now durable. A failed flush is not an error for
    /// the caller (the answer is still right), only a lost guarantee: traced and reported.
    async fn settle(&self) -> bool {
        if !self.store.needs_flush() {
            return self.store.health().is_durable();
        }
        match self.store.flush().await {
            Ok(()) => self.store.health().is_durable(),
            Err(e) => {
                warn!(error = %e, "pims-cache: a change could not be made durable");
                false
            }
        }
    }
}

fn check_steps_id(sid: &str) -> Result<(), CacheError> {
    if sid.is_empty() || sid.len() > MAX_STEPS_ID_LEN {
        return Err(CacheError::invalid(
            "stepsID",
            format!("expected 1 to {MAX_STEPS_ID_LEN} bytes"),
        ));
    }
    Ok(())
}
