//! PostgreSQL: connecting directly or through a transaction pooler, in a schema of its own.
//!
//! Behind PgBouncer in transaction mode (Neon's pooled endpoint), a client connection is
//! lent a server session only for one transaction at a time. sqlx sends a statement with
//! arguments as Parse/Describe, Sync, then Bind/Execute, Sync: two round trips, between
//! which the pooler may hand the server session to another client. And sqlx names its
//! prepared statements (`sqlx_s_1`, …) per client connection, while the server sessions
//! that hold them are shared. Seen through PgBouncer 1.18 without these precautions:
//! `prepared statement "sqlx_s_1" already exists` and `unnamed prepared statement does
//! not exist`, at random and more often under load. So with [`Pooler::Transaction`]:
//!
//! - every statement runs inside a transaction (one the store opened, or a single-statement
//!   one `db` opens around it), so both halves reach the same server session;
//! - statements are unnamed (`persistent(false)`) and the statement cache is off, so no
//!   client expects a server session to remember anything;
//! - the schema is chosen per transaction (`SET LOCAL search_path`), since neither a startup
//!   `options=-csearch_path=…` (PgBouncer refuses or drops it) nor a session `SET` (the next
//!   transaction may run on another session) reaches the statements.
//!
//! Without a pooler, the schema is set once per connection and statements stay cached.
//!
//! Migrations run, either way, on a connection of their own, in one transaction that holds
//! `pg_advisory_xact_lock`: sqlx's migrator takes a session-level lock, which through a
//! transaction pooler could be taken on one server session and released on another, and
//! then every later start waits for it forever.
//!
//! A pooler that is there but not declared is found at start ([`check_not_pooled`]) rather
//! than by random 500s under load.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

use crate::db::POSTGRES_MIGRATIONS;
use crate::{Result, StoreError};

/// How the database URL reaches PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooler {
    /// A connection is one server session for its whole life: PostgreSQL itself, or a
    /// pooler in session mode.
    #[default]
    None,
    /// A pooler in transaction mode (PgBouncer `pool_mode = transaction`, Neon's `-pooler`
    /// endpoint): a server session only for the length of a transaction.
    Transaction,
}

/// A PostgreSQL schema name Latchkey may create and quote: a plain lower-case identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema(String);

