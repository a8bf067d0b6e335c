//! What failed talking to PostgreSQL: the source of every [`CacheError::Storage`] this crate
//! returns. No type of the driver appears here: a failure is described by what we were doing,
//! the server's SQLSTATE code when it sent one, and its message (never its DETAIL, which may
//! quote a key, and never the connection string).

use std::fmt;
use std::time::Duration;

use pims_cache::CacheError;

/// Why a call to the PostgreSQL store failed.
///
/// ```
/// use pims_cache_postgres::PostgresError;
/// let e = PostgresError::SchemaTooNew { found: 3, supported: 1 };
/// assert_eq!(
///     e.to_string(),
///     "the store's schema version is 3, newer than this version supports (1): upgrade pims first"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// No connection could be made (refused, unreachable, TLS refused, authentication failed).
    #[error("cannot connect to PostgreSQL: {message}")]
    Connect {
        /// The driver's or the server's reason (never the password).
        message: String,
        /// The server's SQLSTATE code, when it answered with an error.
        sqlstate: Option<String>,
    },
    /// A statement failed, or the connection broke under it.
    #[error("PostgreSQL {what} failed: {message}")]
    Query {
        /// What was being done (`read`, `conditional write`, `scan`, ...).
        what: &'static str,
        /// The driver's or the server's reason.
        message: String,
        /// The server's SQLSTATE code, when it answered with an error.
        sqlstate: Option<String>,
    },
    /// The call did not finish in time (waiting for a connection included).
    #[error("PostgreSQL {what} did not finish within {}", humantime(*.after))]
    TimedOut {
        /// What was being done.
        what: &'static str,
        /// The time limit.
        after: Duration,
    },
    /// The store's schema version is a later version's: this one neither reads nor writes it.
    #[error(
        "the store's schema version is {found}, newer than this version supports ({supported}): upgrade pims first"
    )]
    SchemaTooNew {
        /// The version recorded in the store.
        found: i32,
        /// The latest version this crate knows.
        supported: i32,
    },
    /// The store's schema is missing or out of date (its tables, or the function of its
    /// batches): [`migrate`](crate::PostgresStore::migrate) has not run on this database
    /// since.
    #[error("the store's schema is missing or out of date: run migrate() first")]
    NotMigrated,
}

impl PostgresError {
    /// The server's SQLSTATE code, when the failure is an error the server sent.
    ///
    /// ```
    /// let e = pims_cache_postgres::PostgresError::NotMigrated;
    /// assert_eq!(e.sqlstate(), None);
    /// ```
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            PostgresError::Connect { sqlstate, .. } | PostgresError::Query { sqlstate, .. } => {
                sqlstate.as_deref()
            }
            _ => None,
        }
    }

    /// A failure to connect, from the driver's error.
    pub(crate) fn connect(e: &tokio_postgres::Error) -> Self {
        PostgresError::Connect {
            message: describe(e),
            sqlstate: e.code().map(|c| c.code().to_owned()),
        }
    }

    /// A failed statement, from the driver's error.
    pub(crate) fn query(what: &'static str, e: &tokio_postgres::Error) -> Self {
        PostgresError::Query {
            what,
            message: describe(e),
            sqlstate: e.code().map(|c| c.code().to_owned()),
        }
    }

    /// As the cache's error: a storage failure of `operation`.
    pub(crate) fn into_cache(self, operation: &'static str) -> CacheError {
        CacheError::storage(operation, self)
    }
}

/// The driver's error in one line: the server's message without its DETAIL and HINT (a DETAIL
/// may quote the key of a conflicting row), or the driver's own text and the cause under it
/// (an I/O error, a TLS failure).
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

fn humantime(d: Duration) -> impl fmt::Display {
    struct H(Duration);
    impl fmt::Display for H {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let ms = self.0.as_millis();
            if ms.is_multiple_of(1000) {
                write!(f, "{} s", ms / 1000)
            } else {
                write!(f, "{ms} ms")
            }
        }
    }
    H(d)
}

/// A bad input, named: the cache's [`CacheError::InvalidInput`].
pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> CacheError {
    CacheError::InvalidInput {
        what,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_in_seconds_or_milliseconds() {
        let e = PostgresError::TimedOut {
            what: "read",
            after: Duration::from_secs(30),
        };
        assert_eq!(e.to_string(), "PostgreSQL read did not finish within 30 s");
        let e = PostgresError::TimedOut {
            what: "read",
            after: Duration::from_millis(1500),
        };
        assert_eq!(
            e.to_string(),
            "PostgreSQL read did not finish within 1500 ms"
        );
    }

    #[test]
    fn becomes_a_storage_failure_of_the_cache() {
        let e = PostgresError::NotMigrated.into_cache("read");
        assert!(matches!(
            e,
            CacheError::Storage {
                operation: "read",
                ..
            }
        ));
        assert!(e.is_retryable());
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(
            source.as_deref(),
            Some("the store's schema is missing or out of date: run migrate() first")
        );
    }
}
