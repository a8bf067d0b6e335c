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
//! The cache namespace (the facade's `account`) is derived from the backend and the token
//! ([`crate::cache_namespace`]).

use std::time::Duration;

use pims::{ErrorCode, HttpOptions, Pims, PimsBuilder, Secret};
use pims_sim::SimServer;

use crate::backend_location::BackendLocation;
use crate::cache_failure::cache_failure;
use crate::cache_location::CacheLocation;
use crate::cache_namespace::namespace;
use crate::embedded_sim::start_embedded;
use crate::failure::Failure;
use crate::home::Home;

/// Room left between the transport's deadline and the facade's, so that a transport failure
/// (2202, 2204) is reported as itself rather than as the facade's 2201.
const FACADE_SLACK: Duration = Duration::from_secs(2);

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
    builder.open_cache().map_err(|e| cache_failure(cache, &e))
}

/// Why the facade could not be built: a URL the HTTP transport refuses is bad usage (the
/// transport's whole chain, which the facade keeps as the detail, says why); a cache that
/// cannot be used is said as the cache's failure.
fn build_failure(cache: &CacheLocation, url: &str, e: &pims::Error) -> Failure {
    if e.cache_error().is_some() {
        return cache_failure(cache, e);
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

/// An open backend: the facade, and the embedded simulator when there is one.
pub(crate) struct Session {
    /// The facade.
    pub(crate) pims: Pims,
    /// The embedded simulator (`None` with `--url`).
    pub(crate) sim: Option<SimServer>,
    /// Which backend.
    pub(crate) backend: BackendLocation,
    /// The home, locked for as long as the session lives.
    _home: Home,
}

impl Session {
    /// Opens the cache, then (embedded mode) starts the simulator, then builds the facade.
    pub(crate) async fn open(
        home: Home,
        cache_location: CacheLocation,
        backend: BackendLocation,
        token: Option<&str>,
        timeout: Duration,
    ) -> Result<Session, Failure> {
        let token = match (&backend, token.filter(|t| !t.is_empty())) {
            (_, Some(t)) => Secret::new(t),
            (BackendLocation::Embedded, None) => Secret::new(pims_sim::DEMO_TOKEN),
            (BackendLocation::Remote(_), None) => {
                return Err(Failure::usage(
                    "--url needs the user's access token: pass --token TOKEN or set PIMS_TOKEN",
                ));
            }
        };
        let namespace = namespace(&backend, &token);
        let cache = open_cache(&cache_location, &namespace)?;
        let (url, sim) = match &backend {
            BackendLocation::Remote(url) => (url.clone(), None),
            BackendLocation::Embedded => {
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
            (BackendLocation::Remote(url), ErrorCode::NETWORK | ErrorCode::TIMEOUT) => {
                Some(format!(
                    "is the backend at {url} running and reachable? (--timeout sets the deadline)"
                ))
            }
            (BackendLocation::Remote(_), ErrorCode::NEED_BASIC_AUTHENTICATION) => {
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
