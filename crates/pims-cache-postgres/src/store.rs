//! [`PostgresStore`]: the [`StepStore`] contract on one PostgreSQL table.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Object, Pool};
use pims_cache::{BatchSwap, CacheError, Entry, Followed, Health, KeySwap, StepStore, Swap};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};
use tracing::debug;

use crate::batch;
use crate::cut_short;
use crate::error::PostgresError;
use crate::options::PostgresOptions;
use crate::schema::{self, SCHEMA_VERSION};
use crate::session::{self, Durability};
use crate::sql::{Sql, Table};
use crate::transaction;

/// How many times a compare-and-swap whose key changed back under it (so that neither its
/// write nor its read could decide) is tried again before [`CacheError::Contention`].
const MAX_CAS_ATTEMPTS: u32 = 64;
/// How many times a `swap_all` transaction that the server aborted as a deadlock victim or a
/// serialization failure is run again.
const MAX_BATCH_ATTEMPTS: u32 = 3;

/// The step store on PostgreSQL, shared by every replica of a service: one table
/// `(k bytea primary key, v bytea not null)`, a bounded pool of sessions that each commit
/// synchronously, and the [`StepStore`] contract:
///
/// - `get`, `get_many` (one `where k = any($1)` query), `get_following` (a self-join: an index
///   entry and the record it names), `scan` (an index range): one statement;
/// - `compare_and_swap`: one conditional statement (`insert ... on conflict do nothing`,
///   `update`/`delete ... where v = $expected`); when it changed nothing, the key is read to
///   report what it holds (tried again if it holds what was expected by then);
/// - `swap_all`: one statement (a call of the store's function: one round trip, one
///   transaction) that locks every key in key order (absent ones included, with a row of its
///   own until it ends), then judges and writes: only if each key holds what it should; a
///   batch of conditions only is one read;
/// - `flush` returns at once: every write is a committed, synchronous transaction before its
///   call returns; `generation` is None (other processes write too);
/// - no degraded mode: a failure fails the call ([`CacheError::Storage`], its source a
///   [`PostgresError`]), and the next call tries again on a fresh connection.
///
/// Cheap to clone (clones share the pool). Needs a tokio runtime.
///
/// ```no_run
/// # async fn f() -> Result<(), pims_cache::CacheError> {
/// use std::sync::Arc;
/// use pims_cache::StepCache;
/// use pims_cache_postgres::{PostgresOptions, PostgresStore};
///
/// let options = PostgresOptions::from_url("postgres://pims@db.internal/pims?sslmode=verify-full")?;
/// let store = PostgresStore::connect(options).await?;
/// store.migrate().await?; // every replica may run it at start
/// let cache = StepCache::new(Arc::new(store));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    sql: Sql,
    table: Table,
    durability: Arc<Durability>,
    timeout: Duration,
    target: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.inner.pool.status();
        f.debug_struct("PostgresStore")
            .field("target", &self.inner.target)
            .field("table", &self.inner.table)
            .field("connections", &status.size)
            .field("max_connections", &status.max_size)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the pool and one session (proving the server reachable, the TLS and the
    /// credentials good, and learning whether it syncs), and checks the schema version: a
    /// later version's schema is refused. A store without its tables yet is accepted: run
    /// [`migrate`](PostgresStore::migrate).
    pub async fn connect(options: PostgresOptions) -> Result<PostgresStore, CacheError> {
        let store = PostgresStore::open(options)?;
        let found = store
            .within("connect", async {
                let client = store.client().await?;
                Ok(schema::version(&client, &store.inner.sql).await?)
            })
            .await?;
        if let Some(v) = found
            && v > SCHEMA_VERSION
        {
            return Err(PostgresError::SchemaTooNew {
                found: v,
                supported: SCHEMA_VERSION,
            }
            .into_cache("connect"));
        }
        debug!(target = %store.inner.target, "pims-cache-postgres: connected");
        Ok(store)
    }

    /// The store without a round trip: the pool is made (and the TLS configuration read), no
    /// session is opened, nothing is checked. The first operation opens a session; a server that
    /// cannot be reached, refused credentials or a table not migrated fail that operation.
    /// [`connect`](PostgresStore::connect) is this and a first session at once; use `open`
    /// where no runtime is at hand yet (a synchronous builder), then
    /// [`migrate`](PostgresStore::migrate) before the first use.
    ///
    /// ```
    /// use pims_cache::StepStore;
    /// use pims_cache_postgres::{PostgresOptions, PostgresStore};
    ///
    /// let options = PostgresOptions::from_url("postgres://pims@db.internal/pims")?;
    /// let store = PostgresStore::open(options)?; // no server needed yet
    /// // Durability is known once a session has said so.
    /// assert!(store.health().is_degraded());
    /// # Ok::<(), pims_cache::CacheError>(())
    /// ```
    pub fn open(options: PostgresOptions) -> Result<PostgresStore, CacheError> {
        let durability = Arc::new(Durability::default());
        let pool = session::pool(&options, durability.clone())?;
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                pool,
                sql: Sql::new(&options.table),
                table: options.table.clone(),
                durability,
                timeout: options.timeout,
                target: options.target(),
            }),
        })
    }

    /// Creates the store's tables, or upgrades them, in one transaction serialised with every
    /// other replica's by an advisory lock; refuses a later version's schema
    /// ([`PostgresError::SchemaTooNew`]). Returns the schema version now in place.
    pub async fn migrate(&self) -> Result<i32, CacheError> {
        self.within("migrate", async {
            let mut client = self.client().await?;
            let tx = client
                .transaction()
                .await
                .map_err(|e| PostgresError::query("migration", &e))?;
            let before = schema::migrate(
                &tx,
                &self.inner.sql,
                &self.inner.table,
                self.inner.table.schema(),
            )
            .await?;
            tx.commit()
                .await
                .map_err(|e| PostgresError::query("migration", &e))?;
            if before != Some(SCHEMA_VERSION) {
                tracing::info!(table = ?self.inner.table, version = SCHEMA_VERSION, "pims-cache-postgres: schema created");
            }
            Ok(SCHEMA_VERSION)
        })
        .await
    }

    /// The schema version the store records (None: not migrated yet).
    pub async fn schema_version(&self) -> Result<Option<i32>, CacheError> {
        self.within("read", async {
            let client = self.client().await?;
            Ok(schema::version(&client, &self.inner.sql).await?)
        })
        .await
    }

    /// Where the store is: `user@host:port/dbname`, never the password.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// Closes the pool: its connections are dropped, and every later call fails.
    pub fn close(&self) {
        self.inner.pool.close();
    }

    /// Runs `work` within the call's time limit, its failure as a storage error of `operation`.
    async fn within<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, Fail>>,
    ) -> Result<T, CacheError> {
        match tokio::time::timeout(self.inner.timeout, work).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(Fail::Pg(e))) => Err(e.into_cache(operation)),
            Ok(Err(Fail::Cache(e))) => Err(e),
            Err(_) => Err(PostgresError::TimedOut {
                what: operation,
                after: self.inner.timeout,
            }
            .into_cache(operation)),
        }
    }

    async fn client(&self) -> Result<Object, Fail> {
        self.inner
            .pool
            .get()
            .await
            .map_err(|e| Fail::Pg(session::pool_error(e, self.inner.timeout)))
    }
}

