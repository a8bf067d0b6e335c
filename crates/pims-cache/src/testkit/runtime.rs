//! [`run`]: the runtime every case of [`store_conformance_tests!`](crate::store_conformance_tests)
//! runs on.

use std::future::Future;

/// Worker threads of the runtime: more than the cores of a small CI machine, so that the
/// concurrency suite's tasks are preempted in the middle of one another's calls.
const WORKERS: usize = 4;

/// Runs `case` to its end on a new multi-thread tokio runtime (4 workers, I/O and timers for a
/// network store's connections, and tokio's blocking pool, where
/// [`SledStore`](crate::SledStore) flushes), then shuts the runtime down. A case's
/// panic (a failed assertion) is this call's.
///
/// ```
/// use pims_cache::testkit::{MemoryFactory, run};
/// run(pims_cache::testkit::contract::a_new_store_is_empty(&MemoryFactory));
/// ```
///
/// # Panics
///
/// When the runtime cannot be built (no thread can be spawned), and when `case` panics.
pub fn run<T>(case: impl Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("pims-cache-testkit")
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot build the conformance kit's runtime: {e}"));
    runtime.block_on(case)
}
