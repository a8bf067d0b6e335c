//! The library entry point: [`SimConfig`] and [`SimServer`] (start on the current tokio
//! runtime, address, admin token, admin actions, shutdown).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use rand::Rng;
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use pims_types::{REDACTED, Secret};

use crate::clock::SimClock;
use crate::error::SimError;
use crate::faults::FaultSpec;
use crate::http::{router, serve};
use crate::model::Model;
use crate::persist::StateFile;
use crate::scenario::Scenario;
use crate::state::Shared;

/// How to start a simulator: [`SimConfig::default`] and its setters (the struct may gain
/// fields; each `field(v)` setter has a `set_field(Option<v>)` twin).
///
/// ```
/// let config = pims_sim::SimConfig::default();
/// assert_eq!(config.addr.to_string(), "127.0.0.1:0");
/// assert!(config.scenario.is_none() && config.state_file.is_none() && config.admin_token.is_none());
/// let config = config.state_file("/tmp/sim-state.json").admin_token("secret-admin");
/// assert_eq!(config.admin_token.as_deref(), Some("secret-admin"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct SimConfig {
    /// Where to listen (default `127.0.0.1:0`: loopback, a free port).
    pub addr: SocketAddr,
    /// The initial state (default: [`Scenario::default_scenario`]). Ignored when the state
    /// file exists: the state file is the continuing state.
    pub scenario: Option<Scenario>,
    /// Where to keep the state across restarts (written after every change).
    pub state_file: Option<PathBuf>,
    /// The admin bearer token (default: 32 random hex characters).
    pub admin_token: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            scenario: None,
            state_file: None,
            admin_token: None,
        }
    }
}

impl SimConfig {
    /// Sets [`addr`](Self::addr).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Sets [`scenario`](Self::scenario).
    pub fn scenario(self, scenario: Scenario) -> Self {
        self.set_scenario(Some(scenario))
    }

    /// Sets or clears [`scenario`](Self::scenario).
    pub fn set_scenario(mut self, scenario: Option<Scenario>) -> Self {
        self.scenario = scenario;
        self
    }

    /// Sets [`state_file`](Self::state_file).
    pub fn state_file(self, path: impl Into<PathBuf>) -> Self {
        self.set_state_file(Some(path.into()))
    }

    /// Sets or clears [`state_file`](Self::state_file).
    pub fn set_state_file(mut self, path: Option<PathBuf>) -> Self {
        self.state_file = path;
        self
    }

    /// Sets [`admin_token`](Self::admin_token).
    pub fn admin_token(self, token: impl Into<String>) -> Self {
        self.set_admin_token(Some(token.into()))
    }

    /// Sets or clears [`admin_token`](Self::admin_token).
    pub fn set_admin_token(mut self, token: Option<String>) -> Self {
        self.admin_token = token;
        self
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("addr", &self.addr)
            .field(
                "scenario",
                &self.scenario.as_ref().map(|_| "Scenario { .. }"),
            )
            .field("state_file", &self.state_file)
            .field("admin_token", &self.admin_token.as_ref().map(|_| REDACTED))
            .finish()
    }
}

/// A running simulator. Dropping it stops the server (calls in flight finish in the
/// background); [`SimServer::shutdown`] stops it and waits.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use pims_sim::{DEMO_PHONE_NUMBER, DEMO_VIN, FaultSpec, Scenario, SimConfig, SimError, SimServer};
///
/// // On 127.0.0.1, a free port, the demo scenario and a random admin token.
/// let sim = SimServer::start(SimConfig::default()).await.unwrap();
/// assert_ne!(sim.addr().port(), 0);
/// assert_eq!(sim.base_url(), format!("http://127.0.0.1:{}", sim.addr().port()));
/// assert_eq!(sim.admin_token().len(), 32);
/// assert!(sim.admin_token().bytes().all(|b| b.is_ascii_hexdigit()));
///
/// // The admin actions, in process (the admin routes give the same over HTTP).
/// assert_eq!(sim.state().accounts[0].id, "demo");
/// assert!(sim.latest_sms_code(DEMO_PHONE_NUMBER).is_none());
/// assert_eq!(sim.sms_outbox(None)["messages"], serde_json::json!([]));
/// assert!(sim.disable_device("phone-1").await.unwrap().is_empty());
/// assert_eq!(sim.pair_vehicle(DEMO_VIN, "phone-1").await.unwrap(), ["phone-1"]);
/// let e = sim.suspend_car_key(DEMO_VIN).await.unwrap_err(); // no CarKey yet
/// assert!(matches!(e, SimError::NotFound { .. }));
///
/// // Time travel, and faults for the next calls.
/// sim.clock().advance(std::time::Duration::from_secs(301));
/// assert_eq!(sim.clock().offset().as_secs(), 301);
/// assert!(sim.faults().is_none());
/// sim.set_faults(&FaultSpec { status: Some(503), count: Some(1), ..Default::default() }).unwrap();
/// assert!(sim.faults().is_some());
/// sim.clear_faults();
/// assert!(sim.faults().is_none());
///
/// // A whole new state, then the end: the port is closed.
/// sim.load_scenario(Scenario::empty()).await.unwrap();
/// assert!(sim.state().accounts.is_empty());
/// let addr = sim.addr();
/// sim.shutdown().await;
/// assert!(std::net::TcpStream::connect(addr).is_err());
///
/// // A fixed admin token (scripts, CI).
/// let sim = SimServer::start(SimConfig::default().admin_token("secret-admin")).await.unwrap();
/// assert_eq!(sim.admin_token(), "secret-admin");
/// # }
/// ```
pub struct SimServer {
    addr: SocketAddr,
    admin_token: String,
    shared: Arc<Shared>,
    shutdown: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

fn random_token() -> String {
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)]))
        .collect()
}

