//! The step cache: the sticky rule applied atomically over any [`StepStore`].

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};

use pims_types::{StepsList, StepsSelector, Vin};
use tracing::{debug, info, warn};

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::keys::{self, Link, SpaceId};
use crate::memo::Memo;
use crate::memory::MemoryStore;
use crate::namespace::{ListKeys, Namespace};
use crate::record::{self, ListRecord};
use crate::spaces::{self, Spaces};
use crate::store::{Health, StepStore, Swap};

/// How many times one compare-and-swap loop retries before giving up with
/// [`CacheError::Contention`]. Every conflict means another writer made progress, so this is
/// only reached under pathological contention on one list.
const MAX_ATTEMPTS: u32 = 1000;

/// Longest stepsID the cache accepts in a key (the wire model already bounds real ones).
const MAX_STEPS_ID_LEN: usize = 1024;

/// How many list records [`StepCache::wipe`] removes between two flushes.
const WIPE_BATCH: usize = 256;

/// The result of [`StepCache::merge`].
///
/// ```
/// # use pims_cache::*; use pims_types::*;
/// let cache = StepCache::in_memory();
/// let ns = cache.namespace("acct").unwrap();
/// let fresh = StepsList::new(StepsId::number(1), vec![Step::new(StepName::DeviceActivation, StepStatus::Todo, 2)]);
/// let m = cache.merge(&ns, &ListKeys::new(), &fresh).unwrap();
/// assert!(m.changed);
/// assert!(!m.durable); // an in-memory store is never durable
/// assert_eq!(m.list, fresh);
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

/// The result of [`StepCache::reset`], [`StepCache::invalidate_device`] and
/// [`StepCache::wipe`].
///
/// ```
/// # use pims_cache::*; use pims_types::*;
/// let cache = StepCache::in_memory();
/// let ns = cache.namespace("acct").unwrap();
/// let r = cache.reset(&ns, &StepsSelector::steps_id("1").unwrap()).unwrap();
/// assert_eq!(r.lists, 0);
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
    /// [`wipe`](StepCache::wipe); 0 on a volatile or degraded store.
    pub durable_lists: usize,
}

impl Removed {
    /// After removing `lists` lists and flushing: all durable, or none known to be.
    fn settled(lists: usize, durable: bool) -> Removed {
        Removed {
            lists,
            durable,
            durable_lists: if durable { lists } else { 0 },
        }
    }
}

/// One cached list, as [`StepCache::lists`] shows it.
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

/// What [`StepCache::check`] found (and repaired).
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

/// The step cache: the sticky `alreadyDone` rule, atomically, over any [`StepStore`].
///
/// Cheap to clone (clones share the store); safe to use from many threads. Every method may
/// block the calling thread on disk I/O (a change is flushed before the method returns):
/// async callers use `spawn_blocking`.
///
/// Storage failures on the sled store do not surface here: the store degrades to memory and
/// [`health`](StepCache::health) says so, while every method keeps answering.
///
/// ```
/// use pims_cache::{ListKeys, StepCache};
/// use pims_types::*;
///
/// let cache = StepCache::in_memory();
/// let ns = cache.namespace("account-1").unwrap();
/// let by_car = StepsSelector::car_association_id("987654").unwrap();
/// let keys = ListKeys::from(&by_car);
///
/// let answer = |status| StepsList::new(StepsId::number(132324), vec![
///     Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
///     Step::new(StepName::DeviceActivation, status, 2)]);
///
/// cache.merge(&ns, &keys, &answer(StepStatus::AlreadyDone)).unwrap();
/// // The backend now says todo: the cache keeps alreadyDone.
/// let m = cache.merge(&ns, &keys, &answer(StepStatus::Todo)).unwrap();
/// assert!(m.list.all_done());
/// assert!(!m.changed);
/// // One list, three names.
/// assert_eq!(cache.get(&ns, &StepsSelector::steps_id("132324").unwrap()).unwrap(), Some(m.list));
/// // resetSteps: true
/// cache.reset(&ns, &by_car).unwrap();
/// assert_eq!(cache.get(&ns, &StepsSelector::steps_id("132324").unwrap()).unwrap(), None);
/// ```
#[derive(Clone)]
pub struct StepCache {
    store: Arc<dyn StepStore>,
    device: Arc<OnceLock<DeviceId>>,
    memo: Arc<Memo>,
    spaces: Arc<Spaces>,
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
    /// let cache = pims_cache::StepCache::in_memory();
    /// assert!(cache.store().get(b"d").unwrap().is_none());
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

