//! The backend a command talks to and the facade in front of it.
//!
//! - Embedded (no `--url`): a `pims_sim::SimServer` started in this process on `127.0.0.1:0`
//!   with its state in `$PIMS_HOME/sim-state.json`, so consecutive runs see one backend; the
//!   token defaults to the demo account's.
//! - Remote (`--url`): the HTTP transport to that base URL; a token is required.
//!
//! The facade is composed by its builder only: the step cache in `$PIMS_HOME/cache` is opened
//! (and locked) by [`PimsBuilder::open_cache`] BEFORE the embedded simulator starts, so a cache
//! that cannot be opened stops the command before the simulator's state file is touched (a
//! shared PostgreSQL cache, `--cache`, is connected to by the build instead); the
//! same builder then gets the backend's URL, the token and the CLI's deadlines, and builds the
//! facade on that cache, reading the device id as it does (`build_async`). The CLI never opens
//! the store itself.
//!
//! The cache namespace (the facade's `account`) is derived from the backend and the token:
//! `<backend>#` + 16 hex digits of a SHA-256 of both, never the token itself. Lists seen
//! through one backend and token are never served for another. The backend is the URL as
//! [`crate::backend_url`] keeps it: no credentials, query or fragment.

use std::time::Duration;

use pims::{ErrorCode, HttpOptions, Pims, PimsBuilder, Secret};
use pims_sim::{SimConfig, SimError, SimServer};
use sha2::{Digest, Sha256};

use crate::cache_location::CacheLocation;
use crate::failure::Failure;
use crate::home::Home;

/// Room left between the transport's deadline and the facade's, so that a transport failure
/// (2202, 2204) is reported as itself rather than as the facade's 2201.
const FACADE_SLACK: Duration = Duration::from_secs(2);

/// Which backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Backend {
    /// The simulator embedded in this process.
    Embedded,
    /// A backend at this base URL (no trailing slash).
    Remote(String),
}

impl Backend {
    /// The backend from `--url`, checked ([`crate::backend_url::check`]: exit 2 for a URL
    /// carrying credentials, a query or a fragment, never echoing it).
    pub(crate) fn from_flag(url: Option<&str>) -> Result<Backend, Failure> {
        Ok(match url {
            None => Backend::Embedded,
            Some(u) => Backend::Remote(crate::backend_url::check(u)?),
        })
    }

    /// How `cache show` names it.
    pub(crate) fn label(&self) -> &str {
        match self {
            Backend::Embedded => "embedded",
            Backend::Remote(url) => url,
        }
    }
}

/// Longest backend label kept readable in a namespace (the cache takes 256 bytes).
const MAX_LABEL_IN_NAMESPACE: usize = 200;

/// The cache namespace of a backend and token: `<backend>#<16 hex digits>`, the digits from a
/// SHA-256 of both (never the token itself), the backend readable for `cache show`.
pub(crate) fn namespace(backend: &Backend, token: &Secret) -> String {
    let mut hash = Sha256::new();
    hash.update(b"pims-cli/v1\n");
    hash.update(backend.label().as_bytes());
    hash.update(b"\n");
    hash.update(token.expose().as_bytes());
    let digest = hex::encode(&hash.finalize()[..8]);
    let label = backend.label();
    if label.len() <= MAX_LABEL_IN_NAMESPACE && !label.contains(char::is_control) {
        format!("{label}#{digest}")
    } else {
        format!("long-url#{digest}")
    }
}

/// The backend part of a namespace made by [`namespace`] (the whole string otherwise), as it
/// may be shown: a URL without credentials, query or fragment, whoever wrote the namespace.
/// It is not escaped: a table escapes its cells ([`crate::render::table`]).
pub(crate) fn backend_of(namespace: &str) -> String {
    let backend = namespace.rsplit_once('#').map_or(namespace, |(b, _)| b);
    crate::backend_url::shown(backend)
}

/// The HTTP transport's settings for the CLI's deadline (`--timeout`): no phase may outlast it.
fn http_options(timeout: Duration) -> HttpOptions {
    HttpOptions::default().deadline(timeout)
}

/// Opens (and locks) the home's step cache, for `namespace`: the builder the facade is made
/// from once the backend is known. A shared cache is connected to by the build.
fn open_cache(cache: &CacheLocation, namespace: &str) -> Result<PimsBuilder, Failure> {
    let builder = cache.builder().account(namespace);
    if cache.is_shared() {
        return Ok(builder);
    }
    builder
        .open_cache()
        .map_err(|e| crate::commands::cache::cache_failure(cache, &e))
}

