//! A write whose call is cut short by its time limit while its statement runs on the server
//! (waiting for a row lock another session holds, typically): its connection is closed instead
//! of going back to the pool, so that the next call never queues behind a statement still
//! running. The server ends that statement by the session's `statement_timeout` (the same limit,
//! counted from the statement's start), committed or not as a whole; whether a call that timed
//! out committed is unknown to its caller, as with any network store.

use deadpool_postgres::Object;

/// Runs `work` on `client`; the connection goes back to the pool only if `work` finishes.
pub(crate) async fn or_close<T>(client: Object, work: impl AsyncFnOnce(&Object) -> T) -> T {
    let mut running = Running(Some(client));
    let out = match &running.0 {
        Some(client) => work(client).await,
        // Some until finished or dropped.
        None => unreachable!("a connection used after its call finished"),
    };
    running.0 = None;
    out
}

/// A connection whose call has not finished. Dropped so (the call's future dropped by its time
/// limit), it is detached from the pool and closed.
struct Running(Option<Object>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            drop(Object::take(client));
        }
    }
}
