//! `latchkey import`: users moved over from another system, keeping their ids (the `sub` of
//! their tokens, and what the app's own rows refer to), their password hashes and, from
//! Better Auth, their sessions.
//!
//! # Layout
//!
//! - [`jsonl`], [`better_auth`], [`users_table`]: one source each. A source only reads: it
//!   turns what it finds into [`Row`]s on a [`Feed`], from a task of its own, so reading and
//!   writing overlap and no source is held in memory whole.
//! - [`source`]: reaching another system's database, read only, and reading its dates.
//! - `check`: a row read → a user the store can take, or the reason it cannot be one.
//! - [`report`]: what an import did, as a summary line, a list of refusals and an exit status.
//! - [`progress`]: the progress line on a terminal.
//!
//! [`run`] checks the rows and writes them in batches, each batch one transaction
//! ([`latchkey_store::Imports`]): a batch that fails leaves nothing of itself, the ones
//! before it stay, and the import stops there (a re-run carries on: what is already here is
//! unchanged). Nothing is hashed per row — the hashes are kept as they are, and verified at
//! sign-in — so an import runs at the speed of the database.

pub mod better_auth;
mod check;
pub mod jsonl;
pub mod progress;
pub mod report;
pub mod source;
pub mod users_table;

use std::collections::HashSet;
use std::fmt;
use std::time::Instant;

use latchkey_store::{Imported, ImportedUser, NewImportedSession, Store};
use tokio::sync::mpsc;

pub use progress::Progress;
pub use report::Report;

/// Rows per transaction unless told otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;
/// Rows read ahead of the writer.
const READ_AHEAD: usize = 4_096;

/// Where a row came from, as the report names it: a line of a file, or a row's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Line(u64),
    Id(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line(line) => write!(f, "line {line}"),
            Origin::Id(id) => write!(f, "id {}", report::escaped(id)),
        }
    }
}

/// A user as a source read them, not yet checked. No `Debug`: it carries a password hash.
#[derive(Clone, Default)]
pub struct Candidate {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub image: Option<String>,
    pub email_verified: bool,
    /// `None`: the source does not say (the import's own time is used).
    pub created_at_ms: Option<i64>,
    /// `None`: no password (another provider's sign-in only); they get one by resetting it.
    pub password_hash: Option<String>,
    /// Their live sessions (the source leaves out and counts the expired ones).
    pub sessions: Vec<NewImportedSession>,
    /// What the source changed of the user on the way, for the report.
    pub note: Option<String>,
}

/// Why a row is not imported: a stable snake_case code and a sentence for the operator.
/// Neither ever holds a password hash or a session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub detail: String,
}

impl Refusal {
    pub fn new(code: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal {
            code,
            detail: detail.into(),
        }
    }
}

/// One row read: where it was, and the user it describes or why it cannot be one.
pub struct Row {
    pub origin: Origin,
    pub read: Result<Candidate, Refusal>,
}

/// What a source hands the import: how many rows to expect (for the progress line), and
/// the rows. An `Err` ends the import: the source could not go on reading.
pub struct Feed {
    pub total: Option<u64>,
    pub rows: mpsc::Receiver<anyhow::Result<Row>>,
    /// Sessions the source left out because they were over.
    pub expired_sessions: u64,
    /// The source whose live sessions the rows carry, all of them, when it brings any: once
    /// the whole source is read, an imported session not among them has ended there since
    /// the last run (and its user may have been banned, deleted or refused this time).
    pub sessions_from: Option<&'static str>,
}

