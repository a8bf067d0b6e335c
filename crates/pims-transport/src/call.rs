//! [`Call`]: one request to the backend, as the facade hands it to a transport.

use pims_types::{CallBody, MAX_CALL_BODY_BYTES, Message, Parameters, Repeat, TransactionId, Verb};

use crate::error::{AnswerProblem, TransportError};

/// One call: verb, API, parameters, transaction id, device id and, for every call that is not a
/// pure read, an idempotency key.
///
/// Whether a call may be sent more than once is a property of the call, not of its verb
/// ([`Repeat`]): `get pims.authentication.otp` counts a PIN attempt, `get
/// pims.authentication.smscode` sends an SMS. `Debug` never shows secret parameter values (PIN,
/// OTP, SMS code): [`Parameters`] redacts them.
///
/// ```
/// use pims_transport::Call;
/// use pims_types::{Parameters, Secret, TransactionId, Verb};
///
/// let pin = Secret::new("1234");
/// let otp = Call::new(Verb::Get, "pims.authentication.otp",
///         Parameters::new().with("action", "withPIN").with_secret("pinCode", &pin),
///         TransactionId::generate(), "device-1");
/// assert!(!otp.may_repeat());                  // a PIN attempt is sent once
/// assert!(otp.idempotency_key.is_some());      // and carries a key
/// assert!(!format!("{otp:?}").contains("1234"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Call {
    /// `get` or `set` (the HTTP transport refuses the others: subscriptions are not carried by
    /// the call endpoint).
    pub verb: Verb,
    /// The API name, as the app gave it.
    pub api: String,
    /// The parameters (may hold secrets).
    pub parameters: Parameters,
    /// Made by the SDK per call; the backend must echo it.
    pub transaction_id: TransactionId,
    /// The installation's device id (`Pims-Device-Id`).
    pub device_id: String,
    /// A key the backend uses to answer a repeated request with the first answer, without
    /// doing the work twice: [`Call::new`] gives one to every call that is not a pure read, and
    /// the HTTP transport sends it as `Idempotency-Key` whatever the verb. It does not make the
    /// call repeatable: only a pure read is retried.
    pub idempotency_key: Option<String>,
}

impl Call {
    /// A call; one that is not a pure read gets a fresh idempotency key (a UUID).
    ///
    /// ```
    /// use pims_transport::Call;
    /// use pims_types::{Parameters, TransactionId, Verb};
    /// let steps = Call::new(Verb::Get, "pims.subscription.steps",
    ///     Parameters::new().with("carAssociationID", "987654"), TransactionId::generate(), "dev");
    /// assert_eq!(steps.idempotency_key, None);
    /// let sms = Call::new(Verb::Get, "pims.authentication.smscode",
    ///     Parameters::new().with("type", "enrollment"), TransactionId::generate(), "dev");
    /// assert!(sms.idempotency_key.is_some());
    /// ```
    pub fn new(
        verb: Verb,
        api: impl Into<String>,
        parameters: Parameters,
        transaction_id: TransactionId,
        device_id: impl Into<String>,
    ) -> Self {
        let api = api.into();
        let idempotency_key = Repeat::of(verb, &api, &parameters)
            .needs_idempotency_key()
            .then(new_idempotency_key);
        Call {
            verb,
            api,
            parameters,
            transaction_id,
            device_id: device_id.into(),
            idempotency_key,
        }
    }

    /// The same call with this idempotency key instead of its own (an app resending a call it
    /// never got an answer to passes the key of the first send, so the backend answers it
    /// without doing the work twice).
    ///
    /// ```
    /// use pims_transport::Call;
    /// use pims_types::{Parameters, TransactionId, Verb};
    /// let call = Call::new(Verb::Set, "pims.vehicle.vin", Parameters::new(), TransactionId::generate(), "d")
    ///     .with_idempotency_key("k-1");
    /// assert_eq!(call.idempotency_key.as_deref(), Some("k-1"));
    /// ```
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The rule of this call ([`Repeat::of`] on its verb, API and parameters).
    ///
    /// ```
    /// use pims_transport::Call;
    /// use pims_types::{Parameters, Repeat, TransactionId, Verb};
    /// let vin = Call::new(Verb::Set, "pims.vehicle.vin", Parameters::new(), TransactionId::generate(), "d");
    /// assert_eq!(vin.repeat(), Repeat::AtMostOnce);
    /// ```
    pub fn repeat(&self) -> Repeat {
        Repeat::of(self.verb, &self.api, &self.parameters)
    }

    /// Whether this call may be sent again after a failure that may have reached the backend:
    /// only a pure read. Any other call reaches the backend at most once (it is resent only when
    /// the request provably never left), key or no key.
    ///
    /// ```
    /// use pims_transport::Call;
    /// use pims_types::{Parameters, TransactionId, Verb};
    /// let steps = Call::new(Verb::Get, "pims.subscription.step",
    ///     Parameters::new().with("stepsID", "1"), TransactionId::generate(), "d");
    /// assert!(steps.may_repeat());
    /// let set = Call::new(Verb::Set, "pims.vehicle.vin", Parameters::new(), TransactionId::generate(), "d");
    /// assert!(!set.with_idempotency_key("k").may_repeat());
    /// ```
    pub fn may_repeat(&self) -> bool {
        self.repeat().is_pure_read()
    }

    /// The wire body of this call (`POST /v1/calls`).
    ///
    /// ```
    /// use pims_transport::Call;
    /// use pims_types::{Parameters, TransactionId, Verb};
    /// let call = Call::new(Verb::Get, "pims.subscription.step", Parameters::new(), TransactionId::from_u64(1), "d");
    /// assert_eq!(call.body().to_value()["api"], "pims.subscription.step");
    /// ```
    pub fn body(&self) -> CallBody {
        CallBody::new(
            self.transaction_id.clone(),
            self.verb,
            self.api.clone(),
            self.parameters.clone(),
        )
    }
}

/// The body-size half of the contract every transport keeps ([`Transport`](crate::Transport)):
/// `body` (the serialised call) over [`MAX_CALL_BODY_BYTES`] is refused before anything is
/// sent, 2102 naming the parameter that made it too large (the one the user can shorten).
pub(crate) fn check_body_size(call: &Call, body_len: usize) -> Result<(), TransportError> {
    if body_len <= MAX_CALL_BODY_BYTES {
        return Ok(());
    }
    let largest = call
        .parameters
        .as_map()
        .iter()
        .max_by_key(|(_, v)| v.to_string().len())
        .map_or("parameters", |(k, _)| k.as_str());
    Err(TransportError::invalid_request(pims_types::Error::invalid(
        largest,
        format!("too large for a call (the body is over {MAX_CALL_BODY_BYTES} bytes)"),
    )))
}

/// The echo half of the contract: an answer is the call's only when it carries the call's
/// transaction id (2203 otherwise).
pub(crate) fn check_echo(expected: &TransactionId, answer: &Message) -> Result<(), AnswerProblem> {
    if answer.transaction_id() == expected {
        return Ok(());
    }
    Err(AnswerProblem::TransactionIdMismatch {
        expected: expected.clone(),
        found: answer.transaction_id().clone(),
    })
}

/// A fresh idempotency key: a random UUID.
pub(crate) fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}
