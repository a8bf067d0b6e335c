//! [`PimsCore`]: the facade as the bindings see it.

use std::collections::HashMap;
use std::sync::Arc;

use pims::{ApiError, ErrorCode, Message, Parameters, TransactionId, Verb};

use crate::callback::{MessageCallback, deliver};
use crate::json::JsonValue;
use crate::message::PimsMessage;

/// The PIMS facade: the mobile SDK's verbs, their async forms, the typed steps calls, the
/// device id and the cache administration. One object per user; it is thread-safe.
#[derive(Debug, uniffi::Object)]
pub struct PimsCore {
    pub(crate) inner: pims::Pims,
}

/// A parameter JSON cannot carry (a NaN, an infinity): its name.
struct BadParameter(String);

impl BadParameter {
    /// The FAILED message naming it (2102): the verbs never throw.
    fn message(&self) -> Message {
        Message::failed(
            TransactionId::generate(),
            ApiError::with_values(ErrorCode::INVALID_PARAMETER, &[self.0.as_str()]),
        )
    }
}

/// The parameters of a verb call.
fn parameters(dict: HashMap<String, JsonValue>) -> Result<Parameters, BadParameter> {
    let mut params = Parameters::new();
    // Sorted: which bad parameter a message names must not depend on a hash order.
    let mut entries: Vec<_> = dict.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, value) in entries {
        match value.to_value() {
            Ok(v) => params.insert(key, v),
            Err(_) => return Err(BadParameter(key)),
        }
    }
    Ok(params)
}

impl Default for PimsCore {
    fn default() -> Self {
        PimsCore {
            inner: pims::Pims::new(),
        }
    }
}

#[uniffi::export]
impl PimsCore {
    /// A facade that is not initialised yet: call `initialize` next.
    #[uniffi::constructor]
    pub fn new() -> Self {
        PimsCore::default()
    }

    /// Initialises the facade from the mobile SDK's dictionary (`environnement`, `mode`,
    /// `credential`, `profile`): SUCCEEDED, or FAILED 2007 (already), 2102 naming a bad value,
    /// 2006 (no backend).
    pub fn initialize(&self, parameters: HashMap<String, JsonValue>) -> PimsMessage {
        let message = match self::parameters(parameters) {
            Ok(p) => self.inner.initialize(p),
            Err(bad) => bad.message(),
        };
        PimsMessage::from(&message)
    }

    /// Whether the facade is initialised (and not released).
    pub fn is_initialized(&self) -> bool {
        self.inner.is_initialized()
    }

    /// Releases the facade: subscriptions stop, and every later call answers 2001.
    pub fn release(&self) {
        self.inner.release();
    }

    /// `get`: `callback` gets exactly one message, on a pims thread.
    pub fn get(
        &self,
        api: String,
        parameters: HashMap<String, JsonValue>,
        callback: Arc<dyn MessageCallback>,
    ) {
        self.verb(Verb::Get, &api, parameters, callback);
    }

    /// `set`: `callback` gets exactly one message, on a pims thread.
    pub fn set(
        &self,
        api: String,
        parameters: HashMap<String, JsonValue>,
        callback: Arc<dyn MessageCallback>,
    ) {
        self.verb(Verb::Set, &api, parameters, callback);
    }

    /// `subscribe`: `callback` gets the acknowledgement, then one RESULT message per event.
    /// No API of the Steps component is subscribable (2002).
    pub fn subscribe(
        &self,
        api: String,
        parameters: HashMap<String, JsonValue>,
        callback: Arc<dyn MessageCallback>,
    ) {
        match self::parameters(parameters) {
            Ok(p) => self
                .inner
                .subscribe(&api, p, move |m: Message| deliver(&callback, &m)),
            Err(bad) => deliver(&callback, &bad.message()),
        }
    }

    /// `unsubscribe`: `callback` gets exactly one message.
    pub fn unsubscribe(&self, api: String, callback: Arc<dyn MessageCallback>) {
        self.inner
            .unsubscribe(&api, move |m: Message| deliver(&callback, &m));
    }

