//! [`PimsError`]: what every call other than the four verbs throws.
//!
//! No field is named `message`: the generated Kotlin exception has a `message` of its own, and a
//! field of that name breaks it.

use pims::{ErrorCode, ErrorKind};

/// A failed call: the catalogue code, its label, the advice for it, where it failed and the
/// call's transaction id. Never holds a secret (the label is the catalogue's).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
pub enum PimsError {
    /// The call failed.
    Failed {
        /// The catalogue code (2001, 2102, 2346, ...).
        code: i64,
        /// The label, placeholders filled (`Invalid stepsID parameter`).
        label: String,
        /// What to do about it, when the catalogue says.
        remedy: Option<String>,
        /// Where it failed.
        kind: FailureKind,
        /// The call's transaction id, when it got one.
        transaction_id: Option<String>,
    },
}

/// Where a call failed (the facade's [`ErrorKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FailureKind {
    /// Not initialised, already initialised, or released (2001, 2007).
    Lifecycle,
    /// The call itself is wrong (2002, 2005, 2101, 2102): nothing was sent.
    Input,
    /// No usable answer from the backend (2201-2204).
    Transport,
    /// The backend answered FAILED (23xx, 2346, ...).
    Backend,
    /// The configuration is wrong (2004, 2006).
    Configuration,
    /// The step cache could not be used.
    Cache,
}

impl std::fmt::Display for PimsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let PimsError::Failed { code, label, .. } = self;
        write!(f, "error {code}: {label}")
    }
}

impl std::error::Error for PimsError {}

impl PimsError {
    /// 2102 naming `name`.
    pub(crate) fn invalid_parameter(name: &str) -> Self {
        PimsError::from(pims::Error::from_code(
            ErrorKind::Input,
            ErrorCode::INVALID_PARAMETER,
            &[name],
        ))
    }

    /// The catalogue code.
    pub fn code(&self) -> i64 {
        let PimsError::Failed { code, .. } = self;
        *code
    }
}

impl From<pims::Error> for PimsError {
    fn from(e: pims::Error) -> Self {
        let kind = match e.kind() {
            ErrorKind::Lifecycle => FailureKind::Lifecycle,
            ErrorKind::Input => FailureKind::Input,
            ErrorKind::Transport => FailureKind::Transport,
            ErrorKind::Backend => FailureKind::Backend,
            ErrorKind::Configuration => FailureKind::Configuration,
            // `ErrorKind` may grow: a kind this crate does not know yet is a cache one at worst.
            _ => FailureKind::Cache,
        };
        PimsError::Failed {
            code: i64::from(e.code().as_u32()),
            label: e.label().to_owned(),
            remedy: e.remedy().map(|r| r.advice().to_owned()),
            kind,
            transaction_id: e.transaction_id().map(|t| t.as_str().to_owned()),
        }
    }
}
