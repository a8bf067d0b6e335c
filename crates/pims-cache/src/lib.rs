//! The persistent, crash-safe step cache of pims-rs (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
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
