//! The link protocol: a list is one record, keyed by its stepsID, that says which identifiers
//! (carAssociationID, VIN) it claims; each identifier is an index entry pointing to the
//! stepsID. A link is served only when the record it points to claims it. `merge` writes a
//! record and its links in one conditional batch (`StepStore::swap_all`); a removal takes the
//! record first, then its links, each by compare-and-swap, so that a crash in between leaves
//! links to nothing, which every lookup treats as a miss (see `docs/cache.md`).

use super::{MAX_ATTEMPTS, StepCache};
use crate::error::CacheError;
use crate::keys::{self, Link, Removable, SpaceId};
use crate::record::{self, ListRecord};
use crate::scan;
use crate::store::Swap;

impl StepCache {
    /// The list an identifier links to, if the list still claims it; a link to nothing is
    /// removed.
    pub(super) async fn follow(
        &self,
        id: SpaceId,
        link: &Link,
    ) -> Result<Option<ListRecord>, CacheError> {
        let ikey = keys::index_key(id, link);
        let Some(ibytes) = self.store.get(&ikey).await? else {
            return Ok(None);
        };
        let sid = match record::decode_text(&ibytes) {
            Ok(sid) => sid,
            Err(why) => {
                self.discard(&ikey, &ibytes, &why).await?;
                return Ok(None);
            }
        };
        match self.load(&keys::list_key(id, &sid), &sid).await? {
            Some((_, rec)) if rec.claims(link) => Ok(Some(rec)),
            _ => {
                // Dangling: the list was reset, or the identifier moved. A merge racing with
                // this removal re-links in its repair step.
                let _ = self
                    .store
                    .compare_and_swap(&ikey, Some(&ibytes), None)
                    .await?;
                Ok(None)
            }
        }
    }

    /// Reset through a carAssociationID or a VIN.
    pub(super) async fn reset_link(&self, id: SpaceId, link: &Link) -> Result<usize, CacheError> {
        let ikey = keys::index_key(id, link);
        let Some(ibytes) = self.store.get(&ikey).await? else {
            return Ok(0);
        };
        let removed = match record::decode_text(&ibytes) {
            Ok(sid) => self.remove_list(id, &sid, Some(link)).await?,
            Err(_) => 0,
        };
        // The identifier's own link, whatever it pointed to (unless it was re-pointed since).
        let _ = self
            .store
            .compare_and_swap(&ikey, Some(&ibytes), None)
            .await?;
        Ok(removed)
    }

    /// Removes list `sid` of `ns` (reached through `via`: only if the list claims it), then the
    /// links it claims. The record goes first: from then on its links point to nothing, which
    /// every lookup treats as a miss, so a crash in between loses nothing it should keep.
    pub(super) async fn remove_list(
        &self,
        id: SpaceId,
        sid: &str,
        via: Option<&Link>,
    ) -> Result<usize, CacheError> {
        let rkey = keys::list_key(id, sid);
        let mut current = self.store.get(&rkey).await?;
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
            match self
                .store
                .compare_and_swap(&rkey, Some(&bytes), None)
                .await?
            {
                Swap::Swapped => {
                    let target = record::encode_target(sid);
                    for link in rec.map(|r| r.links()).unwrap_or_default() {
                        let ikey = keys::index_key(id, &link);
                        let _ = self
                            .store
                            .compare_and_swap(&ikey, Some(&target), None)
                            .await?;
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
    pub(super) async fn remove_space(
        &self,
        space: Removable,
        id: Option<SpaceId>,
    ) -> Result<usize, CacheError> {
        let prefix = id.map_or_else(|| space.all(), |id| space.of(id));
        let found = scan::all(&*self.store, &prefix).await?;
        let mut removed = 0;
        for (k, _) in found {
            if !Removable::may_remove(&prefix, &k) {
                continue; // not this scan's (a stray key)
            }
            if self.store.remove(&k).await?.is_some() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
