//! [`HttpTransport`]: the default transport, speaking the wire protocol (`docs/protocol.md`)
//! over reqwest with rustls.

mod answer;
mod base_url;
mod body;
mod builder;
mod retry;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use pims_types::{CallBody, DEVICE_ID_HEADER, IDEMPOTENCY_KEY_HEADER, Message, Verb};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use tracing::Instrument;

pub use body::DEFAULT_MAX_RESPONSE_BYTES;
pub use builder::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OVERALL_TIMEOUT, HttpTransportBuilder,
};
pub use retry::{MAX_ATTEMPTS_LIMIT, RetryPolicy};

use crate::call::Call;
use crate::error::TransportError;
use crate::token::TokenProvider;
use crate::transport::Transport;
use retry::{Outcome, Resend, RetryBudget, RetryWhen, Timeouts};

/// The `User-Agent` sent with every request: this crate's name and version.
///
/// ```
/// assert!(pims_transport::USER_AGENT.starts_with("pims-transport/"));
/// ```
pub const USER_AGENT: &str = concat!("pims-transport/", env!("CARGO_PKG_VERSION"));

/// The longest device id or idempotency key sent as a header.
const MAX_HEADER_VALUE_LEN: usize = 256;

/// The HTTP transport: `POST {base}/v1/calls` with the call body, `Authorization: Bearer`,
/// `Pims-Device-Id` and, on every call that is not a pure read, `Idempotency-Key`; deadlines,
/// retries of pure reads only, a response cap; `https://` only except for loopback hosts;
/// redirects never followed.
///
/// Cloning is cheap and clones share the connection pool and the retry budget.
///
/// ```no_run
/// use pims_transport::{Call, HttpTransport, Transport};
/// use pims_types::{Parameters, Secret, TransactionId, Verb};
///
/// # async fn run() -> Result<(), pims_transport::TransportError> {
/// let transport = HttpTransport::builder("https://api.example.com")
///     .static_token(Secret::new("access-token"))
///     .build()?;
/// let call = Call::new(Verb::Get, "pims.subscription.steps",
///     Parameters::new().with("carAssociationID", "987654"), TransactionId::generate(), "device-1");
/// let answer = transport.call(call).await?;
/// println!("{}", answer.status().as_str());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    token: Option<Arc<dyn TokenProvider>>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    budget: RetryBudget,
    max_response_bytes: usize,
}

/// What every attempt of one call sends.
struct Prepared {
    body: Bytes,
    device_id: HeaderValue,
    idempotency_key: Option<HeaderValue>,
    /// A steps call: its answer is decoded straight into a step list when it can be.
    steps: bool,
}

impl HttpTransport {
    /// A builder for a transport talking to `base_url` (`https://host[:port][/prefix]`, or
    /// `http://` for a loopback host); calls go to `{base_url}/v1/calls`.
    ///
    /// ```
    /// let t = pims_transport::HttpTransport::builder("http://127.0.0.1:8080").build().unwrap();
    /// assert_eq!(t.endpoint(), "http://127.0.0.1:8080/v1/calls");
    /// ```
    pub fn builder(base_url: impl Into<String>) -> HttpTransportBuilder {
        HttpTransportBuilder::new(base_url.into())
    }

    /// The URL calls are posted to.
    ///
    /// ```
    /// let t = pims_transport::HttpTransport::builder("https://h.example/p/").build().unwrap();
    /// assert_eq!(t.endpoint(), "https://h.example/p/v1/calls");
    /// ```
    pub fn endpoint(&self) -> &str {
        self.inner.endpoint.as_str()
    }
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("HttpTransport")
            .field("endpoint", &i.endpoint.as_str())
            .field("token", &i.token)
            .field("timeouts", &i.timeouts)
            .field("retry", &i.retry)
            .field("max_response_bytes", &i.max_response_bytes)
            .finish()
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn call(&self, call: Call) -> Result<Message, TransportError> {
        // Never a parameter value here: they may be secrets.
        let span = tracing::info_span!(
            "pims_transport.call",
            api = %call.api,
            verb = %call.verb,
            transaction_id = %call.transaction_id,
            attempt = tracing::field::Empty,
        );
        let inner = &self.inner;
        async move {
            let result = inner.call(&call).await;
            match &result {
                Ok(message) => tracing::debug!(status = message.status().as_str(), "answered"),
                Err(error) => {
                    tracing::debug!(error = %error, code = error.code().as_u32(), "failed")
                }
            }
            result
        }
        .instrument(span)
        .await
    }
}

impl Inner {
    async fn call(&self, call: &Call) -> Result<Message, TransportError> {
        let prepared = prepare(call)?;
        let resend = Resend {
            after_failure: call.may_repeat(),
            // A 401 is a refusal before any work; only a secret is never sent twice.
            after_refusal: !pims_types::carries_secret(&call.parameters),
        };
        retry::run(
            &self.retry,
            &self.budget,
            self.timeouts,
            resend,
            self.token.as_deref(),
            |_attempt| self.attempt(call, &prepared),
        )
        .await
    }

