//! The store's schema and its version, kept in a one-row table beside the entries (outside
//! the cache's key spaces). `migrate` is safe when every replica runs it at start: the
//! replicas take turns on a transaction-scoped advisory lock (concurrent `create table if not
//! exists` can otherwise fail on a catalog index), and a later version's schema is refused.

use tokio_postgres::Transaction;

use crate::error::PostgresError;
use crate::sql::{Sql, Table};

/// The schema version this crate writes and reads.
///
/// - Version 1: the table `(k bytea primary key, v bytea not null)` and its version table.
/// - Version 2: version 1 and the function `<table>_swap_all`, which makes a conditional
///   batch in one call. A store of version 1 is upgraded in place (its entries untouched).
pub const SCHEMA_VERSION: i32 = 2;

/// The advisory lock key of the table's migrations (FNV-1a of its name: stable across
/// versions and processes).
pub(crate) fn lock_key(table: &Table) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in table.lock_name().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Creates or upgrades the schema inside `tx` (which the caller commits); the version found
/// before, if any.
pub(crate) async fn migrate(
    tx: &Transaction<'_>,
    sql: &Sql,
    table: &Table,
    schema: Option<&str>,
) -> Result<Option<i32>, PostgresError> {
    let q = |e: tokio_postgres::Error| PostgresError::query("migration", &e);
    tx.execute("select pg_advisory_xact_lock($1)", &[&lock_key(table)])
        .await
        .map_err(q)?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("create schema if not exists \"{schema}\""))
            .await
            .map_err(q)?;
    }
    tx.batch_execute(&sql.create_meta).await.map_err(q)?;
    let found: Option<i32> = tx
        .query_opt(&sql.read_version, &[])
        .await
        .map_err(q)?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(q)?;
    match found {
        Some(v) if v > SCHEMA_VERSION => {
            return Err(PostgresError::SchemaTooNew {
                found: v,
                supported: SCHEMA_VERSION,
            });
        }
        Some(SCHEMA_VERSION) => {
            // Its function may be lost while the tables stay (a dump of the tables only, a
            // manual drop): made again. (Not replaced when present: its owner may be another
            // role than this replica's.)
            let present: bool = tx
                .query_one(&sql.swap_all_exists, &[])
                .await
                .map_err(q)?
                .try_get(0)
                .map_err(q)?;
            if !present {
                tx.batch_execute(&sql.create_swap_all).await.map_err(q)?;
            }
            return Ok(found);
        }
        // Version 1 has the entries table already.
        Some(1) => {}
        // A new store (or a version 0 no release ever wrote: its table is made if missing).
        _ => tx.batch_execute(&sql.create_entries).await.map_err(q)?,
    }
    // Version 2.
    tx.batch_execute(&sql.create_swap_all).await.map_err(q)?;
    tx.execute(&sql.write_version, &[&SCHEMA_VERSION])
        .await
        .map_err(q)?;
    Ok(found)
}

/// The recorded schema version, None when the store has none yet.
pub(crate) async fn version(
    client: &tokio_postgres::Client,
    sql: &Sql,
) -> Result<Option<i32>, PostgresError> {
    let q = |e: tokio_postgres::Error| PostgresError::query("schema version check", &e);
    let exists: bool = client
        .query_one(&sql.meta_exists, &[&sql.meta_regclass])
        .await
        .map_err(q)?
        .try_get(0)
        .map_err(q)?;
    if !exists {
        return Ok(None);
    }
    client
        .query_opt(&sql.read_version, &[])
        .await
        .map_err(q)?
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(q)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_lock_key_depends_on_the_table_only() {
        let a = Table::parse("pims_step_store").unwrap();
        let b = Table::parse("svc.pims_step_store").unwrap();
        assert_eq!(lock_key(&a), lock_key(&a.clone()));
        assert_ne!(lock_key(&a), lock_key(&b));
    }
}