    /// This device's id: created (random, flushed) the first time, the same forever after,
    /// across restarts, for every cache over the same store. A store that keeps the id apart
    /// from its entries ([`StepStore::keep_device_id`]: the sled store's own file) holds the
    /// reference copy, so that a recovery of the entries cannot lose it; the entry follows.
    /// A new id is created (with a warning when one was unreadable) only when no readable id
    /// exists anywhere.
    ///
    /// ```
    /// let cache = pims_cache::StepCache::in_memory();
    /// let id = cache.device_id().unwrap();
    /// assert_eq!(cache.clone().device_id().unwrap(), id);
    /// assert_eq!(pims_cache::StepCache::new(cache.store().clone()).device_id().unwrap(), id);
    /// ```
    pub fn device_id(&self) -> Result<DeviceId, CacheError> {
        if let Some(id) = self.device.get() {
            return Ok(id.clone());
        }
        if let Some(id) = self.store.kept_device_id()? {
            return Ok(self.device.get_or_init(|| id).clone());
        }
        let mut current = self.store.get(keys::DEVICE)?;
        for _ in 0..MAX_ATTEMPTS {
            let (id, created) = match current.as_deref().map(DeviceId::from_record) {
                Some(Ok(id)) => (id, false),
                unreadable => {
                    if let Some(Err(why)) = unreadable {
                        warn!(reason = %why, "pims-cache: the device id record is unreadable; creating a new device id");
                    }
                    (DeviceId::generate(), true)
                }
            };
            // Kept apart first: from then on no recovery of the entries can lose it. The
            // store answers with the id it kept, if another caller kept one first.
            let kept = self.store.keep_device_id(&id)?;
            let created = created && kept.as_ref().is_none_or(|k| *k == id);
            let id = kept.clone().unwrap_or(id);
            let bytes = id.to_record()?;
            if current.as_deref() == Some(bytes.as_slice()) {
                // Another thread may have just created it: use it only once durable.
                self.settle();
                return Ok(self.device.get_or_init(|| id).clone());
            }
            match self
                .store
                .compare_and_swap(keys::DEVICE, current.as_deref(), Some(&bytes))?
            {
                Swap::Swapped => {
                    let durable = self.settle() || kept.is_some();
                    if created && durable {
                        info!("pims-cache: created this device's id");
                    } else if created {
                        warn!(
                            "pims-cache: created this device's id, but the store is not durable: it will change after a restart"
                        );
                    }
                    return Ok(self.device.get_or_init(|| id).clone());
                }
                Swap::Conflict { current: now } => current = now,
            }
        }
        Err(CacheError::Contention {
            attempts: MAX_ATTEMPTS,
        })
    }

    /// The namespace of `account` on this device ([`device_id`](StepCache::device_id)).
    ///
    /// ```
    /// let cache = pims_cache::StepCache::in_memory();
    /// let ns = cache.namespace("acct").unwrap();
    /// assert_eq!(ns.device(), &cache.device_id().unwrap());
    /// ```
    pub fn namespace(&self, account: impl Into<String>) -> Result<Namespace, CacheError> {
        Namespace::new(account, self.device_id()?)
    }

