//! Exactly one callback per call: [`Once`] answers when told to, or on drop (the task was
//! cancelled: the runtime shut down, or the facade was released mid-call).

use pims_types::{ApiError, ErrorCode, Message, TransactionId};

use crate::error::Error;

/// A callback that runs exactly once.
pub(crate) struct Once<F: FnOnce(Message)> {
    tid: TransactionId,
    callback: Option<F>,
}

impl<F: FnOnce(Message)> Once<F> {
    pub(crate) fn new(tid: TransactionId, callback: F) -> Self {
        Once {
            tid,
            callback: Some(callback),
        }
    }

    /// Answers with `message`.
    pub(crate) fn answer(mut self, message: Message) {
        if let Some(cb) = self.callback.take() {
            cb(message);
        }
    }

    /// Answers with a failure.
    pub(crate) fn fail(self, error: Error) {
        let tid = self.tid.clone();
        self.answer(Message::failed(tid, error.into_api_error()));
    }
}

impl<F: FnOnce(Message)> Drop for Once<F> {
    fn drop(&mut self) {
        if let Some(cb) = self.callback.take() {
            // The call never finished: the runtime is shutting down.
            let error = ApiError::from_code(ErrorCode::UNKNOWN);
            cb(Message::failed(self.tid.clone(), error));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn answers_once_whether_told_or_dropped() {
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        Once::new(TransactionId::generate(), move |_| {
            m.fetch_add(1, Ordering::SeqCst);
        })
        .answer(Message::succeeded_empty(TransactionId::generate()));
        let m = n.clone();
        let dropped = Once::new(TransactionId::generate(), move |msg: Message| {
            assert_eq!(msg.error().map(|e| e.code), Some(ErrorCode::UNKNOWN));
            m.fetch_add(1, Ordering::SeqCst);
        });
        drop(dropped);
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }
}
