//! One `swap_all` that writes: one call of the store's function (`Sql::swap_all`), so one
//! statement, one round trip and one implicit transaction, committed synchronously before the
//! server answers (see `batch` for what the function does and why).

use deadpool_postgres::Object;
use pims_cache::{BatchSwap, KeySwap};
use tokio_postgres::types::ToSql;

use crate::batch;
use crate::sql::Sql;

/// One attempt of a batch that writes. The server locks and judges (the client waits for
/// nothing in between); a batch that fails its judgement commits nothing of its own (the rows
/// the lock created are removed again), and a failing statement aborts the whole call.
///
/// A single statement outside any explicit transaction, so a call cut off half-way leaves no
/// transaction open; one cut off by its time limit has its connection closed (`cut_short`).
pub(crate) async fn swap(
    client: &Object,
    sql: &Sql,
    swaps: &[KeySwap<'_>],
) -> Result<BatchSwap, tokio_postgres::Error> {
    // Prepared once per connection (no round trip after the first time).
    let call = client.prepare_cached(&sql.swap_all).await?;
    let (lock_keys, lock_values) = batch::locks(swaps);
    let keys: Vec<&[u8]> = swaps.iter().map(|s| s.key).collect();
    let expected: Vec<Option<&[u8]>> = swaps.iter().map(|s| s.expected).collect();
    let new: Vec<Option<&[u8]>> = swaps.iter().map(|s| s.new).collect();
    let params: [&(dyn ToSql + Sync); 5] = [&keys, &expected, &new, &lock_keys, &lock_values];
    let row = client.query_one(&call, &params).await?;
    let Some(position) = row.try_get::<_, Option<i64>>(0)? else {
        return Ok(BatchSwap::Swapped);
    };
    Ok(BatchSwap::Conflict {
        // 1-based, from `with ordinality` over the batch: within it.
        index: usize::try_from(position.saturating_sub(1)).unwrap_or(usize::MAX),
        current: row.try_get(1)?,
    })
}
