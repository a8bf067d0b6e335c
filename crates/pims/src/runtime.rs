//! Where the facade's work runs: the caller's tokio runtime when there is one, else a small
//! runtime of its own (apps' native cores often have none).

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

/// A runtime the facade owns; shut down in the background when the last facade goes, so that
/// dropping it inside another runtime's thread cannot panic.
#[derive(Debug)]
struct Owned(Option<Runtime>);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A handle to the runtime the facade spawns its calls on. `None` only when no runtime could
/// be started (the OS refused threads): then every call answers 2006.
#[derive(Debug, Clone)]
pub(crate) struct Executor {
    handle: Option<Handle>,
    owned: Option<Arc<Owned>>,
}

impl Executor {
    /// The current runtime, or a new two-thread runtime when there is none.
    pub(crate) fn current_or_own() -> Self {
        if let Ok(handle) = Handle::try_current() {
            return Executor {
                handle: Some(handle),
                owned: None,
            };
        }
        match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pims")
            .enable_all()
            .build()
        {
            Ok(rt) => Executor {
                handle: Some(rt.handle().clone()),
                owned: Some(Arc::new(Owned(Some(rt)))),
            },
            Err(e) => {
                tracing::error!(error = %e, "pims: no runtime could be started");
                Executor {
                    handle: None,
                    owned: None,
                }
            }
        }
    }

    /// Whether there is a runtime to run calls on.
    pub(crate) fn is_available(&self) -> bool {
        self.handle.is_some()
    }

    /// Whether the facade runs its own runtime.
    pub(crate) fn is_owned(&self) -> bool {
        self.owned.is_some()
    }

    /// Spawns `fut`; `None` when there is no runtime (the future is dropped).
    pub(crate) fn spawn<F>(&self, fut: F) -> Option<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.as_ref().map(|h| h.spawn(fut))
    }
}