impl SimServer {
    /// Loads the state (state file, else the scenario, else the default scenario), binds the
    /// address and spawns the server on the current tokio runtime.
    pub async fn start(config: SimConfig) -> Result<SimServer, SimError> {
        tokio::runtime::Handle::try_current().map_err(|_| SimError::NoRuntime)?;
        let admin_token = match config.admin_token {
            Some(t) if !crate::identifiers::is_valid_token(&t) => {
                return Err(SimError::invalid(
                    "admin_token",
                    "expected 1 to 256 printable ASCII characters without spaces",
                ));
            }
            Some(t) => t,
            None => random_token(),
        };
        let (state_file, loaded) = match config.state_file.clone() {
            Some(path) => {
                let opened = tokio::task::spawn_blocking(move || StateFile::open(&path))
                    .await
                    .map_err(|e| SimError::StateFile {
                        path: config.state_file.clone().unwrap_or_default(),
                        action: "open",
                        source: std::io::Error::other(e.to_string()),
                    })??;
                (Some(opened.0), opened.1)
            }
            None => (None, None),
        };
        let from_state_file = loaded.is_some();
        if from_state_file && config.scenario.is_some() {
            tracing::info!(
                "state file found: it is the continuing state, the scenario given is ignored"
            );
        }
        let scenario = loaded
            .or(config.scenario)
            .unwrap_or_else(Scenario::default_scenario);
        let model = Model::from_scenario(scenario)?;
        let needs_first_write = state_file.is_some() && !from_state_file;
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| SimError::Bind {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: config.addr,
            source,
        })?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "listening beyond loopback: anyone who can reach it can call it");
        }
        let shared = Arc::new(Shared::new(
            model,
            SimClock::new(),
            Secret::new(admin_token.clone()),
            state_file,
        ));
        if needs_first_write {
            let snapshot = {
                let mut backend = shared.lock();
                shared.changed(&mut backend)
            };
            shared.persist(snapshot).await?;
        }
        let (tx, rx) = watch::channel(false);
        let router = router::router(shared.clone());
        let task = tokio::spawn(serve::serve(listener, router, rx));
        tracing::info!(%addr, from_state_file, "pims-sim listening");
        Ok(SimServer {
            addr,
            admin_token,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The bound address (the real port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, no trailing slash (a wildcard address is given as loopback).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The admin bearer token (the configured one, or the generated one).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The simulator's clock: move it forward to expire SMS codes or reset the quota window.
    pub fn clock(&self) -> SimClock {
        self.shared.clock.clone()
    }

    /// The whole state as a scenario document (what `GET /admin/state` answers).
    pub fn state(&self) -> Scenario {
        self.shared.state()
    }

    /// Replaces the whole state with a scenario (what `POST /admin/scenario` does).
    pub async fn load_scenario(&self, scenario: Scenario) -> Result<(), SimError> {
        self.shared.load_scenario(scenario).await
    }

    /// The newest SMS code sent to a number, whatever its state.
    pub fn latest_sms_code(&self, phone_number: &str) -> Option<Secret> {
        self.shared.latest_sms_code(phone_number)
    }

    /// The SMS outbox as `GET /admin/sms` shows it (one number, or all), newest first.
    pub fn sms_outbox(&self, phone_number: Option<&str>) -> Value {
        self.shared.outbox(phone_number)
    }

    /// Disables a device for every account (OTP then answers 2312). Returns the accounts.
    pub async fn disable_device(&self, device_id: &str) -> Result<Vec<String>, SimError> {
        self.shared.disable_device(device_id).await
    }

    /// Pairs a vehicle with a device over Bluetooth. Returns the paired devices.
    pub async fn pair_vehicle(&self, vin: &str, device_id: &str) -> Result<Vec<String>, SimError> {
        self.shared.pair_vehicle(vin, device_id).await
    }

    /// Suspends every CarKey of a vehicle (`mediumCarKey` turns back to `todo`); `NotFound`
    /// when the vehicle has none.
    pub async fn suspend_car_key(&self, vin: &str) -> Result<Value, SimError> {
        self.shared.suspend_car_key(vin).await
    }

    /// Replaces the active fault (what `POST /admin/faults` does).
    pub fn set_faults(&self, spec: &FaultSpec) -> Result<(), SimError> {
        self.shared.faults.set(spec)
    }

    /// The active fault (its `count` is what it has left).
    pub fn faults(&self) -> Option<FaultSpec> {
        self.shared.faults.get()
    }

    /// Clears the active fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Stops accepting, lets calls in flight finish (5 s at most), and waits for the server
    /// to be gone (the state file is then released).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        tracing::info!(addr = %self.addr, "pims-sim stopped");
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
    }
}

impl fmt::Debug for SimServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimServer")
            .field("addr", &self.addr)
            .field("admin_token", &REDACTED)
            .finish_non_exhaustive()
    }
}
