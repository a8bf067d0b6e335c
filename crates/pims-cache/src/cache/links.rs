//! The compare-and-swap link protocol: a list is one record, keyed by its stepsID, that says
//! which identifiers (carAssociationID, VIN) it claims; each identifier is an index entry
//! pointing to the stepsID. A link is served only when the record it points to claims it, so the
//! write order makes every crash harmless: `merge` links first, then writes the record, then
//! repairs the links; a removal takes the record first, then its links (see `docs/cache.md`).

use std::ops::ControlFlow;

use super::{MAX_ATTEMPTS, StepCache};
use crate::error::CacheError;
use crate::keys::{self, Link, Removable, SpaceId};
use crate::record::{self, ListRecord};
use crate::store::Swap;

impl StepCache {
    /// Points `ikey` at `target` (an encoded stepsID); whether it wrote.
    pub(super) fn link(
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
    pub(super) fn follow(
        &self,
        id: SpaceId,
        link: &Link,
    ) -> Result<Option<ListRecord>, CacheError> {
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
    pub(super) fn reset_link(&self, id: SpaceId, link: &Link) -> Result<usize, CacheError> {
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
    pub(super) fn remove_list(
        &self,
        id: SpaceId,
        sid: &str,
        via: Option<&Link>,
    ) -> Result<usize, CacheError> {
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

    /// Removes every entry of `space` (of namespace `id`, or of all); how many there were.
    /// Only the list and index spaces can be named: no other record is ever removed by a scan.
    pub(super) fn remove_space(
        &self,
        space: Removable,
        id: Option<SpaceId>,
    ) -> Result<usize, CacheError> {
        let prefix = id.map_or_else(|| space.all(), |id| space.of(id));
        let mut found = Vec::new();
        self.store.scan_prefix(&prefix, &mut |k, _| {
            if Removable::may_remove(&prefix, k) {
                found.push(k.to_vec());
            }
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
