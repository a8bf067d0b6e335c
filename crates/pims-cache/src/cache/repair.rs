//! Reading with repair: a record that does not decode, or belongs to no namespace, and an
//! index entry pointing to nothing are removed (housekeeping, not flushed: if lost, it is
//! redone), and [`StepCache::check`] does so for the whole store.

use std::collections::HashMap;

use tracing::warn;

use super::layout::Use;
use super::{CachedList, CheckReport, StepCache};
use crate::device::DeviceId;
use crate::error::CacheError;
use crate::keys::{self, Removable, SpaceId};
use crate::record::{self, ListRecord};
use crate::scan;
use crate::spaces;

impl StepCache {
    /// Reads every entry of the store, removes what does not decode and index entries that
    /// point to nothing, and reports counts. Used by tests (a crash must leave nothing
    /// unreadable) and by `pims cache show`.
    ///
    /// ```
    /// # use pims_cache::*; use pims_types::*;
    /// # futures_executor::block_on(async {
    /// let cache = StepCache::in_memory();
    /// // A list record of no known namespace, and unreadable.
    /// let _ = cache.store().compare_and_swap(b"L\x01a", None, Some(b"torn")).await.unwrap();
    /// let report = cache.check().await.unwrap();
    /// assert_eq!(report.unreadable_removed, 1);
    /// assert_eq!(cache.check().await.unwrap().unreadable_removed, 0);
    /// # });
    /// ```
    pub async fn check(&self) -> Result<CheckReport, CacheError> {
        self.layout(Use::Read).await?;
        let mut report = CheckReport::default();
        let names = spaces::all(&*self.store).await?;
        let (lists, removed) = self.scan_lists(None, names).await?;
        report.lists = lists.len();
        report.unreadable_removed = removed;
        let prefix = Removable::Links.all();
        let mut links = scan::all(&*self.store, &prefix).await?;
        links.retain(|(k, _)| Removable::may_remove(&prefix, k));
        for (k, v) in links {
            let Some((id, link)) = keys::parse_index_key(&k) else {
                report.unreadable_removed += 1;
                self.discard(&k, &v, "malformed index key").await?;
                continue;
            };
            let sid = match record::decode_text(&v) {
                Ok(sid) => sid,
                Err(why) => {
                    report.unreadable_removed += 1;
                    self.discard(&k, &v, &why).await?;
                    continue;
                }
            };
            let claimed = match self.store.get(&keys::list_key(id, &sid)).await? {
                Some(bytes) => record::decode_list(&bytes, &sid).is_ok_and(|rec| rec.claims(&link)),
                None => false,
            };
            if claimed {
                report.links += 1;
            } else {
                report.dangling_removed += 1;
                let _ = self.store.compare_and_swap(&k, Some(&v), None).await?;
            }
        }
        if let Some(bytes) = self.store.get(keys::DEVICE).await?
            && let Err(why) = DeviceId::from_record(&bytes)
        {
            report.unreadable_removed += 1;
            self.discard(keys::DEVICE, &bytes, &why).await?;
        }
        let _ = self.settle().await;
        Ok(report)
    }

    /// The readable list records of namespace `id` (None: of all; `names`: the namespaces
    /// known so far), and
    /// how many unreadable ones were removed. A record of a namespace `names` does not know
    /// may belong to one created since `names` was read (its id entries are written before
    /// its first record): it is checked again against a fresh read before being removed.
    pub(super) async fn scan_lists(
        &self,
        id: Option<SpaceId>,
        mut names: HashMap<SpaceId, (String, String)>,
    ) -> Result<(Vec<CachedList>, usize), CacheError> {
        let prefix = id.map_or_else(|| Removable::Lists.all(), |id| Removable::Lists.of(id));
        let mut found = Vec::new();
        let mut bad = Vec::new();
        let mut unknown = Vec::new();
        for (k, v) in scan::all(&*self.store, &prefix).await? {
            if !Removable::may_remove(&prefix, &k) {
                continue; // not this scan's (a stray key)
            }
            match decode_entry(&k, &v, &names) {
                Ok(entry) => found.push(entry),
                Err(Unusable::UnknownNamespace) => unknown.push((k, v)),
                Err(Unusable::Bad(why)) => bad.push((k, v, why)),
            }
        }
        if !unknown.is_empty() {
            names = spaces::all(&*self.store).await?;
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
            self.discard(&k, &v, &why).await?;
        }
        Ok((found, removed))
    }

    /// List record `sid` of a namespace (at `key`) and its bytes; an unreadable one is
    /// removed and reads as absent.
    pub(super) async fn load(
        &self,
        key: &[u8],
        sid: &str,
    ) -> Result<Option<(Vec<u8>, ListRecord)>, CacheError> {
        match self.store.get(key).await? {
            Some(bytes) => self.decoded(key, sid, bytes).await,
            None => Ok(None),
        }
    }

    /// List record `key`'s `bytes`, decoded; an unreadable one is removed (None).
    pub(super) async fn decoded(
        &self,
        key: &[u8],
        sid: &str,
        bytes: Vec<u8>,
    ) -> Result<Option<(Vec<u8>, ListRecord)>, CacheError> {
        match record::decode_list(&bytes, sid) {
            Ok(rec) => Ok(Some((bytes, rec))),
            Err(why) => {
                self.discard(key, &bytes, &why).await?;
                Ok(None)
            }
        }
    }

    /// Removes an unreadable entry, unless it changed meanwhile.
    pub(super) async fn discard(
        &self,
        key: &[u8],
        bytes: &[u8],
        why: &str,
    ) -> Result<(), CacheError> {
        warn!(reason = %why, "pims-cache: removed an unreadable cache record");
        let _ = self.store.compare_and_swap(key, Some(bytes), None).await?;
        Ok(())
    }
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