    /// Merges a fresh backend list into the cached one with the sticky rule
    /// ([`pims_types::merge`]): a step once `alreadyDone` stays so. Atomic (a compare-and-swap
    /// loop: concurrent merges of one list never lose each other's steps); writes only when
    /// the result differs from what is stored; a change is flushed before this returns.
    ///
    /// `keys` names every identifier the caller knows; the list becomes reachable by each of
    /// them and by its own stepsID. When an identifier named another cached list before (a
    /// new stepsID for the same carAssociationID, a VIN now answered with another list), that
    /// list's `alreadyDone` steps carry over into this one, and a list replaced under the same
    /// carAssociationID is removed.
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").unwrap();
    /// let vin = Vin::parse("VR1AB12C3D4567890").unwrap();
    /// let done = StepsList::new(StepsId::number(5), vec![Step::new(StepName::MediumCarKey, StepStatus::AlreadyDone, 3)]);
    /// cache.merge(&ns, &ListKeys::new().with_vin(vin.clone()), &done).unwrap();
    /// assert!(cache.get(&ns, &StepsSelector::Vin(vin)).unwrap().unwrap().all_done());
    /// // The answer must be the list the request named.
    /// let wrong = ListKeys::new().with_steps_id(StepsId::number(6));
    /// assert!(matches!(cache.merge(&ns, &wrong, &done), Err(CacheError::StepsIdMismatch { .. })));
    /// ```
    pub fn merge(
        &self,
        ns: &Namespace,
        keys: &ListKeys,
        fresh: &StepsList,
    ) -> Result<Merged, CacheError> {
        let sid = fresh.steps_id();
        if let Some(asked) = &keys.steps_id
            && asked != sid
        {
            return Err(CacheError::StepsIdMismatch {
                requested: asked.as_str().to_owned(),
                answered: sid.as_str().to_owned(),
            });
        }
        check_steps_id(sid.as_str())?;
        let id = match self.spaces.find(&*self.store, ns)? {
            Some(id) => id,
            None => {
                // Nothing is written for a request the cache refuses.
                keys.validate()?;
                self.spaces.find_or_create(&*self.store, ns)?
            }
        };
        let links = keys.links();
        let rkey = keys::list_key(id, sid.as_str());
        let ikeys: Vec<Vec<u8>> = links.iter().map(|l| keys::index_key(id, l)).collect();

        // 0. Nothing changed in the store since we last saw this list whole: no read needed.
        let generation = self.store.generation();
        if let Some(g) = generation {
            let cached = self.memo.lookup(g, |m| {
                let linked = ikeys
                    .iter()
                    .all(|k| m.links.get(k).is_some_and(|t| t == sid.as_str()));
                if linked {
                    m.records.get(&rkey).cloned()
                } else {
                    None
                }
            });
            // (Every link is claimed already, so only the steps can differ.)
            if let Some(cached) = cached {
                let list = pims_types::merge(&cached.list, fresh);
                if list == cached.list {
                    return Ok(Merged {
                        list,
                        changed: false,
                        durable: self.settle(),
                    });
                }
            }
        }
        // (A memo hit implies identifiers validated when first written.)
        keys.validate()?;
        let target = record::encode_target(sid.as_str());

        // 1. Link every identifier first: a reset through any of them then finds the record
        //    even if we crash right after writing it. Lists the identifiers named before
        //    contribute their alreadyDone steps.
        let mut wrote = false;
        let mut carried: Vec<ListRecord> = Vec::new();
        let mut superseded: Vec<(Vec<u8>, Vec<u8>, ListRecord)> = Vec::new();
        for (link, ikey) in links.iter().zip(&ikeys) {
            let current = self.store.get(ikey)?;
            if current.as_deref() == Some(target.as_slice()) {
                continue;
            }
            if let Some(Ok(other)) = current.as_deref().map(record::decode_text)
                && other != sid.as_str()
            {
                let okey = keys::list_key(id, &other);
                if let Some((obytes, orec)) = self.load(&okey, &other)?
                    && orec.claims(link)
                {
                    if matches!(link, Link::Car(_)) {
                        // Same carAssociationID, new stepsID: the old record is this list.
                        superseded.push((okey, obytes, orec.clone()));
                    }
                    carried.push(orec);
                }
            }
            wrote |= self.link(ikey, current, &target)?;
        }

        // 2. The record itself: compare-and-swap from what is stored, retried on conflict.
        let mut current = self.store.get(&rkey)?;
        let mut attempts = 0;
        let (merged, changed) = loop {
            let cached = match current
                .as_deref()
                .map(|b| record::decode_list(b, sid.as_str()))
            {
                Some(Ok(rec)) => Some(rec),
                Some(Err(why)) => {
                    warn!(reason = %why, "pims-cache: replacing an unreadable cache record");
                    None
                }
                None => None,
            };
            let merged = build(cached.as_ref(), &carried, &superseded, &links, fresh);
            if cached.as_ref() == Some(&merged) {
                break (merged, false);
            }
            let bytes = record::encode_list(&merged);
            match self
                .store
                .compare_and_swap(&rkey, current.as_deref(), Some(&bytes))?
            {
                Swap::Swapped => break (merged, true),
                Swap::Conflict { current: now } => {
                    attempts += 1;
                    if attempts >= MAX_ATTEMPTS {
                        return Err(CacheError::Contention { attempts });
                    }
                    current = now;
                }
            }
        };
        wrote |= changed;

        if wrote {
            // 3. Repair: a concurrent reset or lookup may have removed a link between steps 1
            //    and 2, and inherited identifiers need theirs.
            for link in merged.links() {
                let ikey = keys::index_key(id, &link);
                let current = self.store.get(&ikey)?;
                self.link(&ikey, current, &target)?;
            }
            for (okey, obytes, _) in &superseded {
                let _ = self.store.compare_and_swap(okey, Some(obytes), None)?;
            }
            debug!(steps_id = %sid, "pims-cache: cached list changed");
        } else if let Some(g) = generation {
            // Read whole and unchanged: remember it for the next merge.
            let linked = ikeys.into_iter().map(|k| (k, sid.as_str().to_owned()));
            self.memo
                .remember(g, (rkey, Arc::new(merged.clone())), linked);
        }
        let durable = self.settle();
        Ok(Merged {
            list: merged.list,
            changed: wrote,
            durable,
        })
    }

