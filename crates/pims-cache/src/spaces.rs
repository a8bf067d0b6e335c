//! Namespace ids: list and index keys name their namespace (account, device) by a short id,
//! so the pair is stored once, not in every key (`docs/cache.md`, "Keys").
//!
//! An id is given out once per store and never reused, even if the hint of the next id is
//! lost: it is *claimed* by a compare-and-swap of `m‹id›` from absent to the namespace, before
//! the namespace points to it (`n‹account›‹device›` → id). A lookup follows `n` and then checks
//! that `m` claims the namespace back, so a damaged entry can never make two namespaces share
//! lists: it reads as "no lists yet".

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use tracing::warn;

use crate::error::CacheError;
use crate::keys::{self, SpaceId};
use crate::namespace::Namespace;
use crate::record;
use crate::scan;
use crate::store::{StepStore, Swap};

/// Namespaces remembered at most; past it the memo starts over (it only saves reads).
const LIMIT: usize = 4096;

/// How many claimed ids an allocation skips before giving up (each one means another
/// writer made progress, or a hint far behind).
const MAX_ATTEMPTS: u32 = 1000;

/// The namespace ids of one store, as far as this cache has resolved them. Ids never change
/// once given, so a resolved one stays valid.
#[derive(Default)]
pub(crate) struct Spaces {
    known: RwLock<Known>,
}

/// Resolved ids, valid while the store's [`epoch`](StepStore::epoch) stays the same.
#[derive(Default)]
struct Known {
    epoch: u64,
    ids: HashMap<Vec<u8>, SpaceId>,
}

impl Spaces {
    /// The id of `ns`, if it has one (a namespace without one has no lists).
    pub(crate) async fn find(
        &self,
        store: &dyn StepStore,
        ns: &Namespace,
    ) -> Result<Option<SpaceId>, CacheError> {
        let epoch = store.epoch();
        if let Some(id) = self.remembered(ns, epoch) {
            return Ok(Some(id));
        }
        let Resolved::Found(id) = resolve(store, ns).await? else {
            return Ok(None);
        };
        self.remember(ns, id, epoch);
        Ok(Some(id))
    }

    /// The id of `ns`, given out now if it has none.
    pub(crate) async fn find_or_create(
        &self,
        store: &dyn StepStore,
        ns: &Namespace,
    ) -> Result<SpaceId, CacheError> {
        let epoch = store.epoch();
        if let Some(id) = self.remembered(ns, epoch) {
            return Ok(id);
        }
        let skey = keys::space_key(ns.prefix());
        for _ in 0..MAX_ATTEMPTS {
            // Replaced only from exactly what was read: a concurrent creation wins.
            let current = match resolve(store, ns).await? {
                Resolved::Found(id) => {
                    self.remember(ns, id, epoch);
                    return Ok(id);
                }
                Resolved::Unusable(current) => current,
            };
            let id = claim(store, ns).await?;
            let value = record::encode_number(id.0);
            match store
                .compare_and_swap(&skey, current.as_deref(), Some(&value))
                .await?
            {
                Swap::Swapped => {
                    self.remember(ns, id, epoch);
                    return Ok(id);
                }
                // Another writer named it first: theirs wins (ours stays claimed, unused).
                Swap::Conflict { .. } => {}
            }
        }
        Err(CacheError::Contention {
            attempts: MAX_ATTEMPTS,
        })
    }

    /// The id of `ns` if this cache resolved it already (at the store's current epoch): no
    /// store access.
    pub(crate) fn known(&self, store: &dyn StepStore, ns: &Namespace) -> Option<SpaceId> {
        self.remembered(ns, store.epoch())
    }

    fn remembered(&self, ns: &Namespace, epoch: u64) -> Option<SpaceId> {
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        if known.epoch != epoch {
            return None;
        }
        known.ids.get(ns.prefix()).copied()
    }

    /// Remembers an id resolved at `epoch` (read before resolving it).
    fn remember(&self, ns: &Namespace, id: SpaceId, epoch: u64) {
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        if known.epoch != epoch {
            if epoch < known.epoch {
                return; // resolved before a newer replacement: stale
            }
            known.ids.clear();
            known.epoch = epoch;
        }
        if known.ids.len() >= LIMIT {
            known.ids.clear();
        }
        known.ids.insert(ns.prefix().to_vec(), id);
    }
}

