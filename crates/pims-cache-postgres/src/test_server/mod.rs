//! Throw-away PostgreSQL servers for tests (feature `test-util`).
//!
//! A test server is a cluster in a temporary directory (a copy of one `initdb` cached per
//! machine), listening on a free port of 127.0.0.1 and on a socket in that directory, with
//! `fsync = on` unless told otherwise; never the system's service. It runs as the `postgres`
//! user when the tests run as root (initdb refuses root). It is stopped and its directory
//! removed when the [`TestServer`] is dropped, and also when the test process ends however it
//! ends (panic, abort, SIGKILL): a watchdog process waits for the end of a pipe only the test
//! process holds.
//!
//! [`TestServer::shared`] is the server every test of a process shares (each test gets a fresh
//! database with [`TestServer::fresh_url`]); under cargo-nextest, which runs each test in a
//! process of its own, it is shared by every test process of the run (the first one starts it;
//! it stops when the runner ends). [`TestServer::start`] makes one of a test's own (restarts,
//! `fsync = off`, TLS).
//!
//! When PostgreSQL is not installed (no `/usr/lib/postgresql/*/bin/initdb`), both say why on
//! stderr and return None, and the test should pass without running: except under `CI=true`,
//! where a missing server is a failure (they panic), never a skip.
//!
//! ```no_run
//! use pims_cache_postgres::test_server::TestServer;
//! let Some(server) = TestServer::shared() else { return }; // not installed: skipped
//! let url = server.fresh_url(); // postgres://postgres@127.0.0.1:<port>/<new database>
//! ```
// Test infrastructure: a server that cannot be started fails the test that needed it.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

mod certificates;
mod install;

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

pub use certificates::{ServerCertificate, TestCa};

/// Whether a missing PostgreSQL must fail the tests: `CI` set to anything but `false`/`0`.
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The installed PostgreSQL binaries; when there are none, says why (stderr) and returns None,
/// or panics under `CI=true`.
pub fn binaries_or_skip() -> Option<PathBuf> {
    match install::binaries() {
        Some(bin) => Some(bin),
        None if required() => panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb), and CI is set: \
             a missing server fails the tests (install the `postgresql` package; .ci/run does)"
        ),
        None => {
            eprintln!(
                "skipped: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); \
                 install the `postgresql` package to run this test (under CI=true this fails)"
            );
            None
        }
    }
}

/// How a [`TestServer`] is configured.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    fsync: bool,
    autovacuum: bool,
    tls: Option<ServerCertificate>,
    settings: Vec<(String, String)>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            fsync: true,
            autovacuum: true,
            tls: None,
            settings: Vec::new(),
        }
    }
}

impl ServerOptions {
    /// `fsync` on (the default) or off.
    pub fn fsync(mut self, on: bool) -> Self {
        self.fsync = on;
        self
    }

    /// Autovacuum on (the default) or off (so that nothing but the test writes WAL).
    pub fn autovacuum(mut self, on: bool) -> Self {
        self.autovacuum = on;
        self
    }

    /// Any other server setting (`-c name=value`; no spaces or quotes in either).
    pub fn setting(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_owned(), value.to_owned()));
        self
    }

    /// TLS with this certificate; connections over TCP must then use TLS (`hostnossl`
    /// connections are rejected).
    pub fn tls(mut self, certificate: ServerCertificate) -> Self {
        self.tls = Some(certificate);
        self
    }
}

/// The group whose members must give a password over TCP (SCRAM), to test passwords: create
/// a role `... login password '...' in role pims_password`. (Everyone else is trusted.)
pub const PASSWORD_GROUP: &str = "pims_password";

/// A running test server.
#[derive(Debug)]
pub struct TestServer {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    who: install::Identity,
    /// The watchdog of a server this process owns (None: the run's shared server).
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
    databases: AtomicU64,
}

static SHARED: OnceLock<Option<TestServer>> = OnceLock::new();

