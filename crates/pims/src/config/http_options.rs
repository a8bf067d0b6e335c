//! [`HttpOptions`]: the settings of the HTTP transport the facade builds itself.

use std::sync::Arc;
use std::time::Duration;

use pims_transport::{SharedTransport, TokenProvider};

/// The HTTP transport's settings, when the facade builds it ([`PimsBuilder::base_url`](crate::PimsBuilder::base_url) or the
/// `environnement` key). Unset values keep the transport's defaults
/// (`pims::transport::DEFAULT_*`).
///
/// ```no_run
/// use std::time::Duration;
/// use pims::{HttpOptions, Pims, Secret};
///
/// // A flaky mobile network: fail fast on connect, retry reads for 20 s at most.
/// let pims = Pims::builder()
///     .base_url("https://api.example.com")
///     .token(Secret::new("access-token"))
///     .http(HttpOptions::default()
///         .connect_timeout(Duration::from_secs(2))
///         .overall_timeout(Duration::from_secs(20)))
///     .build()?;
/// # Ok::<(), pims::Error>(())
/// ```
#[cfg(feature = "http")]
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The TCP + TLS connect deadline.
    pub connect_timeout: Option<Duration>,
    /// The deadline of one attempt (request sent, answer read).
    pub attempt_timeout: Option<Duration>,
    /// The deadline of the whole call, retries included.
    pub overall_timeout: Option<Duration>,
    /// Which calls are retried and how (only pure reads ever are: see `pims::types::Repeat`).
    pub retry_policy: Option<pims_transport::RetryPolicy>,
}

#[cfg(feature = "http")]
impl HttpOptions {
    /// Sets [`connect_timeout`](Self::connect_timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sets [`attempt_timeout`](Self::attempt_timeout).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sets [`overall_timeout`](Self::overall_timeout).
    pub fn overall_timeout(mut self, timeout: Duration) -> Self {
        self.overall_timeout = Some(timeout);
        self
    }

    /// One deadline for the whole call: [`overall_timeout`](Self::overall_timeout) is `deadline`,
    /// and the connect and per-attempt deadlines are the transport's defaults, capped to it.
    ///
    /// ```
    /// use std::time::Duration;
    /// let http = pims::HttpOptions::default().deadline(Duration::from_secs(3));
    /// assert_eq!(http.connect_timeout, Some(Duration::from_secs(3)));
    /// assert_eq!(http.overall_timeout, Some(Duration::from_secs(3)));
    /// ```
    pub fn deadline(self, deadline: Duration) -> Self {
        self.connect_timeout(deadline.min(pims_transport::DEFAULT_CONNECT_TIMEOUT))
            .attempt_timeout(deadline.min(pims_transport::DEFAULT_ATTEMPT_TIMEOUT))
            .overall_timeout(deadline)
    }

    /// Sets [`retry_policy`](Self::retry_policy).
    pub fn retry_policy(mut self, policy: pims_transport::RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// The HTTP transport to `url` with these settings and this token source.
    pub(crate) fn transport(
        &self,
        url: &str,
        token: Option<Arc<dyn TokenProvider>>,
    ) -> Result<SharedTransport, pims_transport::TransportError> {
        let mut http = pims_transport::HttpTransport::builder(url);
        if let Some(p) = token {
            http = http.token_provider(p);
        }
        if let Some(t) = self.connect_timeout {
            http = http.connect_timeout(t);
        }
        if let Some(t) = self.attempt_timeout {
            http = http.attempt_timeout(t);
        }
        if let Some(t) = self.overall_timeout {
            http = http.overall_timeout(t);
        }
        if let Some(p) = &self.retry_policy {
            http = http.retry_policy(p.clone());
        }
        http.build().map(SharedTransport::new)
    }
}