/// Every namespace of the store that claims its id: id → (account, device).
pub(crate) async fn all(
    store: &dyn StepStore,
) -> Result<HashMap<SpaceId, (String, String)>, CacheError> {
    let mut claims = HashMap::new();
    for (k, v) in scan::all(store, &[keys::SPACE_ID]).await? {
        let id = k
            .strip_prefix(&[keys::SPACE_ID])
            .and_then(keys::read_varint)
            .filter(|(_, rest)| rest.is_empty());
        let claimant = v
            .strip_prefix(&[record::FORMAT_V2])
            .and_then(keys::parse_segments);
        if let (Some((id, _)), Some((account, device))) = (id, claimant) {
            claims.insert(SpaceId(id), (account.to_owned(), device.to_owned()));
        }
    }
    // A claim counts only if the namespace points back to it.
    let mut out = HashMap::with_capacity(claims.len());
    for (id, (account, device)) in claims {
        let mut segments = Vec::new();
        keys::push_segment(&mut segments, account.as_bytes());
        keys::push_segment(&mut segments, device.as_bytes());
        let pointed = store
            .get(&keys::space_key(&segments))
            .await?
            .and_then(|v| record::decode_number(&v).ok());
        if pointed == Some(id.0) {
            out.insert(id, (account, device));
        }
    }
    Ok(out)
}

/// What `n‹ns›` says.
enum Resolved {
    /// An id that claims the namespace back.
    Found(SpaceId),
    /// No usable id: the entry's raw value (None: absent).
    Unusable(Option<Vec<u8>>),
}

/// Follows `n‹ns›` and checks the claim `m‹id›`.
async fn resolve(store: &dyn StepStore, ns: &Namespace) -> Result<Resolved, CacheError> {
    let Some(value) = store.get(&keys::space_key(ns.prefix())).await? else {
        return Ok(Resolved::Unusable(None));
    };
    let id = match record::decode_number(&value) {
        Ok(id) => SpaceId(id),
        Err(why) => {
            warn!(reason = %why, "pims-cache: a namespace entry is unreadable; giving the namespace a new id");
            return Ok(Resolved::Unusable(Some(value)));
        }
    };
    let claimed = store.get(&keys::space_id_key(id)).await?;
    if claimed.as_deref() != Some(&claim_value(ns)[..]) {
        warn!(
            "pims-cache: a namespace entry points to an id it does not hold; giving the namespace a new id"
        );
        return Ok(Resolved::Unusable(Some(value)));
    }
    Ok(Resolved::Found(id))
}

/// The value of a claim: format 2, the namespace's (account, device) segments.
fn claim_value(ns: &Namespace) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + ns.prefix().len());
    v.push(record::FORMAT_V2);
    v.extend_from_slice(ns.prefix());
    v
}

/// Claims a fresh id for `ns`: the first one from the hint on that no namespace claims and
/// no entry uses. (Entries under an unclaimed id are orphans of a namespace whose id entries
/// were lost, e.g. by a degraded store that started again from an empty map: a new namespace
/// must not inherit them.) When the hint is far behind (lost, say, with many namespaces), the
/// search jumps past the highest claimed id.
async fn claim(store: &dyn StepStore, ns: &Namespace) -> Result<SpaceId, CacheError> {
    let hint_bytes = store.get(keys::NEXT_SPACE).await?;
    let mut next = hint_bytes
        .as_deref()
        .and_then(|b| record::decode_number(b).ok())
        .unwrap_or(1)
        .max(1);
    let contention = || CacheError::Contention {
        attempts: MAX_ATTEMPTS,
    };
    for attempt in 0..MAX_ATTEMPTS {
        if attempt == JUMP_AFTER {
            next = next.max(highest_claimed(store).await?.saturating_add(1));
        }
        let id = SpaceId(next);
        let after = next.checked_add(1).ok_or_else(contention)?;
        if !in_use(store, id).await?
            && store
                .compare_and_swap(&keys::space_id_key(id), None, Some(&claim_value(ns)))
                .await?
                == Swap::Swapped
        {
            // The hint is only a hint: losing this race (or this write) costs a skip later.
            let _ = store
                .compare_and_swap(
                    keys::NEXT_SPACE,
                    hint_bytes.as_deref(),
                    Some(&record::encode_number(after)),
                )
                .await?;
            return Ok(id);
        }
        next = after;
    }
    Err(contention())
}

