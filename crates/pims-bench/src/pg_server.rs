//! The PostgreSQL server of B9, B10 and B11: a throw-away one from pims-cache-postgres's test
//! harness (initdb in a temporary directory, 127.0.0.1, `fsync = on`, as the `postgres` user
//! when run as root), started once for the three figures, stopped when dropped.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pims_cache_postgres::test_server::{ServerOptions, TestServer};

/// The harness's server has a 16 MiB buffer pool (enough for tests); the bench's gets a
/// modest production-like one. The 1,000,000-list table does not fit in either: both sides of
/// every figure read through the same buffers and the same page cache.
const SHARED_BUFFERS: &str = "128MB";

/// What starting the server gave.
pub(crate) enum Server {
    /// Running.
    Running(Box<TestServer>),
    /// PostgreSQL is not installed and `CI` is not set: the figures are skipped (the reason).
    Skipped(String),
    /// It could not be started, or it is missing under `CI=true`: the figures fail (why).
    Failed(String),
}

/// Starts the server (the harness panics on a failure, or on a missing PostgreSQL under
/// `CI=true`: that panic becomes [`Server::Failed`], its message the row's reason; the panic
/// hook is silenced meanwhile, so that it is not also printed with a backtrace).
pub(crate) fn start() -> Server {
    let options = ServerOptions::default().setting("shared_buffers", SHARED_BUFFERS);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = catch_unwind(AssertUnwindSafe(|| TestServer::start(options)));
    std::panic::set_hook(hook);
    match started {
        Ok(Some(server)) => Server::Running(Box::new(server)),
        Ok(None) => Server::Skipped(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; install the \
             `postgresql` package); under CI=true this fails"
                .to_owned(),
        ),
        Err(panic) => Server::Failed(panic_message(panic.as_ref())),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("the PostgreSQL test server could not be started")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        let p = catch_unwind(|| panic!("initdb: no space left")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "initdb: no space left");
        let p = catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert!(panic_message(p.as_ref()).contains("could not be started"));
    }
}
