//! The facade's error type, shaped like smithy's `SdkError`: one short phrase in `Display`
//! ("error 2202: Network problem"), the layer error that caused it in `source()`, the
//! transaction id of the call it answers, and the catalogue code, label and remedy the app
//! would see in the FAILED message.

use std::fmt;
use std::sync::Arc;

use pims_cache::CacheError;
use pims_transport::TransportError;
use pims_types::{ApiError, Category, ErrorCode, Remedy, TransactionId};

/// Where a call failed.
///
/// ```
/// let e = pims::Error::from_code(pims::ErrorKind::Transport, pims::ErrorCode(2202), &[]);
/// assert_eq!(e.kind(), pims::ErrorKind::Transport);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The facade is not initialised, already initialised, or released (2001, 2007).
    Lifecycle,
    /// The call itself is wrong: unknown API, bad parameters, duplicate subscription
    /// (2002, 2005, 2101, 2102). Nothing was sent.
    Input,
    /// No usable answer from the backend (2201-2204). The call MAY have reached it.
    Transport,
    /// The backend answered FAILED (a business error: 23xx, 2346, ...).
    Backend,
    /// The configuration is wrong (2004, 2006).
    Configuration,
    /// The step cache could not be used.
    Cache,
}

/// A failed call: the catalogue code and label the app sees in the FAILED message, where it
/// failed, the call's transaction id, and the layer error behind it.
///
/// `Display` is one short phrase; the cause is in [`source()`](std::error::Error::source) (and
/// typed: [`transport_error`](Self::transport_error), [`cache_error`](Self::cache_error),
/// [`wire_error`](Self::wire_error)); context such as a path or a pid is in
/// [`detail`](Self::detail). None of them ever holds a secret.
///
/// ```
/// use pims::{ApiError, Error, ErrorCode, ErrorKind};
/// let e = Error::backend(ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION));
/// assert_eq!(e.to_string(), "error 2302: Need Strong Authentication");
/// assert_eq!(e.kind(), ErrorKind::Backend);
/// assert!(e.remedy().unwrap().advice().contains("OTP"));
/// assert!(std::error::Error::source(&e).is_none()); // the backend said so itself
/// ```
#[derive(Debug, Clone)]
pub struct Error {
    // Boxed: results of every call carry it, so it stays one pointer wide.
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    api: ApiError,
    kind: ErrorKind,
    transaction_id: Option<TransactionId>,
    /// Context beyond the catalogue label (a path, a pid), for developers and logs.
    detail: Option<String>,
    source: Option<Source>,
}

/// The layer error behind a facade error.
#[derive(Debug, Clone)]
enum Source {
    Transport(TransportError),
    Cache(Arc<CacheError>),
    Wire(pims_types::Error),
}

impl Error {
    /// An error from its envelope form and kind.
    ///
    /// ```
    /// let e = pims::Error::new(pims::ErrorKind::Input, pims::ApiError::from_code(pims::ErrorCode(2002)));
    /// assert_eq!(e.label(), "API not supported");
    /// ```
    pub fn new(kind: ErrorKind, api: ApiError) -> Self {
        Error {
            inner: Box::new(Inner {
                api,
                kind,
                transaction_id: None,
                detail: None,
                source: None,
            }),
        }
    }

