//! A faithful, stateful simulator of the PIMS steps backend over HTTP.
//!
//! This crate is being built; see the project's issues.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