/// Why a call failed, before it is told as the cache's error.
enum Fail {
    Pg(PostgresError),
    Cache(CacheError),
}

impl From<PostgresError> for Fail {
    fn from(e: PostgresError) -> Self {
        Fail::Pg(e)
    }
}

/// A failed statement as ours; a missing table says what to do.
fn query_error(what: &'static str, e: &tokio_postgres::Error) -> Fail {
    if e.code() == Some(&SqlState::UNDEFINED_TABLE) {
        Fail::Pg(PostgresError::NotMigrated)
    } else {
        Fail::Pg(PostgresError::query(what, e))
    }
}

/// Whether `e` says the store's batch function does not exist (not any function a statement
/// calls: one missing from an old server is another error).
fn lacks_swap_all(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNDEFINED_FUNCTION)
        && e.as_db_error()
            .is_some_and(|db| db.message().contains("_swap_all("))
}

async fn prepare(client: &Object, sql: &str, what: &'static str) -> Result<Statement, Fail> {
    client
        .prepare_cached(sql)
        .await
        .map_err(|e| query_error(what, &e))
}

fn bytes(row: &Row, index: usize, what: &'static str) -> Result<Vec<u8>, Fail> {
    row.try_get(index).map_err(|e| query_error(what, &e))
}

impl PostgresStore {
    async fn read_one(&self, client: &Object, key: &[u8]) -> Result<Option<Vec<u8>>, Fail> {
        let stmt = prepare(client, &self.inner.sql.get, "read").await?;
        let row = client
            .query_opt(&stmt, &[&key])
            .await
            .map_err(|e| query_error("read", &e))?;
        row.map(|r| bytes(&r, 0, "read")).transpose()
    }

