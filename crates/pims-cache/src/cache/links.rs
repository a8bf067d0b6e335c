//! The link protocol: a list is one record, keyed by its stepsID, that says which identifiers
//! (carAssociationID, VIN) it claims; each identifier is an index entry pointing to the
//! stepsID. A link is served only when the record it points to claims it. `merge` writes a
//! record and its links in one conditional batch (`StepStore::swap_all`), and so does a removal:
//! the record first, then the links still pointing to it, so that a store keeping a prefix of a
//! batch across a crash leaves links to nothing, which every lookup treats as a miss (see
//! `docs/cache.md`).

use super::{MAX_ATTEMPTS, StepCache};
use crate::error::CacheError;
use crate::keys::{self, Link, Removable, SpaceId};
use crate::record::{self, ListRecord};
use crate::scan;
use crate::store::{BatchSwap, KeySwap, Swap};

impl StepCache {
    /// The list an identifier links to, if the list still claims it; a link to nothing is
    /// removed. The link and the record it names are one read
    /// ([`StepStore::get_following`](crate::StepStore::get_following)), except for a link
    /// written in the first record format, whose record is read after it.
    pub(super) async fn follow(
        &self,
        id: SpaceId,
        link: &Link,
    ) -> Result<Option<ListRecord>, CacheError> {
        let ikey = keys::index_key(id, link);
        let tag = [record::FORMAT_V2];
        let followed = self
            .store
            .get_following(&ikey, &tag, &keys::prefix(keys::LIST, id))
            .await?;
        let Some(ibytes) = followed.value else {
            return Ok(None);
        };
        let sid = match record::decode_text(&ibytes) {
            Ok(sid) => sid,
            Err(why) => {
                self.discard(&ikey, &ibytes, &why).await?;
                return Ok(None);
            }
        };
        let rkey = keys::list_key(id, &sid);
        let loaded = if ibytes.starts_with(&tag) {
            match followed.target {
                Some(bytes) => self.decoded(&rkey, &sid, bytes).await?,
                None => None,
            }
        } else {
            self.load(&rkey, &sid).await?
        };
        match loaded {
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
        let Ok(sid) = record::decode_text(&ibytes) else {
            let _ = self
                .store
                .compare_and_swap(&ikey, Some(&ibytes), None)
                .await?;
            return Ok(0);
        };
        let removed = self.remove_list(id, &sid, Some(link)).await?;
        // The identifier's own link, whatever list it pointed to, unless it was re-pointed
        // since or the list it points to claims it again (a merge that came after the reset):
        // removed on the condition that the record is as read.
        let rkey = keys::list_key(id, &sid);
        for _ in 0..MAX_ATTEMPTS {
            let now = self.store.get_many(&[&rkey, &ikey]).await?;
            let (record_now, link_now) = match now.as_slice() {
                [r, l] => (r.as_deref(), l.as_deref()),
                _ => return Err(wrong_count()),
            };
            if link_now != Some(&ibytes[..]) {
                break;
            }
            if record_now
                .and_then(|r| record::decode_list(r, &sid).ok())
                .is_some_and(|rec| rec.claims(link))
            {
                break;
            }
            let batch = [
                KeySwap::check(&rkey, record_now),
                KeySwap::new(&ikey, Some(&ibytes), None),
            ];
            if self.store.swap_all(&batch).await? == BatchSwap::Swapped {
                break;
            }
        }
        Ok(removed)
    }

    /// Removes list `sid` of `ns` (reached through `via`: only if the list claims it) and the
    /// links it claims that still point to it, in one batch (the record first, then the links:
    /// the link protocol's order, for a store that keeps a prefix of a batch across a crash).
    /// A merge of the list that comes before the batch makes it fail and be redone; one that
    /// comes after finds nothing of the list and links it again whole.
    pub(super) async fn remove_list(
        &self,
        id: SpaceId,
        sid: &str,
        via: Option<&Link>,
    ) -> Result<usize, CacheError> {
        let rkey = keys::list_key(id, sid);
        let target = record::encode_target(sid);
        for _ in 0..MAX_ATTEMPTS {
            let Some(bytes) = self.store.get(&rkey).await? else {
                return Ok(0);
            };
            let rec = record::decode_list(&bytes, sid).ok();
            if let (Some(link), Some(rec)) = (via, &rec)
                && !rec.claims(link)
            {
                return Ok(0);
            }
            let ikeys: Vec<Vec<u8>> = rec
                .map(|r| r.links())
                .unwrap_or_default()
                .iter()
                .map(|l| keys::index_key(id, l))
                .collect();
            let wanted: Vec<&[u8]> = ikeys.iter().map(Vec::as_slice).collect();
            let links_now = self.store.get_many(&wanted).await?;
            if links_now.len() != ikeys.len() {
                return Err(wrong_count());
            }
            let mut batch = vec![KeySwap::new(&rkey, Some(&bytes), None)];
            for (ikey, now) in ikeys.iter().zip(&links_now) {
                if now.as_deref() == Some(&target[..]) {
                    batch.push(KeySwap::new(ikey, Some(&target), None));
                }
            }
            if self.store.swap_all(&batch).await? == BatchSwap::Swapped {
                return Ok(1);
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

impl StepCache {
    /// Removes the identifier links of `prefix` (one namespace's, or all) that lead to no
    /// list claiming them: after the lists of a namespace (or of all) were removed, what is
    /// left of their links. A link whose list is there again and claims it (a merge that came
    /// after the removal) stays: each removal is conditioned on the record as read. How many
    /// were removed.
    pub(super) async fn remove_unclaimed_links(&self, prefix: &[u8]) -> Result<usize, CacheError> {
        let mut removed = 0;
        for (k, v) in scan::all(&*self.store, prefix).await? {
            if !Removable::may_remove(prefix, &k) {
                continue; // not this scan's (a stray key)
            }
            let target = keys::parse_index_key(&k)
                .and_then(|(id, link)| Some((id, link, record::decode_text(&v).ok()?)));
            let Some((id, link, sid)) = target else {
                // Unreadable: nothing can claim it.
                if self.store.compare_and_swap(&k, Some(&v), None).await? == Swap::Swapped {
                    removed += 1;
                }
                continue;
            };
            let rkey = keys::list_key(id, &sid);
            let record_now = self.store.get(&rkey).await?;
            if record_now
                .as_deref()
                .and_then(|r| record::decode_list(r, &sid).ok())
                .is_some_and(|rec| rec.claims(&link))
            {
                continue;
            }
            let batch = [
                KeySwap::check(&rkey, record_now.as_deref()),
                KeySwap::new(&k, Some(&v), None),
            ];
            if self.store.swap_all(&batch).await? == BatchSwap::Swapped {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// A store that answered `get_many` with another number of values than keys.
pub(super) fn wrong_count() -> CacheError {
    CacheError::storage(
        "read",
        std::io::Error::other("the store answered get_many with a wrong number of values"),
    )
}
