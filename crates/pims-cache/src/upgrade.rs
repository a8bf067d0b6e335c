//! The upgrade from layout 1 (earlier versions: the namespace spelled out in every key, JSON
//! records) to layout 2 (short namespace ids, binary records), done once by the first call of
//! a [`StepCache`](crate::StepCache) over a store that still holds layout-1 entries.
//!
//! Crash-safe and idempotent: every list is written in layout 2 first (merged with a layout-2
//! record of the same list, if one exists: `alreadyDone` wins), then its index entries (those
//! the record claims), then a flush, and only then are the layout-1 entries removed (and
//! flushed). A crash at any point leaves either the old entries, the new ones, or both: the
//! next open upgrades again and loses no `alreadyDone`.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use tracing::{info, warn};

use crate::device::DeviceId;
use crate::error::CacheError;
use crate::keys::{self, SpaceId, legacy};
use crate::namespace::Namespace;
use crate::record::{self, ListRecord};
use crate::spaces::Spaces;
use crate::store::{StepStore, Swap};

/// How many times one compare-and-swap loop retries (as in the cache).
const MAX_ATTEMPTS: u32 = 1000;

/// Whether a cache has checked (and upgraded) its store's layout; shared by its clones.
#[derive(Default)]
pub(crate) struct Gate {
    done: AtomicBool,
}

/// Upgrades run one at a time in a process: two caches over one store (two `Pims` making
/// their first calls together) must not both work from their own snapshot of the old entries,
/// or the slower one could write back a list the app reset in between. (Another process
/// cannot share the store: a directory is locked to one process.)
static UPGRADING: Mutex<()> = Mutex::new(());

impl Gate {
    /// Upgrades the store once; later calls cost one atomic load. A failed upgrade is retried
    /// by the next call.
    pub(crate) fn ready(&self, store: &dyn StepStore, spaces: &Spaces) -> Result<(), CacheError> {
        if self.done.load(Ordering::Acquire) {
            return Ok(());
        }
        let _running = UPGRADING.lock().unwrap_or_else(PoisonError::into_inner);
        if self.done.load(Ordering::Acquire) {
            return Ok(());
        }
        let lists = run(store, spaces)?;
        if lists > 0 {
            info!(
                lists,
                "pims-cache: upgraded the cache to its compact layout"
            );
        }
        self.done.store(true, Ordering::Release);
        Ok(())
    }
}

/// Old entries handled per batch (bounds the memory an upgrade of a large cache takes).
const BATCH: usize = 2048;

/// A key and its value.
type Entry = (Vec<u8>, Vec<u8>);

/// Upgrades every layout-1 entry of `store`; how many lists it carried over.
pub(crate) fn run(store: &dyn StepStore, spaces: &Spaces) -> Result<usize, CacheError> {
    let mut upgraded = 0;
    loop {
        let olds = first(store, legacy::LIST)?;
        if olds.is_empty() {
            break;
        }
        // 1. The batch's lists and the index entries pointing to them, in layout 2.
        let mut done = Vec::with_capacity(olds.len() * 2);
        for (key, value) in olds {
            if let Some((segments, account, device, sid)) = legacy::parse_list_key(&key) {
                let decoded = DeviceId::parse(device)
                    .map_err(|e| e.to_string())
                    .and_then(|d| Namespace::new(account, d).map_err(|e| e.to_string()))
                    .and_then(|ns| record::decode_list(&value, sid).map(|rec| (ns, rec)));
                match decoded {
                    Ok((ns, rec)) => {
                        let id = spaces.find_or_create(store, &ns)?;
                        write_list(store, id, sid, &rec)?;
                        for link in rec.links() {
                            let old = legacy::index_key(segments, &link);
                            let Some(target) = store.get(&old)? else {
                                continue;
                            };
                            if record::decode_text(&target).is_ok_and(|t| t == sid) {
                                // A layout-2 entry already there is newer: it wins.
                                let _ = store.compare_and_swap(
                                    &keys::index_key(id, &link),
                                    None,
                                    Some(&record::encode_target(sid)),
                                )?;
                                done.push((old, target));
                            }
                        }
                        upgraded += 1;
                    }
                    Err(why) => {
                        warn!(reason = %why, "pims-cache: an old cache record is unreadable; dropping it");
                    }
                }
            }
            done.push((key, value));
        }
        store.flush()?;
        // 2. The old entries, once the new ones are durable.
        remove(store, &done)?;
    }
    // 3. Old index entries left pointing to nothing.
    loop {
        let links = first(store, legacy::INDEX)?;
        if links.is_empty() {
            break;
        }
        remove(store, &links)?;
    }
    Ok(upgraded)
}