    /// The values of `keys`, in order, from one statement.
    async fn read_many(
        &self,
        client: &Object,
        keys: &[&[u8]],
    ) -> Result<Vec<Option<Vec<u8>>>, Fail> {
        let mut values = vec![None; keys.len()];
        if keys.is_empty() {
            return Ok(values);
        }
        let stmt = prepare(client, &self.inner.sql.get_many, "read").await?;
        let rows = client
            .query(&stmt, &[&keys])
            .await
            .map_err(|e| query_error("read", &e))?;
        for row in &rows {
            let position: i64 = row.try_get(0).map_err(|e| query_error("read", &e))?;
            // 1-based, from `with ordinality` over `keys`.
            let slot = position
                .checked_sub(1)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| values.get_mut(i));
            let Some(slot) = slot else {
                return Err(Fail::Pg(PostgresError::Query {
                    what: "read",
                    message: "the server answered a position outside the keys asked for".into(),
                    sqlstate: None,
                }));
            };
            *slot = Some(bytes(row, 1, "read")?);
        }
        Ok(values)
    }

    /// Runs a conditional write: whether it changed the key.
    async fn exec(
        &self,
        client: &Object,
        text: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<bool, Fail> {
        let stmt = prepare(client, text, "write").await?;
        let changed = client
            .execute(&stmt, params)
            .await
            .map_err(|e| query_error("write", &e))?;
        Ok(changed == 1)
    }
}

