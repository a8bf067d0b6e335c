//! Reading with repair: a record that does not decode, or belongs to no namespace, and an
//! index entry pointing to nothing are removed (housekeeping, not flushed: if lost, it is
//! redone), and [`StepCache::check`] does so for the whole store.

use std::collections::HashMap;
use std::ops::ControlFlow;

use tracing::warn;

use super::layout::Use;
use super::{CachedList, CheckReport, StepCache};
use crate::device::DeviceId;
use crate::error::CacheError;
use crate::keys::{self, Removable, SpaceId};
use crate::record::{self, ListRecord};
use crate::spaces;

impl StepCache {
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
        self.layout(Use::Read)?;
        let mut report = CheckReport::default();
        let (lists, removed) = self.scan_lists(None, spaces::all(&*self.store)?)?;
        report.lists = lists.len();
        report.unreadable_removed = removed;
        let mut links: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let prefix = Removable::Links.all();
        self.store.scan_prefix(&prefix, &mut |k, v| {
            if Removable::may_remove(&prefix, k) {
                links.push((k.to_vec(), v.to_vec()));
            }
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

    /// The readable list records of namespace `id` (None: of all; `names`: the namespaces
    /// known so far), and
    /// how many unreadable ones were removed. A record of a namespace `names` does not know
    /// may belong to one created since `names` was read (its id entries are written before
    /// its first record): it is checked again against a fresh read before being removed.
    pub(super) fn scan_lists(
        &self,
        id: Option<SpaceId>,
        mut names: HashMap<SpaceId, (String, String)>,
    ) -> Result<(Vec<CachedList>, usize), CacheError> {
        let prefix = id.map_or_else(|| Removable::Lists.all(), |id| Removable::Lists.of(id));
        let mut found = Vec::new();
        let mut bad = Vec::new();
        let mut unknown = Vec::new();
        self.store.scan_prefix(&prefix, &mut |k, v| {
            if !Removable::may_remove(&prefix, k) {
                return ControlFlow::Continue(()); // not this scan's (a stray key)
            }
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

    /// List record `sid` of a namespace (at `key`) and its bytes; an unreadable one is
    /// removed and reads as absent.
    pub(super) fn load(
        &self,
        key: &[u8],
        sid: &str,
    ) -> Result<Option<(Vec<u8>, ListRecord)>, CacheError> {
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
    pub(super) fn discard(&self, key: &[u8], bytes: &[u8], why: &str) -> Result<(), CacheError> {
        warn!(reason = %why, "pims-cache: removed an unreadable cache record");
        let _ = self.store.compare_and_swap(key, Some(bytes), None)?;
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
