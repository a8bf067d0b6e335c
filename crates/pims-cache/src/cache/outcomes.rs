//! What the cache's calls answer.

use pims_types::{StepsList, Vin};

use crate::device::DeviceId;

/// The result of [`StepCache::merge`](crate::StepCache::merge).
///
/// ```
/// # futures_executor::block_on(async {
/// # use pims_cache::*; use pims_types::*;
/// let cache = StepCache::in_memory();
/// let ns = cache.namespace("acct").await.unwrap();
/// let fresh = StepsList::new(StepsId::number(1), vec![Step::new(StepName::DeviceActivation, StepStatus::Todo, 2)]);
/// let m = cache.merge(&ns, &ListKeys::new(), &fresh).await.unwrap();
/// assert!(m.changed);
/// assert!(!m.durable); // an in-memory store is never durable
/// assert_eq!(m.list, fresh);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Merged {
    /// The merged list: what the caller answers with (then filters).
    pub list: StepsList,
    /// Whether the cache had to write (a step changed, or an identifier was linked).
    pub changed: bool,
    /// Whether the cached state is durable: on disk before `merge` returned. False on a
    /// volatile or degraded store, or when the flush failed.
    pub durable: bool,
}

/// The result of [`StepCache::reset`](crate::StepCache::reset),
/// [`StepCache::invalidate_device`](crate::StepCache::invalidate_device) and
/// [`StepCache::wipe`](crate::StepCache::wipe).
///
/// ```
/// # futures_executor::block_on(async {
/// # use pims_cache::*; use pims_types::*;
/// let cache = StepCache::in_memory();
/// let ns = cache.namespace("acct").await.unwrap();
/// let r = cache.reset(&ns, &StepsSelector::steps_id("1").unwrap()).await.unwrap();
/// assert_eq!(r.lists, 0);
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Removed {
    /// How many lists were removed (from what this process sees).
    pub lists: usize,
    /// Whether the removal is on disk (false on a volatile or degraded store, or when the
    /// flush failed).
    pub durable: bool,
    /// How many of the removed lists are removed on disk (a flush covered their removal):
    /// `lists` when `durable`; fewer when the disk failed part-way through a
    /// [`wipe`](crate::StepCache::wipe); 0 on a volatile or degraded store.
    pub durable_lists: usize,
}

impl Removed {
    /// After removing `lists` lists and flushing: all durable, or none known to be.
    pub(super) fn settled(lists: usize, durable: bool) -> Removed {
        Removed {
            lists,
            durable,
            durable_lists: if durable { lists } else { 0 },
        }
    }
}

/// One cached list, as [`StepCache::lists`](crate::StepCache::lists) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedList {
    /// The account it belongs to.
    pub account: String,
    /// The device it belongs to.
    pub device: DeviceId,
    /// The list (with its stepsID).
    pub list: StepsList,
    /// The carAssociationID it is reachable by, if the cache has seen it.
    pub car_association_id: Option<String>,
    /// The VIN it is reachable by, if the cache has seen it.
    pub vin: Option<Vin>,
}

/// What [`StepCache::check`](crate::StepCache::check) found (and repaired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CheckReport {
    /// Readable list records.
    pub lists: usize,
    /// Index entries pointing to a list that claims them.
    pub links: usize,
    /// Records that did not decode (torn, foreign, unknown format) or belong to no namespace
    /// (orphans of lost namespace entries): removed.
    pub unreadable_removed: usize,
    /// Index entries pointing to nothing (a reset list, a moved identifier): removed.
    pub dangling_removed: usize,
}
