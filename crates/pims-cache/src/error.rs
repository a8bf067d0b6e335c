//! The one error type of this crate, classified by where it failed.

use std::error::Error as StdError;
use std::path::PathBuf;

use pims_types::ErrorCode;

/// What went wrong in the cache.
///
/// Storage trouble on the sled store (read-only directory, full disk, I/O errors) is *not* an
/// error: the store degrades to memory and says so in [`Health`](crate::Health). What remains
/// are the cases a caller must act on.
///
/// ```
/// use pims_cache::CacheError;
/// let e = CacheError::InUse { path: "/tmp/c".into(), pid: Some(42) };
/// assert_eq!(e.to_string(), "cache directory /tmp/c is in use by another process (pid 42)");
/// assert!(e.is_in_use());
/// assert_eq!(e.code().as_u32(), 2006);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Another process holds the cache directory (its lock file is taken).
    #[error("cache directory {} is in use by another process{}", .path.display(), pid_text(*.pid))]
    InUse {
        /// The cache directory.
        path: PathBuf,
        /// The holder's process id, as it wrote it in the lock file (None if unreadable).
        pid: Option<u32>,
    },
    /// A value given to the cache is unusable (an account namespace, a device id, an option).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was refused (`account`, `device id`, `page_cache_bytes`, ...).
        what: &'static str,
        /// Why (never the value itself: it may be personal data).
        reason: String,
    },
    /// The list given to `merge` carries another stepsID than the one the keys name.
    #[error("the list's stepsID {answered} is not the requested stepsID {requested}")]
    StepsIdMismatch {
        /// The stepsID of the keys.
        requested: String,
        /// The stepsID of the list.
        answered: String,
    },
    /// A store operation failed (a custom [`StepStore`](crate::StepStore); the sled store
    /// degrades instead of failing).
    #[error("cache storage failed to {operation}")]
    Storage {
        /// The operation (`read`, `write`, `flush`, `scan`).
        operation: &'static str,
        /// The underlying failure.
        #[source]
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
    /// The store holds another layout of the cache's keys than this version's (a later
    /// version's, or an unreadable layout record): it is refused, neither read nor changed.
    ///
    /// ```
    /// let e = pims_cache::CacheError::UnsupportedLayout { found: Some(3) };
    /// assert_eq!(e.to_string(), "the cache store holds layout 3, which this version cannot use (it uses layout 2)");
    /// assert_eq!(e.code().as_u32(), 2006);
    /// ```
    #[error("{}", layout_text(*.found))]
    UnsupportedLayout {
        /// The layout the store's record names (None: the record is unreadable).
        found: Option<u64>,
    },
    /// One entry changed under us too many times in a row (a compare-and-swap loop gave up).
    #[error("a cache entry is changing too fast to update it ({attempts} attempts)")]
    Contention {
        /// How many attempts were made.
        attempts: u32,
    },
}

fn layout_text(found: Option<u64>) -> String {
    let ours = crate::keys::LAYOUT;
    match found {
        Some(n) => format!(
            "the cache store holds layout {n}, which this version cannot use (it uses layout {ours})"
        ),
        None => format!(
            "the cache store's layout record is unreadable (this version uses layout {ours})"
        ),
    }
}

fn pid_text(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!(" (pid {pid})"),
        None => " (pid unknown)".to_owned(),
    }
}

impl CacheError {
    /// A storage failure wrapping any error (for implementors of [`StepStore`](crate::StepStore)).
    ///
    /// ```
    /// let e = pims_cache::CacheError::storage("read", std::io::Error::other("disk on fire"));
    /// assert_eq!(e.to_string(), "cache storage failed to read");
    /// assert!(std::error::Error::source(&e).is_some());
    /// ```
    pub fn storage(
        operation: &'static str,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        CacheError::Storage {
            operation,
            source: source.into(),
        }
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        CacheError::InvalidInput {
            what,
            reason: reason.into(),
        }
    }

    /// Whether another process holds the cache directory.
    ///
    /// ```
    /// assert!(!pims_cache::CacheError::Contention { attempts: 3 }.is_in_use());
    /// ```
    pub fn is_in_use(&self) -> bool {
        matches!(self, CacheError::InUse { .. })
    }

    /// Whether trying again may succeed (contention, a transient storage failure).
    ///
    /// ```
    /// assert!(pims_cache::CacheError::Contention { attempts: 3 }.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CacheError::Contention { .. } | CacheError::Storage { .. }
        )
    }

    /// The catalogue code a facade reports for this failure: 2006 (core not well configured)
    /// for a directory in use or a store of another layout, 2004 (configuration invalid) for a refused value, 2203 (invalid
    /// return) for a list whose stepsID does not match, 2000 (unknown error) otherwise.
    ///
    /// ```
    /// use pims_cache::CacheError;
    /// let e = CacheError::StepsIdMismatch { requested: "1".into(), answered: "2".into() };
    /// assert_eq!(e.code(), pims_types::ErrorCode::INVALID_RETURN);
    /// ```
    pub fn code(&self) -> ErrorCode {
        match self {
            CacheError::InUse { .. } | CacheError::UnsupportedLayout { .. } => {
                ErrorCode::CORE_NOT_CONFIGURED
            }
            CacheError::InvalidInput { .. } => ErrorCode::CONFIGURATION_INVALID,
            CacheError::StepsIdMismatch { .. } => ErrorCode::INVALID_RETURN,
            CacheError::Storage { .. } | CacheError::Contention { .. } => ErrorCode::UNKNOWN,
        }
    }
}
