//! Storage errors.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write (e.g. the email is taken).
    #[error("conflict with an existing row")]
    Conflict,
    /// The database URL names neither SQLite nor PostgreSQL.
    #[error("DATABASE_URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    /// The PostgreSQL URL asks for something that cannot be honoured as asked (see `libpq`).
    #[error("DATABASE_URL: {0}")]
    BadUrl(String),
    /// A pooler option or schema with a SQLite URL.
    #[error(
        "LATCHKEY_DATABASE_POOLER and LATCHKEY_DATABASE_SCHEMA apply to PostgreSQL only; a SQLite file is Latchkey's own, so leave them unset"
    )]
    PostgresOnly,
    /// The URL reaches PostgreSQL through a transaction pooler that was not declared.
    #[error(
        "DATABASE_URL reaches PostgreSQL through a transaction pooler (two connections shared one server session): set LATCHKEY_DATABASE_POOLER=transaction, or use a direct or session-mode URL"
    )]
    UndeclaredPooler,
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database is out of reach: down, restarting, the connection dropped, or no
    /// connection came free in time. Says nothing about the request; a retry may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

/// What the caller is told when the store fails, with the detail logged here (it never
/// reaches a client): `unavailable` while the database is out of reach (a retry may
/// succeed; the pool reconnects by itself), `internal_error` for anything else.
impl From<StoreError> for latchkey_core::Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => {
                tracing::error!(error = %err, "database unavailable");
                latchkey_core::Error::Unavailable
            }
            _ => {
                tracing::error!(error = %err, "store failure");
                latchkey_core::Error::Internal
            }
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ if out_of_reach(&err) => StoreError::Unavailable(err),
            _ => StoreError::Database(err),
        }
    }
}

/// Whether `err` means the database could not be talked to for now, rather than that it
/// refused a statement. The pool recovers by itself once the database is back (every
/// connection is pinged before use), so these are worth a 503, not a 500. Faults a retry
/// cannot cure stay 500s: a TLS misconfiguration (a certificate refused: rustls reports it
/// through an `io::Error` of kind `InvalidData`), SQLite's worker thread crashing, a
/// protocol violation (08P01, a client bug).
fn out_of_reach(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(io) => io.kind() != std::io::ErrorKind::InvalidData,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        // PostgreSQL: connection_exception and its kin (08000, 08001, 08003, 08004, 08006),
        // admin_shutdown, crash_shutdown, cannot_connect_now (starting up),
        // too_many_connections.
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            matches!(
                &*code,
                "08000"
                    | "08001"
                    | "08003"
                    | "08004"
                    | "08006"
                    | "57P01"
                    | "57P02"
                    | "57P03"
                    | "53300"
            )
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_are_unavailable_and_statement_errors_are_not() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for err in [
            sqlx::Error::Io(refused),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            assert!(matches!(StoreError::from(err), StoreError::Unavailable(_)));
        }
        for err in [
            sqlx::Error::RowNotFound,
            sqlx::Error::Protocol("odd".into()),
            sqlx::Error::WorkerCrashed,
            // What a refused certificate looks like (rustls's error inside).
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "invalid peer certificate: UnknownIssuer",
            )),
        ] {
            assert!(matches!(StoreError::from(err), StoreError::Database(_)));
        }
    }
}
