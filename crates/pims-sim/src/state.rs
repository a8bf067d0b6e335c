//! What the running simulator shares between connections: the backend state behind one lock,
//! the faults, the clock, the admin token and the state file.

use std::collections::hash_map::RandomState;
use std::sync::{Arc, Mutex, MutexGuard};

use pims_types::Secret;

use crate::answer_cache::AnswerCache;
use crate::clock::SimClock;
use crate::error::SimError;
use crate::faults::Faults;
use crate::http::reply::Reply;
use crate::idempotency::{CAPACITY, IdempotencyCache};
use crate::model::Model;
use crate::persist::StateFile;

/// The state every call reads and changes, behind one lock (no lost update).
#[derive(Debug)]
pub(crate) struct BackendState {
    pub(crate) model: Model,
    pub(crate) idempotency: IdempotencyCache<Reply>,
    /// Serialised steps answers, emptied whenever the state may have changed.
    pub(crate) answers: AnswerCache,
    /// Bumped on every change; the state file keeps the newest generation.
    pub(crate) generation: u64,
}

/// A serialised state of one generation, to be written to the state file.
#[derive(Debug)]
pub(crate) struct Snapshot {
    generation: u64,
    bytes: Vec<u8>,
}

/// Shared by the connections of one simulator.
#[derive(Debug)]
pub(crate) struct Shared {
    backend: Mutex<BackendState>,
    pub(crate) faults: Faults,
    pub(crate) clock: SimClock,
    pub(crate) admin_token: Secret,
    state_file: Option<Arc<StateFile>>,
    pub(crate) hasher: RandomState,
}

impl Shared {
    pub(crate) fn new(
        model: Model,
        clock: SimClock,
        admin_token: Secret,
        state_file: Option<StateFile>,
    ) -> Shared {
        Shared {
            backend: Mutex::new(BackendState {
                model,
                idempotency: IdempotencyCache::new(CAPACITY),
                answers: AnswerCache::default(),
                generation: 0,
            }),
            faults: Faults::default(),
            clock,
            admin_token,
            state_file: state_file.map(Arc::new),
            hasher: RandomState::new(),
        }
    }

    /// The backend state. A panic while it was held cannot leave it half-changed in a way
    /// that matters more than stopping would, so a poisoned lock is taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, BackendState> {
        self.backend.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a change made under the lock: a new generation and, when there is a state
    /// file, the snapshot to write (after the lock is released).
    pub(crate) fn changed(&self, backend: &mut BackendState) -> Option<Snapshot> {
        backend.generation += 1;
        backend.answers.clear();
        self.state_file.as_ref()?;
        let doc = backend.model.to_scenario();
        let bytes = serde_json::to_vec_pretty(&doc).ok()?;
        Some(Snapshot {
            generation: backend.generation,
            bytes,
        })
    }

    /// Writes a snapshot to the state file (nothing to do without one). Returns once the
    /// snapshot, or a newer one, is on disk.
    pub(crate) async fn persist(&self, snapshot: Option<Snapshot>) -> Result<(), SimError> {
        let (Some(snapshot), Some(file)) = (snapshot, self.state_file.clone()) else {
            return Ok(());
        };
        let path = file.path().to_owned();
        tokio::task::spawn_blocking(move || file.write(snapshot.generation, &snapshot.bytes))
            .await
            .map_err(|e| SimError::StateFile {
                path,
                action: "write",
                source: std::io::Error::other(e.to_string()),
            })?
    }

    /// Runs an admin change under the lock, then writes the state back when it changed.
    pub(crate) async fn mutate<R>(
        &self,
        f: impl FnOnce(&mut BackendState, u64) -> Result<(R, bool), SimError>,
    ) -> Result<R, SimError> {
        let (result, snapshot) = {
            let mut backend = self.lock();
            // Whatever `f` reports, it had the state to change: no cached answer survives it.
            backend.answers.clear();
            let now = self.clock.now_ms();
            let (result, changed) = f(&mut backend, now)?;
            let snapshot = if changed {
                self.changed(&mut backend)
            } else {
                None
            };
            (result, snapshot)
        };
        self.persist(snapshot).await?;
        Ok(result)
    }
}
