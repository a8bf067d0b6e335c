//! The one error type of this crate: a bad parameter (2101/2102) or a document that does not
//! decode (2203), always naming what was wrong.

use std::fmt;

use crate::api_error::ApiError;
use crate::catalogue::ErrorCode;

/// What went wrong while reading a parameter dictionary or decoding a document.
///
/// ```
/// let e = pims_types::Parameters::new().required_string("action", &[]).unwrap_err();
/// assert_eq!(e.code().as_u32(), 2101);
/// assert_eq!(e.to_api_error().label, "Missing action parameter");
///
/// // `Error::missing`
/// let e = pims_types::Error::missing("stepsID");
/// assert_eq!(e.to_string(), "Missing stepsID parameter");
/// // `Error::invalid`
/// let e = pims_types::Error::invalid("vin", "not 17 characters");
/// assert_eq!(e.code().as_u32(), 2102);
/// // `Error::decode`
/// let e = pims_types::Error::decode("$.status", "unknown status");
/// assert!(e.to_string().contains("$.status"));
/// // `Error::code`
/// assert_eq!(pims_types::Error::missing("vin").code(), pims_types::ErrorCode::MISSING_PARAMETER);
/// // `Error::parameter`
/// assert_eq!(pims_types::Error::missing("vin").parameter(), Some("vin"));
/// // `Error::to_api_error`
/// let api = pims_types::Error::invalid("stepsStatus", "not all|todo|alreadyDone").to_api_error();
/// assert_eq!(api.label, "Invalid stepsStatus parameter");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A required parameter is absent (2101).
    MissingParameter {
        /// The parameter's canonical name.
        name: String,
    },
    /// A parameter is present but unusable (2102).
    InvalidParameter {
        /// The parameter's canonical name.
        name: String,
        /// Why it was refused (for logs and developers; not part of the SDK's label).
        reason: String,
    },
    /// A document (an envelope, a step list) does not have the expected shape (2203).
    Decode {
        /// Where it broke, as a JSON path (`$.result.stepsID`).
        path: String,
        /// What was wrong there.
        message: String,
    },
}

impl Error {
    /// A 2101 error for `name`.
    pub fn missing(name: impl Into<String>) -> Self {
        Error::MissingParameter { name: name.into() }
    }

    /// A 2102 error for `name`, with the reason.
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParameter {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// A 2203 error at `path`.
    pub fn decode(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Decode {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The catalogue code: 2101, 2102 or 2203.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::MissingParameter { .. } => ErrorCode::MISSING_PARAMETER,
            Error::InvalidParameter { .. } => ErrorCode::INVALID_PARAMETER,
            Error::Decode { .. } => ErrorCode::INVALID_RETURN,
        }
    }

    /// The parameter this error names, if it is a parameter error.
    pub fn parameter(&self) -> Option<&str> {
        match self {
            Error::MissingParameter { name } | Error::InvalidParameter { name, .. } => Some(name),
            Error::Decode { .. } => None,
        }
    }

    /// The envelope error an app receives for this failure.
    pub fn to_api_error(&self) -> ApiError {
        ApiError::new(self.code(), self.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingParameter { name } => {
                f.write_str(&ErrorCode::MISSING_PARAMETER.label_with(&[name]))
            }
            Error::InvalidParameter { name, .. } => {
                f.write_str(&ErrorCode::INVALID_PARAMETER.label_with(&[name]))
            }
            Error::Decode { path, message } => {
                write!(f, "Invalid return Parsing error at {path}: {message}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        e.to_api_error()
    }
}
