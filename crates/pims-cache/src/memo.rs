//! What the cache decoded, kept while the store's generation stays the same: the common
//! merge (nothing changed) then costs no store read and no decoding.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::record::ListRecord;

/// Entries kept at most; past it the memo starts over (it only saves work).
const LIMIT: usize = 4096;

#[derive(Default)]
pub(crate) struct State {
    /// The store generation the entries are valid for.
    generation: u64,
    /// List records by key.
    pub(crate) records: HashMap<Vec<u8>, Arc<ListRecord>>,
    /// Index entries by key: the stepsID they point to (the list claims them).
    pub(crate) links: HashMap<Vec<u8>, String>,
}

#[derive(Default)]
pub(crate) struct Memo {
    state: RwLock<State>,
}

impl Memo {
    /// Runs `f` on the entries if they are valid at `generation`.
    pub(crate) fn lookup<R>(
        &self,
        generation: u64,
        f: impl FnOnce(&State) -> Option<R>,
    ) -> Option<R> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        if state.generation != generation {
            return None;
        }
        f(&state)
    }

    /// Records what was read at `generation` (read before the entries themselves).
    pub(crate) fn remember(
        &self,
        generation: u64,
        record: (Vec<u8>, Arc<ListRecord>),
        links: impl IntoIterator<Item = (Vec<u8>, String)>,
    ) {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if state.generation != generation {
            if generation < state.generation {
                return; // already stale
            }
            state.records.clear();
            state.links.clear();
            state.generation = generation;
        }
        if state.records.len() >= LIMIT {
            state.records.clear();
            state.links.clear();
        }
        state.records.insert(record.0, record.1);
        state.links.extend(links);
    }
}
