//! One `swap_all` that writes, as one transaction (see `batch` for what it does and why), and
//! the guard that keeps a connection cut off in the middle of a transaction out of the pool.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::Object;
use pims_cache::{BatchSwap, KeySwap};
use tokio_postgres::types::ToSql;

use crate::batch;
use crate::sql::Sql;

/// One attempt of a batch that writes: the transaction of `batch`'s module docs, in two round
/// trips (begin + lock + read, then the writes + commit, each pipelined).
pub(crate) async fn swap(
    client: Object,
    sql: &Sql,
    swaps: &[KeySwap<'_>],
) -> Result<BatchSwap, tokio_postgres::Error> {
    // Prepared once per connection (no round trip after the first time).
    let (lock, read, set, delete) = tokio::try_join!(
        client.prepare_cached(&sql.lock_all),
        client.prepare_cached(&sql.get_many),
        client.prepare_cached(&sql.set_many),
        client.prepare_cached(&sql.delete_many),
    )?;
    let (keys, values) = batch::locks(swaps);
    let tx = InTransaction(Some(client));
    let c = tx.client();
    // BEGIN cannot fail on a live connection (we never leave a transaction open on one),
    // so the lock never runs outside the transaction; on a dead one everything fails.
    let lock_params: [&(dyn ToSql + Sync); 2] = [&keys, &values];
    let read_params: [&(dyn ToSql + Sync); 1] = [&keys];
    let (begun, locked, rows) = tokio::join!(
        c.batch_execute("BEGIN"),
        c.query(&lock, &lock_params),
        c.query(&read, &read_params),
    );
    begun?;
    let created: HashSet<Vec<u8>> = locked?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let mut present = HashMap::new();
    for row in rows? {
        present.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let writes = match batch::judge(swaps, &created, &present) {
        Ok(w) => w,
        Err(conflict) => {
            c.batch_execute("ROLLBACK").await?;
            tx.ended();
            return Ok(conflict);
        }
    };
    let set_some = !writes.set_keys.is_empty();
    let delete_some = !writes.delete.is_empty();
    let (updated, deleted, committed) = tokio::join!(
        async {
            match set_some {
                true => {
                    c.execute(&set, &[&writes.set_keys, &writes.set_values])
                        .await
                }
                false => Ok(0),
            }
        },
        async {
            match delete_some {
                true => c.execute(&delete, &[&writes.delete]).await,
                false => Ok(0),
            }
        },
        c.batch_execute("COMMIT"),
    );
    // A failed write aborts the transaction, and the server answers the COMMIT with a
    // rollback: the write's error is the outcome, not the commit's answer.
    updated?;
    deleted?;
    committed?;
    tx.ended();
    Ok(BatchSwap::Swapped)
}

/// A connection inside a transaction of ours. Dropped before [`ended`](InTransaction::ended)
/// (an error on the way, the call's time limit), it is closed instead of going back to the
/// pool: the server rolls the transaction back, and no one reuses a connection in the middle
/// of it.
struct InTransaction(Option<Object>);

impl InTransaction {
    fn client(&self) -> &Object {
        // Some until ended or dropped.
        match &self.0 {
            Some(c) => c,
            None => unreachable!("a transaction used after it ended"),
        }
    }

    /// The transaction is over: the connection goes back to the pool.
    fn ended(mut self) {
        self.0 = None;
    }
}

impl Drop for InTransaction {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            drop(Object::take(client));
        }
    }
}