    /// The cached list `selector` names in `ns`, if any. Never crosses namespaces. A record
    /// that does not decode is a miss (and is removed).
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").unwrap();
    /// assert_eq!(cache.get(&ns, &StepsSelector::car_association_id("1").unwrap()).unwrap(), None);
    /// ```
    pub fn get(
        &self,
        ns: &Namespace,
        selector: &StepsSelector,
    ) -> Result<Option<StepsList>, CacheError> {
        let Some(id) = self.spaces.find(&*self.store, ns)? else {
            return Ok(None); // a namespace without an id has no lists
        };
        let (rkey, link) = match selector {
            StepsSelector::StepsId(s) => {
                if check_steps_id(s.as_str()).is_err() {
                    return Ok(None);
                }
                (Some(keys::list_key(id, s.as_str())), None)
            }
            StepsSelector::CarAssociationId(c) => (None, Some(Link::Car(c.clone()))),
            StepsSelector::Vin(v) => (None, Some(Link::Vin(v.clone()))),
        };
        let ikey = link.as_ref().map(|l| keys::index_key(id, l));
        let generation = self.store.generation();
        if let Some(g) = generation {
            let hit = self.memo.lookup(g, |m| match (&rkey, &ikey) {
                (Some(rkey), _) => m.records.get(rkey).cloned(),
                (None, Some(ikey)) => {
                    let sid = m.links.get(ikey)?;
                    m.records.get(&keys::list_key(id, sid)).cloned()
                }
                (None, None) => None,
            });
            if let Some(rec) = hit {
                let _ = self.settle();
                return Ok(Some(rec.list.clone()));
            }
        }
        let found = match (&rkey, &link) {
            (Some(rkey), _) => {
                let sid = selector.value();
                self.load(rkey, sid)?.map(|(_, rec)| rec)
            }
            (None, Some(link)) => self.follow(id, link)?,
            (None, None) => None,
        };
        if let (Some(g), Some(rec)) = (generation, &found) {
            let sid = rec.list.steps_id().as_str().to_owned();
            let record_key = keys::list_key(id, &sid);
            let linked = ikey.map(|k| (k, sid));
            self.memo
                .remember(g, (record_key, Arc::new(rec.clone())), linked);
        }
        let _ = self.settle();
        Ok(found.map(|rec| rec.list))
    }

