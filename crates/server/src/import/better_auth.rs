//! `latchkey import better-auth`: users, their password credentials and (`--sessions`)
//! their live sessions, read from Better Auth's own database.
//!
//! Better Auth's tables, as its migrations make them (checked against `better-auth` 1.7 on
//! SQLite and PostgreSQL): `user` (id, name, email, "emailVerified", image, "createdAt",
//! "updatedAt"), `account` ("userId", "providerId", password, …: the `credential`
//! provider's row holds the scrypt hash; a social sign-in's holds none) and `session`
//! (token, "userId", "expiresAt", "createdAt", "ipAddress", "userAgent"). Ids are 32-character
//! random strings, kept as they are. A user whose only account is another provider's is
//! imported without a password: they set one with "forgot password".
//!
//! Better Auth's admin plugin adds `banned` and `"banExpires"` to `user`. Latchkey has no
//! bans yet, so a user banned there now is refused (`banned`), not imported as free to sign
//! in; a ban that has run out is no ban, as Better Auth itself reads it.
//!
//! A session is kept only as the hash the exchange looks it up by
//! ([`latchkey_core::better_auth::session_token_hash`]), and only while it is live.

use std::collections::HashMap;

use latchkey_core::better_auth::session_token_hash;
use latchkey_store::NewImportedSession;

use super::source::{SourceDb, millis, printable};
use super::{Candidate, Feed, Origin, Refusal, Row};

/// What `imported_sessions.source` says of these: the name the exchange looks them up by.
use latchkey_core::better_auth::SOURCE;

/// id, email, name, image, emailVerified (0/1), createdAt (as text), password, banned
/// (0/1), banExpires (as text).
type UserRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
);

/// userId, token, createdAt, expiresAt, ipAddress, userAgent.
type SessionRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Opens Better Auth's database at `from` and starts reading its users (with their live
/// sessions as of `now_ms` when `sessions`). Sessions over by `now_ms` are left out, and
/// counted.
pub async fn open(from: &str, sessions: bool, now_ms: i64) -> anyhow::Result<Feed> {
    let db = SourceDb::connect(from).await?;
    let total = db
        .count(r#"SELECT COUNT(*) FROM "user""#)
        .await
        .map_err(|err| anyhow::anyhow!("reading Better Auth's \"user\" table: {err}"))?;
    let (live, expired) = if sessions {
        read_sessions(&db, now_ms).await?
    } else {
        (HashMap::new(), 0)
    };
    let bans = db.has_column("user", "banned").await?;
    let sql = users_sql(&db, bans);
    let (send, mut feed) = Feed::channel(Some(total));
    feed.expired_sessions = expired;
    feed.sessions_from = sessions.then_some(SOURCE);
    tokio::spawn(async move {
        let mut live = live;
        let read = db
            .send(&sql, &send, |row: UserRow| user(row, &mut live, now_ms))
            .await;
        if let Err(err) = read {
            let _ = send
                .send(Err(err.context("reading Better Auth's users")))
                .await;
        }
    });
    Ok(feed)
}

/// Users with their credential's hash, if they have one, and their ban where the admin
/// plugin keeps one (`bans`). Ordered by id, so a re-run meets them in the same order.
fn users_sql(db: &SourceDb, bans: bool) -> String {
    let (banned, ban_expires) = if bans {
        (
            r#"CAST(CASE WHEN u.banned THEN 1 ELSE 0 END AS BIGINT)"#.to_owned(),
            db.date(r#"u."banExpires""#),
        )
    } else {
        ("CAST(0 AS BIGINT)".to_owned(), "CAST(NULL AS TEXT)".to_owned())
    };
    format!(
        r#"SELECT u.id, u.email, u.name, u.image,
                  CAST(CASE WHEN u."emailVerified" THEN 1 ELSE 0 END AS BIGINT),
                  {created},
                  (SELECT a.password FROM account a
                   WHERE a."userId" = u.id AND a."providerId" = 'credential'
                     AND a.password IS NOT NULL
                   ORDER BY a."createdAt" LIMIT 1),
                  {banned}, {ban_expires}
           FROM "user" u ORDER BY u.id"#,
        created = db.date(r#"u."createdAt""#)
    )
}

fn user(row: UserRow, sessions: &mut HashMap<String, Vec<NewImportedSession>>, now_ms: i64) -> Row {
    let (id, email, name, image, email_verified, created_at, password, banned, ban_expires) = row;
    let origin = Origin::Id(id.clone());
    // As Better Auth reads a ban: one with an end in the past is over.
    let ban_over = ban_expires.as_deref().and_then(millis).is_some_and(|at| at <= now_ms);
    if banned != 0 && !ban_over {
        return Row {
            origin,
            read: Err(Refusal::new(
                "banned",
                "banned in Better Auth; Latchkey has no bans yet, so the user is left out",
            )),
        };
    }
    let Some(email) = email else {
        return Row {
            origin,
            read: Err(Refusal::new("invalid_email", "the user has no email")),
        };
    };
    let sessions = sessions.remove(&id).unwrap_or_default();
    Row {
        origin,
        read: Ok(Candidate {
            id,
            email,
            name,
            image,
            email_verified: email_verified != 0,
            created_at_ms: created_at.as_deref().and_then(millis),
            password_hash: password,
            sessions,
        }),
    }
}

/// The sessions still live at `now_ms`, by user, each kept as its token's hash; and how
/// many were over (or had no readable expiry).
async fn read_sessions(
    db: &SourceDb,
    now_ms: i64,
) -> anyhow::Result<(HashMap<String, Vec<NewImportedSession>>, u64)> {
    let sql = format!(
        r#"SELECT s."userId", s.token, {created}, {expires}, s."ipAddress", s."userAgent"
           FROM session s"#,
        created = db.date(r#"s."createdAt""#),
        expires = db.date(r#"s."expiresAt""#)
    );
    let rows: Vec<SessionRow> = db
        .all(&sql)
        .await
        .map_err(|err| anyhow::anyhow!("reading Better Auth's sessions: {err}"))?;
    let mut live: HashMap<String, Vec<NewImportedSession>> = HashMap::new();
    let mut expired = 0;
    for (user_id, token, created_at, expires_at, ip, user_agent) in rows {
        let expires_at_ms = expires_at.as_deref().and_then(millis);
        let Some(expires_at_ms) = expires_at_ms.filter(|&at| at > now_ms) else {
            expired += 1;
            continue;
        };
        live.entry(user_id.clone()).or_default().push(NewImportedSession {
            token_hash: session_token_hash(&token),
            source: SOURCE.to_owned(),
            user_id,
            created_at_ms: created_at.as_deref().and_then(millis).unwrap_or(now_ms),
            expires_at_ms,
            user_agent: printable(user_agent),
            ip: printable(ip),
        });
    }
    Ok((live, expired))
}
