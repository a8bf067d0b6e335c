//! The rule: merge a backend list into the cached one (sticky `alreadyDone`), look a list up by
//! any of its names, reset it, invalidate a device's lists, wipe, list. `merge` drives the
//! write order itself (links, record, repair); the primitives that write, follow and remove
//! links and lists are in `links`, reading with repair is in `repair`.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use pims_types::{StepsList, StepsSelector};
use tracing::{debug, info, warn};

use super::layout::Use;
use super::{CachedList, MAX_ATTEMPTS, Merged, Removed, StepCache, check_steps_id};
use crate::error::CacheError;
use crate::keys::{self, Link, Removable};
use crate::namespace::{ListKeys, Namespace};
use crate::record::{self, ListRecord};
use crate::spaces;
use crate::store::Swap;

/// How many list records [`StepCache::wipe`] removes between two flushes.
const WIPE_BATCH: usize = 256;

impl StepCache {
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
        self.layout(Use::Read)?;
        let id = match self.spaces.find(&*self.store, ns)? {
            Some(id) => id,
            None => {
                // Nothing is written for a request the cache refuses.
                keys.validate()?;
                self.layout(Use::Write)?;
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
        self.layout(Use::Write)?;
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
        self.layout(Use::Read)?;
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
        self.layout(Use::Read)?;
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
        self.layout(Use::Read)?;
        let lists = match self.spaces.find(&*self.store, ns)? {
            None => 0,
            Some(id) => {
                let lists = self.remove_space(Removable::Lists, Some(id))?;
                self.remove_space(Removable::Links, Some(id))?;
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
        self.layout(Use::Read)?;
        let mut records = Vec::new();
        let lists = Removable::Lists.all();
        self.store.scan_prefix(&lists, &mut |k, _| {
            if Removable::may_remove(&lists, k) {
                records.push(k.to_vec());
            }
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
        self.remove_space(Removable::Links, None)?;
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
        self.layout(Use::Read)?;
        let (id, names) = match ns {
            Some(ns) => {
                let Some(id) = self.spaces.find(&*self.store, ns)? else {
                    return Ok(Vec::new());
                };
                let name = (ns.account().to_owned(), ns.device().as_str().to_owned());
                (Some(id), HashMap::from([(id, name)]))
            }
            None => (None, spaces::all(&*self.store)?),
        };
        Ok(self.scan_lists(id, names)?.0)
    }
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
