//! The transport layer of pims-rs: a pluggable Transport trait and a resilient HTTP transport.
//!
//! This crate is being built; see the project's issues.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