    async fn attempt(&self, call: &Call, prepared: &Prepared) -> Outcome {
        let token = match &self.token {
            None => None,
            Some(provider) => match provider.token().await {
                Ok(token) => Some(token),
                Err(error) => {
                    return Outcome::Failed {
                        error,
                        when: RetryWhen::Never,
                        retry_after: None,
                    };
                }
            },
        };
        let mut request = self
            .client
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .header(DEVICE_ID_HEADER, prepared.device_id.clone());
        if let Some(key) = &prepared.idempotency_key {
            request = request.header(IDEMPOTENCY_KEY_HEADER, key.clone());
        }
        if let Some(token) = &token {
            let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose())) else {
                return Outcome::Failed {
                    error: TransportError::no_token("the token is not a valid header value"),
                    when: RetryWhen::Never,
                    retry_after: None,
                };
            };
            // Kept out of any Debug output of the request.
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        match request.body(prepared.body.clone()).send().await {
            Ok(response) => {
                answer::outcome(
                    response,
                    &call.transaction_id,
                    token,
                    self.max_response_bytes,
                    prepared.steps,
                )
                .await
            }
            Err(error) => answer::send_error(error),
        }
    }
}

/// Checks what the call sends and encodes its body once for all attempts; refuses (nothing
/// sent) a verb this endpoint does not carry, header values that are not valid, and a body over
/// the backend's limit.
fn prepare(call: &Call) -> Result<Prepared, TransportError> {
    let refuse = |e| Err(TransportError::invalid_request(e));
    if !matches!(call.verb, Verb::Get | Verb::Set) {
        return refuse(pims_types::Error::invalid(
            "verb",
            "subscriptions are not carried by the call endpoint",
        ));
    }
    let device_id = match header_value(&call.device_id) {
        Ok(v) => v,
        Err(_) if call.device_id.is_empty() => {
            return refuse(pims_types::Error::missing(DEVICE_ID_HEADER));
        }
        Err(reason) => return refuse(pims_types::Error::invalid(DEVICE_ID_HEADER, reason)),
    };
    // A call built by hand without a key still gets one when it is not a pure read.
    let generated = (call.idempotency_key.is_none() && call.repeat().needs_idempotency_key())
        .then(crate::call::new_idempotency_key);
    let idempotency_key = match call.idempotency_key.as_ref().or(generated.as_ref()) {
        Some(key) => match header_value(key) {
            Ok(v) => Some(v),
            Err(reason) => {
                return refuse(pims_types::Error::invalid(IDEMPOTENCY_KEY_HEADER, reason));
            }
        },
        None => None,
    };
    let body = CallBody::json_of(&call.transaction_id, call.verb, &call.api, &call.parameters);
    crate::call::check_body_size(call, body.len())?;
    Ok(Prepared {
        body: Bytes::from(body),
        device_id,
        idempotency_key,
        steps: pims_types::Api::parse(&call.api) == Some(pims_types::Api::SubscriptionSteps),
    })
}

/// A header value of 1 to 256 visible ASCII characters.
fn header_value(text: &str) -> Result<HeaderValue, &'static str> {
    if text.is_empty() || text.len() > MAX_HEADER_VALUE_LEN {
        return Err("expected 1-256 characters");
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("expected visible ASCII characters only");
    }
    HeaderValue::from_str(text).map_err(|_| "not a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pims_types::{MAX_CALL_BODY_BYTES, Parameters, TransactionId};

    fn call(verb: Verb, device: &str) -> Call {
        Call::new(
            verb,
            "pims.vehicle.vin",
            Parameters::new(),
            TransactionId::from_u64(1),
            device,
        )
    }

    #[test]
    fn calls_that_cannot_be_sent_are_refused_naming_the_parameter() {
        let label = |c: &Call| match prepare(c) {
            Err(e) => {
                assert!(!e.may_have_been_sent());
                e.to_api_error().label
            }
            Ok(_) => String::from("sent"),
        };
        assert_eq!(label(&call(Verb::Set, "dev-1")), "sent");
        assert_eq!(label(&call(Verb::Subscribe, "d")), "Invalid verb parameter");
        assert_eq!(
            label(&call(Verb::Get, "")),
            "Missing Pims-Device-Id parameter"
        );
        assert_eq!(
            label(&call(Verb::Get, "a\r\nInjected: 1")),
            "Invalid Pims-Device-Id parameter"
        );
        assert_eq!(
            label(&call(Verb::Set, "d").with_idempotency_key("")),
            "Invalid Idempotency-Key parameter"
        );
        assert_eq!(
            label(&call(Verb::Get, "d").with_idempotency_key("bad key")),
            "Invalid Idempotency-Key parameter"
        );
        let mut big = call(Verb::Set, "d");
        big.parameters = Parameters::new()
            .with("blob", "x".repeat(MAX_CALL_BODY_BYTES))
            .with("small", "y");
        assert_eq!(label(&big), "Invalid blob parameter");
    }

    #[test]
    fn every_call_but_a_pure_read_carries_a_key() {
        let keyed = call(Verb::Set, "d").with_idempotency_key("k-1");
        assert_eq!(prepare(&keyed).unwrap().idempotency_key.unwrap(), "k-1");
        // A key removed by hand is put back.
        let mut bare = call(Verb::Set, "d");
        bare.idempotency_key = None;
        assert!(prepare(&bare).unwrap().idempotency_key.is_some());
        let otp = Call::new(
            Verb::Get,
            "pims.authentication.otp",
            Parameters::new().with("action", "withoutPIN"),
            TransactionId::from_u64(1),
            "d",
        );
        assert!(prepare(&otp).unwrap().idempotency_key.is_some());
        let steps = Call::new(
            Verb::Get,
            "pims.subscription.step",
            Parameters::new().with("stepsID", "1"),
            TransactionId::from_u64(1),
            "d",
        );
        assert!(prepare(&steps).unwrap().idempotency_key.is_none());
    }
}
