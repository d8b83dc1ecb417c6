//! One body of SQL, two backends.
//!
//! The store's statements are the same text on SQLite and PostgreSQL (`$1` placeholders work
//! on each; timestamps are integers, ids strings), so each is written once, as a [`Query`]
//! whose arguments are plain values ([`Arg`]). Only here does the backend matter: a query is
//! bound and run on whichever connection it is given. Generic code over `sqlx::Database`
//! would need a dozen trait bounds repeated on every function; matching on two variants
//! needs none, and costs one branch per statement.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, Database, Encode, FromRow, Postgres, Sqlite, Transaction, Type};
use tokio::sync::Notify;

use crate::{Result, StoreError};

pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations/postgres");

/// The connection pools of one database.
#[derive(Clone)]
pub(crate) enum Pools {
    Sqlite {
        read: SqlitePool,
        /// Every write goes through this one connection. SQLite has one writer at a time;
        /// the others would wait in its busy handler, which sleeps 1 to 100 ms between
        /// retries and gave refresh a p99 of 85 ms at 16 connections. Queued here instead,
        /// in order, a writer starts the moment the previous one commits; readers (WAL)
        /// never wait.
        write: SqlitePool,
    },
    /// One pool: PostgreSQL's row locks let writers run side by side.
    Postgres(PgPool),
}

/// How a PostgreSQL statement must be run on the connection it was given.
#[derive(Clone, Copy)]
pub(crate) enum Pooling<'a> {
    /// A connection of its own to PostgreSQL: prepared statements are named and cached.
    Direct,
    /// Behind a transaction pooler, inside a transaction: unnamed statements.
    InTransaction,
    /// Behind a transaction pooler, outside a transaction: the statement gets one of its
    /// own, opened by this text (see `postgres`).
    Alone(&'a str),
}

/// A database, and the signal its committed mail raises.
#[derive(Clone)]
pub(crate) struct Db {
    pub pools: Pools,
    /// PostgreSQL behind a transaction pooler: how each transaction begins.
    pub pooled_begin: Option<Arc<str>>,
    /// Notified when a transaction that wrote to the mail outbox commits, so the delivery
    /// worker need not be woken by every caller that sends mail.
    pub mail_written: Arc<Notify>,
    /// Callers waiting for a connection right now: sqlx reports a pool's size and idle
    /// connections but not its queue, so every acquire below is counted here.
    waiting: Arc<AtomicU64>,
}

/// Counts one caller as waiting for as long as it lives (an acquire, even one cancelled).
struct Waiting(Arc<AtomicU64>);