    /// `resetSteps: true`: removes the list `selector` names and every identifier linked to
    /// it, and flushes, before returning.
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").unwrap();
    /// let car = StepsSelector::car_association_id("987654").unwrap();
    /// let list = StepsList::new(StepsId::number(1), vec![]);
    /// cache.merge(&ns, &ListKeys::from(&car), &list).unwrap();
    /// assert_eq!(cache.reset(&ns, &StepsSelector::steps_id("1").unwrap()).unwrap().lists, 1);
    /// assert_eq!(cache.get(&ns, &car).unwrap(), None);
    /// ```
    pub fn reset(&self, ns: &Namespace, selector: &StepsSelector) -> Result<Removed, CacheError> {
        let lists = match self.spaces.find(&*self.store, ns)? {
            None => 0,
            Some(id) => match selector {
                StepsSelector::StepsId(s) => {
                    if check_steps_id(s.as_str()).is_err() {
                        0
                    } else {
                        self.remove_list(id, s.as_str(), None)?
                    }
                }
                StepsSelector::CarAssociationId(c) => self.reset_link(id, &Link::Car(c.clone()))?,
                StepsSelector::Vin(v) => self.reset_link(id, &Link::Vin(v.clone()))?,
            },
        };
        Ok(Removed::settled(lists, self.settle()))
    }

    /// The 2312/2317 cure: removes every cached list of `ns` (this account on this device) and
    /// all their identifiers, durably. Equivalent to `resetSteps: true` on each of them, which
    /// is what the documentation tells apps to do after those errors.
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").unwrap();
    /// for id in [1, 2] {
    ///     cache.merge(&ns, &ListKeys::new(), &StepsList::new(StepsId::number(id), vec![])).unwrap();
    /// }
    /// assert_eq!(cache.invalidate_device(&ns).unwrap().lists, 2);
    /// assert!(cache.lists(Some(&ns)).unwrap().is_empty());
    /// ```
    pub fn invalidate_device(&self, ns: &Namespace) -> Result<Removed, CacheError> {
        let lists = match self.spaces.find(&*self.store, ns)? {
            None => 0,
            Some(id) => {
                let lists = self.remove_prefix(&keys::prefix(keys::LIST, id))?;
                self.remove_prefix(&keys::prefix(keys::INDEX, id))?;
                lists
            }
        };
        if lists > 0 {
            info!(
                lists,
                "pims-cache: dropped this device's cached steps (stale after 2312/2317)"
            );
        }
        Ok(Removed::settled(lists, self.settle()))
    }

    /// Removes every cached list of every namespace, with their identifiers (`pims cache
    /// wipe`). The device id stays (it is the device's identity with the backend, not cached
    /// state), and so do the namespace ids. Lists are removed in batches, each flushed, so
    /// that [`Removed::durable_lists`] tells how many removals reached the disk when it fails
    /// part-way (a full disk); on a degraded store none does.
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let id = cache.device_id().unwrap();
    /// let ns = cache.namespace("acct").unwrap();
    /// cache.merge(&ns, &ListKeys::new(), &StepsList::new(StepsId::number(1), vec![])).unwrap();
    /// let removed = cache.wipe().unwrap();
    /// assert_eq!((removed.lists, removed.durable_lists), (1, 0)); // (a memory store)
    /// assert_eq!(cache.device_id().unwrap(), id);
    /// ```
    pub fn wipe(&self) -> Result<Removed, CacheError> {
        let mut records = Vec::new();
        self.store.scan_prefix(&[keys::LIST], &mut |k, _| {
            records.push(k.to_vec());
            ControlFlow::Continue(())
        })?;
        let (mut lists, mut durable_lists) = (0, 0);
        // Records first (a link to nothing is a miss), so a failure part-way leaves nothing
        // wrong; each batch flushed, so what is reported durable is.
        for batch in records.chunks(WIPE_BATCH) {
            let mut removed = 0;
            for k in batch {
                if self.store.remove(k)?.is_some() {
                    removed += 1;
                }
            }
            lists += removed;
            if self.settle() {
                durable_lists += removed;
            }
        }
        self.remove_prefix(&[keys::INDEX])?;
        let durable = self.settle() && durable_lists == lists;
        Ok(Removed {
            lists,
            durable,
            durable_lists,
        })
    }

