//! Errors are `anyhow::Error`s; the few failures a caller must tell apart (a refusal changed
//! nothing, a usage error wants the usage text) carry their [`ErrorKind`], found again with
//! [`KindOf::kind`].
//!
//! ```
//! use xtask::{ErrorKind, KindOf};
//!
//! let err = "huge".parse::<xtask::Bump>().unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Usage);
//! ```

use std::fmt;

/// Why an xtask command stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The command line was wrong (unknown command, bad argument).
    Usage,
    /// A precondition was not met: dirty tree, version not greater, missing changelog entry,
    /// missing file. Nothing was changed.
    Refused,
    /// A program xtask ran (cargo, git, rustc, a CI stage) failed.
    CommandFailed,
    /// Reading or writing a file failed.
    Io,
    /// A file's content could not be understood (Cargo.toml, CHANGELOG.md, cargo's metadata).
    Invalid,
    /// Anything else.
    Other,
}

/// A message classified by its kind (the error itself, or the context of its cause).
#[derive(Debug)]
struct Classified {
    kind: ErrorKind,
    message: String,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

/// An error of `kind` saying `message`.
pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Classified {
        kind,
        message: message.into(),
    })
}

/// A refusal: a precondition that is not met, nothing changed.
pub(crate) fn refused(message: impl Into<String>) -> anyhow::Error {
    new(ErrorKind::Refused, message)
}

/// Content that could not be understood.
pub(crate) fn invalid(message: impl Into<String>) -> anyhow::Error {
    new(ErrorKind::Invalid, message)
}

/// The kind of an error.
pub trait KindOf {
    /// Its [`ErrorKind`]: the one it was made with, else [`ErrorKind::CommandFailed`] for a
    /// program run through xshell, else [`ErrorKind::Io`] for a file operation, else
    /// [`ErrorKind::Other`].
    fn kind(&self) -> ErrorKind;
}

impl KindOf for anyhow::Error {
    fn kind(&self) -> ErrorKind {
        if let Some(classified) = self.downcast_ref::<Classified>() {
            return classified.kind;
        }
        if self.chain().any(|cause| cause.is::<xshell::Error>()) {
            return ErrorKind::CommandFailed;
        }
        if self.chain().any(|cause| cause.is::<std::io::Error>()) {
            return ErrorKind::Io;
        }
        ErrorKind::Other
    }
}

/// Puts a cause under a classified error, keeping its kind and message on top.
pub(crate) trait WithSource {
    /// `self`, caused by `source` (shown by `{:#}` after the message).
    fn with_source(self, source: impl Into<anyhow::Error>) -> anyhow::Error;
}

impl WithSource for anyhow::Error {
    fn with_source(self, source: impl Into<anyhow::Error>) -> anyhow::Error {
        match self.downcast::<Classified>() {
            Ok(classified) => source.into().context(classified),
            Err(other) => source.into().context(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn report_chains_causes_and_display_is_short() {
        let err = new(ErrorKind::Io, "writing x").with_source(std::io::Error::other("full"));
        assert_eq!(err.to_string(), "writing x");
        assert_eq!(format!("{err:#}"), "writing x: full");
        assert_eq!(err.kind(), ErrorKind::Io);
    }

    #[test]
    fn io_context_keeps_the_cause() {
        let res: std::io::Result<()> = Err(std::io::Error::other("denied"));
        let err = res.context("reading y").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(format!("{err:#}"), "reading y: denied");
    }

    #[test]
    fn a_kind_survives_more_context() {
        let err = Err::<(), _>(refused("dirty tree"))
            .context("releasing")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused);
    }
}