/// The first entries (at most [`BATCH`]) with tag `tag`.
fn first(store: &dyn StepStore, tag: u8) -> Result<Vec<Entry>, CacheError> {
    let mut out = Vec::new();
    store.scan_prefix(&[tag], &mut |k, v| {
        out.push((k.to_vec(), v.to_vec()));
        if out.len() >= BATCH {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    Ok(out)
}

/// Removes `entries` (unless changed meanwhile: then they are not old ones) and flushes. A
/// removal that finds something else there leaves it, so the next batch cannot loop on it:
/// old tags are only written by earlier versions, never while this one holds the store.
fn remove(store: &dyn StepStore, entries: &[Entry]) -> Result<(), CacheError> {
    for (key, value) in entries {
        if let Swap::Conflict { current: Some(_) } =
            store.compare_and_swap(key, Some(value), None)?
        {
            let _ = store.remove(key)?;
        }
    }
    store.flush()
}

/// Writes `rec` as list `sid` of namespace `id`, merged with what is there.
fn write_list(
    store: &dyn StepStore,
    id: SpaceId,
    sid: &str,
    rec: &ListRecord,
) -> Result<(), CacheError> {
    let key = keys::list_key(id, sid);
    let mut current = store.get(&key)?;
    for _ in 0..MAX_ATTEMPTS {
        let there = current
            .as_deref()
            .and_then(|b| record::decode_list(b, sid).ok());
        let merged = match &there {
            // Written by an interrupted upgrade, or by this version before an older one ran
            // again: the union of both.
            Some(newer) => ListRecord {
                list: pims_types::merge(&rec.list, &newer.list),
                car: newer.car.clone().or_else(|| rec.car.clone()),
                vin: newer.vin.clone().or_else(|| rec.vin.clone()),
            },
            None => rec.clone(),
        };
        if there.as_ref() == Some(&merged) {
            return Ok(());
        }
        let bytes = record::encode_list(&merged);
        match store.compare_and_swap(&key, current.as_deref(), Some(&bytes))? {
            Swap::Swapped => return Ok(()),
            Swap::Conflict { current: now } => current = now,
        }
    }
    Err(CacheError::Contention {
        attempts: MAX_ATTEMPTS,
    })
}

/// Test support: layout-1 entries, as earlier versions wrote them.
#[cfg(test)]
pub(crate) mod old_layout {
    use crate::keys::{Link, legacy, push_segment};

    /// The key of a layout-1 list record.
    pub(crate) fn list_key(account: &str, device: &str, sid: &str) -> Vec<u8> {
        let mut k = vec![legacy::LIST];
        push_segment(&mut k, account.as_bytes());
        push_segment(&mut k, device.as_bytes());
        push_segment(&mut k, sid.as_bytes());
        k
    }

    /// The key of a layout-1 index entry.
    pub(crate) fn index_key(account: &str, device: &str, link: &Link) -> Vec<u8> {
        let mut segments = Vec::new();
        push_segment(&mut segments, account.as_bytes());
        push_segment(&mut segments, device.as_bytes());
        legacy::index_key(&segments, link)
    }

    /// A layout-1 index value (a JSON string).
    pub(crate) fn target(sid: &str) -> Vec<u8> {
        format!("\x01\"{sid}\"").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::old_layout::*;
    use super::*;
    use crate::keys::Link;
    use crate::memory::MemoryStore;
    use crate::{ListKeys, StepCache};
    use pims_types::{StepStatus, StepsSelector};
    use std::sync::Arc;

    const OLD: &[u8] = b"\x01{\"id\":132324,\"car\":\"987654\",\"vin\":\"VR1AB12C3D4567890\",\
        \"steps\":[[\"trusterPhoneNumber\",\"alreadyDone\",1],[\"deviceActivation\",\"todo\",2],\
        [\"mediumCarKey\",\"todo\",3]]}";

    fn put(store: &MemoryStore, k: &[u8], v: &[u8]) {
        assert_eq!(
            store.compare_and_swap(k, None, Some(v)).unwrap(),
            Swap::Swapped
        );
    }

    fn old_store() -> Arc<MemoryStore> {
        let store = Arc::new(MemoryStore::new());
        put(&store, b"d", b"\x01\"dev-1\"");
        put(&store, &list_key("acct", "dev-1", "132324"), OLD);
        put(
            &store,
            &index_key("acct", "dev-1", &Link::Car("987654".into())),
            &target("132324"),
        );
        put(
            &store,
            &index_key(
                "acct",
                "dev-1",
                &Link::Vin(pims_types::Vin::parse("VR1AB12C3D4567890").unwrap()),
            ),
            &target("132324"),
        );
        // Another account's list, an unreadable record, a dangling link.
        put(
            &store,
            &list_key("other", "dev-1", "7"),
            b"\x01{\"id\":7,\"steps\":[]}",
        );
        put(&store, &list_key("acct", "dev-1", "9"), b"\x01{torn");
        put(
            &store,
            &index_key("acct", "dev-1", &Link::Car("555".into())),
            &target("404"),
        );
        store
    }

    fn remaining_old(store: &MemoryStore) -> usize {
        let mut n = 0;
        for tag in [legacy::LIST, legacy::INDEX] {
            store
                .scan_prefix(&[tag], &mut |_, _| {
                    n += 1;
                    ControlFlow::Continue(())
                })
                .unwrap();
        }
        n
    }

    #[test]
    fn old_lists_are_carried_over_with_their_names() {
        let store = old_store();
        let cache = StepCache::new(store.clone());
        let ns = cache.namespace("acct").unwrap();
        assert_eq!(ns.device().as_str(), "dev-1");
        let by_car = StepsSelector::car_association_id("987654").unwrap();
        let list = cache.get(&ns, &by_car).unwrap().unwrap();
        assert_eq!(list.steps()[0].status, StepStatus::AlreadyDone);
        assert!(list.steps_id().is_number());
        let by_vin = StepsSelector::Vin(pims_types::Vin::parse("VR1AB12C3D4567890").unwrap());
        assert_eq!(cache.get(&ns, &by_vin).unwrap(), Some(list.clone()));
        let other = cache.namespace("other").unwrap();
        assert!(
            cache
                .get(&other, &StepsSelector::steps_id("7").unwrap())
                .unwrap()
                .is_some()
        );
        assert_eq!(cache.lists(None).unwrap().len(), 2);
        assert_eq!(remaining_old(&store), 0);
        let report = cache.check().unwrap();
        assert_eq!(
            (report.lists, report.links, report.unreadable_removed),
            (2, 2, 0)
        );
        // Sticky as before.
        let m = cache.merge(&ns, &ListKeys::from(&by_car), &list).unwrap();
        assert!(!m.changed);
    }

    #[test]
    fn an_interrupted_upgrade_is_finished_without_losing_a_step() {
        let store = old_store();
        let spaces = Spaces::default();
        // A first upgrade wrote the new entries, then a layout-2 merge turned another step
        // done, then (after a downgrade, say) the old entries are still there.
        run(&*store, &spaces).unwrap();
        let cache = StepCache::new(store.clone());
        let ns = cache.namespace("acct").unwrap();
        let by_car = StepsSelector::car_association_id("987654").unwrap();
        let mut later = cache.get(&ns, &by_car).unwrap().unwrap();
        later = pims_types::StepsList::new(
            later.steps_id().clone(),
            later
                .steps()
                .iter()
                .map(|s| pims_types::Step::new(s.name.clone(), StepStatus::AlreadyDone, s.order))
                .collect(),
        );
        let fresh = StepCache::new(store.clone());
        fresh.merge(&ns, &ListKeys::from(&by_car), &later).unwrap();
        put(&store, &list_key("acct", "dev-1", "132324"), OLD);
        // The old record (one step done) upgrades again into the newer (all done).
        assert_eq!(run(&*store, &Spaces::default()).unwrap(), 1);
        let again = StepCache::new(store.clone());
        assert!(again.get(&ns, &by_car).unwrap().unwrap().all_done());
        assert_eq!(remaining_old(&store), 0);
    }
}