    /// Every cached list of `ns`, or of every namespace (`None`), in key order (`pims cache
    /// show`). Unreadable records are skipped and removed.
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").unwrap();
    /// let keys = ListKeys::new().with_car_association_id("987654");
    /// cache.merge(&ns, &keys, &StepsList::new(StepsId::number(1), vec![])).unwrap();
    /// let all = cache.lists(None).unwrap();
    /// assert_eq!(all[0].account, "acct");
    /// assert_eq!(all[0].car_association_id.as_deref(), Some("987654"));
    /// ```
    pub fn lists(&self, ns: Option<&Namespace>) -> Result<Vec<CachedList>, CacheError> {
        let (prefix, names) = match ns {
            Some(ns) => {
                let Some(id) = self.spaces.find(&*self.store, ns)? else {
                    return Ok(Vec::new());
                };
                let name = (ns.account().to_owned(), ns.device().as_str().to_owned());
                (keys::prefix(keys::LIST, id), HashMap::from([(id, name)]))
            }
            None => (vec![keys::LIST], spaces::all(&*self.store)?),
        };
        Ok(self.scan_lists(&prefix, names)?.0)
    }

    /// Reads every entry of the store, removes what does not decode and index entries that
    /// point to nothing, and reports counts. Used by tests (a crash must leave nothing
    /// unreadable) and by `pims cache show`.
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// // A list record of no known namespace, and unreadable.
    /// let _ = cache.store().compare_and_swap(b"L\x01a", None, Some(b"torn")).unwrap();
    /// let report = cache.check().unwrap();
    /// assert_eq!(report.unreadable_removed, 1);
    /// assert_eq!(cache.check().unwrap().unreadable_removed, 0);
    /// ```
    pub fn check(&self) -> Result<CheckReport, CacheError> {
        let mut report = CheckReport::default();
        let (lists, removed) = self.scan_lists(&[keys::LIST], spaces::all(&*self.store)?)?;
        report.lists = lists.len();
        report.unreadable_removed = removed;
        let mut links: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        self.store.scan_prefix(&[keys::INDEX], &mut |k, v| {
            links.push((k.to_vec(), v.to_vec()));
            ControlFlow::Continue(())
        })?;
        for (k, v) in links {
            let Some((id, link)) = keys::parse_index_key(&k) else {
                report.unreadable_removed += 1;
                self.discard(&k, &v, "malformed index key")?;
                continue;
            };
            let sid = match record::decode_text(&v) {
                Ok(sid) => sid,
                Err(why) => {
                    report.unreadable_removed += 1;
                    self.discard(&k, &v, &why)?;
                    continue;
                }
            };
            let claimed = match self.store.get(&keys::list_key(id, &sid))? {
                Some(bytes) => record::decode_list(&bytes, &sid).is_ok_and(|rec| rec.claims(&link)),
                None => false,
            };
            if claimed {
                report.links += 1;
            } else {
                report.dangling_removed += 1;
                let _ = self.store.compare_and_swap(&k, Some(&v), None)?;
            }
        }
        if let Some(bytes) = self.store.get(keys::DEVICE)?
            && let Err(why) = DeviceId::from_record(&bytes)
        {
            report.unreadable_removed += 1;
            self.discard(keys::DEVICE, &bytes, &why)?;
        }
        let _ = self.settle();
        Ok(report)
    }

    // ---- internals ------------------------------------------------------------------

    /// The readable list records under `prefix` (`names`: the namespaces known so far), and
    /// how many unreadable ones were removed. A record of a namespace `names` does not know
    /// may belong to one created since `names` was read (its id entries are written before
    /// its first record): it is checked again against a fresh read before being removed.
    fn scan_lists(
        &self,
        prefix: &[u8],
        mut names: HashMap<SpaceId, (String, String)>,
    ) -> Result<(Vec<CachedList>, usize), CacheError> {
        let mut found = Vec::new();
        let mut bad = Vec::new();
        let mut unknown = Vec::new();
        self.store.scan_prefix(prefix, &mut |k, v| {
            match decode_entry(k, v, &names) {
                Ok(entry) => found.push(entry),
                Err(Unusable::UnknownNamespace) => unknown.push((k.to_vec(), v.to_vec())),
                Err(Unusable::Bad(why)) => bad.push((k.to_vec(), v.to_vec(), why)),
            }
            ControlFlow::Continue(())
        })?;
        if !unknown.is_empty() {
            names = spaces::all(&*self.store)?;
            for (k, v) in unknown {
                match decode_entry(&k, &v, &names) {
                    Ok(entry) => found.push(entry),
                    Err(Unusable::UnknownNamespace) => {
                        bad.push((k, v, "a list of no known namespace".to_owned()));
                    }
                    Err(Unusable::Bad(why)) => bad.push((k, v, why)),
                }
            }
        }
        let removed = bad.len();
        for (k, v, why) in bad {
            self.discard(&k, &v, &why)?;
        }
        Ok((found, removed))
    }

