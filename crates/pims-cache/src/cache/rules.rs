//! The rule: merge a backend list into the cached one (sticky `alreadyDone`), look a list up by
//! any of its names, reset it, invalidate a device's lists, wipe, list. `merge` reads the record
//! and its links in one `get_many` and writes whatever changed in one conditional batch
//! (`swap_all`), redone from a fresh read when another writer got there first; following and
//! removing links and lists is in `links`, reading with repair is in `repair`.

use std::collections::HashMap;
use std::sync::Arc;

use pims_types::{StepsList, StepsSelector};
use tracing::{debug, info, warn};

use super::layout::Use;
use super::{CachedList, MAX_ATTEMPTS, Merged, Removed, StepCache, check_steps_id};
use crate::error::CacheError;
use crate::keys::{self, Link, Removable, SpaceId};
use crate::namespace::{ListKeys, Namespace};
use crate::record::{self, ListRecord};
use crate::scan;
use crate::spaces;
use crate::store::{BatchSwap, KeySwap};

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
    /// # futures_executor::block_on(async {
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").await.unwrap();
    /// let vin = Vin::parse("VR1AB12C3D4567890").unwrap();
    /// let done = StepsList::new(StepsId::number(5), vec![Step::new(StepName::MediumCarKey, StepStatus::AlreadyDone, 3)]);
    /// cache.merge(&ns, &ListKeys::new().with_vin(vin.clone()), &done).await.unwrap();
    /// assert!(cache.get(&ns, &StepsSelector::Vin(vin)).await.unwrap().unwrap().all_done());
    /// // The answer must be the list the request named.
    /// let wrong = ListKeys::new().with_steps_id(StepsId::number(6));
    /// assert!(matches!(cache.merge(&ns, &wrong, &done).await, Err(CacheError::StepsIdMismatch { .. })));
    /// # });
    /// ```
    pub async fn merge(
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
        // The common case, answered from memory without an await of the store (and so in a
        // small future): the layout, the namespace id and the list all known, nothing changed.
        if let Some(list) = self.unchanged_in_memo(ns, keys, fresh) {
            return Ok(Merged {
                list,
                changed: false,
                durable: self.settle().await,
            });
        }
        // The rest in a future of its own, boxed, so that the common case's stays small.
        Box::pin(self.merge_with_store(ns, keys, fresh)).await
    }

    /// The merged list when the memo shows that `fresh` changes nothing: every identifier
    /// linked to the list, its record unchanged by the merge, at the store's generation.
    fn unchanged_in_memo(
        &self,
        ns: &Namespace,
        keys: &ListKeys,
        fresh: &StepsList,
    ) -> Option<StepsList> {
        let g = self.store.generation()?;
        if !self.layout_known() {
            return None;
        }
        let id = self.spaces.known(&*self.store, ns)?;
        let sid = fresh.steps_id().as_str();
        let rkey = keys::list_key(id, sid);
        let cached = self.memo.lookup(g, |m| {
            let linked = keys.links().iter().all(|l| {
                m.links
                    .get(&keys::index_key(id, l))
                    .is_some_and(|t| t == sid)
            });
            if linked {
                m.records.get(&rkey).cloned()
            } else {
                None
            }
        })?;
        // (Every link is claimed already, so only the steps can differ.)
        let list = pims_types::merge(&cached.list, fresh);
        (list == cached.list).then_some(list)
    }

    /// [`merge`](StepCache::merge) past the memo: read, build, write in one batch.
    async fn merge_with_store(
        &self,
        ns: &Namespace,
        keys: &ListKeys,
        fresh: &StepsList,
    ) -> Result<Merged, CacheError> {
        let sid = fresh.steps_id();
        self.layout(Use::Read).await?;
        let id = match self.spaces.find(&*self.store, ns).await? {
            Some(id) => id,
            None => {
                // Nothing is written for a request the cache refuses.
                keys.validate()?;
                self.layout(Use::Write).await?;
                self.spaces.find_or_create(&*self.store, ns).await?
            }
        };
        let links = keys.links();
        let rkey = keys::list_key(id, sid.as_str());
        let ikeys: Vec<Vec<u8>> = links.iter().map(|l| keys::index_key(id, l)).collect();

        // (Read before the entries it vouches for: what is read unchanged is remembered at it.)
        let generation = self.store.generation();
        keys.validate()?;
        self.layout(Use::Write).await?;
        let target = record::encode_target(sid.as_str());
        let mut attempts = 0;
        let merged = loop {
            // 1. One read of the record and of every identifier's link.
            let read = self.read_for_merge(&rkey, sid.as_str(), &ikeys).await?;
            if let Some(cached) = &read.cached
                && read.links.iter().all(|l| l.as_deref() == Some(&target[..]))
                && links.iter().all(|l| cached.claims(l))
                && pims_types::merge(&cached.list, fresh) == cached.list
            {
                // The common case: nothing to write.
                if let Some(g) = generation {
                    let linked = ikeys.iter().map(|k| (k.clone(), sid.as_str().to_owned()));
                    self.memo
                        .remember(g, (rkey, Arc::new(cached.clone())), linked);
                }
                return Ok(Merged {
                    list: cached.list.clone(),
                    changed: false,
                    durable: self.settle().await,
                });
            }
            // 2. The lists the identifiers named before contribute their alreadyDone steps;
            //    one replaced under the same carAssociationID is removed.
            let others = self
                .named_before(id, sid.as_str(), &links, &read.links)
                .await?;
            let built = build(read.cached.as_ref(), &others, &links, fresh);
            // 3. The record's identifiers it inherited need their links too.
            let inherited: Vec<Vec<u8>> = built
                .links()
                .iter()
                .map(|l| keys::index_key(id, l))
                .filter(|k| !ikeys.contains(k))
                .collect();
            let inherited_now = if inherited.is_empty() {
                Vec::new()
            } else {
                let wanted: Vec<&[u8]> = inherited.iter().map(Vec::as_slice).collect();
                self.store.get_many(&wanted).await?
            };
            // 4. All of it in one conditional write: links, record, replaced lists. Any key
            //    changed since it was read fails the whole batch, which is then redone. The
            //    order is the link protocol's (links, then the record, then removals): a store
            //    that keeps only a prefix of a batch across a crash (sled) is left in a state a
            //    crash between those writes always left.
            let bytes = record::encode_list(&built);
            let mut batch = Vec::with_capacity(2 + ikeys.len() + inherited.len() + others.len());
            for (ikey, now) in ikeys
                .iter()
                .zip(&read.links)
                .chain(inherited.iter().zip(&inherited_now))
            {
                batch.push(if now.as_deref() == Some(&target[..]) {
                    KeySwap::check(ikey, now.as_deref())
                } else {
                    KeySwap::new(ikey, now.as_deref(), Some(&target))
                });
            }
            let record_changed = read.cached.as_ref() != Some(&built);
            batch.push(if record_changed {
                KeySwap::new(&rkey, read.record.as_deref(), Some(&bytes))
            } else {
                KeySwap::check(&rkey, read.record.as_deref())
            });
            for other in &others {
                batch.push(if other.superseded {
                    KeySwap::new(&other.key, Some(&other.bytes), None)
                } else {
                    KeySwap::check(&other.key, Some(&other.bytes))
                });
            }
            let writes = batch.iter().any(|s| !s.is_check());
            match self.store.swap_all(&batch).await? {
                BatchSwap::Swapped if !writes => {
                    // Everything was in place already (read whole, checked unchanged).
                    return Ok(Merged {
                        list: built.list,
                        changed: false,
                        durable: self.settle().await,
                    });
                }
                BatchSwap::Swapped => break built,
                BatchSwap::Conflict { .. } => {
                    attempts += 1;
                    if attempts >= MAX_ATTEMPTS {
                        return Err(CacheError::Contention { attempts });
                    }
                }
            }
        };
        debug!(steps_id = %sid, "pims-cache: cached list changed");
        let durable = self.settle().await;
        Ok(Merged {
            list: merged.list,
            changed: true,
            durable,
        })
    }

    /// The record `rkey` (its bytes, and decoded when readable) and the links `ikeys`, in one
    /// read.
    async fn read_for_merge(
        &self,
        rkey: &[u8],
        sid: &str,
        ikeys: &[Vec<u8>],
    ) -> Result<MergeRead, CacheError> {
        let mut wanted: Vec<&[u8]> = Vec::with_capacity(1 + ikeys.len());
        wanted.push(rkey);
        wanted.extend(ikeys.iter().map(Vec::as_slice));
        let mut values = self.store.get_many(&wanted).await?.into_iter();
        let record = values.next().flatten();
        let links: Vec<Option<Vec<u8>>> = values.collect();
        if links.len() != ikeys.len() {
            return Err(super::links::wrong_count());
        }
        let cached = match record.as_deref().map(|b| record::decode_list(b, sid)) {
            Some(Ok(rec)) => Some(rec),
            Some(Err(why)) => {
                warn!(reason = %why, "pims-cache: replacing an unreadable cache record");
                None
            }
            None => None,
        };
        Ok(MergeRead {
            record,
            cached,
            links,
        })
    }

    /// The other lists `links` pointed to (`now`: their current values), which still claim
    /// the identifier: their alreadyDone steps carry over into list `sid`.
    async fn named_before(
        &self,
        id: SpaceId,
        sid: &str,
        links: &[Link],
        now: &[Option<Vec<u8>>],
    ) -> Result<Vec<Other>, CacheError> {
        let mut named: Vec<(String, &Link)> = Vec::new();
        for (link, value) in links.iter().zip(now) {
            if let Some(Ok(other)) = value.as_deref().map(record::decode_text)
                && other != sid
            {
                named.push((other, link));
            }
        }
        let mut others: Vec<Other> = Vec::new();
        for (other, link) in named {
            let key = keys::list_key(id, &other);
            if let Some(seen) = others.iter_mut().find(|o| o.key == key) {
                seen.superseded |= seen.record.claims(link) && matches!(link, Link::Car(_));
                continue;
            }
            if let Some((bytes, record)) = self.load(&key, &other).await?
                && record.claims(link)
            {
                others.push(Other {
                    key,
                    bytes,
                    // Same carAssociationID, new stepsID: the old record is this list.
                    superseded: matches!(link, Link::Car(_)),
                    record,
                });
            }
        }
        Ok(others)
    }

    /// The cached list `selector` names in `ns`, if any. Never crosses namespaces. A record
    /// that does not decode is a miss (and is removed).
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").await.unwrap();
    /// assert_eq!(cache.get(&ns, &StepsSelector::car_association_id("1").unwrap()).await.unwrap(), None);
    /// # });
    /// ```
    pub async fn get(
        &self,
        ns: &Namespace,
        selector: &StepsSelector,
    ) -> Result<Option<StepsList>, CacheError> {
        self.layout(Use::Read).await?;
        let Some(id) = self.spaces.find(&*self.store, ns).await? else {
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
                let _ = self.settle().await;
                return Ok(Some(rec.list.clone()));
            }
        }
        let found = match (&rkey, &link) {
            (Some(rkey), _) => {
                let sid = selector.value();
                self.load(rkey, sid).await?.map(|(_, rec)| rec)
            }
            (None, Some(link)) => self.follow(id, link).await?,
            (None, None) => None,
        };
        if let (Some(g), Some(rec)) = (generation, &found) {
            let sid = rec.list.steps_id().as_str().to_owned();
            let record_key = keys::list_key(id, &sid);
            let linked = ikey.map(|k| (k, sid));
            self.memo
                .remember(g, (record_key, Arc::new(rec.clone())), linked);
        }
        let _ = self.settle().await;
        Ok(found.map(|rec| rec.list))
    }

    /// `resetSteps: true`: removes the list `selector` names and every identifier linked to
    /// it, and flushes, before returning.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").await.unwrap();
    /// let car = StepsSelector::car_association_id("987654").unwrap();
    /// let list = StepsList::new(StepsId::number(1), vec![]);
    /// cache.merge(&ns, &ListKeys::from(&car), &list).await.unwrap();
    /// assert_eq!(cache.reset(&ns, &StepsSelector::steps_id("1").unwrap()).await.unwrap().lists, 1);
    /// assert_eq!(cache.get(&ns, &car).await.unwrap(), None);
    /// # });
    /// ```
    pub async fn reset(
        &self,
        ns: &Namespace,
        selector: &StepsSelector,
    ) -> Result<Removed, CacheError> {
        self.layout(Use::Read).await?;
        let lists = match self.spaces.find(&*self.store, ns).await? {
            None => 0,
            Some(id) => match selector {
                StepsSelector::StepsId(s) => {
                    if check_steps_id(s.as_str()).is_err() {
                        0
                    } else {
                        self.remove_list(id, s.as_str(), None).await?
                    }
                }
                StepsSelector::CarAssociationId(c) => {
                    self.reset_link(id, &Link::Car(c.clone())).await?
                }
                StepsSelector::Vin(v) => self.reset_link(id, &Link::Vin(v.clone())).await?,
            },
        };
        Ok(Removed::settled(lists, self.settle().await))
    }

    /// The 2312/2317 cure: removes every cached list of `ns` (this account on this device) and
    /// all their identifiers, durably. Equivalent to `resetSteps: true` on each of them, which
    /// is what the documentation tells apps to do after those errors.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").await.unwrap();
    /// for id in [1, 2] {
    ///     cache.merge(&ns, &ListKeys::new(), &StepsList::new(StepsId::number(id), vec![])).await.unwrap();
    /// }
    /// assert_eq!(cache.invalidate_device(&ns).await.unwrap().lists, 2);
    /// assert!(cache.lists(Some(&ns)).await.unwrap().is_empty());
    /// # });
    /// ```
    pub async fn invalidate_device(&self, ns: &Namespace) -> Result<Removed, CacheError> {
        self.layout(Use::Read).await?;
        let lists = match self.spaces.find(&*self.store, ns).await? {
            None => 0,
            Some(id) => {
                let lists = self.remove_space(Removable::Lists, Some(id)).await?;
                self.remove_unclaimed_links(&Removable::Links.of(id))
                    .await?;
                lists
            }
        };
        if lists > 0 {
            info!(
                lists,
                "pims-cache: dropped this device's cached steps (stale after 2312/2317)"
            );
        }
        Ok(Removed::settled(lists, self.settle().await))
    }

    /// Removes every cached list of every namespace, with their identifiers (`pims cache
    /// wipe`). The device id stays (it is the device's identity with the backend, not cached
    /// state), and so do the namespace ids. Lists are removed in batches, each flushed, so
    /// that [`Removed::durable_lists`] tells how many removals reached the disk when it fails
    /// part-way (a full disk); on a degraded store none does.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let id = cache.device_id().await.unwrap();
    /// let ns = cache.namespace("acct").await.unwrap();
    /// cache.merge(&ns, &ListKeys::new(), &StepsList::new(StepsId::number(1), vec![])).await.unwrap();
    /// let removed = cache.wipe().await.unwrap();
    /// assert_eq!((removed.lists, removed.durable_lists), (1, 0)); // (a memory store)
    /// assert_eq!(cache.device_id().await.unwrap(), id);
    /// # });
    /// ```
    pub async fn wipe(&self) -> Result<Removed, CacheError> {
        self.layout(Use::Read).await?;
        let lists = Removable::Lists.all();
        let mut records: Vec<Vec<u8>> = Vec::new();
        for (k, _) in scan::all(&*self.store, &lists).await? {
            if Removable::may_remove(&lists, &k) {
                records.push(k);
            }
        }
        let (mut lists, mut durable_lists) = (0, 0);
        // Records first (a link to nothing is a miss), so a failure part-way leaves nothing
        // wrong; each batch flushed, so what is reported durable is.
        for batch in records.chunks(WIPE_BATCH) {
            let mut removed = 0;
            for k in batch {
                if self.store.remove(k).await?.is_some() {
                    removed += 1;
                }
            }
            lists += removed;
            if self.settle().await {
                durable_lists += removed;
            }
        }
        self.remove_unclaimed_links(&Removable::Links.all()).await?;
        let durable = self.settle().await && durable_lists == lists;
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
    /// # futures_executor::block_on(async {
    /// # use pims_cache::*; use pims_types::*;
    /// let cache = StepCache::in_memory();
    /// let ns = cache.namespace("acct").await.unwrap();
    /// let keys = ListKeys::new().with_car_association_id("987654");
    /// cache.merge(&ns, &keys, &StepsList::new(StepsId::number(1), vec![])).await.unwrap();
    /// let all = cache.lists(None).await.unwrap();
    /// assert_eq!(all[0].account, "acct");
    /// assert_eq!(all[0].car_association_id.as_deref(), Some("987654"));
    /// # });
    /// ```
    pub async fn lists(&self, ns: Option<&Namespace>) -> Result<Vec<CachedList>, CacheError> {
        self.layout(Use::Read).await?;
        let (id, names) = match ns {
            Some(ns) => {
                let Some(id) = self.spaces.find(&*self.store, ns).await? else {
                    return Ok(Vec::new());
                };
                let name = (ns.account().to_owned(), ns.device().as_str().to_owned());
                (Some(id), HashMap::from([(id, name)]))
            }
            None => (None, spaces::all(&*self.store).await?),
        };
        Ok(self.scan_lists(id, names).await?.0)
    }
}

/// What a merge read in one round trip.
struct MergeRead {
    /// The record's bytes (None: absent).
    record: Option<Vec<u8>>,
    /// The record, when readable.
    cached: Option<ListRecord>,
    /// Each identifier's link, as read.
    links: Vec<Option<Vec<u8>>>,
}

/// Another list an identifier named before.
struct Other {
    key: Vec<u8>,
    bytes: Vec<u8>,
    record: ListRecord,
    /// Replaced by the merged list (same carAssociationID): removed in the merge's batch.
    superseded: bool,
}

/// The record `merge` writes: the fresh list with the stickiness of every cached list it
/// stands for, and every identifier known for it.
fn build(
    cached: Option<&ListRecord>,
    others: &[Other],
    links: &[Link],
    fresh: &StepsList,
) -> ListRecord {
    let mut list = None;
    for other in others.iter().map(|o| &o.record).chain(cached) {
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
        .or_else(|| {
            others
                .iter()
                .filter(|o| o.superseded)
                .find_map(|o| o.record.vin.clone())
        });
    ListRecord { list, car, vin }
}