impl Schema {
    /// Lower case only, so the name means the same quoted or not (PostgreSQL folds unquoted
    /// names to lower case, and a `psql` user will type it unquoted); `pg_` is reserved.
    pub fn parse(name: &str) -> Result<Schema, String> {
        let plain = name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !plain {
            return Err(format!(
                "{name:?} is not a plain schema name: lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 characters"
            ));
        }
        if name.starts_with("pg_") {
            return Err(format!(
                "{name:?}: names starting with pg_ are reserved by PostgreSQL"
            ));
        }
        Ok(Schema(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Quoted, for SQL text (the name is checked, so it holds no quote).
    fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

/// How to use a PostgreSQL database. The defaults are a direct connection and whatever
/// schema the URL's role lands in (`public`, usually).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub pooler: Pooler,
    pub schema: Option<Schema>,
}

/// What `db` needs to know to run a statement on this database.
#[derive(Debug, Clone)]
pub(crate) struct Mode {
    /// Behind a transaction pooler: the statement that opens each transaction (`BEGIN`,
    /// and the schema if there is one). `None` when connected directly.
    pub pooled_begin: Option<Arc<str>>,
}

/// The pool, after the pooler check and the migrations.
pub(crate) async fn connect(url: &str, options: &Options) -> Result<(PgPool, Mode)> {
    // Not `extra_float_digits=2`, sqlx's default: PgBouncer refuses a startup parameter it
    // does not know ("unsupported startup parameter: extra_float_digits") unless told to
    // ignore it, and the store reads no floats.
    let mut connect = PgConnectOptions::from_str(url)?.extra_float_digits(None);
    if options.pooler == Pooler::Transaction {
        // Unnamed statements only (`db` marks them so); a cache would hold names.
        connect = connect.statement_cache_capacity(0);
    }
    if options.pooler == Pooler::None {
        check_not_pooled(&connect).await?;
    }
    migrate(&connect, options).await?;

    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5));
    let pooled_begin = match (&options.pooler, &options.schema) {
        (Pooler::Transaction, schema) => Some(begin_sql(schema.as_ref()).into()),
        (Pooler::None, Some(schema)) => {
            // A startup parameter, not a session `SET`: should the pooler check above ever
            // miss a transaction pooler, PgBouncer refuses the parameter and the start fails
            // loudly, where a `SET` would stay on a server session lent to other clients
            // while Latchkey's own statements ran elsewhere, in `public`.
            connect = connect.options([("search_path", schema.as_str())]);
            None
        }
        (Pooler::None, None) => None,
    };
    let pool = pool.connect_with(connect).await?;
    Ok((pool, Mode { pooled_begin }))
}

fn begin_sql(schema: Option<&Schema>) -> String {
    match schema {
        Some(schema) => format!("BEGIN; SET LOCAL search_path TO {}", schema.quoted()),
        None => "BEGIN".to_owned(),
    }
}

/// All pending migrations in one transaction, on a connection used for nothing else.
async fn migrate(connect: &PgConnectOptions, options: &Options) -> Result<()> {
    let mut conn = PgConnection::connect_with(connect).await?;
    let mut tx = conn.begin_with(AssertSqlSafe(begin_sql(None))).await?;
    // Every statement below is simple-protocol text, or the migrator's own (named) ones,
    // which `DEALLOCATE ALL` removes before the server session goes back to a pooler.
    // One lock per schema (each has its own migrations table), held until COMMIT, taken
    // before CREATE SCHEMA: two instances creating it at once would otherwise race on the
    // catalog (a duplicate key error). Without the option, the schema is the one the URL's
    // `search_path` chose.
    let schema = match &options.schema {
        // A checked name: no quote to escape.
        Some(schema) => format!("'{}'", schema.as_str()),
        None => "coalesce(current_schema(), '')".to_owned(),
    };
    tx.execute(AssertSqlSafe(format!(
        "SELECT pg_advisory_xact_lock(hashtext('latchkey migrations ' || {schema}))"
    )))
    .await?;
    if let Some(schema) = &options.schema {
        tx.execute(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {0}; SET LOCAL search_path TO {0}",
            schema.quoted()
        )))
        .await?;
    }
    let mut migrator = sqlx::migrate::Migrator {
        migrations: POSTGRES_MIGRATIONS.migrations.clone(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    // The transaction's lock replaces the migrator's session lock; each migration runs in
    // a savepoint of this transaction.
    migrator.set_locking(false);
    // `run_direct`, not `run`: `run`'s `Acquire` bound makes this future not provably
    // `Send` (sqlx's own comment on `run_direct` says so).
    let on: &mut PgConnection = &mut tx;
    migrator.run_direct(None, on, false).await?;
    tx.execute("DEALLOCATE ALL").await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(())
}

/// Refuses a URL that reaches PostgreSQL through a transaction pooler when none was
/// declared. Two client connections of a direct (or session-pooled) database never share a
/// server session, and a client's own session never changes; through a transaction pooler,
/// the session one client just released is the one the next client gets (PgBouncer reuses
/// the most recent one first), and a client's next transaction may run on another. Only
/// simple-protocol statements, so the check itself cannot fail the way it looks for.
async fn check_not_pooled(connect: &PgConnectOptions) -> Result<()> {
    const PID: &str = "SELECT pg_backend_pid()";
    let mut one = PgConnection::connect_with(connect).await?;
    let mut two = PgConnection::connect_with(connect).await?;
    let mut shared = false;
    for _ in 0..3 {
        let first = backend(&mut one, PID).await?;
        // `two` holds its server session while `one` asks again.
        let other = backend(&mut two, &format!("BEGIN; {PID}")).await?;
        let again = backend(&mut one, PID).await?;
        two.execute("COMMIT").await?;
        if other == first || again != first {
            shared = true;
            break;
        }
    }
    one.close().await.ok();
    two.close().await.ok();
    if shared {
        return Err(StoreError::UndeclaredPooler);
    }
    Ok(())
}

/// The server process `sql` (simple protocol, its last statement the pid) ran on.
async fn backend(conn: &mut PgConnection, sql: &str) -> Result<i32> {
    let rows = sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut *conn)
        .await?;
    let pid = rows
        .last()
        .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
    Ok(pid.try_get::<i32, _>(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_name_is_a_plain_lower_case_identifier() {
        for good in ["latchkey", "_auth", "auth_2", &"a".repeat(63)] {
            assert_eq!(Schema::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "Latchkey",
            "2fa",
            "auth-db",
            "auth\"; DROP TABLE users; --",
            "a b",
            "pg_auth",
            "é",
            &"a".repeat(64),
        ] {
            assert!(Schema::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