impl Waiting {
    fn start(count: &Arc<AtomicU64>) -> Waiting {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Db {
    pub fn new(pools: Pools) -> Db {
        Db {
            pools,
            pooled_begin: None,
            mail_written: Arc::new(Notify::new()),
            waiting: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Connections in use (over every pool) and callers waiting for one.
    pub fn pool_stats(&self) -> crate::PoolStats {
        let in_use = |size: u32, idle: usize| u64::from(size).saturating_sub(idle as u64);
        let in_use = match &self.pools {
            Pools::Sqlite { read, write } => {
                in_use(read.size(), read.num_idle()) + in_use(write.size(), write.num_idle())
            }
            Pools::Postgres(pool) => in_use(pool.size(), pool.num_idle()),
        };
        crate::PoolStats {
            in_use,
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }

    /// SQLite, embedded: the zero-setup default. Runs the migrations.
    pub async fn sqlite(url: &str) -> Result<Db> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // WAL lets readers run beside the one writer; FULL makes each commit durable
            // across power loss, not just process crashes.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        SQLITE_MIGRATIONS.run(&read).await?;
        // An in-memory database is shared-cache, where SQLite's locking differs (no busy
        // handler at all); there, one pool does both.
        let write = if url.contains(":memory:") || url.contains("mode=memory") {
            read.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?
        };
        Ok(Db::new(Pools::Sqlite { read, write }))
    }

    /// PostgreSQL (including Neon), for production. Runs the migrations.
    pub async fn postgres(url: &str, options: &crate::postgres::Options) -> Result<Db> {
        let (pool, mode) = crate::postgres::connect(url, options).await?;
        Ok(Db {
            pooled_begin: mode.pooled_begin,
            ..Db::new(Pools::Postgres(pool))
        })
    }

    pub fn backend(&self) -> &'static str {
        match self.pools {
            Pools::Sqlite { .. } => "sqlite",
            Pools::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write } => {
                write.close().await;
                read.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// A connection for reading.
    pub async fn read(&self) -> Result<Pooled> {
        let _waiting = Waiting::start(&self.waiting);
        Ok(match &self.pools {
            Pools::Sqlite { read, .. } => Pooled::Sqlite(read.acquire().await?),
            Pools::Postgres(pool) => {
                Pooled::Postgres(pool.acquire().await?, self.pooled_begin.clone())
            }
        })
    }

    /// A connection for a single-statement write.
    pub async fn write(&self) -> Result<Pooled> {
        let _waiting = Waiting::start(&self.waiting);
        Ok(match &self.pools {
            Pools::Sqlite { write, .. } => Pooled::Sqlite(write.acquire().await?),
            Pools::Postgres(pool) => {
                Pooled::Postgres(pool.acquire().await?, self.pooled_begin.clone())
            }
        })
    }

    /// A transaction on the write connection.
    pub async fn begin(&self) -> Result<Tx> {
        let waiting = Waiting::start(&self.waiting);
        let conn = match &self.pools {
            Pools::Sqlite { write, .. } => TxConn::Sqlite(write.begin().await?),
            Pools::Postgres(pool) => match &self.pooled_begin {
                Some(begin) => TxConn::Postgres(
                    pool.begin_with(sqlx::AssertSqlSafe(begin.to_string()))
                        .await?,
                    true,
                ),
                None => TxConn::Postgres(pool.begin().await?, false),
            },
        };
        drop(waiting);
        Ok(Tx {
            conn,
            mail_written: None,
            signal: self.mail_written.clone(),
        })
    }
}

/// A connection taken from a pool; back to it when dropped.
pub(crate) enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    /// With how a transaction begins when behind a transaction pooler.
    Postgres(PoolConnection<Postgres>, Option<Arc<str>>),
}

/// A transaction; rolled back when dropped uncommitted.
pub(crate) struct Tx {
    conn: TxConn,
    /// Set once the transaction writes mail: its commit wakes the outbox.
    mail_written: Option<()>,
    signal: Arc<Notify>,
}

enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    /// And whether it is behind a transaction pooler.
    Postgres(Transaction<'static, Postgres>, bool),
}

impl Tx {
    /// Marks the transaction as one that wrote to the mail outbox.
    pub fn wrote_mail(&mut self) {
        self.mail_written = Some(());
    }

    pub async fn commit(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.commit().await?,
            TxConn::Postgres(tx, _) => tx.commit().await?,
        }
        if self.mail_written.is_some() {
            self.signal.notify_one();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(tx) => tx.rollback().await?,
            TxConn::Postgres(tx, _) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// Somewhere a query can run: a pooled connection or a transaction.
pub(crate) trait On: Send {
    fn conn(&mut self) -> Conn<'_>;
}

pub(crate) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection, Pooling<'c>),
}

impl On for Pooled {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(c),
            Pooled::Postgres(c, None) => Conn::Postgres(c, Pooling::Direct),
            Pooled::Postgres(c, Some(begin)) => Conn::Postgres(c, Pooling::Alone(begin)),
        }
    }
}

impl On for Tx {
    fn conn(&mut self) -> Conn<'_> {
        match &mut self.conn {
            TxConn::Sqlite(tx) => Conn::Sqlite(tx),
            TxConn::Postgres(tx, false) => Conn::Postgres(tx, Pooling::Direct),
            TxConn::Postgres(tx, true) => Conn::Postgres(tx, Pooling::InTransaction),
        }
    }
}

/// A row type both backends can decode (`#[derive(sqlx::FromRow)]` or a tuple).
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// A value bound to a placeholder. Every column the store writes is text, an integer or a
/// boolean.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(value: &'a str) -> Self {
        Arg::Text(Some(value))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(value: &'a String) -> Self {
        Arg::Text(Some(value))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Arg::Text(value)
    }
}

impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(value: &'a Option<String>) -> Self {
        Arg::Text(value.as_deref())
    }
}

impl From<i64> for Arg<'_> {
    fn from(value: i64) -> Self {
        Arg::Int(Some(value))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(value: Option<i64>) -> Self {
        Arg::Int(value)
    }
}

