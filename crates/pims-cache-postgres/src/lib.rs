//! A shared step store for pims-rs on PostgreSQL (the guide below is README.md).
//!
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod cut_short;
mod error;
mod options;
mod password;
mod schema;
mod session;
mod sql;
mod store;
#[cfg(feature = "test-util")]
pub mod test_server;
mod tls;
mod transaction;

pub use error::PostgresError;
pub use options::{
    APPLICATION_NAME, DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL_SIZE, DEFAULT_TABLE, DEFAULT_TIMEOUT,
    PostgresOptions, RootCert, SslMode,
};
pub use schema::SCHEMA_VERSION;
pub use store::PostgresStore;