    /// Flushes; whether the cached state is now durable. A failed flush is not an error for
    /// the caller (the answer is still right), only a lost guarantee: traced and reported.
    fn settle(&self) -> bool {
        match self.store.flush() {
            Ok(()) => self.store.health().is_durable(),
            Err(e) => {
                warn!(error = %e, "pims-cache: a change could not be made durable");
                false
            }
        }
    }

    /// List record `sid` of a namespace (at `key`) and its bytes; an unreadable one is
    /// removed and reads as absent.
    fn load(&self, key: &[u8], sid: &str) -> Result<Option<(Vec<u8>, ListRecord)>, CacheError> {
        let Some(bytes) = self.store.get(key)? else {
            return Ok(None);
        };
        match record::decode_list(&bytes, sid) {
            Ok(rec) => Ok(Some((bytes, rec))),
            Err(why) => {
                self.discard(key, &bytes, &why)?;
                Ok(None)
            }
        }
    }

    /// Removes an unreadable entry, unless it changed meanwhile.
    fn discard(&self, key: &[u8], bytes: &[u8], why: &str) -> Result<(), CacheError> {
        warn!(reason = %why, "pims-cache: removed an unreadable cache record");
        let _ = self.store.compare_and_swap(key, Some(bytes), None)?;
        Ok(())
    }

    /// Points `ikey` at `target` (an encoded stepsID); whether it wrote.
    fn link(
        &self,
        ikey: &[u8],
        mut current: Option<Vec<u8>>,
        target: &[u8],
    ) -> Result<bool, CacheError> {
        for _ in 0..MAX_ATTEMPTS {
            if current.as_deref() == Some(target) {
                return Ok(false);
            }
            match self
                .store
                .compare_and_swap(ikey, current.as_deref(), Some(target))?
            {
                Swap::Swapped => return Ok(true),
                Swap::Conflict { current: now } => current = now,
            }
        }
        Err(CacheError::Contention {
            attempts: MAX_ATTEMPTS,
        })
    }

    /// The list an identifier links to, if the list still claims it; a link to nothing is
    /// removed.
    fn follow(&self, id: SpaceId, link: &Link) -> Result<Option<ListRecord>, CacheError> {
        let ikey = keys::index_key(id, link);
        let Some(ibytes) = self.store.get(&ikey)? else {
            return Ok(None);
        };
        let sid = match record::decode_text(&ibytes) {
            Ok(sid) => sid,
            Err(why) => {
                self.discard(&ikey, &ibytes, &why)?;
                return Ok(None);
            }
        };
        match self.load(&keys::list_key(id, &sid), &sid)? {
            Some((_, rec)) if rec.claims(link) => Ok(Some(rec)),
            _ => {
                // Dangling: the list was reset, or the identifier moved. A merge racing with
                // this removal re-links in its repair step.
                let _ = self.store.compare_and_swap(&ikey, Some(&ibytes), None)?;
                Ok(None)
            }
        }
    }

    /// Reset through a carAssociationID or a VIN.
    fn reset_link(&self, id: SpaceId, link: &Link) -> Result<usize, CacheError> {
        let ikey = keys::index_key(id, link);
        let Some(ibytes) = self.store.get(&ikey)? else {
            return Ok(0);
        };
        let removed = match record::decode_text(&ibytes) {
            Ok(sid) => self.remove_list(id, &sid, Some(link))?,
            Err(_) => 0,
        };
        // The identifier's own link, whatever it pointed to (unless it was re-pointed since).
        let _ = self.store.compare_and_swap(&ikey, Some(&ibytes), None)?;
        Ok(removed)
    }

