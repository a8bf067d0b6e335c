//! [`ReplayTransport`]: expected calls, in order, each with its scripted answer.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use pims_types::{ApiError, Message, Parameters, RedactedJson, Verb};
use serde_json::Value;

use crate::call::Call;
use crate::error::TransportError;
use crate::transport::Transport;

/// What a scripted call must look like: verb and API, and optionally the exact parameters.
///
/// ```
/// use pims_transport::fakes::Expected;
/// use pims_types::Parameters;
/// let e = Expected::get("pims.subscription.steps")
///     .with_parameters(Parameters::new().with("carAssociationID", "987654"));
/// # let _ = e;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    verb: Verb,
    api: String,
    parameters: Option<Parameters>,
}

impl Expected {
    /// A call with this verb and API, whatever its parameters.
    pub fn new(verb: Verb, api: impl Into<String>) -> Self {
        Expected {
            verb,
            api: api.into(),
            parameters: None,
        }
    }

    /// A `get` of this API.
    pub fn get(api: impl Into<String>) -> Self {
        Expected::new(Verb::Get, api)
    }

    /// A `set` of this API.
    pub fn set(api: impl Into<String>) -> Self {
        Expected::new(Verb::Set, api)
    }

    /// Also requires exactly these parameters.
    pub fn with_parameters(mut self, parameters: Parameters) -> Self {
        self.parameters = Some(parameters);
        self
    }

    fn matches(&self, call: &Call) -> bool {
        self.verb == call.verb
            && self.api == call.api
            && self
                .parameters
                .as_ref()
                .is_none_or(|p| *p == call.parameters)
    }

    fn describe(&self) -> String {
        match &self.parameters {
            Some(p) => format!("{} {} {p:?}", self.verb, self.api),
            None => format!("{} {}", self.verb, self.api),
        }
    }
}

/// The scripted answer to an expected call.
///
/// `Debug` hides secret values of a scripted result (an `otp`, a token).
#[derive(Clone)]
#[non_exhaustive]
pub enum Reply {
    /// A SUCCEEDED envelope with this result, for the call's transaction id.
    Succeeded(Value),
    /// A FAILED envelope with this error, for the call's transaction id.
    Failed(ApiError),
    /// This envelope, with the call's transaction id.
    Message(Message),
    /// This envelope exactly as it is (to test mismatched transaction ids).
    Verbatim(Message),
    /// This error.
    Error(TransportError),
}

impl Reply {
    /// [`Reply::Succeeded`].
    pub fn succeeded(result: Value) -> Self {
        Reply::Succeeded(result)
    }

    /// [`Reply::Failed`].
    pub fn failed(error: ApiError) -> Self {
        Reply::Failed(error)
    }

    /// [`Reply::Error`].
    pub fn error(error: TransportError) -> Self {
        Reply::Error(error)
    }