/// Why the facade could not be built: a URL the HTTP transport refuses is bad usage (the
/// transport's whole chain, which the facade keeps as the detail, says why); a cache that
/// cannot be used is said as the cache's failure.
fn build_failure(cache: &CacheLocation, url: &str, e: &pims::Error) -> Failure {
    if e.cache_error().is_some() {
        return crate::commands::cache::cache_failure(cache, e);
    }
    if e.transport_error().is_none() {
        return Failure::from_pims(e);
    }
    Failure::usage(format!(
        "--url {url} cannot be used ({}): give an https:// URL, or http:// on a loopback address",
        e.detail().unwrap_or_else(|| e.label())
    ))
}

/// Builds the facade over the opened cache, talking to `url` with `token`; the device id is
/// read now ([`PimsBuilder::build_async`]), so that a cache that cannot give it stops the
/// command here, before anything else starts (its calls would fail on it anyway).
async fn facade(
    location: &CacheLocation,
    cache: PimsBuilder,
    url: &str,
    token: Secret,
    timeout: Duration,
) -> Result<Pims, Failure> {
    let pims = cache
        .base_url(url)
        .token(token)
        .http(http_options(timeout))
        .call_timeout(timeout + FACADE_SLACK)
        .build_async()
        .await
        .map_err(|e| build_failure(location, url, &e))?;
    // Said in the store's own words: a planted link is not a full disk.
    let health = pims.cache().map_err(|e| Failure::from_pims(&e))?.health();
    if let Some(degradation) = health.degradation() {
        crate::render::warn(&if location.is_shared() {
            // A shared store that does not sync keeps working: it is only less durable.
            format!(
                "the cache {} is not durable ({degradation}): it is used all the same, but what \
                 it acknowledges may be lost in a crash of the database's machine",
                location.label()
            )
        } else {
            format!(
                "the cache {} cannot be used ({degradation}): answers come from the backend and \
                 nothing is remembered between runs",
                location.label()
            )
        });
    }
    Ok(pims)
}

/// Why the embedded simulator did not start, told in the CLI's words.
fn sim_failure(home: &Home, e: &SimError) -> Failure {
    match e {
        SimError::StateInUse { .. } => Failure::Busy(format!(
            "{e}: stop that simulator (it may be a `pims sim serve --state`), or talk to it with \
             --url"
        )),
        SimError::Scenario { .. } => Failure::usage(format!(
            "the embedded simulator's state {} is not valid ({e}): run `pims sim reset` to start \
             again from the default scenario",
            home.sim_state().display()
        )),
        // A state that cannot be read (a link, a directory, a FIFO, a device, too large:
        // whatever the simulator refuses to read) is what `sim reset` moves aside.
        SimError::StateFile { action: "read", .. }
        | SimError::FileRefused {
            what: "state file", ..
        }
        | SimError::File {
            what: "state file", ..
        } => Failure::usage(format!(
            "the embedded simulator's state {} cannot be read ({e}{}): run `pims sim reset` to \
             move it aside and start again from the default scenario",
            home.sim_state().display(),
            std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        )),
        // A link, a hard link or a special file planted beside the state: the refusal says
        // what to remove.
        SimError::FileRefused { .. } => {
            Failure::usage(format!("the embedded simulator cannot start: {e}"))
        }
        other => {
            let source = std::error::Error::source(other)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            Failure::usage(format!(
                "the embedded simulator cannot start ({other}{source}): check that {} is \
                 writable, or pass another --home",
                home.dir().display()
            ))
        }
    }
}

/// Starts the embedded simulator on the home's state file.
pub(crate) async fn start_embedded(home: &Home) -> Result<SimServer, Failure> {
    let config = SimConfig::default().state_file(home.sim_state());
    SimServer::start(config)
        .await
        .map_err(|e| sim_failure(home, &e))
}

/// An open backend: the facade, and the embedded simulator when there is one.
pub(crate) struct Session {
    /// The facade.
    pub(crate) pims: Pims,
    /// The embedded simulator (`None` with `--url`).
    pub(crate) sim: Option<SimServer>,
    /// Which backend.
    pub(crate) backend: Backend,
    /// The home, locked for as long as the session lives.
    _home: Home,
}