impl Feed {
    /// A feed and the sender its reader fills.
    pub fn channel(total: Option<u64>) -> (mpsc::Sender<anyhow::Result<Row>>, Feed) {
        let (send, rows) = mpsc::channel(READ_AHEAD);
        (
            send,
            Feed {
                total,
                rows,
                expired_sessions: 0,
                sessions_from: None,
            },
        )
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run every batch and roll it back: the report says what a real run would do.
    pub dry_run: bool,
    /// Users per transaction.
    pub batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry_run: false,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

/// Imports every row of `feed` into `store`, as of `now_ms` (expired sessions are left
/// out; a user without a creation date was created now). Never fails: a batch that cannot
/// be written, or a source that cannot be read, stops the import and is the report's
/// [`Report::failure`]; the batches before it stay written.
pub async fn run(
    store: &Store,
    mut feed: Feed,
    options: &Options,
    now_ms: i64,
    progress: &mut Progress,
) -> Report {
    let started = Instant::now();
    let mut report = Report::new(options.dry_run);
    report.sessions.expired = feed.expired_sessions;
    let mut checker = check::Checker::new(now_ms);
    let batch_size = options.batch_size.max(1);
    let mut batch = Batch::default();
    // The sessions of the users imported or already here, as a complete run found them.
    let mut brought = HashSet::new();
    progress.start(feed.total);
    let failure = loop {
        let row = match feed.rows.recv().await {
            Some(Ok(row)) => row,
            Some(Err(err)) => break Some(format!("reading the source failed: {err:#}")),
            None => match write(store, &mut batch, &mut brought, options, &mut report).await {
                Ok(()) => break None,
                Err(failure) => break Some(failure),
            },
        };
        report.read += 1;
        match checker.check(row, &mut report).await {
            Ok(Some(checked)) => batch.push(checked),
            Ok(None) => {}
            Err(err) => break Some(format!("{err:#}")),
        }
        if batch.users.len() >= batch_size
            && let Err(failure) = write(store, &mut batch, &mut brought, options, &mut report).await
        {
            break Some(failure);
        }
        progress.update(report.read);
    };
    progress.finish();
    // Only a run that read the whole source knows which sessions are no longer live there.
    let failure = match (failure, feed.sessions_from) {
        (None, Some(source)) => {
            let imports = &store.imports;
            let ended = imports.end_sessions_not_brought(source, &brought, options.dry_run);
            match ended.await {
                Ok(ended) => {
                    report.sessions.ended = ended;
                    None
                }
                Err(err) => Some(format!(
                    "every user was written, but ending the sessions over in the source failed: {err}"
                )),
            }
        }
        (failure, _) => failure,
    };
    report.failure = failure;
    report.elapsed = started.elapsed();
    report
}

/// The users waiting to be written: each with where it came from and whether it has a
/// password of its own.
#[derive(Default)]
struct Batch {
    origins: Vec<Origin>,
    users: Vec<ImportedUser>,
    passwordless: Vec<bool>,
}

impl Batch {
    fn push(&mut self, checked: check::Checked) {
        self.origins.push(checked.origin);
        self.users.push(checked.user);
        self.passwordless.push(checked.passwordless);
    }
}

/// Writes one batch (if it holds anyone) and records what became of each user; on failure,
/// says which rows were not written.
async fn write(
    store: &Store,
    batch: &mut Batch,
    brought: &mut HashSet<String>,
    options: &Options,
    report: &mut Report,
) -> Result<(), String> {
    let Batch {
        origins,
        users,
        passwordless,
    } = std::mem::take(batch);
    let (Some(first), Some(last)) = (origins.first(), origins.last()) else {
        return Ok(());
    };
    let imports = &store.imports;
    let written = imports.import_users(&users, options.dry_run);
    let outcome = match written.await {
        Ok(outcome) => outcome,
        Err(err) => {
            return Err(format!(
                "writing the batch from {first} to {last} failed, so none of its {} users were written: {err}",
                users.len()
            ));
        }
    };
    let rows = origins.into_iter().zip(&users).zip(passwordless);
    for (((origin, user), passwordless), imported) in rows.zip(outcome.users) {
        match imported {
            Imported::Inserted => {
                report.inserted += 1;
                report.without_password += u64::from(passwordless);
            }
            Imported::Unchanged => report.unchanged += 1,
            Imported::EmailTaken => report.refuse(
                origin,
                Refusal::new(
                    "email_taken",
                    format!("{} already belongs to another user here", user.email),
                ),
            ),
            Imported::IdTaken => report.refuse(
                origin,
                Refusal::new(
                    "id_taken",
                    "the id already belongs to a user here with another address",
                ),
            ),
        }
        if matches!(imported, Imported::EmailTaken | Imported::IdTaken) {
            report.sessions.of_refused += user.sessions.len() as u64;
        } else {
            brought.extend(user.sessions.iter().map(|s| s.token_hash.clone()));
        }
    }
    report.sessions.inserted += outcome.sessions_inserted;
    report.sessions.unchanged += outcome.sessions_unchanged;
    Ok(())
}