impl From<bool> for Arg<'_> {
    fn from(value: bool) -> Self {
        Arg::Bool(Some(value))
    }
}

impl From<Option<bool>> for Arg<'_> {
    fn from(value: Option<bool>) -> Self {
        Arg::Bool(value)
    }
}

impl Pooling<'_> {
    /// Whether statements may be named, so the server keeps them for the next use.
    fn named(self) -> bool {
        matches!(self, Pooling::Direct)
    }
}

/// Runs `$run`, a statement on the PostgreSQL connection `$conn`, inside a transaction of its own when
/// `$pooling` says the statement would otherwise run outside one behind a transaction
/// pooler (sqlx's two round trips per statement must reach the same server session).
macro_rules! on_postgres {
    ($conn:ident, $pooling:expr, $run:expr) => {
        match $pooling {
            Pooling::Alone(begin) => {
                let mut tx =
                    sqlx::Connection::begin_with($conn, sqlx::AssertSqlSafe(begin.to_owned()))
                        .await?;
                let out = {
                    let $conn = &mut *tx;
                    $run.await?
                };
                tx.commit().await?;
                out
            }
            Pooling::Direct | Pooling::InTransaction => $run.await?,
        }
    };
}

/// A statement and its arguments, in placeholder order.
#[must_use]
pub(crate) struct Query<'a> {
    sql: &'static str,
    args: Vec<Arg<'a>>,
}

/// Starts a statement.
pub(crate) fn sql<'a>(sql: &'static str) -> Query<'a> {
    Query {
        sql,
        args: Vec::new(),
    }
}

impl<'a> Query<'a> {
    pub fn bind(mut self, value: impl Into<Arg<'a>>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Runs the statement; how many rows it changed.
    pub async fn execute(self, on: &mut impl On) -> Result<u64> {
        Ok(match on.conn() {
            Conn::Sqlite(c) => {
                let args = arguments::<Sqlite>(&self.args)?;
                sqlx::query_with(self.sql, args).execute(c).await?
            }
            .rows_affected(),
            Conn::Postgres(c, pooling) => {
                let args = arguments::<Postgres>(&self.args)?;
                let query = sqlx::query_with(self.sql, args).persistent(pooling.named());
                on_postgres!(c, pooling, query.execute(c))
            }
            .rows_affected(),
        })
    }

    pub async fn fetch_optional<T: Row>(self, on: &mut impl On) -> Result<Option<T>> {
        Ok(match on.conn() {
            Conn::Sqlite(c) => {
                let args = arguments::<Sqlite>(&self.args)?;
                sqlx::query_as_with(self.sql, args)
                    .fetch_optional(c)
                    .await?
            }
            Conn::Postgres(c, pooling) => {
                let args = arguments::<Postgres>(&self.args)?;
                let query = sqlx::query_as_with(self.sql, args).persistent(pooling.named());
                on_postgres!(c, pooling, query.fetch_optional(c))
            }
        })
    }

    pub async fn fetch_one<T: Row>(self, on: &mut impl On) -> Result<T> {
        self.fetch_optional(on)
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }

    pub async fn fetch_all<T: Row>(self, on: &mut impl On) -> Result<Vec<T>> {
        Ok(match on.conn() {
            Conn::Sqlite(c) => {
                let args = arguments::<Sqlite>(&self.args)?;
                sqlx::query_as_with(self.sql, args).fetch_all(c).await?
            }
            Conn::Postgres(c, pooling) => {
                let args = arguments::<Postgres>(&self.args)?;
                let query = sqlx::query_as_with(self.sql, args).persistent(pooling.named());
                on_postgres!(c, pooling, query.fetch_all(c))
            }
        })
    }
}

/// The backend's argument buffer for `args`. Generic over the backend, and called only with
/// the two concrete ones, so its bounds are stated once.
fn arguments<DB>(args: &[Arg<'_>]) -> Result<DB::Arguments>
where
    DB: Database,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<bool>: Encode<'t, DB> + Type<DB>,
{
    let mut out = DB::Arguments::default();
    for arg in args {
        let added = match *arg {
            Arg::Text(value) => out.add(value),
            Arg::Int(value) => out.add(value),
            Arg::Bool(value) => out.add(value),
        };
        added.map_err(|err| StoreError::Database(sqlx::Error::Encode(err)))?;
    }
    Ok(out)
}
