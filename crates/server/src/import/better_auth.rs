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
//! Plugins' columns are read where they exist, so that nobody gets in more easily here than
//! there: the admin plugin's `banned` and `"banExpires"` on `user` (Latchkey has no bans yet,
//! so a user banned now is refused, `banned`; a ban that has run out is no ban, as Better
//! Auth reads it) and `session."impersonatedBy"` (an admin's impersonation is not the user's
//! own session: left out); the two-factor plugin's `"twoFactorEnabled"` (until Latchkey has
//! second factors, such a user is imported without a password, so that a stolen password
//! alone does not get in: a reset by email sets one).
//!
//! When two addresses are one once normalised, the first row wins: rows come verified first,
//! then oldest, so an unverified look-alike registered later cannot take the address.
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
/// (0/1), banExpires (as text), twoFactorEnabled (0/1).
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
    i64,
);

/// The plugins' columns present in the source.
#[derive(Debug, Clone, Copy, Default)]
struct Plugins {
    bans: bool,
    two_factor: bool,
    impersonation: bool,
}

impl Plugins {
    async fn of(db: &SourceDb) -> anyhow::Result<Plugins> {
        Ok(Plugins {
            bans: db.has_column("user", "banned").await?,
            two_factor: db.has_column("user", "twoFactorEnabled").await?,
            impersonation: db.has_column("session", "impersonatedBy").await?,
        })
    }
}

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
    let plugins = Plugins::of(&db).await?;
    let (live, expired) = if sessions {
        read_sessions(&db, plugins, now_ms).await?
    } else {
        (HashMap::new(), 0)
    };
    let sql = users_sql(&db, plugins);
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

/// Users with their credential's hash, if they have one, and what the plugins say of them.
/// Verified first, then oldest (see the module's header), then by id, so a re-run meets
/// them in the same order.
fn users_sql(db: &SourceDb, plugins: Plugins) -> String {
    let flag = |present: bool, column: &str| match present {
        true => format!("CAST(CASE WHEN u.{column} THEN 1 ELSE 0 END AS BIGINT)"),
        false => "CAST(0 AS BIGINT)".to_owned(),
    };
    let banned = flag(plugins.bans, "banned");
    let two_factor = flag(plugins.two_factor, r#""twoFactorEnabled""#);
    let ban_expires = match plugins.bans {
        true => db.date(r#"u."banExpires""#),
        false => "CAST(NULL AS TEXT)".to_owned(),
    };
    format!(
        r#"SELECT u.id, u.email, u.name, u.image,
                  CAST(CASE WHEN u."emailVerified" THEN 1 ELSE 0 END AS BIGINT),
                  {created},
                  (SELECT a.password FROM account a
                   WHERE a."userId" = u.id AND a."providerId" = 'credential'
                     AND a.password IS NOT NULL
                   ORDER BY a."createdAt" LIMIT 1),
                  {banned}, {ban_expires}, {two_factor}
           FROM "user" u ORDER BY u."emailVerified" DESC, u."createdAt", u.id"#,
        created = db.date(r#"u."createdAt""#)
    )
}

fn user(row: UserRow, sessions: &mut HashMap<String, Vec<NewImportedSession>>, now_ms: i64) -> Row {
    let (
        id,
        email,
        name,
        image,
        email_verified,
        created_at,
        password,
        banned,
        ban_expires,
        two_factor,
    ) = row;
    let origin = Origin::Id(id.clone());
    // As Better Auth reads a ban: one with an end in the past is over.
    let ban_over = ban_expires
        .as_deref()
        .and_then(millis)
        .is_some_and(|at| at <= now_ms);
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
            // Their password alone was not enough there; here it would be.
            password_hash: password.filter(|_| two_factor == 0),
            note: (two_factor != 0).then(|| {
                "had two-factor sign-in in Better Auth: imported without a password until \
                 Latchkey has second factors (a reset by email sets one)"
                    .to_owned()
            }),
            sessions,
        }),
    }
}

/// The sessions still live at `now_ms`, by user, each kept as its token's hash; and how
/// many were over (or had no readable expiry).
async fn read_sessions(
    db: &SourceDb,
    plugins: Plugins,
    now_ms: i64,
) -> anyhow::Result<(HashMap<String, Vec<NewImportedSession>>, u64)> {
    let own = match plugins.impersonation {
        true => r#"WHERE s."impersonatedBy" IS NULL"#,
        false => "",
    };
    let sql = format!(
        r#"SELECT s."userId", s.token, {created}, {expires}, s."ipAddress", s."userAgent"
           FROM session s {own}"#,
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
        live.entry(user_id.clone())
            .or_default()
            .push(NewImportedSession {
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