    fn answer(self, call: &Call) -> Result<Message, TransportError> {
        let id = call.transaction_id.clone();
        match self {
            Reply::Succeeded(result) => Ok(Message::succeeded(id, result)),
            Reply::Failed(error) => Ok(Message::failed(id, error)),
            Reply::Message(message) => Ok(message.with_transaction_id(id)),
            Reply::Verbatim(message) => Ok(message),
            Reply::Error(error) => Err(error),
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Succeeded(v) => f.debug_tuple("Succeeded").field(&RedactedJson(v)).finish(),
            Reply::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            Reply::Message(m) => f.debug_tuple("Message").field(m).finish(),
            Reply::Verbatim(m) => f.debug_tuple("Verbatim").field(m).finish(),
            Reply::Error(e) => f.debug_tuple("Error").field(e).finish(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<(Expected, Reply)>,
    received: Vec<Call>,
    mismatches: Vec<String>,
}

/// A transport that plays a script: each call must be the next expected one and gets its
/// reply. A call that is not the expected one gets a [`TransportError::NotSent`] error and is
/// recorded as a mismatch. [`assert_all_used`](ReplayTransport::assert_all_used) checks, at the
/// end of a test, that every expected call came and nothing else did. Clones share the script.
///
/// ```
/// use pims_transport::{Call, Transport};
/// use pims_transport::fakes::{Expected, ReplayTransport, Reply};
/// use pims_types::{Parameters, TransactionId, Verb};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let replay = ReplayTransport::new()
///     .expect(Expected::get("pims.subscription.steps"), Reply::succeeded(serde_json::json!({})))
///     .expect(Expected::set("pims.vehicle.vin"), Reply::succeeded(serde_json::Value::Null));
/// let get = Call::new(Verb::Get, "pims.subscription.steps", Parameters::new(), TransactionId::generate(), "d");
/// replay.call(get).await.unwrap();
/// assert_eq!(replay.remaining(), 1);
/// assert!(replay.check().is_err());
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReplayTransport {
    state: Arc<Mutex<State>>,
}

impl ReplayTransport {
    /// An empty script.
    ///
    /// ```
    /// assert!(pims_transport::fakes::ReplayTransport::new().check().is_ok());
    /// ```
    pub fn new() -> Self {
        ReplayTransport::default()
    }

    /// Adds an expected call and its reply at the end of the script; builder style.
    ///
    /// ```
    /// use pims_transport::fakes::{Expected, ReplayTransport, Reply};
    /// let r = ReplayTransport::new().expect(Expected::get("a"), Reply::succeeded(serde_json::json!(1)));
    /// assert_eq!(r.remaining(), 1);
    /// ```
    pub fn expect(self, expected: Expected, reply: Reply) -> Self {
        self.push(expected, reply);
        self
    }

    /// Adds an expected call and its reply at the end of the script.
    ///
    /// ```
    /// use pims_transport::fakes::{Expected, ReplayTransport, Reply};
    /// let r = ReplayTransport::new();
    /// r.push(Expected::get("a"), Reply::succeeded(serde_json::json!(1)));
    /// assert_eq!(r.remaining(), 1);
    /// ```
    pub fn push(&self, expected: Expected, reply: Reply) {
        self.lock().script.push_back((expected, reply));
    }

    /// The calls received so far, in order (unexpected ones included).
    ///
    /// ```
    /// assert!(pims_transport::fakes::ReplayTransport::new().calls().is_empty());
    /// ```
    pub fn calls(&self) -> Vec<Call> {
        self.lock().received.clone()
    }

    /// How many expected calls have not come yet.
    ///
    /// ```
    /// assert_eq!(pims_transport::fakes::ReplayTransport::new().remaining(), 0);
    /// ```
    pub fn remaining(&self) -> usize {
        self.lock().script.len()
    }

    /// `Ok` when every expected call came and no unexpected one did; otherwise what went wrong.
    ///
    /// ```
    /// use pims_transport::fakes::{Expected, ReplayTransport, Reply};
    /// let r = ReplayTransport::new().expect(Expected::get("a"), Reply::succeeded(serde_json::json!(1)));
    /// assert!(r.check().unwrap_err().contains("get a"));
    /// ```
    pub fn check(&self) -> Result<(), String> {
        let state = self.lock();
        let mut problems = state.mismatches.clone();
        problems.extend(
            state
                .script
                .iter()
                .map(|(e, _)| format!("expected call never came: {}", e.describe())),
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Panics (a test assertion) unless [`check`](ReplayTransport::check) is `Ok`.
    ///
    /// ```should_panic
    /// use pims_transport::fakes::{Expected, ReplayTransport, Reply};
    /// ReplayTransport::new().expect(Expected::get("a"), Reply::succeeded(serde_json::json!(1))).assert_all_used();
    /// ```
    #[track_caller]
    #[allow(clippy::panic)] // A test assertion: panicking is its purpose.
    pub fn assert_all_used(&self) {
        if let Err(problems) = self.check() {
            panic!("replay transport: {problems}");
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the script from the others.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Transport for ReplayTransport {
    async fn call(&self, call: Call) -> Result<Message, TransportError> {
        let mut state = self.lock();
        state.received.push(call.clone());
        let number = state.received.len();
        let next = match state.script.front() {
            Some((expected, _)) if expected.matches(&call) => state.script.pop_front(),
            _ => None,
        };
        match next {
            Some((_, reply)) => reply.answer(&call),
            None => {
                let wanted = state
                    .script
                    .front()
                    .map_or_else(|| "nothing".to_owned(), |(e, _)| e.describe());
                let problem = format!(
                    "call #{number} was {} {} {:?}, expected {wanted}",
                    call.verb, call.api, call.parameters
                );
                state.mismatches.push(problem.clone());
                Err(TransportError::not_sent(format!("replay: {problem}")))
            }
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pims_types::{Secret, TransactionId};

    fn call(verb: Verb, api: &str, parameters: Parameters) -> Call {
        Call::new(verb, api, parameters, TransactionId::generate(), "d")
    }

    #[tokio::test]
    async fn plays_in_order_and_reports_mismatches_without_secrets() {
        let pin = Secret::new("CANARY-PIN-4321");
        let replay = ReplayTransport::new()
            .expect(
                Expected::get("pims.subscription.steps")
                    .with_parameters(Parameters::new().with("carAssociationID", "987654")),
                Reply::succeeded(serde_json::json!({"stepsID": 1})),
            )
            .expect(
                Expected::set("pims.authentication.pincode"),
                Reply::error(TransportError::server_error(503, None)),
            );
        let first = call(
            Verb::Get,
            "pims.subscription.steps",
            Parameters::new().with("carAssociationID", "987654"),
        );
        let id = first.transaction_id.clone();
        let answer = replay.call(first).await.unwrap();
        assert_eq!(answer.transaction_id(), &id);

        let wrong = call(
            Verb::Set,
            "pims.authentication.otp",
            Parameters::new().with_secret("pinCode", &pin),
        );
        let e = replay.call(wrong).await.unwrap_err();
        assert!(!e.may_have_been_sent());
        let problems = replay.check().unwrap_err();
        assert!(problems.contains("pims.authentication.otp"), "{problems}");
        assert!(problems.contains("never came"), "{problems}");
        assert!(!problems.contains("CANARY-PIN"), "{problems}");

        let right = call(Verb::Set, "pims.authentication.pincode", Parameters::new());
        assert!(matches!(
            replay.call(right).await,
            Err(TransportError::ServerError { .. })
        ));
        assert_eq!(replay.remaining(), 0);
        assert_eq!(replay.calls().len(), 3);
        // The mismatch stays recorded.
        assert!(replay.check().is_err());
    }

    #[tokio::test]
    async fn verbatim_keeps_the_transaction_id() {
        let other = TransactionId::from_u64(42);
        let replay = ReplayTransport::new().expect(
            Expected::get("a"),
            Reply::Verbatim(Message::succeeded_empty(other.clone())),
        );
        let answer = replay
            .call(call(Verb::Get, "a", Parameters::new()))
            .await
            .unwrap();
        assert_eq!(answer.transaction_id(), &other);
        replay.assert_all_used();
    }
}
