//! The database of the system users move from: SQLite (opened read only) or PostgreSQL,
//! reached by the `--from` URL. It is never written to.
//!
//! Dates are read as text and turned into Unix milliseconds here, because the systems keep
//! them differently: Better Auth on SQLite writes ISO 8601 text (`2026-12-06T09:13:57.575Z`),
//! on PostgreSQL a `timestamptz` (read here as its epoch, so the session's time zone cannot
//! change it); other tools store integers (seconds or milliseconds) or SQLite's
//! `CURRENT_TIMESTAMP` text (`2026-12-06 09:13:57`, UTC).

use std::str::FromStr;

use futures_util::TryStreamExt;
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{AssertSqlSafe, FromRow, PgPool, SqlitePool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use super::Row;
use crate::tls;

/// A source database.
#[derive(Clone)]
pub enum SourceDb {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A row type both backends decode (a tuple of plain types).
pub trait SourceRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl<T> SourceRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

impl SourceDb {
    /// Opens `url` for reading. Errors name the database by its host or path, never by the
    /// whole URL (which may hold a password).
    pub async fn connect(url: &str) -> anyhow::Result<SourceDb> {
        let scheme = url.split(':').next().unwrap_or_default();
        let cannot =
            |err: sqlx::Error| anyhow::anyhow!("cannot open --from {}: {err}", tls::endpoint(url));
        match scheme {
            "sqlite" => {
                // Read only, and never created: a typo must not make an empty database.
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(cannot)?
                    .read_only(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(2)
                    .connect_with(options)
                    .await
                    .map_err(cannot)?;
                Ok(SourceDb::Sqlite(pool))
            }
            "postgres" | "postgresql" => {
                let pool = PgPoolOptions::new()
                    .max_connections(2)
                    .connect(url)
                    .await
                    .map_err(cannot)?;
                Ok(SourceDb::Postgres(pool))
            }
            _ => anyhow::bail!("--from must start with sqlite:// or postgres://"),
        }
    }

    /// SQL that reads `column` (a date) as text [`millis`] understands.
    pub fn date(&self, column: &str) -> String {
        match self {
            SourceDb::Sqlite(_) => format!("CAST({column} AS TEXT)"),
            SourceDb::Postgres(_) => {
                format!("CAST(CAST(EXTRACT(EPOCH FROM {column}) * 1000 AS BIGINT) AS TEXT)")
            }
        }
    }

    /// The one number `sql` returns (a `COUNT(*)`).
    pub async fn count(&self, sql: &str) -> anyhow::Result<u64> {
        let sql = AssertSqlSafe(sql.to_owned());
        let (n,): (i64,) = match self {
            SourceDb::Sqlite(pool) => sqlx::query_as(sql).fetch_one(pool).await?,
            SourceDb::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await?,
        };
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Whether `table` (in the schemas the connection sees) has `column`: for the columns a
    /// plugin adds.
    pub async fn has_column(&self, table: &str, column: &str) -> anyhow::Result<bool> {
        let found: i64 = match self {
            SourceDb::Sqlite(pool) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2")
                    .bind(table)
                    .bind(column)
                    .fetch_one(pool)
                    .await?
            }
            SourceDb::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.columns
                     WHERE table_name = $1 AND column_name = $2
                       AND table_schema = ANY (current_schemas(false))",
                )
                .bind(table)
                .bind(column)
                .fetch_one(pool)
                .await?
            }
        };
        Ok(found > 0)
    }

    /// Every row of `sql`, in memory (for the small tables read whole, such as sessions).
    pub async fn all<T: SourceRow>(&self, sql: &str) -> anyhow::Result<Vec<T>> {
        let sql = AssertSqlSafe(sql.to_owned());
        Ok(match self {
            SourceDb::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await?,
            SourceDb::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await?,
        })
    }

    /// Streams the rows of `sql` through `map` into `rows`, as they come: the table is never
    /// held whole. Stops quietly if the import stopped listening.
    pub async fn send<T: SourceRow>(
        &self,
        sql: &str,
        rows: &mpsc::Sender<anyhow::Result<Row>>,
        mut map: impl FnMut(T) -> Row,
    ) -> anyhow::Result<()> {
        let sql = AssertSqlSafe(sql.to_owned());
        match self {
            SourceDb::Sqlite(pool) => {
                let mut stream = sqlx::query_as::<_, T>(sql).fetch(pool);
                while let Some(row) = stream.try_next().await? {
                    if rows.send(Ok(map(row))).await.is_err() {
                        break;
                    }
                }
            }
            SourceDb::Postgres(pool) => {
                let mut stream = sqlx::query_as::<_, T>(sql).fetch(pool);
                while let Some(row) = stream.try_next().await? {
                    if rows.send(Ok(map(row))).await.is_err() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Unix milliseconds from a date as a source keeps it (see the module's header); `None` if
/// it is none of those.
pub fn millis(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        // 10^11 s is the year 5138, 10^11 ms is 1973: a number below is seconds.
        return Some(if n.abs() < 100_000_000_000 {
            n * 1000
        } else {
            n
        });
    }
    if let Ok(n) = text.parse::<f64>() {
        let ms = if n.abs() < 1e11 { n * 1000.0 } else { n };
        return ms.is_finite().then(|| ms.round() as i64);
    }
    let date = OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        // SQLite's own `YYYY-MM-DD HH:MM:SS[.SSS]`, which is UTC.
        let iso = format!("{}Z", text.replacen(' ', "T", 1));
        OffsetDateTime::parse(&iso, &Rfc3339).ok()
    })?;
    i64::try_from(date.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `text` unless it holds control characters (which PostgreSQL may refuse and no user
/// agent or address has).
pub fn printable(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty() && !t.chars().any(char::is_control))
}

/// A table name as given on the command line (`users`, `auth.users`), quoted for SQL; an
/// error for anything else, so no name can change the statement.
pub fn table_name(name: &str) -> anyhow::Result<String> {
    let part = |p: &str| {
        let mut chars = p.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 2 || !parts.iter().all(|p| part(p)) {
        anyhow::bail!(
            "--table must be a table name, optionally with its schema (letters, digits and _)"
        );
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_in_every_form_the_sources_keep() {
        let ms = 1_765_012_437_575;
        assert_eq!(millis("2025-12-06T09:13:57.575Z"), Some(ms));
        assert_eq!(millis("2025-12-06T10:13:57.575+01:00"), Some(ms));
        assert_eq!(millis("1765012437575"), Some(ms));
        assert_eq!(millis("1765012437"), Some(ms - 575));
        assert_eq!(millis("1765012437.575"), Some(ms));
        assert_eq!(millis("2025-12-06 09:13:57"), Some(ms - 575));
        assert_eq!(millis("2025-12-06 09:13:57.575"), Some(ms));
        assert_eq!(millis("yesterday"), None);
        assert_eq!(millis(""), None);
    }

    #[test]
    fn only_plain_table_names_are_taken() {
        assert_eq!(table_name("users").unwrap(), "\"users\"");
        assert_eq!(table_name("auth.users").unwrap(), "\"auth\".\"users\"");
        for bad in [
            "",
            "users;drop",
            "a.b.c",
            "\"users\"",
            "1users",
            "us ers",
            "a.",
        ] {
            assert!(table_name(bad).is_err(), "{bad}");
        }
    }
}
