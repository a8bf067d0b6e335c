//! [`Call`]: one request to the backend, as the facade hands it to a transport.

use pims_types::{CallBody, Parameters, TransactionId, Verb};

/// One call: verb, API, parameters, transaction id, device id and, for a `set` that may be
/// repeated safely, an idempotency key.
///
/// `Debug` never shows secret parameter values (PIN, OTP, SMS code): [`Parameters`] redacts them.
///
/// ```
/// use pims_transport::Call;
/// use pims_types::{Parameters, Secret, TransactionId, Verb};
///
/// let pin = Secret::new("1234");
/// let call = Call::new(Verb::Set, "pims.authentication.pincode",
///         Parameters::new().with("action", "update").with_secret("newPIN", &pin),
///         TransactionId::generate(), "device-1")
///     .with_idempotency_key("5f0c6d1e-8d5c-4b47-9a43-2f4b4f1b2c3d");
/// assert!(call.may_repeat());
/// assert!(!format!("{call:?}").contains("1234"));
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
    /// For a `set`: a key the backend uses to answer a repeated request with the first answer.
    /// Only a keyed `set` is ever sent more than once.
    pub idempotency_key: Option<String>,
}

impl Call {
    /// A call without an idempotency key.
    ///
    /// ```
    /// use pims_transport::Call;
    /// use pims_types::{Parameters, TransactionId, Verb};
    /// let call = Call::new(Verb::Get, "pims.subscription.steps",
    ///     Parameters::new().with("carAssociationID", "987654"), TransactionId::generate(), "dev");
    /// assert_eq!(call.idempotency_key, None);
    /// ```
    pub fn new(
        verb: Verb,
        api: impl Into<String>,
        parameters: Parameters,
        transaction_id: TransactionId,
        device_id: impl Into<String>,
    ) -> Self {
        Call {
            verb,
            api: api.into(),
            parameters,
            transaction_id,
            device_id: device_id.into(),
            idempotency_key: None,
        }
    }

    /// The same call with an idempotency key (sent as `Idempotency-Key` on a `set`; ignored on a
    /// `get`, which is always safe to repeat).
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

    /// Whether this call may be sent more than once: a `get`, or a `set` that carries an
    /// idempotency key. Any other call reaches the backend at most once.
    ///
    /// ```
    /// use pims_transport::Call;
    /// use pims_types::{Parameters, TransactionId, Verb};
    /// let set = Call::new(Verb::Set, "pims.authentication.otp", Parameters::new(), TransactionId::generate(), "d");
    /// assert!(!set.may_repeat());
    /// assert!(set.with_idempotency_key("k").may_repeat());
    /// ```
    pub fn may_repeat(&self) -> bool {
        match self.verb {
            Verb::Get => true,
            Verb::Set => self.idempotency_key.is_some(),
            Verb::Subscribe | Verb::Unsubscribe => false,
        }
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
