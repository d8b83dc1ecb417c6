//! `latchkey import users`: a plain users table, as the seeds' FastAPI app keeps one — `id`
//! (a UUID, an integer or text), `email`, `password_hash` (bcrypt there; any format
//! Latchkey verifies), `created_at` (a timestamp). Other columns are not read. The table
//! has no verified flag, so the users start unverified.

use super::source::{SourceDb, millis, table_name};
use super::{Candidate, Feed, Origin, Refusal, Row};

/// id (as text), email, password_hash, created_at (as text).
type UserRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Opens the database at `from` and starts reading `table`.
pub async fn open(from: &str, table: &str) -> anyhow::Result<Feed> {
    let quoted = table_name(table)?;
    let db = SourceDb::connect(from).await?;
    let total = db
        .count(&format!("SELECT COUNT(*) FROM {quoted}"))
        .await
        .map_err(|err| anyhow::anyhow!("reading the table {table}: {err}"))?;
    let sql = format!(
        // Oldest first: of two addresses that are one once normalised, the first row wins,
        // and a look-alike registered later must not take the address.
        "SELECT CAST(id AS TEXT), email, password_hash, {created} FROM {quoted}
         ORDER BY created_at, id",
        created = db.date("created_at")
    );
    let (send, feed) = Feed::channel(Some(total));
    let table = table.to_owned();
    tokio::spawn(async move {
        let read = db.send(&sql, &send, user).await;
        if let Err(err) = read {
            let context = format!("reading the table {table}");
            let _ = send.send(Err(err.context(context))).await;
        }
    });
    Ok(feed)
}

fn user(row: UserRow) -> Row {
    let (id, email, password_hash, created_at) = row;
    let Some(id) = id else {
        return Row {
            origin: Origin::Id(String::new()),
            read: Err(Refusal::new("invalid_id", "the row has no id")),
        };
    };
    let origin = Origin::Id(id.clone());
    let Some(email) = email else {
        return Row {
            origin,
            read: Err(Refusal::new("invalid_email", "the user has no email")),
        };
    };
    Row {
        origin,
        read: Ok(Candidate {
            id,
            email,
            created_at_ms: created_at.as_deref().and_then(millis),
            password_hash: password_hash.filter(|hash| !hash.is_empty()),
            ..Candidate::default()
        }),
    }
}
