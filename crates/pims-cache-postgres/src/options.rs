//! Where the store is and how it connects: a `postgres://` URL (libpq's URL form, with its
//! `sslmode` and `sslrootcert`), the password from the URL, `PGPASSWORD` or a password file (as
//! libpq finds them), the pool's size, the time limits and the table's name.
//!
//! The password is held by the driver's configuration only: it appears in no `Debug` output,
//! no error and no log line of this crate.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use pims_cache::CacheError;
use tokio_postgres::config::Host;

use crate::error::invalid;
use crate::password;
use crate::sql::Table;

/// The pool's default size: connections kept open to the server by one store (one replica).
pub const DEFAULT_POOL_SIZE: usize = 8;
/// The default time limit to open one connection (TCP, TLS and authentication).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default time limit of one store call, waiting for a connection included; the server
/// is told the same limit for each statement (`statement_timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The table the store keeps its entries in, unless told otherwise.
pub const DEFAULT_TABLE: &str = "pims_step_store";
/// The `application_name` the store's sessions carry unless the URL names one.
pub const APPLICATION_NAME: &str = "pims-cache-postgres";
/// The socket directory used when the URL names no host (libpq's default on Debian).
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// How a connection uses TLS: libpq's `sslmode` (URL parameter), with libpq's meaning.
///
/// ```
/// use pims_cache_postgres::SslMode;
/// assert_eq!("verify-full".parse::<SslMode>().unwrap(), SslMode::VerifyFull);
/// assert_eq!(SslMode::default(), SslMode::Prefer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, without checking its certificate (libpq's default).
    #[default]
    Prefer,
    /// TLS always; the certificate is checked against `sslrootcert` when one is given (as
    /// `VerifyCa`), not checked otherwise.
    Require,
    /// TLS always; the certificate must chain to a trusted root (`sslrootcert`, or the
    /// system's roots); its host name is not checked.
    VerifyCa,
    /// TLS always; the certificate must chain to a trusted root and name the host.
    VerifyFull,
}

impl FromStr for SslMode {
    type Err = CacheError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-ca" => Ok(SslMode::VerifyCa),
            "verify-full" => Ok(SslMode::VerifyFull),
            "allow" => Err(invalid(
                "sslmode",
                "`allow` is not supported: use disable, prefer, require, verify-ca or verify-full",
            )),
            _ => Err(invalid(
                "sslmode",
                "expected disable, prefer, require, verify-ca or verify-full",
            )),
        }
    }
}

impl SslMode {
    /// Whether TLS is mandatory.
    ///
    /// ```
    /// assert!(pims_cache_postgres::SslMode::Require.requires_tls());
    /// ```
    pub fn requires_tls(self) -> bool {
        matches!(
            self,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }
}

/// The roots a server certificate is checked against (`sslrootcert`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootCert {
    /// The PEM file of one or more CA certificates.
    File(PathBuf),
    /// The operating system's trusted roots (`sslrootcert=system`, as libpq 16 spells it).
    System,
}

/// How to reach the store: parsed from a URL, then adjusted with the builder methods.
///
/// ```
/// use std::time::Duration;
/// use pims_cache_postgres::{PostgresOptions, SslMode};
/// let options = PostgresOptions::from_url("postgres://app:s3cret@db.internal:5433/steps?sslmode=verify-full")
///     .unwrap()
///     .pool_size(4).unwrap()
///     .timeout(Duration::from_secs(10));
/// assert_eq!(options.ssl_mode(), SslMode::VerifyFull);
/// assert_eq!(options.target(), "app@db.internal:5433/steps");
/// assert!(!format!("{options:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct PostgresOptions {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) ssl_mode: SslMode,
    pub(crate) root_cert: Option<RootCert>,
    pub(crate) pool_size: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) table: Table,
}

