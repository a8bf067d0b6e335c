//! Where the SDK's step cache is: `$PIMS_HOME/cache` (sled, locked by this process), or a
//! PostgreSQL database shared with other processes (`--cache postgres://…` or
//! `PIMS_CACHE_URL`), the store a service's replicas share.
//!
//! A database URL may carry a password (or leave it to `PGPASSWORD` or a password file, as
//! libpq does): it is kept in a [`Secret`] and never echoed, logged or stored; the cache is
//! named by its target, `user@host:port/dbname`.

use std::path::PathBuf;

use pims::cache_postgres::PostgresOptions;
use pims::{PimsBuilder, Secret};

use crate::failure::Failure;
use crate::home::Home;

/// Where the step cache is.
#[derive(Debug, Clone)]
pub(crate) enum CacheLocation {
    /// The home's cache directory.
    Home(PathBuf),
    /// A PostgreSQL database: its URL (secret) and how it is shown.
    Postgres {
        /// The URL as given: it may hold a password.
        url: Secret,
        /// `user@host:port/dbname`.
        target: String,
    },
}

impl CacheLocation {
    /// The cache of `--cache` (or `PIMS_CACHE_URL`), else the home's. A value that is not a
    /// usable `postgres://` URL is bad usage (exit 2), said without repeating it.
    pub(crate) fn from_flag(flag: Option<&str>, home: &Home) -> Result<CacheLocation, Failure> {
        let Some(url) = flag.filter(|u| !u.is_empty()) else {
            return Ok(CacheLocation::Home(home.cache_dir()));
        };
        let options = PostgresOptions::from_url(url).map_err(|e| {
            Failure::usage(format!(
                "--cache takes a PostgreSQL URL, postgres://user@host:port/dbname ({e}); \
                 without it the cache is in the pims home"
            ))
        })?;
        Ok(CacheLocation::Postgres {
            url: Secret::new(url),
            target: options.target(),
        })
    }

    /// Whether the cache lives outside the home (the home may then be read-only).
    pub(crate) fn is_shared(&self) -> bool {
        matches!(self, CacheLocation::Postgres { .. })
    }

    /// How messages name it: the directory, or `postgres://user@host:port/dbname` (never the
    /// password).
    pub(crate) fn label(&self) -> String {
        match self {
            CacheLocation::Home(dir) => dir.display().to_string(),
            CacheLocation::Postgres { target, .. } => format!("postgres://{target}"),
        }
    }

    /// The key and value naming it in `cache show|wipe --json`.
    pub(crate) fn json_field(&self) -> (&'static str, String) {
        match self {
            CacheLocation::Home(dir) => ("cacheDirectory", dir.display().to_string()),
            CacheLocation::Postgres { target, .. } => {
                ("cacheDatabase", format!("postgres://{target}"))
            }
        }
    }

    /// A builder with this cache.
    pub(crate) fn builder(&self) -> PimsBuilder {
        let builder = pims::Pims::builder();
        match self {
            CacheLocation::Home(dir) => builder.cache_dir(dir),
            CacheLocation::Postgres { url, .. } => builder.cache_postgres(url.expose()),
        }
    }

    /// What to do when it cannot be used.
    pub(crate) fn remedy(&self) -> &'static str {
        match self {
            CacheLocation::Home(_) => "check that the pims home is writable",
            CacheLocation::Postgres { .. } => {
                "check the database URL, its password (in the URL, PGPASSWORD or ~/.pgpass) and \
                 that the server is reachable"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> (tempfile::TempDir, Home) {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::open(tmp.path().join("h"), crate::home::Writes::Needed).unwrap();
        (tmp, home)
    }

    #[test]
    fn without_the_flag_the_cache_is_in_the_home() {
        let (_tmp, home) = home();
        for flag in [None, Some("")] {
            let location = CacheLocation::from_flag(flag, &home).unwrap();
            assert!(!location.is_shared());
            assert_eq!(location.label(), home.cache_dir().display().to_string());
        }
    }

    #[test]
    fn a_database_url_is_named_by_its_target_never_its_password() {
        let (_tmp, home) = home();
        let url = "postgres://svc:CANARY-PW-5521@db.internal:5433/steps?sslmode=require";
        let location = CacheLocation::from_flag(Some(url), &home).unwrap();
        assert!(location.is_shared());
        assert_eq!(location.label(), "postgres://svc@db.internal:5433/steps");
        assert_eq!(location.json_field().0, "cacheDatabase");
        assert!(!format!("{location:?}").contains("CANARY"));
        assert!(!format!("{:?}", location.builder()).contains("CANARY"));
    }

    #[test]
    fn anything_else_is_bad_usage_said_without_echoing_it() {
        let (_tmp, home) = home();
        for bad in [
            "/var/lib/pims",
            "mysql://svc:CANARY-PW-5521@db/x",
            "redis://:CANARY-PW-5521@cache:6379",
        ] {
            let Err(Failure::Usage(m)) = CacheLocation::from_flag(Some(bad), &home) else {
                panic!("{bad} accepted")
            };
            assert!(m.starts_with("--cache takes a PostgreSQL URL"), "{m}");
            assert!(!m.contains("CANARY"), "{m}");
        }
    }
}
