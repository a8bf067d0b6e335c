//! The process-wide registry: one open store per directory per process. sled (and our lock
//! file) refuse a second open of the same directory, even from the same process, so every
//! `SledStore::open` of a directory already open hands out the same handle.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, PoisonError, Weak};

use super::Inner;
use crate::error::CacheError;

struct Entry {
    id: u64,
    store: Weak<Inner>,
}

#[derive(Default)]
struct Registry {
    open: Mutex<HashMap<PathBuf, Entry>>,
    /// Signalled when a closing store has released its directory.
    closed: Condvar,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::default);
static IDS: AtomicU64 = AtomicU64::new(1);

/// The store open at `key`, or a new one made by `open` (given its registry id). Opening is
/// serialised under the registry lock; a store still closing is waited for.
pub(crate) fn shared(
    key: PathBuf,
    open: impl FnOnce(u64) -> Result<Inner, CacheError>,
) -> Result<Arc<Inner>, CacheError> {
    let mut map = REGISTRY.open.lock().unwrap_or_else(PoisonError::into_inner);
    while let Some(entry) = map.get(&key) {
        if let Some(store) = entry.store.upgrade() {
            return Ok(store);
        }
        // Its last handle is gone and it is closing: wait until it unregisters.
        map = REGISTRY
            .closed
            .wait(map)
            .unwrap_or_else(PoisonError::into_inner);
    }
    let id = IDS.fetch_add(1, Ordering::SeqCst);
    let store = Arc::new(open(id)?);
    map.insert(
        key,
        Entry {
            id,
            store: Arc::downgrade(&store),
        },
    );
    Ok(store)
}

/// Called by a store once it has released its directory.
pub(crate) fn unregister(key: &Path, id: u64) {
    let mut map = REGISTRY.open.lock().unwrap_or_else(PoisonError::into_inner);
    if map.get(key).is_some_and(|e| e.id == id) {
        map.remove(key);
    }
    REGISTRY.closed.notify_all();
}
