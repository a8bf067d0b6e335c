//! The PIMS Service Activation Steps SDK: the dispatcher composing transport and cache.
//!
//! This crate is being built; see the project's issues.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