    /// The same error with context beyond the label (never a secret). It is not part of
    /// `Display`: show it where developers look (logs, `--verbose`).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Cache, pims::ErrorCode(2006), &[])
    ///     .with_detail("cache directory /tmp/x is in use by another process (pid 42)");
    /// assert_eq!(e.detail(), Some("cache directory /tmp/x is in use by another process (pid 42)"));
    /// assert_eq!(e.to_string(), "error 2006: Core not well configured");
    /// ```
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.inner.detail = Some(detail.into());
        self
    }

    /// The context beyond the label, if any.
    pub fn detail(&self) -> Option<&str> {
        self.inner.detail.as_deref()
    }

    /// The same error, answering the call with this transaction id.
    pub(crate) fn for_call(mut self, tid: &TransactionId) -> Self {
        if self.inner.transaction_id.is_none() {
            self.inner.transaction_id = Some(tid.clone());
        }
        self
    }

    /// The transaction id of the call this error answers (the one in its FAILED message);
    /// `None` for an error made outside a call (a builder, `initialize`).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) {
    /// let sel = pims::StepsSelector::car_association_id("987654").unwrap();
    /// if let Err(e) = pims.steps(sel).send().await {
    ///     eprintln!("{e} (transaction {})", e.transaction_id().unwrap());
    /// }
    /// # }
    /// ```
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        self.inner.transaction_id.as_ref()
    }

    /// The backend's FAILED answer (a backend may relay input or transport codes too: the kind
    /// follows the code's category).
    ///
    /// ```
    /// let e = pims::Error::backend(pims::ApiError::from_code(pims::ErrorCode(2346)));
    /// assert_eq!(e.kind(), pims::ErrorKind::Backend);
    /// ```
    pub fn backend(api: ApiError) -> Self {
        let kind = match api.code.category() {
            Some(Category::Input) => ErrorKind::Input,
            Some(Category::Output) => ErrorKind::Transport,
            _ => ErrorKind::Backend,
        };
        Error::new(kind, api)
    }

    /// A code with its catalogue label (placeholders filled by `values`).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Input, pims::ErrorCode(2101), &["stepsID"]);
    /// assert_eq!(e.label(), "Missing stepsID parameter");
    /// ```
    pub fn from_code(kind: ErrorKind, code: ErrorCode, values: &[&str]) -> Self {
        Error::new(kind, ApiError::with_values(code, values))
    }

    /// The catalogue code.
    pub fn code(&self) -> ErrorCode {
        self.inner.api.code
    }

    /// The label, as in the FAILED message.
    pub fn label(&self) -> &str {
        &self.inner.api.label
    }

    /// What to do about it (`None` for a code the catalogue does not know).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Transport, pims::ErrorCode(2201), &[]);
    /// assert_eq!(e.remedy(), Some(pims::Remedy::RetryLater));
    /// ```
    pub fn remedy(&self) -> Option<Remedy> {
        self.inner.api.code.remedy()
    }

    /// Where it failed.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether trying again later may succeed (transport failures, 2204-style server errors).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Transport, pims::ErrorCode(2202), &[]);
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.remedy() == Some(Remedy::RetryLater)
    }

    /// The envelope error (`{code, label, subCode?}`).
    pub fn api_error(&self) -> &ApiError {
        &self.inner.api
    }

    /// Consumes the error into its envelope form.
    pub fn into_api_error(self) -> ApiError {
        self.inner.api
    }

    /// The FAILED message this error answers with: its transaction id and its envelope error.
    /// An error made outside a call (a builder, `initialize`) has no transaction id: each
    /// message made from it gets a new one.
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Input, pims::ErrorCode(2002), &[]);
    /// let m = e.to_message();
    /// assert_eq!(m.error().unwrap().code.as_u32(), 2002);
    /// ```
    pub fn to_message(&self) -> pims_types::Message {
        let tid = self
            .inner
            .transaction_id
            .clone()
            .unwrap_or_else(TransactionId::generate);
        pims_types::Message::failed(tid, self.inner.api.clone())
    }

    /// The transport error behind it (a call not sent, timed out, unanswered, unreadable; or a
    /// transport that could not be built).
    ///
    /// ```
    /// let t = pims::transport::TransportError::no_answer("connection reset");
    /// let e = pims::Error::from(t);
    /// assert!(e.transport_error().unwrap().may_have_been_sent());
    /// ```
    pub fn transport_error(&self) -> Option<&TransportError> {
        match &self.inner.source {
            Some(Source::Transport(e)) => Some(e),
            _ => None,
        }
    }

    /// The cache error behind it (a directory in use, refused, not writable).
    pub fn cache_error(&self) -> Option<&CacheError> {
        match &self.inner.source {
            Some(Source::Cache(e)) => Some(e),
            _ => None,
        }
    }

    /// The wire-model error behind it (a parameter refused, an answer that could not be read:
    /// it names the parameter or the JSON path).
    ///
    /// ```
    /// let e = pims::Error::from(pims::types::Error::invalid("vin", "expected 17 characters"));
    /// assert!(e.wire_error().is_some());
    /// assert_eq!(e.label(), "Invalid vin parameter");
    /// ```
    pub fn wire_error(&self) -> Option<&pims_types::Error> {
        match &self.inner.source {
            Some(Source::Wire(e)) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn lifecycle(code: ErrorCode) -> Self {
        Error::from_code(ErrorKind::Lifecycle, code, &[])
    }

    /// 2000-class "not configured": the facade cannot serve calls (no backend, no runtime).
    pub(crate) fn not_configured() -> Self {
        Error::from_code(
            ErrorKind::Configuration,
            ErrorCode::CORE_NOT_CONFIGURED,
            &[],
        )
    }

    pub(crate) fn not_supported() -> Self {
        Error::from_code(ErrorKind::Input, ErrorCode::API_NOT_SUPPORTED, &[])
    }

    /// A cache failure that stops the facade being set up: 2006, the cache's own words as the
    /// detail, the cache error as the source.
    pub(crate) fn cache(e: CacheError) -> Self {
        let mut error = Error::from_code(ErrorKind::Cache, ErrorCode::CORE_NOT_CONFIGURED, &[])
            .with_detail(chain(&e));
        error.inner.source = Some(Source::Cache(Arc::new(e)));
        error
    }

    /// The same error, caused by this transport error (a transport that could not be built).
    pub(crate) fn caused_by_transport(mut self, e: TransportError) -> Self {
        self.inner.detail = Some(chain(&e));
        self.inner.source = Some(Source::Transport(e));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.inner.api.code, self.inner.api.label)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.source {
            Some(Source::Transport(e)) => Some(e),
            Some(Source::Cache(e)) => Some(&**e),
            Some(Source::Wire(e)) => Some(e),
            None => None,
        }
    }
}

