//! A shared step store for pims-rs on PostgreSQL: every replica of a service sees the same
//! sticky `alreadyDone` steps, the same resets and the same device id.
//!
//! [`PostgresStore`] implements [`pims_cache::StepStore`] on one table
//! `(k bytea primary key, v bytea not null)` (bytea compares byte by byte: the store's ordered
//! byte map, one to one) with a bounded pool of sessions (deadpool) that each commit
//! synchronously (`synchronous_commit = on`, whatever the server's default), TLS with rustls,
//! and the conformance kit of every store. [`StepCache`](pims_cache::StepCache) runs over it
//! unchanged.
//!
//! ```no_run
//! # async fn f() -> Result<(), pims_cache::CacheError> {
//! use std::sync::Arc;
//! use pims_cache::StepCache;
//! use pims_cache_postgres::{PostgresOptions, PostgresStore};
//!
//! // A password may be in the URL, in PGPASSWORD or in ~/.pgpass: it is never logged.
//! let options = PostgresOptions::from_url("postgres://pims@db.internal/pims?sslmode=verify-full")?
//!     .pool_size(8)?;
//! let store = PostgresStore::connect(options).await?;
//! store.migrate().await?; // safe when every replica runs it at start
//! let cache = StepCache::new(Arc::new(store));
//! assert!(cache.health().is_durable()); // the server syncs, and so do our commits
//! # Ok(()) }
//! ```
//!
//! What a call costs: a lookup or a merge that changes nothing is one read (`get_many`: one
//! `where k = any($1)` query) and writes nothing, so it makes no WAL and no sync; a change is
//! one transaction whose commit waits for the disk. A failed call fails
//! ([`CacheError::Storage`](pims_cache::CacheError::Storage), its source a [`PostgresError`]):
//! the store never answers from a local copy; the pool replaces broken connections by itself.
//!
//! With the `test-util` feature, the `test_server` module starts throw-away PostgreSQL servers for
//! tests (see its docs).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
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
