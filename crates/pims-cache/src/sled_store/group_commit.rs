//! Group commit: one physical flush serves every change completed before it started, so N
//! concurrent changers cause one or two flushes, not N.
//!
//! Writers count their completed writes; a flush request takes the count at its start as its
//! target. If no flush is running, the requester becomes the leader: it reads the count again
//! (everything completed so far), flushes, and publishes that count as durable. Others wait
//! on the condition variable until the durable count covers their target, becoming the next
//! leader if the running flush started too early for them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

#[derive(Debug, Default)]
struct State {
    /// Writes known durable.
    durable: u64,
    /// Whether a flush is running.
    leader: bool,
    /// Threads waiting for a running flush (for tests).
    waiting: usize,
}

/// The group commit of one store: counts its writes and lets one flush serve every write
/// completed before it started.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    /// Completed writes.
    written: AtomicU64,
    /// Mirror of `State::durable` for the lock-free fast path.
    durable: AtomicU64,
    /// Physical flushes performed.
    flushes: AtomicU64,
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    /// Records one completed write; returns its sequence number.
    pub(crate) fn wrote(&self) -> u64 {
        self.written.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Completed writes so far.
    pub(crate) fn writes(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Whether every completed write is durable already (a flush would have nothing to do).
    pub(crate) fn is_settled(&self) -> bool {
        self.durable.load(Ordering::SeqCst) >= self.written.load(Ordering::SeqCst)
    }

    /// Physical flushes so far.
    pub(crate) fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::SeqCst)
    }

    /// Returns once every write completed before this call is durable, running `flush` (given
    /// the sequence number it covers) as the leader when needed. An error of the caller's own
    /// flush is returned to it; waiters of a failed flush try again themselves.
    pub(crate) fn sync<E>(&self, flush: impl Fn(u64) -> Result<(), E>) -> Result<(), E> {
        let target = self.written.load(Ordering::SeqCst);
        if self.durable.load(Ordering::SeqCst) >= target {
            return Ok(());
        }
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if st.durable >= target {
                return Ok(());
            }
            if st.leader {
                st.waiting += 1;
                st = self.done.wait(st).unwrap_or_else(PoisonError::into_inner);
                st.waiting -= 1;
                continue;
            }
            st.leader = true;
            // Everything completed up to now is covered by the flush that starts now.
            let upto = self.written.load(Ordering::SeqCst);
            drop(st);
            self.flushes.fetch_add(1, Ordering::SeqCst);
            let result = flush(upto);
            st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.leader = false;
            if result.is_ok() && upto > st.durable {
                st.durable = upto;
                self.durable.store(upto, Ordering::SeqCst);
            }
            self.done.notify_all();
            result?;
        }
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn nothing_written_means_no_flush() {
        let gate = GroupCommit::default();
        gate.sync(|_| -> Result<(), ()> { panic!("no flush needed") })
            .unwrap();
        gate.wrote();
        gate.sync(|_| Ok::<(), ()>(())).unwrap();
        gate.sync(|_| -> Result<(), ()> { panic!("already durable") })
            .unwrap();
        assert_eq!(gate.flushes(), 1);
    }

    #[test]
    fn waiters_of_a_running_flush_share_the_next_one() {
        let gate = Arc::new(GroupCommit::default());
        let calls = Arc::new(AtomicU64::new(0));
        let (entered_tx, entered_rx) = mpsc::channel::<()>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));

        let flush = {
            let calls = calls.clone();
            move || -> Result<(), ()> {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    entered_tx.send(()).unwrap();
                    release_rx.lock().unwrap().recv().unwrap();
                }
                Ok(())
            }
        };
        let flush = Arc::new(flush);

        gate.wrote();
        let leader = {
            let (gate, flush) = (gate.clone(), flush.clone());
            std::thread::spawn(move || gate.sync(|_| flush()))
        };
        entered_rx.recv().unwrap();
        // The leader is inside its flush; 16 more changers arrive.
        let followers: Vec<_> = (0..16)
            .map(|_| {
                let (gate, flush) = (gate.clone(), flush.clone());
                std::thread::spawn(move || {
                    gate.wrote();
                    gate.sync(|_| flush())
                })
            })
            .collect();
        while gate.waiting() < 16 {
            std::thread::sleep(Duration::from_millis(1));
        }
        release_tx.send(()).unwrap();
        leader.join().unwrap().unwrap();
        for f in followers {
            f.join().unwrap().unwrap();
        }
        // One flush for the leader's write, one shared by all 16 followers.
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(gate.flushes(), 2);
    }

    #[test]
    fn a_failed_flush_is_retried_by_the_next_caller() {
        let gate = GroupCommit::default();
        gate.wrote();
        assert_eq!(gate.sync(|_| Err("disk full")), Err("disk full"));
        gate.sync(|upto| {
            assert_eq!(upto, 1);
            Ok::<(), &str>(())
        })
        .unwrap();
        gate.sync(|_| -> Result<(), &str> { panic!("durable now") })
            .unwrap();
    }
}
