//! The one error type of the simulator: what went wrong while starting it or loading a
//! scenario or state file, classified by where it failed.

use std::net::SocketAddr;
use std::path::PathBuf;

use pims_types::ErrorCode;

/// Why the simulator could not start, or why a scenario document was refused.
///
/// `Display` is short and never shows a secret (PIN, token, SMS code); the underlying I/O error,
/// when there is one, is the [`source`](std::error::Error::source).
///
/// ```
/// let e = pims_sim::Scenario::from_json(b"{\"accounts\": 5}").unwrap_err();
/// assert!(matches!(e, pims_sim::SimError::Scenario { .. }));
/// assert!(e.to_string().contains("accounts"));
/// assert_eq!(e.code(), pims_types::ErrorCode::CONFIGURATION_INVALID);
///
/// // `SimError::code`
/// let e = pims_sim::SimError::NoRuntime;
/// assert_eq!(e.code(), pims_types::ErrorCode::CORE_NOT_CONFIGURED);
/// // `SimError::field`
/// let e = pims_sim::Scenario::from_json(br#"{"accounts": [{"id": "a", "tokens": []}]}"#).unwrap_err();
/// assert_eq!(e.field(), Some("accounts[0].tokens"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A scenario (or state) document was refused: which field, and why.
    #[error("invalid scenario: {field}: {reason}")]
    Scenario {
        /// Where in the document, as a path (`accounts[0].pin`); `$` for the whole document.
        field: String,
        /// What is wrong there (never the value of a secret).
        reason: String,
    },
    /// An admin request (or the equivalent library call) was refused: which field, and why.
    #[error("invalid request: {field}: {reason}")]
    InvalidRequest {
        /// The field at fault (`status`, `apis[1]`, `deviceId`, ...).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An admin request named something the simulator does not have.
    #[error("not found: {what}")]
    NotFound {
        /// What was not found (`vehicle ***890`, ...).
        what: String,
    },
    /// The state file could not be read or written.
    #[error("state file {}: cannot {action}", path.display())]
    StateFile {
        /// The state file.
        path: PathBuf,
        /// What was being done (`read`, `write`, `lock`, ...).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A state or scenario file, or a file the simulator keeps beside the state file (its
    /// lock), was refused without being read: a symbolic link where none is followed, not a
    /// regular file (a FIFO, a device, a directory), or larger than
    /// [`MAX_FILE_BYTES`](crate::MAX_FILE_BYTES).
    #[error("{what} {} {reason}", path.display())]
    FileRefused {
        /// Which file (`state file`, `scenario file`, `lock file`).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why, and what to do (`is a FIFO, not a regular file: refused`).
        reason: String,
    },
    /// A state or scenario file, or a file beside the state file, could not be opened or read.
    #[error("cannot {action} {what} {}", path.display())]
    File {
        /// Which file (`state file`, `scenario file`, `lock file`).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// What was being done (`open`, `read`, ...).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another simulator process holds the state file.
    #[error("state file {} is in use by another simulator{}", path.display(),
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    StateInUse {
        /// The state file.
        path: PathBuf,
        /// The process holding it, when it could be read from the lock file.
        pid: Option<u32>,
    },
    /// `SimServer::start` was called outside a tokio runtime.
    #[error("the simulator needs a tokio runtime (call SimServer::start inside one)")]
    NoRuntime,
}

impl SimError {
    /// A scenario error at `field`.
    pub(crate) fn scenario(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SimError::Scenario {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An invalid-request error at `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SimError::InvalidRequest {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The catalogue code of this failure: 2004 (`Configuration file invalid`) for a refused
    /// scenario or state document, 2102 (`Invalid [PARAMETER] parameter`) for a refused admin
    /// request, 2006 (`Core not well configured`) for everything else.
    pub fn code(&self) -> ErrorCode {
        match self {
            SimError::Scenario { .. } => ErrorCode::CONFIGURATION_INVALID,
            SimError::InvalidRequest { .. } => ErrorCode::INVALID_PARAMETER,
            _ => ErrorCode::CORE_NOT_CONFIGURED,
        }
    }

    /// The field a scenario or request error names, if it is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            SimError::Scenario { field, .. } | SimError::InvalidRequest { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
}

/// The field named by a serde_path_to_error path: the path itself, or `$` for the whole
/// document (an empty path, `.`, or `?` when the position is unknown).
pub(crate) fn json_field(path: String) -> String {
    if path.is_empty() || path == "." || path == "?" {
        "$".to_owned()
    } else {
        path
    }
}
