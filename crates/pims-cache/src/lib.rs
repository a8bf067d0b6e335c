//! The step cache of pims-rs: persistent, crash-safe, sled-backed.
//!
//! Once a step has been seen `alreadyDone` for a list, the SDK keeps reporting it so, across
//! restarts, until `resetSteps: true` (or the 2312/2317 cure) wipes it. This crate holds that
//! state:
//!
//! - [`StepStore`]: the async storage trait (get, get_many, compare-and-swap, an atomic
//!   conditional write of several keys, remove, paged scans, flush, health, generation), its
//!   contract written on it, with [`SledStore`] (the default: sled 0.34.7, made safe) and
//!   [`MemoryStore`];
//! - [`StepCache`]: the rule on top: [`merge`](StepCache::merge) (sticky, atomic, written
//!   only on change, flushed before it returns), [`get`](StepCache::get),
//!   [`reset`](StepCache::reset), [`invalidate_device`](StepCache::invalidate_device),
//!   [`device_id`](StepCache::device_id); namespaced by account and device ([`Namespace`]).
//!
//! ```
//! # futures_executor::block_on(async {
//! use std::sync::Arc;
//! use pims_cache::{ListKeys, SledOptions, SledStore, StepCache};
//! use pims_types::*;
//!
//! # let tmp = tempfile::tempdir().unwrap();
//! # let dir = tmp.path().join("cache");
//! let store = SledStore::open(&dir, SledOptions::default())?;
//! let cache = StepCache::new(Arc::new(store));
//! let ns = cache.namespace("account-1").await?; // this account, on this device
//!
//! // The app asked by carAssociationID; the backend answered with list 132324.
//! let selector = StepsSelector::car_association_id("987654")?;
//! let answer = StepsList::new(StepsId::number(132324), vec![
//!     Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
//!     Step::new(StepName::DeviceActivation, StepStatus::Todo, 2)]);
//! let merged = cache.merge(&ns, &ListKeys::from(&selector), &answer).await?;
//! assert!(merged.changed && merged.durable); // on disk before merge returned
//!
//! // Later the backend forgets the phone number: the cache does not.
//! let later = StepsList::new(StepsId::number(132324), vec![
//!     Step::new(StepName::TrusterPhoneNumber, StepStatus::Todo, 1),
//!     Step::new(StepName::DeviceActivation, StepStatus::Todo, 2)]);
//! let merged = cache.merge(&ns, &ListKeys::from(&selector), &later).await?;
//! assert_eq!(merged.list.steps()[0].status, StepStatus::AlreadyDone);
//! assert!(!merged.changed); // nothing written
//!
//! // resetSteps: true, by any of the list's identifiers.
//! cache.reset(&ns, &StepsSelector::steps_id("132324")?).await?;
//! assert_eq!(cache.get(&ns, &selector).await?, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every method is async and never blocks an async worker for long (the sled store runs its
//! `fsync`s on tokio's blocking pool); from synchronous code, run it on any executor. See
//! `docs/cache.md` for the key spaces, the record format, the store contract, the durability
//! contract and the recovery behaviour.
//!
//! # The conformance kit
//!
//! A store of yours ([`StepStore`]) proves itself with the suites every store of this crate
//! passes: the store contract, the cache's rules over it, concurrency, and a model test with
//! reopens. They are in `pims_cache::testkit` (feature `testkit`), as functions over a store factory,
//! with a macro that makes one test of each; see `docs/cache.md`, "The conformance kit".
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod device;
mod error;
mod keys;
mod memo;
mod memory;
mod namespace;
mod record;
mod scan;
#[cfg(feature = "sled")]
mod sled_store;
mod spaces;
mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use cache::{CachedList, CheckReport, Merged, Removed, StepCache};
pub use device::{DeviceId, MAX_DEVICE_ID_LEN};
pub use error::CacheError;
pub use memory::MemoryStore;
pub use namespace::{ListKeys, MAX_ACCOUNT_LEN, Namespace};
#[cfg(feature = "sled")]
pub use sled_store::{
    DEFAULT_PAGE_CACHE_BYTES, DEVICE_FILE, LOCK_FILE, MARKER_FILE, MIN_PAGE_CACHE_BYTES, Recovery,
    SLED_DIR, SledOptions, SledStore, StoreStats,
};
pub use store::{
    BatchSwap, Degradation, DegradedReason, Entry, Followed, Health, KeySwap, StepStore, Swap,
};