impl TestServer {
    /// The server shared by every test of this process, started on first use (None when
    /// PostgreSQL is not installed and `CI` is not set: the caller skips).
    pub fn shared() -> Option<&'static TestServer> {
        SHARED
            .get_or_init(|| {
                let bin = binaries_or_skip()?;
                let started = match std::env::var("NEXTEST_RUN_ID") {
                    Ok(run)
                        if !run.is_empty()
                            && run.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                    {
                        TestServer::for_run(bin, &run)
                    }
                    _ => TestServer::try_start(bin, &ServerOptions::default()),
                };
                match started {
                    Ok(server) => Some(server),
                    Err(e) => panic!("cannot start a PostgreSQL test server: {e}"),
                }
            })
            .as_ref()
    }

    /// A server of the caller's own (None when PostgreSQL is not installed and `CI` is not
    /// set). Panics when it cannot be started.
    pub fn start(options: ServerOptions) -> Option<TestServer> {
        let bin = binaries_or_skip()?;
        match TestServer::try_start(bin, &options) {
            Ok(server) => Some(server),
            Err(e) => panic!("cannot start a PostgreSQL test server: {e}"),
        }
    }

    fn try_start(bin: PathBuf, options: &ServerOptions) -> Result<TestServer, String> {
        let who = install::Identity::find()?;
        let dir = tempfile::Builder::new()
            .prefix("pims-pg-")
            .tempdir()
            .map_err(|e| format!("temporary directory: {e}"))?
            .keep();
        // From here on the watchdog (or our own error path) removes `dir`.
        let started = TestServer::prepare_and_run(bin, who, &dir, options, Watch::Pipe);
        if started.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        started
    }

    /// The server of this nextest run: started by the first test process (under a lock),
    /// found by the others; stopped, and its directory removed, once the runner (our parent
    /// process) is gone.
    fn for_run(bin: PathBuf, run: &str) -> Result<TestServer, String> {
        let who = install::Identity::find()?;
        let home = std::env::temp_dir().join(format!("pims-pg-run-{run}"));
        match fs::create_dir(&home) {
            Ok(()) => fs::set_permissions(&home, fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("chmod {}: {e}", home.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create {}: {e}", home.display())),
        }
        if !install::trusted_dir(&home)? {
            // Someone else's directory: a server of this process's own instead.
            return TestServer::try_start(bin, &ServerOptions::default());
        }
        let lock = fs::File::create(home.join("lock")).map_err(|e| format!("run lock: {e}"))?;
        lock.lock().map_err(|e| format!("run lock: {e}"))?;
        let dir = home.join("cluster");
        let info = home.join("port");
        if let Some(port) = fs::read_to_string(&info)
            .ok()
            .and_then(|p| p.trim().parse().ok())
        {
            let server = TestServer::attached(bin.clone(), who, &dir, port);
            if server.try_psql("postgres", "select 1").is_ok() {
                return Ok(server);
            }
        }
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let runner = std::os::unix::process::parent_id();
        let server = TestServer::prepare_and_run(
            bin,
            who,
            &dir,
            &ServerOptions::default(),
            Watch::Runner {
                pid: runner,
                home: home.clone(),
            },
        )?;
        fs::write(&info, server.port.to_string())
            .map_err(|e| format!("{}: {e}", info.display()))?;
        Ok(server)
    }

    /// A server another process started in `dir`.
    fn attached(bin: PathBuf, who: install::Identity, dir: &Path, port: u16) -> TestServer {
        TestServer {
            bin,
            dir: dir.to_owned(),
            data: dir.join("data"),
            socket_dir: dir.join("socket"),
            port,
            who,
            watchdog: Mutex::new(None),
            databases: AtomicU64::new(0),
        }
    }

    fn prepare_and_run(
        bin: PathBuf,
        who: install::Identity,
        dir: &Path,
        options: &ServerOptions,
        watch: Watch,
    ) -> Result<TestServer, String> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
        who.own(dir)?;
        let data = dir.join("data");
        let socket_dir = dir.join("socket");
        fs::create_dir(&socket_dir).map_err(|e| format!("socket directory: {e}"))?;
        who.own(&socket_dir)?;
        install::new_cluster(&bin, &who, &data)?;
        let hba = if options.tls.is_some() {
            "local all all trust\n\
             hostnossl all all 0.0.0.0/0 reject\n\
             hostssl all +pims_password 127.0.0.1/32 scram-sha-256\n\
             hostssl all all 127.0.0.1/32 trust\n"
        } else {
            "local all all trust\n\
             host all +pims_password 127.0.0.1/32 scram-sha-256\n\
             host all all 127.0.0.1/32 trust\n"
        };
        let hba_file = data.join("pg_hba.conf");
        fs::write(&hba_file, hba).map_err(|e| format!("pg_hba.conf: {e}"))?;
        who.own(&hba_file)?;
        let mut settings = vec![
            "listen_addresses=127.0.0.1".to_owned(),
            format!("unix_socket_directories={}", socket_dir.display()),
            format!("fsync={}", on_off(options.fsync)),
            format!("autovacuum={}", on_off(options.autovacuum)),
            "shared_buffers=16MB".to_owned(),
            "max_connections=200".to_owned(),
        ];
        settings.extend(options.settings.iter().map(|(n, v)| format!("{n}={v}")));
        if let Some(tls) = &options.tls {
            for (from, to, mode) in [
                (&tls.cert, "server.crt", 0o644),
                (&tls.key, "server.key", 0o600),
            ] {
                let target = data.join(to);
                fs::copy(from, &target).map_err(|e| format!("{to}: {e}"))?;
                fs::set_permissions(&target, fs::Permissions::from_mode(mode))
                    .map_err(|e| format!("{to}: {e}"))?;
                who.own(&target)?;
            }
            settings.push("ssl=on".to_owned());
        }
        let mut last = String::new();
        // A free port may be taken by someone else before the server binds it: try again.
        for _ in 0..5 {
            let port = free_port()?;
            let mut opts = vec![format!("-c port={port}")];
            opts.extend(settings.iter().map(|s| format!("-c {s}")));
            let started = install::run(
                who.command(bin.join("pg_ctl"))
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(dir.join("server.log"))
                    .args(["-w", "-t", "60", "-o"])
                    .arg(opts.join(" "))
                    .arg("start"),
                "pg_ctl start",
            );
            match started {
                Ok(_) => {
                    let watchdog = watchdog(&data, dir, &watch)?;
                    let server = TestServer {
                        bin,
                        dir: dir.to_owned(),
                        data,
                        socket_dir,
                        port,
                        who,
                        watchdog: Mutex::new(watchdog),
                        databases: AtomicU64::new(0),
                    };
                    server
                        .try_psql("postgres", &format!("create role {PASSWORD_GROUP} nologin"))?;
                    return Ok(server);
                }
                Err(e) => {
                    let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                    last = format!("{e}\n{log}");
                    if !log.contains("could not bind") && !log.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(last)
    }

    /// The TCP port (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the server's unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The directory the server's files live in (its data directory is `data/` there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A URL of database `db` as the superuser over TCP, without TLS.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }

    /// The database a URL of this harness names (`.../<db>?...`).
    ///
    /// ```
    /// use pims_cache_postgres::test_server::TestServer;
    /// let url = "postgres://postgres@127.0.0.1:5433/t42_0?sslmode=disable";
    /// assert_eq!(TestServer::database_of(url), "t42_0");
    /// ```
    pub fn database_of(url: &str) -> &str {
        let path = url.rsplit('/').next().unwrap_or(url);
        path.split('?').next().unwrap_or(path)
    }

    /// A new, empty database (`t<pid>_<n>`): its name.
    pub fn create_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        self.psql("postgres", &format!("create database \"{name}\""));
        name
    }

    /// The URL of a new, empty database ([`create_database`](TestServer::create_database)).
    pub fn fresh_url(&self) -> String {
        let db = self.create_database();
        self.url(&db)
    }

    /// Runs `sql` in database `db` as the superuser (over the socket), returning what it
    /// printed (unaligned, tuples only). Panics when it fails.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        match self.try_psql(db, sql) {
            Ok(out) => out,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`psql`](TestServer::psql), the failure as an error.
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        install::run(
            Command::new(self.bin.join("psql"))
                .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
                .arg(&self.socket_dir)
                .arg("-p")
                .arg(self.port.to_string())
                .args(["-U", "postgres", "-d", db, "-c", sql])
                .env_remove("PGPASSWORD")
                .env_remove("PGPASSFILE")
                .stdin(Stdio::null()),
            "psql",
        )
        .map(|out| out.trim().to_owned())
    }

    /// Crashes and restarts the server (`pg_ctl -m immediate restart`: no shutdown
    /// checkpoint, every connection cut; the server recovers from its WAL).
    pub fn restart_immediate(&self) {
        if let Err(e) = install::run(
            self.who
                .command(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .arg("-l")
                .arg(self.dir.join("server.log"))
                .args(["-w", "-t", "60", "-m", "immediate", "restart"]),
            "pg_ctl restart",
        ) {
            let log = fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            panic!("{e}\n{log}");
        }
    }

    /// Terminates every session connected to `db` (`pg_terminate_backend`): how many.
    pub fn terminate_sessions(&self, db: &str) -> usize {
        self.psql(
            "postgres",
            &format!(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity \
                 where datname = '{db}' and pid <> pg_backend_pid()"
            ),
        )
        .parse()
        .unwrap_or(0)
    }

    /// Stops the server now and removes its directory (what dropping it does).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let taken = self
            .watchdog
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some((mut child, stdin)) = taken {
            // The end of the pipe: the watchdog stops the server and removes the directory.
            drop(stdin);
            let _ = child.wait();
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Until when a server runs.
enum Watch {
    /// Until the end of a pipe only this process holds: when the [`TestServer`] is dropped or
    /// the process ends, however it ends.
    Pipe,
    /// Until the test runner `pid` is gone (checked five times a second); then `home`, the
    /// run's directory, is removed.
    Runner { pid: u32, home: PathBuf },
}

/// The process that stops the server (immediate shutdown: SIGQUIT to the postmaster whose pid
/// the data directory names, so restarts are followed) and removes its directory, when
/// `watch` says. It runs in a process group of its own, so that a runner killing the test's
/// group does not kill it first. For [`Watch::Pipe`], its stdin, which the caller keeps.
fn watchdog(data: &Path, dir: &Path, watch: &Watch) -> Result<Option<(Child, ChildStdin)>, String> {
    const STOP: &str = r#"
pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ]; then
  kill -QUIT "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
fi
rm -rf "$2"
"#;
    let mut cmd = Command::new("sh");
    match watch {
        Watch::Pipe => {
            cmd.arg("-c")
                .arg(format!("read -r _ignored\n{STOP}"))
                .arg("pims-pg-watchdog")
                .arg(data)
                .arg(dir)
                .stdin(Stdio::piped());
        }
        Watch::Runner { pid, home } => {
            cmd.arg("-c")
                .arg(format!(
                    "while kill -0 \"$3\" 2>/dev/null; do sleep 0.2; done\n{STOP}"
                ))
                .arg("pims-pg-watchdog")
                .arg(data)
                .arg(home)
                .arg(pid.to_string())
                .stdin(Stdio::null());
        }
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the watchdog: {e}"))?;
    if let Watch::Runner { .. } = watch {
        // It outlives this process (its parent becomes init); nothing to keep.
        drop(child);
        return Ok(None);
    }
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| "the watchdog has no stdin".to_owned())?;
    // Nothing is ever written: only the pipe's end matters. (A flush proves it is open.)
    stdin
        .flush()
        .map_err(|e| format!("the watchdog's pipe: {e}"))?;
    Ok(Some((child, stdin)))
}
