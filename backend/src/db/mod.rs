//! Storage through sqlx: a SQLite file by default, PostgreSQL when the URL says so.
//!
//! Every query is written once, with `$n` placeholders that both engines accept, and runs on
//! either pool through [`with_pool!`]; the few engine-specific fragments (full-text search)
//! are chosen where they are built.

pub mod accounts;
pub mod attendees;
pub mod audit;
pub mod catalog;
pub mod feed;
pub mod hold_batch;
pub mod holds;
pub mod keys;
pub mod mail;
pub mod orders;
pub mod privacy;
pub mod scanners;
pub mod scans;
mod search;
pub mod second_factor;
pub mod sessions;

pub use search::{SearchPage, SearchQuery};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// A storage failure, as the rest of the server sees it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or state constraint refused the write; the text is safe to show.
    #[error("{0}")]
    Conflict(&'static str),
    /// The database failed; details are logged, never shown.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying migrations failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A connection pool to one of the supported engines.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite (WAL, one file).
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// Runs the same code against whichever pool a [`Db`] holds. The body is compiled once per
/// engine, so every type it binds or decodes must work on both.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Begins a write transaction.
///
/// On SQLite this is `BEGIN IMMEDIATE` behind an in-process FIFO gate, one per database
/// file: SQLite has one writer at a time, and without the gate concurrent writers would
/// each take a connection and poll the file lock in the busy handler's sleeps (1, 2, 5,
/// 10 … ms), which caps throughput and stretches the tail. With the gate, writers queue on
/// an async mutex and the lock is always free when one begins; the gate is released when
/// the transaction commits, rolls back or is dropped. Other processes writing the same file
/// still meet the busy timeout. On PostgreSQL it is a plain `BEGIN`.
pub trait BeginWrite {
    /// The transaction: a connection (`&mut *tx`) with `commit` and `rollback`.
    type Tx: Send;
    /// Starts the transaction.
    fn begin_write(&self) -> impl Future<Output = Result<Self::Tx, sqlx::Error>> + Send;
}

/// A SQLite write transaction holding its file's write gate. Dropped without a commit, it
/// rolls back on the runtime and opens the gate only once the rollback has run, so the next
/// writer never finds the file still locked.
#[derive(Debug)]
pub struct SqliteWriteTx {
    tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>>,
    gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SqliteWriteTx {
    fn inner(&mut self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.tx.take().ok_or(sqlx::Error::PoolClosed)
    }

    /// Commits, then opens the gate.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.inner()?.commit().await
    }

    /// Rolls back, then opens the gate.
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        self.inner()?.rollback().await
    }
}

impl Drop for SqliteWriteTx {
    fn drop(&mut self) {
        let (Some(tx), gate) = (self.tx.take(), self.gate.take()) else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = tx.rollback().await {
                        tracing::warn!(error = %e, "rolling back an abandoned write failed");
                    }
                    drop(gate);
                });
            }
            // No runtime: sqlx rolls back when the connection is next used.
            Err(_) => drop((tx, gate)),
        }
    }
}

impl std::ops::Deref for SqliteWriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &sqlx::SqliteConnection {
        match &self.tx {
            Some(tx) => tx,
            None => unreachable!("the transaction is only taken when it ends"),
        }
    }
}

impl std::ops::DerefMut for SqliteWriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        match &mut self.tx {
            Some(tx) => tx,
            None => unreachable!("the transaction is only taken when it ends"),
        }
    }
}

/// The write gate of a SQLite file, shared by every pool of this process on that file.
fn write_gate(pool: &SqlitePool) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::{Arc, LazyLock, Mutex};
    type Gates = Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>;
    static GATES: LazyLock<Gates> = LazyLock::new(Default::default);
    let file = pool.connect_options().get_filename().to_path_buf();
    let mut gates = GATES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    gates.entry(file).or_default().clone()
}

impl BeginWrite for SqlitePool {
    type Tx = SqliteWriteTx;
    async fn begin_write(&self) -> Result<SqliteWriteTx, sqlx::Error> {
        let gate = write_gate(self).lock_owned().await;
        let tx = self.begin_with("BEGIN IMMEDIATE").await?;
        Ok(SqliteWriteTx {
            tx: Some(tx),
            gate: Some(gate),
        })
    }
}

impl BeginWrite for PgPool {
    type Tx = sqlx::Transaction<'static, sqlx::Postgres>;
    async fn begin_write(&self) -> Result<Self::Tx, sqlx::Error> {
        self.begin().await
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`); a SQLite file is created if
    /// missing. Does not migrate: call [`Db::migrate`].
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    /// Applies every pending migration for this engine.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The engine behind this pool.
    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection (waits for them to be returned).
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Whether a database error is a unique-constraint violation (same check on both engines).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Current time in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
