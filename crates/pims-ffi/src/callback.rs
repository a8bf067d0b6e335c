//! [`MessageCallback`]: the app's side of a verb call, implemented in Kotlin, Swift or Python.

use std::sync::Arc;

use crate::message::PimsMessage;

/// Receives the messages of a verb call: exactly one for `get`, `set` and `unsubscribe`; the
/// acknowledgement then one per event for `subscribe`. Called on a pims thread, never the
/// caller's: hop to the main thread before touching the UI.
#[uniffi::export(foreign)]
pub trait MessageCallback: Send + Sync {
    /// One message. What it throws is logged and dropped (the call is answered either way).
    fn on_message(&self, message: PimsMessage) -> Result<(), CallbackError>;
}

/// What a callback may throw; an exception of another type arrives as `Unexpected`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum CallbackError {
    /// The app's callback failed.
    Failed {
        /// Why, in the app's words.
        reason: String,
    },
    /// The callback threw something else.
    Unexpected {
        /// What the foreign side said.
        reason: String,
    },
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallbackError::Failed { reason } | CallbackError::Unexpected { reason } => {
                write!(f, "the callback failed: {reason}")
            }
        }
    }
}

impl std::error::Error for CallbackError {}

impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        CallbackError::Unexpected { reason: e.reason }
    }
}

/// Hands `message` to `callback`, logging what it throws (the reason is the app's text, which
/// the SDK never fills with a secret; it is not logged, only the fact).
pub(crate) fn deliver(callback: &Arc<dyn MessageCallback>, message: &pims::Message) {
    if callback.on_message(PimsMessage::from(message)).is_err() {
        tracing::warn!(
            transaction_id = %message.transaction_id(),
            "pims-ffi: the app's callback threw"
        );
    }
}
