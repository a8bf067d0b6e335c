//! The database password: from the URL, from `PGPASSWORD`, from a password file (only one its
//! owner alone may read), as libpq finds it; and never shown: not in `Debug`, `Display` or the
//! source chain of any error, not in a log line, not in a child's output (canary values).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex, OnceLock};

use pims_cache::StepStore;
use pims_cache_postgres::test_server::{PASSWORD_GROUP, TestServer};
use pims_cache_postgres::{PostgresOptions, PostgresStore};
use support::*;

const CANARY: &str = "canary-db-pass-5c1e7a";
const ROLE: &str = "pw_canary";
const TEST: &str = "the_password_may_come_from_pgpassword_or_a_password_file";
const URL_ENV: &str = "PIMS_PG_TEST_URL";

/// Everything logged through `tracing` by this process, at every level.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The shared server with the canary role, and a fresh database it owns.
fn setup() -> Option<(&'static TestServer, String)> {
    let server = TestServer::shared()?;
    static ROLE_MADE: OnceLock<()> = OnceLock::new();
    ROLE_MADE.get_or_init(|| {
        // (Other test processes of a nextest run share the server: the role may be there.)
        server.psql(
            "postgres",
            &format!(
                "do $$ begin create role {ROLE} login password '{CANARY}' in role {PASSWORD_GROUP}; \
                 exception when duplicate_object then null; end $$"
            ),
        );
    });
    let db = server.create_database();
    server.psql(
        "postgres",
        &format!("alter database \"{db}\" owner to {ROLE}"),
    );
    Some((server, db))
}

fn url(server: &TestServer, db: &str, password: Option<&str>) -> String {
    let credentials = match password {
        Some(p) => format!("{ROLE}:{p}"),
        None => ROLE.to_owned(),
    };
    format!(
        "postgres://{credentials}@127.0.0.1:{}/{db}?sslmode=disable",
        server.port()
    )
}

fn assert_no_canary(text: &str) {
    assert!(!text.contains(CANARY), "the password shows: {text}");
}

/// Everything an error shows: Display, Debug, and the whole source chain.
fn shown(e: &dyn std::error::Error) -> String {
    let mut text = format!("{e} {e:?}");
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(" | {c} {c:?}"));
        cause = c.source();
    }
    text
}

#[tokio::test]
async fn the_password_in_the_url_works_and_is_never_shown() {
    let logs = logs();
    let Some((server, db)) = setup() else { return };
    let good = url(server, &db, Some(CANARY));
    let options = PostgresOptions::from_url(&good).unwrap();
    assert_no_canary(&format!("{options:?} {options:#?} {}", options.target()));
    let store = PostgresStore::connect(options).await.unwrap();
    store.migrate().await.unwrap();
    let _ = store
        .compare_and_swap(b"k", None, Some(b"v"))
        .await
        .unwrap();
    assert_no_canary(&format!("{store:?} {}", store.target()));
    // A wrong password: the error names the failure, never the password given.
    let wrong = format!("{CANARY}-but-wrong");
    let e =
        PostgresStore::connect(PostgresOptions::from_url(&url(server, &db, Some(&wrong))).unwrap())
            .await
            .unwrap_err();
    let text = shown(&e);
    assert!(text.contains("password authentication failed"), "{text}");
    assert_no_canary(&text);
    // Failures after connecting (the session killed, the database closed to new ones) show
    // nothing either.
    server.psql(
        "postgres",
        &format!("alter database \"{db}\" allow_connections false"),
    );
    server.terminate_sessions(&db);
    let e = loop {
        // The pool finds its session gone, then cannot open another.
        match store.get(b"k").await {
            Err(e) if shown(&e).contains("not currently accepting connections") => break e,
            Err(e) => assert_no_canary(&shown(&e)),
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    };
    assert_no_canary(&shown(&e));
    assert_no_canary(&String::from_utf8_lossy(&logs.lock().unwrap()));
}

/// Child processes (the environment is the process's): one given the password in
/// `PGPASSWORD`, one in a password file, one in a password file others may read (ignored, as
/// libpq ignores it: refused). Their output never shows it.
#[test]
fn the_password_may_come_from_pgpassword_or_a_password_file() {
    if child_mode().is_some() {
        return child_main();
    }
    let Some((server, db)) = setup() else { return };
    let no_password = url(server, &db, None);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgpass");
    std::fs::write(
        &file,
        format!("127.0.0.1:{}:*:{ROLE}:{CANARY}\n", server.port()),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = |env: &[(&str, &str)]| {
        let mut cmd = child(TEST, "connect");
        cmd.env(URL_ENV, &no_password)
            .env_remove("PGPASSWORD")
            .env_remove("PGPASSFILE")
            .env("HOME", dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_canary(&text);
        text
    };
    let text = run(&[("PGPASSWORD", CANARY)]);
    assert!(text.contains("CONNECTED"), "{text}");
    let text = run(&[("PGPASSFILE", file.to_str().unwrap())]);
    assert!(text.contains("CONNECTED"), "{text}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = run(&[("PGPASSFILE", file.to_str().unwrap())]);
    assert!(text.contains("REFUSED"), "{text}");
    assert!(
        text.contains("may be read by others"),
        "the warning is logged: {text}"
    );
    // ~/.pgpass, by default.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::rename(&file, dir.path().join(".pgpass")).unwrap();
    let text = run(&[]);
    assert!(text.contains("CONNECTED"), "{text}");
}

fn child_main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(std::io::stderr)
        .init();
    let url = std::env::var(URL_ENV).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = PostgresOptions::from_url(&url).unwrap();
        println!("{options:?}");
        match PostgresStore::connect(options).await {
            Ok(store) => println!("CONNECTED {store:?}"),
            Err(e) => println!("REFUSED {}", shown(&e)),
        }
    });
}
