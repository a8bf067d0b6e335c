//! The facade's error type: every failure carries the catalogue code, its label and a remedy.

use std::fmt;

use pims_types::{ApiError, Category, ErrorCode, Remedy};

/// Where a call failed.
///
/// ```
/// let e = pims::Error::from_code(pims::ErrorKind::Transport, pims_types::ErrorCode(2202), &[]);
/// assert_eq!(e.kind(), pims::ErrorKind::Transport);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The facade is not initialised, already initialised, or released (2001, 2007).
    Lifecycle,
    /// The call itself is wrong: unknown API, bad parameters, duplicate subscription
    /// (2002, 2005, 2101, 2102).
    Input,
    /// No usable answer from the backend (2201-2204).
    Transport,
    /// The backend answered FAILED (a business error: 23xx, 2346, ...).
    Backend,
    /// The configuration is wrong (2004, 2006).
    Configuration,
    /// The step cache could not be used.
    Cache,
}

/// A failed call: the catalogue code, the label the app would see in the FAILED message, and
/// where it failed.
///
/// ```
/// use pims::{Error, ErrorKind};
/// use pims_types::{ApiError, ErrorCode};
/// let e = Error::backend(ApiError::from_code(ErrorCode::NEED_STRONG_AUTHENTICATION));
/// assert_eq!(e.code(), ErrorCode(2302));
/// assert_eq!(e.kind(), ErrorKind::Backend);
/// assert!(e.remedy().unwrap().advice().contains("OTP"));
/// ```
#[derive(Debug, Clone)]
pub struct Error {
    api: ApiError,
    kind: ErrorKind,
    /// Context beyond the catalogue label (a path, a pid), for developers and logs.
    detail: Option<String>,
}

impl Error {
    /// An error from its envelope form and kind.
    ///
    /// ```
    /// let e = pims::Error::new(pims::ErrorKind::Input, pims_types::ApiError::from_code(pims_types::ErrorCode(2002)));
    /// assert_eq!(e.label(), "API not supported");
    /// ```
    pub fn new(kind: ErrorKind, api: ApiError) -> Self {
        Error {
            api,
            kind,
            detail: None,
        }
    }

    /// The same error with context beyond the label (never a secret).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Cache, pims_types::ErrorCode(2006), &[])
    ///     .with_detail("cache directory /tmp/x is in use by another process (pid 42)");
    /// assert!(e.to_string().contains("pid 42"));
    /// assert_eq!(e.label(), "Core not well configured");
    /// ```
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The context beyond the label, if any.
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Input, pims_types::ErrorCode(2002), &[]);
    /// assert!(e.detail().is_none());
    /// ```
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The backend's FAILED answer.
    ///
    /// ```
    /// let e = pims::Error::backend(pims_types::ApiError::from_code(pims_types::ErrorCode(2346)));
    /// assert_eq!(e.kind(), pims::ErrorKind::Backend);
    /// ```
    pub fn backend(api: ApiError) -> Self {
        // A backend may relay input or transport codes too; classify by the code.
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
    /// let e = pims::Error::from_code(pims::ErrorKind::Input, pims_types::ErrorCode(2101), &["stepsID"]);
    /// assert_eq!(e.label(), "Missing stepsID parameter");
    /// ```
    pub fn from_code(kind: ErrorKind, code: ErrorCode, values: &[&str]) -> Self {
        Error::new(kind, ApiError::with_values(code, values))
    }

    /// The catalogue code.
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Lifecycle, pims_types::ErrorCode(2001), &[]);
    /// assert_eq!(e.code().as_u32(), 2001);
    /// ```
    pub fn code(&self) -> ErrorCode {
        self.api.code
    }

    /// The label, as in the FAILED message.
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Lifecycle, pims_types::ErrorCode(2007), &[]);
    /// assert_eq!(e.label(), "Facade already initialized");
    /// ```
    pub fn label(&self) -> &str {
        &self.api.label
    }

    /// What to do about it (`None` for a code the catalogue does not know).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Transport, pims_types::ErrorCode(2201), &[]);
    /// assert_eq!(e.remedy(), Some(pims_types::Remedy::RetryLater));
    /// ```
    pub fn remedy(&self) -> Option<Remedy> {
        self.api.code.remedy()
    }

    /// Where it failed.
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Input, pims_types::ErrorCode(2102), &["vin"]);
    /// assert_eq!(e.kind(), pims::ErrorKind::Input);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether trying again later may succeed (transport failures, 2204-style server errors).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Transport, pims_types::ErrorCode(2202), &[]);
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.remedy() == Some(Remedy::RetryLater)
    }

    /// The envelope error (`{code, label, subCode?}`).
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Input, pims_types::ErrorCode(2002), &[]);
    /// assert_eq!(e.api_error().code.as_u32(), 2002);
    /// ```
    pub fn api_error(&self) -> &ApiError {
        &self.api
    }

    /// Consumes the error into its envelope form.
    ///
    /// ```
    /// let e = pims::Error::from_code(pims::ErrorKind::Input, pims_types::ErrorCode(2002), &[]);
    /// assert_eq!(e.into_api_error().label, "API not supported");
    /// ```
    pub fn into_api_error(self) -> ApiError {
        self.api
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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.api.code, self.api.label)?;
        match &self.detail {
            Some(d) => write!(f, " ({d})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

impl From<pims_types::Error> for Error {
    fn from(e: pims_types::Error) -> Self {
        let kind = match e {
            pims_types::Error::Decode { .. } => ErrorKind::Transport,
            _ => ErrorKind::Input,
        };
        Error::new(kind, e.to_api_error())
    }
}

impl From<pims_transport::TransportError> for Error {
    fn from(e: pims_transport::TransportError) -> Self {
        let detail = chain(&e);
        Error::new(ErrorKind::Transport, e.to_api_error()).with_detail(detail)
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