#[async_trait]
impl StepStore for PostgresStore {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.within("read", async {
            let client = self.client().await?;
            self.read_one(&client, key).await
        })
        .await
    }

    async fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.within("read", async {
            let client = self.client().await?;
            self.read_many(&client, keys).await
        })
        .await
    }

    /// One statement (a self-join on the primary key): one round trip, one snapshot.
    async fn get_following(
        &self,
        key: &[u8],
        tag: &[u8],
        prefix: &[u8],
    ) -> Result<Followed, CacheError> {
        self.within("read", async {
            let client = self.client().await?;
            let stmt = prepare(&client, &self.inner.sql.get_following, "read").await?;
            let row = client
                .query_opt(&stmt, &[&key, &tag, &prefix])
                .await
                .map_err(|e| query_error("read", &e))?;
            let Some(row) = row else {
                return Ok(Followed::default());
            };
            Ok(Followed {
                value: Some(bytes(&row, 0, "read")?),
                target: row.try_get(1).map_err(|e| query_error("read", &e))?,
            })
        })
        .await
    }

    async fn compare_and_swap(
        &self,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Swap, CacheError> {
        self.within("write", async {
            let client = self.client().await?;
            let sql = &self.inner.sql;
            // (An update waits for a row a batch has locked: see `cut_short`.)
            cut_short::or_close(client, async |client| {
                for _ in 0..MAX_CAS_ATTEMPTS {
                    let changed = match (expected, new) {
                        (e, n) if e == n => false,
                        (None, Some(n)) => {
                            self.exec(client, &sql.insert_absent, &[&key, &n]).await?
                        }
                        (Some(e), Some(n)) => {
                            self.exec(client, &sql.update_if, &[&key, &e, &n]).await?
                        }
                        (Some(e), None) => self.exec(client, &sql.delete_if, &[&key, &e]).await?,
                        (None, None) => false,
                    };
                    if changed {
                        return Ok(Swap::Swapped);
                    }
                    // Nothing changed (or a condition only): what the key holds now decides. (Read
                    // by a statement of its own, whose snapshot is taken after the change failed:
                    // the latest value, which the caller retries from. The failed statement's own
                    // snapshot may predate the value that made it fail.)
                    let current = self.read_one(client, key).await?;
                    if current.as_deref() != expected {
                        return Ok(Swap::Conflict { current });
                    }
                    if expected == new {
                        return Ok(Swap::Swapped);
                    }
                    // It holds what we expected again: it changed twice meanwhile; once more.
                }
                Err(Fail::Cache(CacheError::Contention {
                    attempts: MAX_CAS_ATTEMPTS,
                }))
            })
            .await
        })
        .await
    }

    async fn swap_all(&self, swaps: &[KeySwap<'_>]) -> Result<BatchSwap, CacheError> {
        batch::check(swaps)?;
        if swaps.is_empty() {
            return Ok(BatchSwap::Swapped);
        }
        if swaps.iter().all(KeySwap::is_check) {
            // Conditions only: one snapshot decides; nothing is locked or written.
            return self
                .within("read", async {
                    let client = self.client().await?;
                    let keys: Vec<&[u8]> = swaps.iter().map(|s| s.key).collect();
                    let values = self.read_many(&client, &keys).await?;
                    Ok(batch::judge_checks(swaps, values))
                })
                .await;
        }
        self.within("write", async {
            let mut attempt = 1;
            loop {
                let client = self.client().await?;
                let sql = &self.inner.sql;
                let outcome =
                    cut_short::or_close(client, async |c| transaction::swap(c, sql, swaps).await)
                        .await;
                match outcome {
                    Ok(outcome) => return Ok(outcome),
                    Err(e)
                        if attempt < MAX_BATCH_ATTEMPTS
                            && matches!(
                                e.code(),
                                Some(&SqlState::T_R_DEADLOCK_DETECTED)
                                    | Some(&SqlState::T_R_SERIALIZATION_FAILURE)
                            ) =>
                    {
                        attempt += 1;
                    }
                    // A store of schema version 1 (or one whose function was lost).
                    Err(e) if lacks_swap_all(&e) => {
                        return Err(Fail::Pg(PostgresError::NotMigrated));
                    }
                    Err(e) => return Err(query_error("conditional write", &e)),
                }
            }
        })
        .await
    }

    async fn remove(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CacheError> {
        self.within("remove", async {
            let client = self.client().await?;
            let stmt = prepare(&client, &self.inner.sql.remove, "remove").await?;
            let row = client
                .query_opt(&stmt, &[&key])
                .await
                .map_err(|e| query_error("remove", &e))?;
            row.map(|r| bytes(&r, 0, "remove")).transpose()
        })
        .await
    }

    async fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, CacheError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (from, below) = batch::scan_bounds(prefix, after);
        if below.as_ref().is_some_and(|b| from >= *b) {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.within("scan", async {
            let client = self.client().await?;
            let sql = &self.inner.sql;
            let rows = match &below {
                Some(below) => {
                    let stmt = prepare(&client, &sql.scan_range, "scan").await?;
                    client.query(&stmt, &[&from, below, &limit]).await
                }
                None => {
                    let stmt = prepare(&client, &sql.scan_from, "scan").await?;
                    client.query(&stmt, &[&from, &limit]).await
                }
            }
            .map_err(|e| query_error("scan", &e))?;
            rows.iter()
                .map(|r| Ok((bytes(r, 0, "scan")?, bytes(r, 1, "scan")?)))
                .collect()
        })
        .await
    }

    /// Returns at once: every change was a committed, synchronous transaction before the
    /// call that made it returned.
    async fn flush(&self) -> Result<(), CacheError> {
        Ok(())
    }

    /// False: nothing waits for [`flush`](StepStore::flush), so a merge that changes nothing
    /// has no reason to call it.
    fn needs_flush(&self) -> bool {
        false
    }

    fn health(&self) -> Health {
        self.inner.durability.health()
    }

    /// None: other processes write the same table, and no counter of ours could see them.
    fn generation(&self) -> Option<u64> {
        None
    }
}