/// Conflicts after which [`claim`] stops stepping and jumps past the highest claimed id.
const JUMP_AFTER: u32 = 16;

/// Whether any list or index entry uses id `id`.
async fn in_use(store: &dyn StepStore, id: SpaceId) -> Result<bool, CacheError> {
    for tag in [keys::LIST, keys::INDEX] {
        if scan::any(store, &keys::prefix(tag, id)).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The highest id claimed (0: none), by a scan of every claim.
async fn highest_claimed(store: &dyn StepStore) -> Result<u64, CacheError> {
    let mut highest = 0;
    for (k, _) in scan::all(store, &[keys::SPACE_ID]).await? {
        if let Some((id, [])) = k
            .strip_prefix(&[keys::SPACE_ID])
            .and_then(keys::read_varint)
        {
            highest = highest.max(id);
        }
    }
    // Entries under ids never claimed (orphans) count too: the next id is past them all.
    for tag in [keys::LIST, keys::INDEX] {
        for (k, _) in scan::all(store, &[tag]).await? {
            if let Some((id, _)) = k.strip_prefix(&[tag]).and_then(keys::read_varint) {
                highest = highest.max(id);
            }
        }
    }
    Ok(highest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::DeviceId;
    use crate::memory::MemoryStore;
    use futures_executor::block_on;

    fn ns(account: &str) -> Namespace {
        Namespace::new(account, DeviceId::parse("dev").unwrap()).unwrap()
    }

    #[test]
    fn ids_are_given_once_and_found_again() {
        block_on(async {
            let store = MemoryStore::new();
            let spaces = Spaces::default();
            assert_eq!(spaces.find(&store, &ns("a")).await.unwrap(), None);
            let a = spaces.find_or_create(&store, &ns("a")).await.unwrap();
            let b = spaces.find_or_create(&store, &ns("b")).await.unwrap();
            assert_ne!(a, b);
            assert_eq!(spaces.find_or_create(&store, &ns("a")).await.unwrap(), a);
            // A fresh resolver over the same store finds the same ids.
            let other = Spaces::default();
            assert_eq!(other.find(&store, &ns("a")).await.unwrap(), Some(a));
            assert_eq!(other.find(&store, &ns("b")).await.unwrap(), Some(b));
            let all = all(&store).await.unwrap();
            assert_eq!(all[&a], ("a".to_owned(), "dev".to_owned()));
            assert_eq!(all.len(), 2);
        });
    }

    #[test]
    fn a_lost_hint_never_reuses_an_id() {
        block_on(async {
            let store = MemoryStore::new();
            let spaces = Spaces::default();
            let a = spaces.find_or_create(&store, &ns("a")).await.unwrap();
            store.remove(keys::NEXT_SPACE).await.unwrap();
            let b = spaces.find_or_create(&store, &ns("b")).await.unwrap();
            assert_ne!(a, b);
            assert_eq!(
                Spaces::default().find(&store, &ns("a")).await.unwrap(),
                Some(a)
            );
        });
    }

    #[test]
    fn a_namespace_pointing_to_another_ones_id_reads_as_empty() {
        block_on(async {
            let store = MemoryStore::new();
            let spaces = Spaces::default();
            let a = spaces.find_or_create(&store, &ns("a")).await.unwrap();
            // Damage: b's entry points to a's id.
            let _ = store
                .compare_and_swap(
                    &keys::space_key(ns("b").prefix()),
                    None,
                    Some(&record::encode_number(a.0)),
                )
                .await
                .unwrap();
            assert_eq!(
                Spaces::default().find(&store, &ns("b")).await.unwrap(),
                None
            );
            let b = Spaces::default()
                .find_or_create(&store, &ns("b"))
                .await
                .unwrap();
            assert_ne!(a, b);
            assert_eq!(
                Spaces::default().find(&store, &ns("a")).await.unwrap(),
                Some(a)
            );
            assert_eq!(
                Spaces::default().find(&store, &ns("b")).await.unwrap(),
                Some(b)
            );
        });
    }

    #[test]
    fn concurrent_creations_agree() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let ids: Vec<SpaceId> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let store = store.clone();
                    s.spawn(move || {
                        block_on(Spaces::default().find_or_create(&*store, &ns("a"))).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]));
        assert_eq!(block_on(all(&*store)).unwrap().len(), 1);
    }
}
