//! # latchkey-store
//!
//! Everything Latchkey keeps, as one [`Store`]: a set of capabilities, each a small trait
//! in its own module, with one SQL implementation ([`SqlStore`]) that runs on SQLite and on
//! PostgreSQL. The backend is chosen once, at start-up, from the database URL's scheme
//! ([`connect`]); nothing above this crate knows which one it got.
//!
//! # Layout
//!
//! - One module per capability, each holding its trait, its SQL and the statements other
//!   capabilities' transactions reuse: [`accounts`], [`credentials`], [`sessions`],
//!   [`one_time`] (links, and spending one with the change it authorises), [`outbox`],
//!   [`streaks`] (failed sign-ins), [`counters`] (rate limits), [`events`], [`tasks`],
//!   [`imports`] (users and sessions moved over from another system);
//!   [`imported_sessions`] (sessions moved over from another auth system, exchanged once).
//!   A write that spans capabilities (registration writes a user, a session, an event and
//!   an email) lives with the capability it is for, in one transaction.
//! - `db`: the two backends behind one query type, so each statement is written once.
//! - `libpq`: a PostgreSQL URL's TLS and channel-binding parameters, read as libpq reads them.
//! - [`postgres`]: connecting to PostgreSQL directly or through a transaction pooler, in a
//!   schema of its own if asked ([`Options`]), and its migrations.
//! - [`model`]: the rows the store hands out and the inputs it takes; [`kinds`]: the names
//!   it writes down; [`error`]: [`StoreError`].
//! - `migrations/{sqlite,postgres}/`: the schema per dialect, run on every start; where
//!   they are meant to agree they are byte-identical (a test checks).
//!
//! A new capability (identities from other providers, second factors, passkeys, webhooks)
//! is a new module with its trait, a migration in both folders, and a field on [`Store`].
//!
//! Timestamps are Unix milliseconds in `BIGINT` columns on both backends: the server's clock
//! is injected (tests move it by hand), and plain integers make every comparison the same SQL
//! on SQLite and PostgreSQL. Ids are UUID strings for the same reason.

pub mod accounts;
pub mod counters;
pub mod credentials;
mod db;
pub mod error;
pub mod events;
pub mod imported_sessions;
pub mod imports;
pub mod kinds;
mod libpq;
pub mod model;
pub mod one_time;
pub mod outbox;
pub mod postgres;
pub mod sessions;
pub mod streaks;
pub mod tasks;

use std::sync::Arc;

pub use accounts::Accounts;
pub use counters::RateCounters;
pub use credentials::Credentials;
pub use error::StoreError;
pub use events::Events;
pub use imported_sessions::{Exchange, ImportedSessions, NewImportedSession};
pub use imports::{BatchOutcome, Imported, ImportedUser, Imports};
pub use kinds::EventKind;
pub use latchkey_core::onetime::Purpose;
pub use model::*;
pub use one_time::OneTimeTokens;
pub use outbox::Outbox;
pub use postgres::{Options, Pooler, Schema};
pub use sessions::Sessions;
pub use streaks::Streaks;
pub use tasks::Tasks;

use db::Db;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database-backed state of Latchkey, by capability. Every method that changes more than
/// one row does so in a single transaction. Cloning is cheap. A test can swap one
/// capability for its own (a store that fails, or pauses) and keep the rest real.
#[derive(Clone)]
pub struct Store {
    pub health: Arc<dyn Health>,
    pub accounts: Arc<dyn Accounts>,
    pub credentials: Arc<dyn Credentials>,
    pub sessions: Arc<dyn Sessions>,
    pub one_time: Arc<dyn OneTimeTokens>,
    pub outbox: Arc<dyn Outbox>,
    pub streaks: Arc<dyn Streaks>,
    pub counters: Arc<dyn RateCounters>,
    pub events: Arc<dyn Events>,
    pub tasks: Arc<dyn Tasks>,
    pub imports: Arc<dyn Imports>,
    pub imported_sessions: Arc<dyn ImportedSessions>,
    /// Notified whenever a write that queued mail commits: the delivery worker waits on it,
    /// so nobody who sends mail has to remember to wake it.
    pub mail_written: Arc<tokio::sync::Notify>,
}

impl Store {
    /// Every capability served by one SQL store.
    pub fn sql(store: SqlStore) -> Store {
        let mail_written = store.db.mail_written.clone();
        let store = Arc::new(store);
        Store {
            mail_written,
            health: store.clone(),
            accounts: store.clone(),
            credentials: store.clone(),
            sessions: store.clone(),
            one_time: store.clone(),
            outbox: store.clone(),
            streaks: store.clone(),
            counters: store.clone(),
            events: store.clone(),
            tasks: store.clone(),
            imported_sessions: store.clone(),
            imports: store,
        }
    }

    /// Which backend this is ("sqlite" or "postgres"), for logs and `/readyz`.
    pub fn backend(&self) -> &'static str {
        self.health.backend()
    }
}

/// Whether the database answers.
#[async_trait::async_trait]
pub trait Health: Send + Sync {
    fn backend(&self) -> &'static str;

    /// A trivial round-trip, for readiness checks.
    async fn ping(&self) -> Result<()>;

    /// Connections in use and callers waiting for one, for metrics. A store without a pool
    /// (a test double) has none.
    fn pool(&self) -> PoolStats {
        PoolStats::default()
    }
}

/// The SQL store: SQLite or PostgreSQL, the same statements on each.
pub struct SqlStore {
    db: Db,
}

impl SqlStore {
    /// Connects to `database_url` (`sqlite://…` or `postgres://…`/`postgresql://…`) and runs
    /// that backend's migrations.
    pub async fn connect(database_url: &str) -> Result<SqlStore> {
        Self::connect_with(database_url, &Options::default()).await
    }

    /// As [`SqlStore::connect`], PostgreSQL reached and laid out as `options` say. SQLite
    /// refuses options other than the defaults: its file is Latchkey's alone.
    pub async fn connect_with(database_url: &str, options: &Options) -> Result<SqlStore> {
        let scheme = database_url.split(':').next().unwrap_or_default();
        let db = match scheme {
            "sqlite" if options.pooler != Pooler::None || options.schema.is_some() => {
                return Err(StoreError::PostgresOnly);
            }
            "sqlite" => Db::sqlite(database_url).await?,
            "postgres" | "postgresql" => {
                Db::postgres(&libpq::compatible(database_url)?, options).await?
            }
            _ => return Err(StoreError::UnsupportedUrl),
        };
        Ok(SqlStore { db })
    }

    /// Closes the connection pools: calls after this fail as a database out of reach
    /// would.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

#[async_trait::async_trait]
impl Health for SqlStore {
    fn backend(&self) -> &'static str {
        self.db.backend()
    }

    fn pool(&self) -> PoolStats {
        self.db.pool_stats()
    }

    async fn ping(&self) -> Result<()> {
        db::sql("SELECT 1")
            .execute(&mut self.db.read().await?)
            .await?;
        Ok(())
    }
}

/// Connects to `database_url` (see [`SqlStore::connect`]) and returns the store.
pub async fn connect(database_url: &str) -> Result<Store> {
    Ok(Store::sql(SqlStore::connect(database_url).await?))
}

/// As [`connect`], with PostgreSQL's [`Options`].
pub async fn connect_with(database_url: &str, options: &Options) -> Result<Store> {
    Ok(Store::sql(
        SqlStore::connect_with(database_url, options).await?,
    ))
}

#[cfg(test)]
mod tests;