impl Session {
    /// Opens the cache, then (embedded mode) starts the simulator, then builds the facade.
    pub(crate) async fn open(
        home: Home,
        cache_location: CacheLocation,
        backend: Backend,
        token: Option<&str>,
        timeout: Duration,
    ) -> Result<Session, Failure> {
        let token = match (&backend, token.filter(|t| !t.is_empty())) {
            (_, Some(t)) => Secret::new(t),
            (Backend::Embedded, None) => Secret::new(pims_sim::DEMO_TOKEN),
            (Backend::Remote(_), None) => {
                return Err(Failure::usage(
                    "--url needs the user's access token: pass --token TOKEN or set PIMS_TOKEN",
                ));
            }
        };
        let namespace = namespace(&backend, &token);
        let cache = open_cache(&cache_location, &namespace)?;
        let (url, sim) = match &backend {
            Backend::Remote(url) => (url.clone(), None),
            Backend::Embedded => {
                let sim = start_embedded(&home).await?;
                tracing::debug!(url = %sim.base_url(), "embedded simulator started");
                (sim.base_url(), Some(sim))
            }
        };
        let pims = facade(&cache_location, cache, &url, token, timeout).await?;
        Ok(Session {
            pims,
            sim,
            backend,
            _home: home,
        })
    }

    /// A hint for a failure, knowing the backend (a transport failure with `--url` names it).
    pub(crate) fn hint_for(&self, code: ErrorCode) -> Option<String> {
        match (&self.backend, code) {
            (Backend::Remote(url), ErrorCode::NETWORK | ErrorCode::TIMEOUT) => Some(format!(
                "is the backend at {url} running and reachable? (--timeout sets the deadline)"
            )),
            (Backend::Remote(_), ErrorCode::NEED_BASIC_AUTHENTICATION) => {
                Some("check the access token given with --token or PIMS_TOKEN".into())
            }
            _ => None,
        }
    }

    /// Stops the embedded simulator (its state is already on disk) and releases the home.
    pub(crate) async fn close(self) {
        if let Some(sim) = self.sim {
            sim.shutdown().await;
        }
        self.pims.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_never_show_the_token() {
        let token = Secret::new("CANARY-TOKEN");
        let ns = namespace(&Backend::Embedded, &token);
        assert!(ns.starts_with("embedded#") && ns.len() == 25, "{ns}");
        assert_eq!(backend_of(&ns), "embedded");
        assert!(!ns.contains("CANARY"));
        assert_eq!(ns, namespace(&Backend::Embedded, &token));
        assert_ne!(
            ns,
            namespace(&Backend::Remote("http://127.0.0.1:8080".into()), &token)
        );
        assert_ne!(ns, namespace(&Backend::Embedded, &Secret::new("other")));
    }

    #[test]
    fn an_unreadable_state_points_to_sim_reset() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::open(tmp.path().join("h"), crate::home::Writes::Needed).unwrap();
        let e = SimError::StateFile {
            path: home.sim_state(),
            action: "read",
            source: std::io::Error::other("it is a FIFO"),
        };
        let Failure::Usage(m) = sim_failure(&home, &e) else {
            panic!("not usage")
        };
        assert!(m.contains("it is a FIFO"), "{m}");
        assert!(m.contains("run `pims sim reset`"), "{m}");
    }

    #[test]
    fn urls_lose_their_trailing_slash() {
        assert_eq!(
            Backend::from_flag(Some("http://127.0.0.1:8080/")).unwrap(),
            Backend::Remote("http://127.0.0.1:8080".into())
        );
    }

    #[test]
    fn namespaces_never_show_credentials_or_queries() {
        let token = Secret::new("t");
        assert!(Backend::from_flag(Some("http://u:CANARY@127.0.0.1:8080")).is_err());
        assert!(Backend::from_flag(Some("http://127.0.0.1:8080/?token=CANARY")).is_err());
        let ns = namespace(
            &Backend::from_flag(Some("http://127.0.0.1:8080")).unwrap(),
            &token,
        );
        assert_eq!(backend_of(&ns), "http://127.0.0.1:8080");
        // A namespace written by someone else is shown without them.
        assert_eq!(
            backend_of("https://u:CANARY@h.example/?token=CANARY#0123456789abcdef"),
            "https://h.example"
        );
    }
}
