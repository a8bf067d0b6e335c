//! One `swap_all` that writes, as one transaction in one round trip (see `batch` for what it
//! does and why), and the guard that keeps a connection cut off in the middle of a
//! transaction out of the pool.

use deadpool_postgres::Object;
use pims_cache::{BatchSwap, KeySwap};
use tokio_postgres::types::ToSql;

use crate::batch;
use crate::sql::Sql;

/// One attempt of a batch that writes: the transaction of `batch`'s module docs in one round
/// trip: `BEGIN`, the lock, the judgement with the writes, and `COMMIT`, pipelined. The server
/// judges (`Sql::judge_and_write`), so nothing waits for the client between the statements;
/// a batch that fails its judgement commits nothing of its own (the rows the lock created are
/// removed again).
pub(crate) async fn swap(
    client: Object,
    sql: &Sql,
    swaps: &[KeySwap<'_>],
) -> Result<BatchSwap, tokio_postgres::Error> {
    // Prepared once per connection (no round trip after the first time).
    let (lock, judge) = tokio::try_join!(
        client.prepare_cached(&sql.lock_all),
        client.prepare_cached(&sql.judge_and_write),
    )?;
    let (lock_keys, lock_values) = batch::locks(swaps);
    let keys: Vec<&[u8]> = swaps.iter().map(|s| s.key).collect();
    let expected: Vec<Option<&[u8]>> = swaps.iter().map(|s| s.expected).collect();
    let new: Vec<Option<&[u8]>> = swaps.iter().map(|s| s.new).collect();
    let tx = InTransaction(Some(client));
    let c = tx.client();
    // BEGIN cannot fail on a live connection (we never leave a transaction open on one),
    // so the statements never run outside the transaction; on a dead one everything fails.
    // A statement that fails aborts the transaction, the later ones fail with it, and the
    // server answers the COMMIT with a rollback: the first error is the outcome.
    let lock_params: [&(dyn ToSql + Sync); 2] = [&lock_keys, &lock_values];
    let judge_params: [&(dyn ToSql + Sync); 3] = [&keys, &expected, &new];
    let (begun, locked, judged, committed) = tokio::join!(
        c.batch_execute("BEGIN"),
        c.execute(&lock, &lock_params),
        c.query_opt(&judge, &judge_params),
        c.batch_execute("COMMIT"),
    );
    begun?;
    locked?;
    let judged = judged?;
    committed?;
    tx.ended();
    let Some(row) = judged else {
        return Ok(BatchSwap::Swapped);
    };
    let position: i64 = row.try_get(0)?;
    Ok(BatchSwap::Conflict {
        // 1-based, from `with ordinality` over the batch: within it.
        index: usize::try_from(position.saturating_sub(1)).unwrap_or(usize::MAX),
        current: row.try_get(1)?,
    })
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
