//! The one error type of xtask, classified by why the command stopped.

use std::fmt;

/// Why an xtask command stopped.
///
/// ```
/// use xtask::{Error, ErrorKind};
///
/// let err = Error::refused("the working tree has uncommitted changes");
/// assert_eq!(err.kind(), ErrorKind::Refused);
/// ```
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
}

/// An xtask error: a message for the person at the terminal, and the cause when there is one.
///
/// ```
/// use xtask::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::Invalid, "Cargo.toml has no [workspace.package] version");
/// assert_eq!(err.to_string(), "Cargo.toml has no [workspace.package] version");
/// ```
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The result type of xtask.
///
/// ```
/// fn check() -> xtask::Result<u8> {
///     Ok(7)
/// }
/// assert_eq!(check().ok(), Some(7));
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    ///
    /// ```
    /// let err = xtask::Error::new(xtask::ErrorKind::Usage, "unknown command `x`");
    /// assert_eq!(err.kind(), xtask::ErrorKind::Usage);
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// A refusal: a precondition that is not met, nothing changed.
    ///
    /// ```
    /// let err = xtask::Error::refused("no [Unreleased] section");
    /// assert_eq!(err.kind(), xtask::ErrorKind::Refused);
    /// ```
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }

    /// Content that could not be understood.
    ///
    /// ```
    /// let err = xtask::Error::invalid("`1.x` is not a version");
    /// assert_eq!(err.kind(), xtask::ErrorKind::Invalid);
    /// ```
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    /// Attaches the underlying cause, shown by `source()`.
    ///
    /// ```
    /// use std::error::Error as _;
    /// let io = std::io::Error::other("disk full");
    /// let err = xtask::Error::new(xtask::ErrorKind::Io, "writing CHANGELOG.md").with_source(io);
    /// assert_eq!(err.source().map(|s| s.to_string()).as_deref(), Some("disk full"));
    /// ```
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Why the command stopped.
    ///
    /// ```
    /// assert_eq!(xtask::Error::refused("x").kind(), xtask::ErrorKind::Refused);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, with the causes appended (`message: cause: cause`), for the terminal.
    ///
    /// ```
    /// let err = xtask::Error::new(xtask::ErrorKind::Io, "reading README.md")
    ///     .with_source(std::io::Error::other("no such file"));
    /// assert_eq!(err.report(), "reading README.md: no such file");
    /// ```
    pub fn report(&self) -> String {
        let mut out = self.message.clone();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            next = cause.source();
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Adds what was being done to an I/O failure.
pub(crate) trait IoContext<T> {
    /// Turns an `io::Error` into an [`ErrorKind::Io`] error saying what was being done.
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::new(ErrorKind::Io, what()).with_source(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_chains_causes_and_display_is_short() {
        let err = Error::new(ErrorKind::Io, "writing x").with_source(std::io::Error::other("full"));
        assert_eq!(err.to_string(), "writing x");
        assert_eq!(err.report(), "writing x: full");
    }

    #[test]
    fn io_context_keeps_the_cause() {
        let res: std::io::Result<()> = Err(std::io::Error::other("denied"));
        let err = res.io_context(|| "reading y".to_owned()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(err.report(), "reading y: denied");
    }
}
