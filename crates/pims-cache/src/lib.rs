//! The persistent, crash-safe step cache of pims-rs (sled-backed).
//!
//! This crate is being built; see the project's issues.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
