//! [`Subscriptions`]: the event sources a facade was built with, and the live subscriptions
//! to them (`subscribe`, `unsubscribe`, stopped all at once by `release`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use pims_types::{ErrorCode, Message, TransactionId};
use serde_json::Value;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use crate::error::{Error, ErrorKind};
use crate::runtime::Executor;

/// A subscriber's callback.
pub(crate) type EventCallback = Arc<dyn Fn(Message) + Send + Sync>;

/// The subscriptions of one initialised facade: its event sources (by API name) and the live
/// subscriptions to them.
pub(crate) struct Subscriptions {
    event_sources: HashMap<String, broadcast::Sender<Value>>,
    live: Mutex<Live>,
}

impl Subscriptions {
    /// No subscription yet, to these event sources (API name, events).
    pub(crate) fn new(event_sources: Vec<(String, broadcast::Sender<Value>)>) -> Self {
        Subscriptions {
            event_sources: event_sources.into_iter().collect(),
            live: Mutex::new(Live::default()),
        }
    }

    pub(crate) fn subscribe(
        &self,
        api: &str,
        tid: TransactionId,
        callback: EventCallback,
        exec: &Executor,
    ) {
        let Some(source) = self.event_sources.get(api) else {
            return callback(Message::failed(
                tid,
                Error::not_supported().into_api_error(),
            ));
        };
        let (go, started) = tokio::sync::oneshot::channel::<()>();
        {
            let mut subs = self.live();
            if subs.stopped {
                drop(subs);
                let e = Error::lifecycle(ErrorCode::FACADE_NOT_INITIALIZED);
                return callback(Message::failed(tid, e.into_api_error()));
            }
            if subs.active.contains_key(api) {
                drop(subs);
                let e = Error::from_code(ErrorKind::Input, ErrorCode::DUPLICATE_COMMAND, &[]);
                return callback(Message::failed(tid, e.into_api_error()));
            }
            let cancelled = Arc::new(AtomicBool::new(false));
            let mut events = source.subscribe();
            let (cb, flag, event_tid) = (callback.clone(), cancelled.clone(), tid.clone());
            // The forwarder waits for the acknowledgement to be delivered first, and checks the
            // flag before every event, so nothing arrives after unsubscribe/release answered.
            let forward = async move {
                if started.await.is_err() {
                    return;
                }
                loop {
                    match events.recv().await {
                        Ok(v) if !flag.load(Ordering::SeqCst) => {
                            cb(Message::event(event_tid.clone(), v));
                        }
                        Ok(_) => break,
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "subscriber too slow: events dropped");
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            };
            let Some(task) = exec.spawn(forward) else {
                drop(subs);
                let e = Error::not_configured();
                return callback(Message::failed(tid, e.into_api_error()));
            };
            subs.active.insert(
                api.to_owned(),
                Subscription {
                    task: task.abort_handle(),
                    cancelled,
                },
            );
        }
        // Outside the lock: the app may unsubscribe from its acknowledgement callback.
        callback(Message::succeeded(tid, Value::Null));
        let _ = go.send(());
    }

    pub(crate) fn unsubscribe(&self, api: &str, tid: TransactionId) -> Message {
        if !self.event_sources.contains_key(api) {
            return Message::failed(tid, Error::not_supported().into_api_error());
        }
        if let Some(sub) = self.live().active.remove(api) {
            sub.stop();
        }
        Message::succeeded(tid, Value::Null)
    }

    pub(crate) fn stop_all(&self) {
        let mut subs = self.live();
        subs.stopped = true;
        for (_, sub) in subs.active.drain() {
            sub.stop();
        }
    }

    fn live(&self) -> MutexGuard<'_, Live> {
        // A callback that panicked must not make subscriptions unstoppable.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The live subscriptions, and whether the facade was released.
#[derive(Default)]
struct Live {
    active: HashMap<String, Subscription>,
    /// Set by `release()`: later subscribes answer 2001.
    stopped: bool,
}

struct Subscription {
    task: AbortHandle,
    cancelled: Arc<AtomicBool>,
}

impl Subscription {
    fn stop(self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}