    /// Removes list `sid` of `ns` (reached through `via`: only if the list claims it), then the
    /// links it claims. The record goes first: from then on its links point to nothing, which
    /// every lookup treats as a miss, so a crash in between loses nothing it should keep.
    fn remove_list(&self, id: SpaceId, sid: &str, via: Option<&Link>) -> Result<usize, CacheError> {
        let rkey = keys::list_key(id, sid);
        let mut current = self.store.get(&rkey)?;
        for _ in 0..MAX_ATTEMPTS {
            let Some(bytes) = current else {
                return Ok(0);
            };
            let rec = record::decode_list(&bytes, sid).ok();
            if let (Some(link), Some(rec)) = (via, &rec)
                && !rec.claims(link)
            {
                return Ok(0);
            }
            match self.store.compare_and_swap(&rkey, Some(&bytes), None)? {
                Swap::Swapped => {
                    let target = record::encode_target(sid);
                    for link in rec.map(|r| r.links()).unwrap_or_default() {
                        let ikey = keys::index_key(id, &link);
                        let _ = self.store.compare_and_swap(&ikey, Some(&target), None)?;
                    }
                    return Ok(1);
                }
                Swap::Conflict { current: now } => current = now,
            }
        }
        Err(CacheError::Contention {
            attempts: MAX_ATTEMPTS,
        })
    }

    /// Removes every entry under `prefix`; how many there were.
    fn remove_prefix(&self, prefix: &[u8]) -> Result<usize, CacheError> {
        let mut found = Vec::new();
        self.store.scan_prefix(prefix, &mut |k, _| {
            found.push(k.to_vec());
            ControlFlow::Continue(())
        })?;
        let mut removed = 0;
        for k in found {
            if self.store.remove(&k)?.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
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

/// The record `merge` writes: the fresh list with the stickiness of every cached list it
/// stands for, and every identifier known for it.
fn build(
    cached: Option<&ListRecord>,
    carried: &[ListRecord],
    superseded: &[(Vec<u8>, Vec<u8>, ListRecord)],
    links: &[Link],
    fresh: &StepsList,
) -> ListRecord {
    let mut list = None;
    for other in carried.iter().chain(cached) {
        let merged = pims_types::merge(&other.list, list.as_ref().unwrap_or(fresh));
        list = Some(merged);
    }
    let list = list.unwrap_or_else(|| fresh.clone());
    let mut car = None;
    let mut vin = None;
    for link in links {
        match link {
            Link::Car(c) => car = Some(c.clone()),
            Link::Vin(v) => vin = Some(v.clone()),
        }
    }
    let car = car.or_else(|| cached.and_then(|c| c.car.clone()));
    let vin = vin
        .or_else(|| cached.and_then(|c| c.vin.clone()))
        .or_else(|| superseded.iter().find_map(|(_, _, old)| old.vin.clone()));
    ListRecord { list, car, vin }
}

/// Why a scanned list entry is not served.
enum Unusable {
    /// Its namespace id is not among those known (yet).
    UnknownNamespace,
    /// It is unreadable: why.
    Bad(String),
}

/// A list entry of a scan, checked: well-formed key of a known namespace (`names`: id →
/// account, device), readable record.
fn decode_entry(
    key: &[u8],
    value: &[u8],
    names: &HashMap<SpaceId, (String, String)>,
) -> Result<CachedList, Unusable> {
    let bad = |why: &str| Unusable::Bad(why.to_owned());
    let (id, sid) = keys::parse_list_key(key).ok_or_else(|| bad("malformed list key"))?;
    let (account, device) = names.get(&id).ok_or(Unusable::UnknownNamespace)?;
    let device = DeviceId::parse(device).map_err(|e| Unusable::Bad(e.to_string()))?;
    let rec = record::decode_list(value, sid).map_err(Unusable::Bad)?;
    Ok(CachedList {
        account: account.clone(),
        device,
        list: rec.list,
        car_association_id: rec.car,
        vin: rec.vin,
    })
}
