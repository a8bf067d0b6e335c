//! [`HttpTransportBuilder`]: the configuration of an [`HttpTransport`], checked when built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use pims_types::Secret;

use super::body::DEFAULT_MAX_RESPONSE_BYTES;
use super::retry::{RetryBudget, RetryPolicy, Timeouts};
use super::{HttpTransport, Inner, USER_AGENT, base_url};
use crate::error::{Detail, TransportError};
use crate::token::{StaticToken, TokenProvider};

/// Default connect timeout (5 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default per-attempt timeout (10 s): sending, waiting and reading the whole answer.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default overall timeout (30 s): all attempts and waits of one call.
pub const DEFAULT_OVERALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds an [`HttpTransport`]; made by [`HttpTransport::builder`].
///
/// ```
/// use std::time::Duration;
/// use pims_transport::{HttpTransport, RetryPolicy};
/// let transport = HttpTransport::builder("https://api.example.com/pims")
///     .static_token(pims_types::Secret::new("token"))
///     .connect_timeout(Duration::from_secs(2))
///     .attempt_timeout(Duration::from_secs(5))
///     .overall_timeout(Duration::from_secs(15))
///     .retry_policy(RetryPolicy::new().max_attempts(2))
///     .max_response_bytes(128 * 1024)
///     .build()
///     .unwrap();
/// assert_eq!(transport.endpoint(), "https://api.example.com/pims/v1/calls");
/// ```
#[must_use]
pub struct HttpTransportBuilder {
    base_url: String,
    token: Option<Arc<dyn TokenProvider>>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    max_response_bytes: usize,
}

impl HttpTransportBuilder {
    pub(super) fn new(base_url: String) -> Self {
        HttpTransportBuilder {
            base_url,
            token: None,
            timeouts: Timeouts {
                connect: DEFAULT_CONNECT_TIMEOUT,
                attempt: DEFAULT_ATTEMPT_TIMEOUT,
                overall: DEFAULT_OVERALL_TIMEOUT,
            },
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// Where the tokens come from (`Authorization: Bearer`). Without one, no `Authorization`
    /// header is sent (the backend answers FAILED 2301).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use pims_transport::{HttpTransport, StaticToken};
    /// let t = HttpTransport::builder("http://127.0.0.1:1")
    ///     .token_provider(Arc::new(StaticToken::new("demo-token".into())))
    ///     .build();
    /// assert!(t.is_ok());
    /// ```
    pub fn token_provider(mut self, provider: Arc<dyn TokenProvider>) -> Self {
        self.token = Some(provider);
        self
    }

    /// A token that never changes (a [`StaticToken`]).
    ///
    /// ```
    /// let t = pims_transport::HttpTransport::builder("http://127.0.0.1:1")
    ///     .static_token(pims_types::Secret::new("demo-token")).build().unwrap();
    /// assert!(!format!("{t:?}").contains("demo-token"));
    /// ```
    pub fn static_token(self, token: Secret) -> Self {
        self.token_provider(Arc::new(StaticToken::new(token)))
    }

    /// How long opening a connection (TCP and TLS) may take (default 5 s).
    ///
    /// ```
    /// let b = pims_transport::HttpTransport::builder("http://127.0.0.1:1")
    ///     .connect_timeout(std::time::Duration::from_millis(500));
    /// assert!(b.build().is_ok());
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// How long one attempt (sending, waiting and reading the whole answer) may take
    /// (default 10 s).
    ///
    /// ```
    /// let b = pims_transport::HttpTransport::builder("http://127.0.0.1:1")
    ///     .attempt_timeout(std::time::Duration::from_secs(3));
    /// assert!(b.build().is_ok());
    /// ```
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.attempt = timeout;
        self
    }

    /// How long a whole call, retries and waits included, may take (default 30 s).
    ///
    /// ```
    /// let b = pims_transport::HttpTransport::builder("http://127.0.0.1:1")
    ///     .overall_timeout(std::time::Duration::ZERO);
    /// assert_eq!(b.build().unwrap_err().code().as_u32(), 2006);
    /// ```
    pub fn overall_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.overall = timeout;
        self
    }

    /// The retry policy (default [`RetryPolicy::new`]).
    ///
    /// ```
    /// let b = pims_transport::HttpTransport::builder("http://127.0.0.1:1")
    ///     .retry_policy(pims_transport::RetryPolicy::none());
    /// assert!(b.build().is_ok());
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The largest answer body read, in bytes (default 256 KiB); a larger one gives 2203.
    ///
    /// ```
    /// let b = pims_transport::HttpTransport::builder("http://127.0.0.1:1").max_response_bytes(0);
    /// assert!(b.build().is_err());
    /// ```
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Checks the configuration and builds the transport. Refused (2006, [`InvalidConfig`]):
    /// a base URL that is not `https://` (except `http://` for a loopback host), carries
    /// credentials, a query or a fragment; a zero timeout; a zero response cap.
    ///
    /// [`InvalidConfig`]: TransportError::InvalidConfig
    ///
    /// ```
    /// let e = pims_transport::HttpTransport::builder("http://api.example.com").build().unwrap_err();
    /// assert!(matches!(e, pims_transport::TransportError::InvalidConfig { .. }));
    /// ```
    pub fn build(self) -> Result<HttpTransport, TransportError> {
        let endpoint = base_url::endpoint(&self.base_url)?;
        let t = self.timeouts;
        if t.connect.is_zero() || t.attempt.is_zero() || t.overall.is_zero() {
            return Err(TransportError::invalid_config("a timeout is zero"));
        }
        if self.max_response_bytes == 0 {
            return Err(TransportError::invalid_config("the response cap is zero"));
        }
        let https = endpoint.scheme() == "https";
        let mut client = reqwest::Client::builder();
        if !https {
            // A plain-HTTP loopback endpoint never speaks TLS (redirects are not followed):
            // no trust store to load, which is most of a cold start's work besides the cache
            // (docs/benchmarks.md, B8).
            client = client.tls_certs_only(std::iter::empty());
        }
        let client = client
            .user_agent(USER_AGENT)
            .connect_timeout(t.connect)
            // Redirects are never followed: they could carry the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            // Retries are ours alone, so a set without a key is provably sent at most once.
            .retry(reqwest::retry::never())
            .no_proxy()
            .https_only(https)
            .build()
            .map_err(|e| TransportError::InvalidConfig {
                source: Detail::from_error(&e.without_url()),
            })?;
        let budget = RetryBudget::new(&self.retry);
        Ok(HttpTransport {
            inner: Arc::new(Inner {
                client,
                endpoint,
                token: self.token,
                timeouts: self.timeouts,
                retry: self.retry,
                budget,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

impl fmt::Debug for HttpTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransportBuilder")
            .field("base_url", &base_url::shown(&self.base_url))
            .field("token", &self.token)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}
