//! TLS against a server that refuses unencrypted connections over TCP, with certificates the
//! test makes: `require` encrypts without checking; `verify-ca` checks the chain, `verify-full`
//! the chain and the host name; a certificate of another CA is refused by both (and by
//! `require` given that CA as its root, as libpq does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;
use std::sync::OnceLock;

use pims_cache::{CacheError, StepStore, Swap};
use pims_cache_postgres::test_server::{ServerOptions, TestCa, TestServer};
use pims_cache_postgres::{PostgresError, PostgresOptions, PostgresStore};

struct Tls {
    server: TestServer,
    ca: PathBuf,
    other_ca: PathBuf,
}

/// The TLS server of this test process (its certificate: `localhost` and `127.0.0.1`, by
/// `ca`), or None when PostgreSQL is not installed.
fn tls() -> Option<&'static Tls> {
    static TLS: OnceLock<Option<Tls>> = OnceLock::new();
    TLS.get_or_init(|| {
        pims_cache_postgres::test_server::binaries_or_skip()?;
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path(), "ca").unwrap();
        let other = TestCa::new(dir.path(), "other-ca").unwrap();
        let cert = ca
            .issue(dir.path(), "server", &["localhost", "127.0.0.1"])
            .unwrap();
        let server = TestServer::start(ServerOptions::default().tls(cert))?;
        // The roots live as long as the server (its directory goes with it).
        let ca_file = server.dir().join("ca.crt");
        let other_file = server.dir().join("other-ca.crt");
        std::fs::copy(&ca.cert, &ca_file).unwrap();
        std::fs::copy(&other.cert, &other_file).unwrap();
        Some(Tls {
            server,
            ca: ca_file,
            other_ca: other_file,
        })
    })
    .as_ref()
}

fn url(tls: &Tls, db: &str, host: &str, params: &str) -> String {
    format!(
        "postgres://postgres@{host}:{}/{db}?{params}",
        tls.server.port()
    )
}

async fn works(url: &str) {
    let store = PostgresStore::connect(PostgresOptions::from_url(url).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}: {:?}", std::error::Error::source(&e)));
    store.migrate().await.unwrap();
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let key = N
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .to_be_bytes();
    assert_eq!(
        store
            .compare_and_swap(&key, None, Some(b"v"))
            .await
            .unwrap(),
        Swap::Swapped
    );
}

async fn refused(url: &str) -> String {
    match PostgresStore::connect(PostgresOptions::from_url(url).unwrap()).await {
        Ok(_) => panic!("{url}: connected"),
        Err(e) => {
            assert!(
                matches!(
                    e,
                    CacheError::Storage {
                        operation: "connect",
                        ..
                    }
                ),
                "{e}"
            );
            let source = std::error::Error::source(&e).unwrap();
            let pg = source.downcast_ref::<PostgresError>().unwrap();
            assert!(matches!(pg, PostgresError::Connect { .. }), "{pg:?}");
            pg.to_string()
        }
    }
}

#[tokio::test]
async fn require_encrypts_and_the_server_refuses_plain_connections() {
    let Some(tls) = tls() else { return };
    let db = tls.server.create_database();
    let plain = refused(&url(tls, &db, "127.0.0.1", "sslmode=disable")).await;
    assert!(plain.contains("no encryption"), "{plain}");
    works(&url(tls, &db, "127.0.0.1", "sslmode=require")).await;
    works(&url(tls, &db, "127.0.0.1", "sslmode=prefer")).await;
}

#[tokio::test]
async fn verify_full_accepts_the_right_ca_for_the_right_name() {
    let Some(tls) = tls() else { return };
    let db = tls.server.create_database();
    let ca = tls.ca.display();
    works(&url(
        tls,
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await;
    works(&url(
        tls,
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await;
    works(&url(
        tls,
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .await;
    works(&url(
        tls,
        &db,
        "127.0.0.1",
        &format!("sslmode=require&sslrootcert={ca}"),
    ))
    .await;
}

#[tokio::test]
async fn a_certificate_of_another_ca_is_refused() {
    let Some(tls) = tls() else { return };
    let db = tls.server.create_database();
    let other = tls.other_ca.display();
    for mode in ["verify-full", "verify-ca", "require"] {
        let why = refused(&url(
            tls,
            &db,
            "127.0.0.1",
            &format!("sslmode={mode}&sslrootcert={other}"),
        ))
        .await;
        assert!(why.contains("certificate"), "{mode}: {why}");
    }
    // Nor do the system's roots know the test CA.
    let why = refused(&url(tls, &db, "127.0.0.1", "sslmode=verify-full")).await;
    assert!(why.contains("certificate"), "{why}");
}

/// The server's certificate does not name `wrong.example` (reached at 127.0.0.1 through
/// `hostaddr`): verify-ca accepts it, verify-full does not.
#[tokio::test]
async fn verify_ca_does_not_check_the_name_and_verify_full_does() {
    let Some(tls) = tls() else { return };
    let db = tls.server.create_database();
    let ca = tls.ca.display();
    let host = "wrong.example";
    works(&url(
        tls,
        &db,
        host,
        &format!("hostaddr=127.0.0.1&sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .await;
    let why = refused(&url(
        tls,
        &db,
        host,
        &format!("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await;
    assert!(why.contains("certificate"), "{why}");
}

/// A password over TLS, bound to the channel (SCRAM-SHA-256-PLUS).
#[tokio::test]
async fn a_password_over_tls_with_channel_binding() {
    let Some(tls) = tls() else { return };
    let db = tls.server.create_database();
    tls.server.psql("postgres", "do $$ begin create role pw_tls login password 'tls-pass-1' in role pims_password; exception when duplicate_object then null; end $$");
    let ca = tls.ca.display();
    let url = format!(
        "postgres://pw_tls:tls-pass-1@localhost:{}/{db}?sslmode=verify-full&sslrootcert={ca}&channel_binding=require",
        tls.server.port()
    );
    let store = PostgresStore::connect(PostgresOptions::from_url(&url).unwrap())
        .await
        .unwrap();
    assert_eq!(store.schema_version().await.unwrap(), None);
    // The password is checked: a wrong one is refused.
    let wrong = url.replace("tls-pass-1", "tls-pass-2");
    let why = refused(&wrong).await;
    assert!(why.contains("password authentication failed"), "{why}");
}
