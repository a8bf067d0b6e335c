//! The store conformance kit (feature `testkit`): the suites every [`StepStore`](crate::StepStore) must pass,
//! as async functions over a [`StoreFactory`], and [`store_conformance_tests!`](crate::store_conformance_tests) to make one
//! `#[test]` of each case. This crate runs it against [`MemoryStore`](crate::MemoryStore) (also
//! with its generation hidden, as a store shared between processes) and
//! [`SledStore`](crate::SledStore); a store of yours proves itself the same way.
//!
//! | suite | what it checks |
//! |---|---|
//! | [`contract`] | the raw store contract written on [`StepStore`](crate::StepStore): `get`/`get_many`, compare-and-swap conflicts, `swap_all` all or nothing (checks, removals, a key named twice refused), `remove`, paged scans, the generation, a reopen, the device id kept apart, the epoch |
//! | [`rules`] | the cache over the store: sticky `alreadyDone` until reset, one list under three names, carry-over between lists, namespaces never crossed, `invalidate_device`, `wipe`, unreadable records removed, the record format, the device id, writes only on change, several caches over one store, a namespace created during a scan |
//! | [`concurrency`] | tasks at once, interleaving at every store call: compare-and-swaps on one key and batches over two keys lose nothing, 64 merges of one list keep every step, changes of 64 lists are all kept, merges racing resets and invalidations leave consistent links |
//! | [`model`] | a proptest state machine: random merges, resets, invalidations, lookups and reopens against a model, shrunk to a minimal failing sequence |
//!
//! What only a store on disk has is tested by the sled store's own tests, not here: damaged
//! files, a degraded directory, the lock between processes, disk space, crashes (a killed
//! process), file modes.
//!
//! A case panics when its store fails it, with what was expected; each gets a new place from
//! the factory, so cases never see each other's entries.
//!
//! ```
//! // In tests/conformance.rs of a crate bringing a store (here the memory store):
//! use std::sync::Arc;
//!
//! use pims_cache::testkit::StoreFactory;
//! use pims_cache::{CacheError, MemoryStore, StepStore};
//!
//! /// Where a store lives, for the kit: here a map that outlives its stores (a restart finds
//! /// it); for a network store, a database or a key prefix of its own.
//! struct Maps;
//!
//! #[async_trait::async_trait]
//! impl StoreFactory for Maps {
//!     type Place = MemoryStore;
//!     async fn create(&self) -> Result<MemoryStore, CacheError> {
//!         Ok(MemoryStore::new())
//!     }
//!     async fn open(&self, place: &MemoryStore) -> Result<Arc<dyn StepStore>, CacheError> {
//!         Ok(Arc::new(place.clone()))
//!     }
//! }
//!
//! pims_cache::store_conformance_tests!(Maps);
//!
//! // Or one case, on a runtime of the kit's:
//! # fn main() {
//! pims_cache::testkit::run(pims_cache::testkit::rules::already_done_sticks_until_reset(&Maps));
//! # }
//! ```
//!
//! [`Forwarding`] wraps a store to count what the cache asks of it or to bend it (a hidden
//! generation, a scan straying from its prefix, a hook at a scan): the suites use it, and so may
//! tests of yours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // (assertions: a case fails by panicking)

#[cfg(test)]
mod catches;
pub mod concurrency;
pub mod contract;
mod factory;
mod forwarding;
mod macros;
pub mod model;
pub mod rules;
mod runtime;
mod samples;

pub use factory::{MemoryFactory, StoreFactory, WithoutGeneration};
#[cfg(feature = "sled")]
pub use factory::{SledFactory, SledPlace};
pub use forwarding::{Forwarding, Hook, When};
pub use runtime::run;

#[cfg(test)]
mod tests {
    /// Every `pub async fn` of a suite is a case the macro makes a test of.
    #[test]
    fn the_macro_runs_every_case_of_every_suite() {
        let macro_text = include_str!("macros.rs");
        let suites = [
            ("contract", include_str!("contract.rs")),
            ("rules", include_str!("rules.rs")),
            ("concurrency", include_str!("concurrency.rs")),
            ("model", include_str!("model.rs")),
        ];
        let mut cases = 0;
        for (suite, text) in suites {
            let listed = macro_text
                .split(&format!("{suite}: ["))
                .nth(1)
                .and_then(|rest| rest.split(']').next())
                .unwrap_or_else(|| panic!("the macro has no {suite} suite"));
            let listed: Vec<&str> = listed
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            let defined: Vec<&str> = text
                .split("pub async fn ")
                .skip(1)
                .filter_map(|rest| rest.split(['<', '(']).next())
                .collect();
            assert_eq!(
                listed, defined,
                "{suite}: the macro's list and the cases differ"
            );
            cases += defined.len();
        }
        assert!(cases >= 30, "{cases} cases");
    }
}
