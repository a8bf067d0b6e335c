//! The pool of sessions and what every session is told when it opens: commits wait for the
//! disk (`synchronous_commit = on`, whatever the server's or the database's default), each
//! statement has the call's time limit, transactions are read-committed, and prepared statements
//! keep one generic plan (each is a primary-key lookup or range whatever its parameters; left to
//! itself, the server plans a statement taking an array anew at every execution, because it
//! guesses ten elements for the generic plan and sees two in the custom ones, and that planning
//! cost more than the lookup). Every new session also asks whether the server syncs at all
//! (`SHOW fsync`); [`Durability`] keeps the last answer for `health()`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime, TimeoutType,
};
use pims_cache::{CacheError, Degradation, DegradedReason, Health};
use tokio_postgres::SimpleQueryMessage;

use crate::error::PostgresError;
use crate::options::PostgresOptions;
use crate::tls;

/// What the sessions opened so far said about durability (the last one wins: a server
/// restarted with other settings is seen by the next session).
#[derive(Debug)]
pub(crate) struct Durability(AtomicU8);

impl Default for Durability {
    fn default() -> Self {
        Durability(AtomicU8::new(UNKNOWN))
    }
}

const UNKNOWN: u8 = 0;
const DURABLE: u8 = 1;
const NO_FSYNC: u8 = 2;
const ASYNC_COMMIT: u8 = 3;

impl Durability {
    fn observe(&self, fsync: &str, synchronous_commit: &str) {
        let state = if fsync != "on" {
            NO_FSYNC
        } else if synchronous_commit != "on" {
            ASYNC_COMMIT
        } else {
            DURABLE
        };
        self.0.store(state, Ordering::Release);
    }

    /// The store's health: durable only once a session has seen `fsync = on` and
    /// `synchronous_commit = on`; a server that does not sync is degraded (it should be
    /// durable and is not), and the store keeps working.
    pub(crate) fn health(&self) -> Health {
        let detail = match self.0.load(Ordering::Acquire) {
            DURABLE => return Health::Durable,
            NO_FSYNC => {
                "the PostgreSQL server runs with fsync = off: a change it acknowledges may not \
                 survive a crash of its machine"
            }
            ASYNC_COMMIT => {
                "the PostgreSQL sessions do not commit synchronously: a change may be \
                 acknowledged before it is on disk"
            }
            _ => "no PostgreSQL session has been opened yet: durability unknown",
        };
        Health::Degraded(Degradation::new(DegradedReason::Io, detail))
    }

    #[cfg(test)]
    pub(crate) fn is_unknown(&self) -> bool {
        self.0.load(Ordering::Acquire) == UNKNOWN
    }
}

/// The pool: bounded, connections made on demand, each set up by [`setup`].
pub(crate) fn pool(
    options: &PostgresOptions,
    durability: Arc<Durability>,
) -> Result<Pool, CacheError> {
    let tls = tls::connector(options.ssl_mode, options.root_cert.as_ref())?;
    let manager = Manager::from_config(
        options.pg.clone(),
        tls,
        ManagerConfig {
            // A broken connection is found by the driver (closed) and dropped; a query per
            // checkout would double the cost of a lookup.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let timeout_ms = options.timeout.as_millis().max(1);
    let setup_sql = format!(
        "SET synchronous_commit = on; \
         SET statement_timeout = {timeout_ms}; \
         SET idle_in_transaction_session_timeout = {}; \
         SET default_transaction_isolation = 'read committed'; \
         SET default_transaction_read_only = off; \
         SET plan_cache_mode = force_generic_plan; \
         SHOW fsync; \
         SHOW synchronous_commit",
        timeout_ms.saturating_mul(2)
    );
    let setup_sql: Arc<str> = setup_sql.into();
    Pool::builder(manager)
        .max_size(options.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(options.timeout))
        .create_timeout(Some(options.connect_timeout))
        .recycle_timeout(Some(options.connect_timeout))
        .post_create(Hook::async_fn(move |client, _| {
            let sql = setup_sql.clone();
            let durability = durability.clone();
            Box::pin(async move {
                let answers = client
                    .simple_query(&sql)
                    .await
                    .map_err(HookError::Backend)?;
                let values: Vec<String> = answers
                    .iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                        _ => None,
                    })
                    .collect();
                match values.as_slice() {
                    [fsync, commit] => {
                        durability.observe(fsync, commit);
                        Ok(())
                    }
                    _ => Err(HookError::message(
                        "the server did not answer SHOW fsync and SHOW synchronous_commit",
                    )),
                }
            })
        }))
        .build()
        .map_err(|e| {
            PostgresError::Connect {
                message: format!("cannot build the connection pool: {e}"),
                sqlstate: None,
            }
            .into_cache("connect")
        })
}

/// The pool's error as ours.
pub(crate) fn pool_error(e: PoolError, limit: Duration) -> PostgresError {
    match e {
        PoolError::Timeout(TimeoutType::Wait) => PostgresError::TimedOut {
            what: "wait for a free connection",
            after: limit,
        },
        PoolError::Timeout(_) => PostgresError::Connect {
            message: "timed out".to_owned(),
            sqlstate: None,
        },
        PoolError::Backend(e) | PoolError::PostCreateHook(HookError::Backend(e)) => {
            PostgresError::connect(&e)
        }
        PoolError::PostCreateHook(HookError::Message(m)) => PostgresError::Connect {
            message: m.into_owned(),
            sqlstate: None,
        },
        PoolError::Closed => PostgresError::Connect {
            message: "the store has been closed".to_owned(),
            sqlstate: None,
        },
        PoolError::NoRuntimeSpecified => PostgresError::Connect {
            message: "no async runtime".to_owned(),
            sqlstate: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_only_when_both_settings_are_on() {
        let d = Durability::default();
        assert!(d.is_unknown());
        assert!(d.health().is_degraded());
        d.observe("on", "on");
        assert_eq!(d.health(), Health::Durable);
        d.observe("off", "on");
        let h = d.health();
        assert!(
            h.degradation()
                .is_some_and(|x| x.detail.contains("fsync = off")),
            "{h}"
        );
        d.observe("on", "local");
        assert!(d.health().is_degraded());
        d.observe("on", "on");
        assert!(d.health().is_durable());
    }
}