    /// The async form of `get` (Kotlin `suspend`, Swift `async`, Python `async def`).
    pub async fn get_async(
        &self,
        api: String,
        parameters: HashMap<String, JsonValue>,
    ) -> PimsMessage {
        self.call(Verb::Get, api, parameters).await
    }

    /// The async form of `set`.
    pub async fn set_async(
        &self,
        api: String,
        parameters: HashMap<String, JsonValue>,
    ) -> PimsMessage {
        self.call(Verb::Set, api, parameters).await
    }
}

impl PimsCore {
    fn verb(
        &self,
        verb: Verb,
        api: &str,
        parameters: HashMap<String, JsonValue>,
        callback: Arc<dyn MessageCallback>,
    ) {
        let params = match self::parameters(parameters) {
            Ok(p) => p,
            Err(bad) => return deliver(&callback, &bad.message()),
        };
        let answer = move |m: Message| deliver(&callback, &m);
        match verb {
            Verb::Set => self.inner.set(api, params, answer),
            _ => self.inner.get(api, params, answer),
        }
    }

    async fn call(
        &self,
        verb: Verb,
        api: String,
        parameters: HashMap<String, JsonValue>,
    ) -> PimsMessage {
        let message = match self::parameters(parameters) {
            Ok(p) => self.inner.call(verb, &api, p).await,
            Err(bad) => bad.message(),
        };
        PimsMessage::from(&message)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::mpsc;

    use super::*;
    use crate::callback::CallbackError;

    /// A callback written in Rust, as Kotlin, Swift or Python would write theirs.
    struct Channel(std::sync::Mutex<mpsc::Sender<PimsMessage>>);

    impl MessageCallback for Channel {
        fn on_message(&self, message: PimsMessage) -> Result<(), CallbackError> {
            let _ = self.0.lock().unwrap().send(message);
            // Throwing changes nothing: the call was answered.
            Err(CallbackError::Failed {
                reason: "the app failed".into(),
            })
        }
    }

    fn channel() -> (Arc<dyn MessageCallback>, mpsc::Receiver<PimsMessage>) {
        let (tx, rx) = mpsc::channel();
        (Arc::new(Channel(std::sync::Mutex::new(tx))), rx)
    }

    fn code(m: &PimsMessage) -> (i64, String) {
        let e = m.error.as_ref().unwrap();
        (e.code, e.label.clone())
    }

    #[test]
    fn an_uninitialised_facade_answers_2001_once() {
        let pims = PimsCore::new();
        let (callback, rx) = channel();
        pims.get("pims.subscription.steps".into(), HashMap::new(), callback);
        let m = rx.recv().unwrap();
        assert_eq!(m.status, crate::MessageStatus::Failed);
        assert_eq!(code(&m).0, 2001);
        assert!(
            rx.recv_timeout(std::time::Duration::from_millis(200))
                .is_err()
        );
    }

    #[test]
    fn a_parameter_json_cannot_carry_is_failed_2102_naming_it() {
        let pims = PimsCore::new();
        let (callback, rx) = channel();
        let params = HashMap::from([
            ("b".to_owned(), JsonValue::JsonFloat { value: f64::NAN }),
            (
                "a".to_owned(),
                JsonValue::JsonFloat {
                    value: f64::INFINITY,
                },
            ),
        ]);
        pims.set("pims.vehicle.vin".into(), params.clone(), callback);
        assert_eq!(
            code(&rx.recv().unwrap()),
            (2102, "Invalid a parameter".into())
        );
        let init = pims.initialize(params);
        assert_eq!(code(&init), (2102, "Invalid a parameter".into()));
        // The envelope is the dictionary form of the same message.
        let JsonValue::JsonObject { members } = &init.envelope else {
            panic!("{init:?}")
        };
        let keys: Vec<_> = members.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["transactionId", "status", "error"]);
    }
}