impl PostgresOptions {
    /// Options from a `postgres://` (or `postgresql://`) URL, libpq's URL form:
    /// `postgres://user:password@host:port/dbname?param=value&...`. Besides the driver's
    /// parameters (`host`, `port`, `connect_timeout`, `application_name`, ...), `sslmode`
    /// (see [`SslMode`]) and `sslrootcert` (a PEM file, or `system`) are understood.
    ///
    /// Without a password in the URL, `PGPASSWORD` is used, else the password file
    /// (`PGPASSFILE`, default `~/.pgpass`; ignored unless only its owner may read it), as
    /// libpq does. Without a host, the local socket directory `/var/run/postgresql`; without
    /// a user, the `USER` of the environment; without a database, the user's name.
    ///
    /// Errors never repeat the URL or any part of the password.
    ///
    /// ```
    /// use pims_cache_postgres::PostgresOptions;
    /// let e = PostgresOptions::from_url("mysql://root:hunter2@db/x").unwrap_err();
    /// assert!(!e.to_string().contains("hunter2"));
    /// assert_eq!(e.code().as_u32(), 2004);
    /// ```
    pub fn from_url(url: &str) -> Result<PostgresOptions, CacheError> {
        PostgresOptions::from_url_with_env(url, &|name| std::env::var(name).ok())
    }

    /// [`from_url`](PostgresOptions::from_url) with the environment given as a function.
    pub(crate) fn from_url_with_env(
        url: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PostgresOptions, CacheError> {
        let parts = split_url(url)?;
        let mut pg = tokio_postgres::Config::from_str(&parts.for_driver).map_err(|e| {
            // The driver's parse errors name an option, never its value.
            invalid("database URL", e.to_string())
        })?;
        for host in pg.get_hosts() {
            if let Host::Tcp(name) = host
                && name.contains('@')
            {
                return Err(invalid(
                    "database URL",
                    "a host name contains '@': write an '@' of the user name or password as %40",
                ));
            }
        }
        if pg.get_hosts().is_empty() {
            pg.host_path(DEFAULT_SOCKET_DIR);
        }
        if pg.get_user().is_none()
            && let Some(user) = env("USER").or_else(|| env("LOGNAME"))
        {
            pg.user(&user);
        }
        if pg.get_application_name().is_none() {
            pg.application_name(APPLICATION_NAME);
        }
        if pg.get_password().is_none()
            && let Some(pw) = password::from_environment(&pg, env)
        {
            pg.password(pw);
        }
        let ssl_mode = parts.ssl_mode.unwrap_or_default();
        pg.ssl_mode(match ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        pg.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        Ok(PostgresOptions {
            pg,
            ssl_mode,
            root_cert: parts.root_cert,
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            table: Table::parse(DEFAULT_TABLE)?,
        })
    }

    /// How many connections the store keeps at most (default [`DEFAULT_POOL_SIZE`]); callers
    /// beyond it wait for a free one (within the call's [`timeout`](PostgresOptions::timeout)).
    ///
    /// ```
    /// use pims_cache_postgres::PostgresOptions;
    /// let o = PostgresOptions::from_url("postgres://h/db").unwrap();
    /// assert!(o.clone().pool_size(0).is_err());
    /// assert_eq!(o.pool_size(2).unwrap().max_connections(), 2);
    /// ```
    pub fn pool_size(mut self, size: usize) -> Result<PostgresOptions, CacheError> {
        if !(1..=1024).contains(&size) {
            return Err(invalid("pool size", "expected 1 to 1024 connections"));
        }
        self.pool_size = size;
        Ok(self)
    }

    /// The time limit to open one connection (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, limit: Duration) -> PostgresOptions {
        self.connect_timeout = limit;
        self.pg.connect_timeout(limit);
        self
    }

    /// The time limit of one store call, waiting for a free connection included (default
    /// [`DEFAULT_TIMEOUT`]); also each statement's limit on the server.
    pub fn timeout(mut self, limit: Duration) -> PostgresOptions {
        self.timeout = limit;
        self
    }

    /// The table of the entries (default [`DEFAULT_TABLE`]), optionally with its schema
    /// (`schema.table`); lower-case ASCII letters, digits and `_`, starting with a letter or
    /// `_`, at most 48 characters each. Its schema version is kept in `<table>_schema`.
    ///
    /// ```
    /// use pims_cache_postgres::PostgresOptions;
    /// let o = PostgresOptions::from_url("postgres://h/db").unwrap();
    /// assert!(o.clone().table("svc.steps").is_ok());
    /// assert!(o.table("Robert'); drop table x; --").is_err());
    /// ```
    pub fn table(mut self, name: &str) -> Result<PostgresOptions, CacheError> {
        self.table = Table::parse(name)?;
        Ok(self)
    }

    /// The roots a server certificate is checked against (the URL's `sslrootcert`).
    pub fn root_cert(mut self, roots: RootCert) -> PostgresOptions {
        self.root_cert = Some(roots);
        self
    }

    /// How the connections use TLS.
    pub fn ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// The pool's size.
    pub fn max_connections(&self) -> usize {
        self.pool_size
    }

    /// Where the store is, for logs and diagnostics: `user@host:port/dbname` (several hosts
    /// separated by commas); never the password.
    pub fn target(&self) -> String {
        let hosts: Vec<String> = self
            .pg
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let port = self
                    .pg
                    .get_ports()
                    .get(i)
                    .or_else(|| self.pg.get_ports().first())
                    .copied()
                    .unwrap_or(5432);
                match h {
                    Host::Tcp(name) => format!("{name}:{port}"),
                    Host::Unix(path) => format!("{}:{port}", path.display()),
                }
            })
            .collect();
        let user = self.pg.get_user().unwrap_or("");
        let db = self.pg.get_dbname().unwrap_or(user);
        format!("{user}@{}/{db}", hosts.join(","))
    }
}

impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("target", &self.target())
            .field(
                "password",
                &self.pg.get_password().map(|_| pims_types::REDACTED),
            )
            .field("ssl_mode", &self.ssl_mode)
            .field("root_cert", &self.root_cert)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("table", &self.table)
            .finish()
    }
}

/// A URL split into what the driver parses and the parameters this crate reads itself.
struct UrlParts {
    for_driver: String,
    ssl_mode: Option<SslMode>,
    root_cert: Option<RootCert>,
}

/// Takes `sslmode` and `sslrootcert` out of the URL's parameters (the driver knows neither
/// verify mode nor root files). The credentials are found as the driver finds them: up to the
/// first `@`, so a `?` in a password is not taken for the start of the parameters.
fn split_url(url: &str) -> Result<UrlParts, CacheError> {
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| {
            invalid(
                "database URL",
                "expected a postgres:// or postgresql:// URL",
            )
        })?;
    let (credentials, after) = match rest.find('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let (base, query) = match after.find('?') {
        Some(q) => (&after[..q], Some(&after[q + 1..])),
        None => (after, None),
    };
    let mut kept = Vec::new();
    let mut ssl_mode = None;
    let mut root_cert = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| invalid("database URL", "a parameter without '=' after the '?'"))?;
        let decode = |s: &str, what: &'static str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| invalid(what, "not UTF-8 once percent-decoded"))
        };
        match decode(key, "database URL")?.as_str() {
            "sslmode" => ssl_mode = Some(decode(value, "sslmode")?.parse()?),
            "sslrootcert" => {
                let value = decode(value, "sslrootcert")?;
                root_cert = Some(if value == "system" {
                    RootCert::System
                } else {
                    RootCert::File(PathBuf::from(value))
                });
            }
            _ => kept.push(pair),
        }
    }
    let mut for_driver = String::from("postgres://");
    if let Some(c) = credentials {
        for_driver.push_str(c);
        for_driver.push('@');
    }
    for_driver.push_str(base);
    if !kept.is_empty() {
        for_driver.push('?');
        for_driver.push_str(&kept.join("&"));
    }
    Ok(UrlParts {
        for_driver,
        ssl_mode,
        root_cert,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const CANARY: &str = "canary-pw-7f41c2";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse(url: &str) -> Result<PostgresOptions, CacheError> {
        PostgresOptions::from_url_with_env(url, &no_env)
    }

    #[test]
    fn a_full_url_is_understood() {
        let o = parse(&format!(
            "postgresql://svc:{CANARY}@db1:6000/steps?sslmode=verify-ca&sslrootcert=%2Fetc%2Fca.pem&application_name=x"
        ))
        .unwrap();
        assert_eq!(o.ssl_mode(), SslMode::VerifyCa);
        assert_eq!(o.root_cert, Some(RootCert::File("/etc/ca.pem".into())));
        assert_eq!(o.target(), "svc@db1:6000/steps");
        assert_eq!(o.pg.get_password(), Some(CANARY.as_bytes()));
        assert_eq!(o.pg.get_application_name(), Some("x"));
        assert_eq!(
            o.pg.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
    }

    #[test]
    fn defaults_are_libpq_s() {
        let o = PostgresOptions::from_url_with_env("postgres:///steps", &|name| {
            (name == "USER").then(|| "alice".to_owned())
        })
        .unwrap();
        assert_eq!(o.target(), "alice@/var/run/postgresql:5432/steps");
        assert_eq!(o.ssl_mode(), SslMode::Prefer);
        assert_eq!(o.pg.get_application_name(), Some(APPLICATION_NAME));
        assert_eq!(o.max_connections(), DEFAULT_POOL_SIZE);
        assert_eq!(o.pg.get_password(), None);
        let socket = parse("postgres://u@%2Ftmp%2Fpg:5433/d").unwrap();
        assert_eq!(socket.target(), "u@/tmp/pg:5433/d");
    }

    #[test]
    fn a_password_in_the_url_wins_over_the_environment() {
        let o = PostgresOptions::from_url_with_env(&format!("postgres://u:{CANARY}@h/d"), &|n| {
            (n == "PGPASSWORD").then(|| "other".to_owned())
        })
        .unwrap();
        assert_eq!(o.pg.get_password(), Some(CANARY.as_bytes()));
        let o = PostgresOptions::from_url_with_env("postgres://u@h/d", &|n| {
            (n == "PGPASSWORD").then(|| CANARY.to_owned())
        })
        .unwrap();
        assert_eq!(o.pg.get_password(), Some(CANARY.as_bytes()));
    }

    #[test]
    fn a_password_with_a_question_mark_is_not_taken_for_parameters() {
        let o = parse("postgres://u:pa?ss@h/d?sslmode=disable").unwrap();
        assert_eq!(o.pg.get_password(), Some("pa?ss".as_bytes()));
        assert_eq!(o.ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        for url in [
            format!("mysql://u:{CANARY}@h/d"),
            format!("postgres://u:{CANARY}@h:notaport/d"),
            format!("postgres://u:{CANARY}@h/d?sslmode=allow"),
            format!("postgres://u:{CANARY}@h/d?sslmode={CANARY}"),
            format!("postgres://u:{CANARY}@h/d?novalue"),
            format!("postgres://u:{CANARY}@h/d?sslrootcert=%FF"),
            // An unencoded '@' in the password: the rest would be taken for a host name.
            format!("postgres://u:{CANARY}@x@h/d"),
            format!("postgres://u:{}@{CANARY}/d", "p@"),
        ] {
            let e = match parse(&url) {
                Err(e) => e,
                Ok(o) => panic!("accepted {o:?}"),
            };
            let text = format!("{e} {e:?}");
            assert!(matches!(e, CacheError::InvalidInput { .. }), "{text}");
            assert!(!text.contains(CANARY), "{text}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let o = parse(&format!("postgres://u:{CANARY}@h/d")).unwrap();
        let text = format!("{o:?} {:#?} {}", o.clone(), o.target());
        assert!(!text.contains(CANARY), "{text}");
        assert!(text.contains("[REDACTED]"), "{text}");
    }

    #[test]
    fn the_builder_checks_its_values() {
        let o = parse("postgres://h/d").unwrap();
        assert!(o.clone().pool_size(1025).is_err());
        assert!(o.clone().table("").is_err());
        assert!(o.clone().table("a.b.c").is_err());
        assert!(o.clone().table("UPPER").is_err());
        assert_eq!(
            o.timeout(Duration::from_secs(3)).timeout,
            Duration::from_secs(3)
        );
    }
}