impl From<pims_types::Error> for Error {
    fn from(e: pims_types::Error) -> Self {
        let kind = match e {
            pims_types::Error::Decode { .. } => ErrorKind::Transport,
            _ => ErrorKind::Input,
        };
        let mut error = Error::new(kind, e.to_api_error());
        error.inner.source = Some(Source::Wire(e));
        error
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        // A call the transport refused to send (too large, a bad header value) is the call's
        // fault: an input error, nothing was sent.
        let kind = match e.code().category() {
            Some(Category::Input) => ErrorKind::Input,
            _ => ErrorKind::Transport,
        };
        Error::new(kind, e.to_api_error()).caused_by_transport(e)
    }
}

/// An error and its sources, one line (for details and logs; our errors never hold secrets).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_is_short_and_the_cause_is_the_source() {
        let t = TransportError::no_answer("connection reset");
        let e = Error::from(t.clone());
        assert_eq!(e.to_string(), format!("error {}: {}", e.code(), e.label()));
        let source = std::error::Error::source(&e).expect("a source");
        assert_eq!(source.to_string(), t.to_string());
        assert_eq!(e.transport_error(), Some(&t));
        assert!(e.cache_error().is_none() && e.wire_error().is_none());
        assert!(e.detail().is_some());
    }

    #[test]
    fn the_transaction_id_is_the_calls_and_set_once() {
        let first = TransactionId::generate();
        let e = Error::not_supported()
            .for_call(&first)
            .for_call(&TransactionId::generate());
        assert_eq!(e.transaction_id(), Some(&first));
        assert_eq!(e.to_message().transaction_id(), &first);
    }

    #[test]
    fn a_cache_error_is_2006_with_its_words() {
        let e = Error::cache(CacheError::storage(
            "open",
            std::io::Error::other("disk on fire"),
        ));
        assert_eq!(e.code(), ErrorCode::CORE_NOT_CONFIGURED);
        assert_eq!(e.kind(), ErrorKind::Cache);
        assert!(e.detail().unwrap().contains("disk on fire"));
        assert!(e.cache_error().is_some());
        assert_eq!(e.to_string(), "error 2006: Core not well configured");
    }
}
