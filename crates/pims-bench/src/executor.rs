//! How the cache workloads drive the async cache from synchronous code (the criterion benches,
//! the merge probes): [`run_inline`] polls the future once, on the calling thread, with a waker
//! that does nothing, and only when it is not done at once hands it to `futures_executor`'s
//! `block_on`. Outside a tokio runtime every cache operation on sled is done at its first poll
//! (the store flushes in place there), so a merge costs the future and one poll: no executor
//! state, no thread parking, no waker to make. What B3 and B3i measure is the cache, not an
//! executor.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Runs `fut` to completion on this thread: one poll with a no-op waker, then
/// `futures_executor::block_on` if that poll did not finish it.
///
/// ```
/// assert_eq!(pims_bench::run_inline(async { 7 }), 7);
/// // A future that waits is still run to completion.
/// let (tx, rx) = tokio::sync::oneshot::channel::<u8>();
/// std::thread::spawn(move || tx.send(3).unwrap());
/// assert_eq!(pims_bench::run_inline(async move { rx.await.unwrap() }), 3);
/// ```
// Inlined into its caller so that the future is built where it is polled: passed by value to
// a call, the merge's future (a large state machine) was copied once per merge (148 of its
// instructions under callgrind).
#[inline(always)]
pub fn run_inline<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(output) => output,
        // The future keeps whatever it registered; block_on polls it again with a waker that
        // wakes this thread.
        Poll::Pending => futures_executor::block_on(fut),
    }
}
