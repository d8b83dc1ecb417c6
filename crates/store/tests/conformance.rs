//! The store's promises, checked directly against each backend (no HTTP): every test runs on
//! SQLite, and on PostgreSQL when `LATCHKEY_TEST_POSTGRES_URL` is set. What the server
//! builds on: a refresh rotation is one compare-and-set, a link is spent once, a message is
//! claimed by one worker, a counter never loses a hit, an imported session is exchanged
//! once, and an account's rows go with it.

use std::collections::HashSet;
use std::sync::Arc;

use latchkey_store::{
    Consume, EventKind, Exchange, Imported, ImportedUser, NewEvent, NewImportedSession, NewMail,
    NewOneTimeToken, NewSession, NewTask, NewUser, Outgoing, Purpose, Rotation, Store,
};
use tokio::task::JoinSet;

const NOW: i64 = 1_800_000_000_000;
const HOUR: i64 = 3_600_000;

/// One database per test and backend, dropped afterwards.
struct Backend {
    name: &'static str,
    store: Store,
    url: String,
    cleanup: Option<(String, String)>,
}

impl Backend {
    async fn all() -> Vec<Backend> {
        let path = std::env::temp_dir().join(format!("{}.db", unique("lk_store")));
        let sqlite_url = format!("sqlite://{}", path.display());
        let mut all = vec![Backend {
            name: "sqlite",
            store: latchkey_store::connect(&sqlite_url).await.unwrap(),
            url: sqlite_url,
            cleanup: None,
        }];
        match std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
            Ok(admin_url) => all.push(Backend::postgres(admin_url).await),
            Err(_) => {
                assert!(
                    std::env::var_os("LATCHKEY_REQUIRE_ALL").is_none(),
                    "LATCHKEY_REQUIRE_ALL is set but LATCHKEY_TEST_POSTGRES_URL is not"
                );
                eprintln!("SKIPPED on PostgreSQL: LATCHKEY_TEST_POSTGRES_URL is not set");
            }
        }
        all
    }

    /// A schema of its own in the test database.
    async fn postgres(admin_url: String) -> Backend {
        let schema = unique("lk_store");
        let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
        // The name is ours (a prefix and hex), not input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
        Backend {
            name: "postgres",
            store: latchkey_store::connect(&url).await.unwrap(),
            url,
            cleanup: Some((admin_url, schema)),
        }
    }

    async fn drop(self) {
        if let Some((admin_url, schema)) = self.cleanup {
            let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .unwrap();
        } else if let Some(path) = self.url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
    }

    /// Rows left in `table` for the user, read beside the store.
    async fn count(&self, table: &str, user_id: &str) -> i64 {
        // Table names are this file's literals.
        let statement = format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1");
        let count: (i64,) = if self.name == "sqlite" {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            sqlx::query_as(sqlx::AssertSqlSafe(statement))
                .bind(user_id)
                .fetch_one(&pool)
                .await
                .unwrap()
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::query_as(sqlx::AssertSqlSafe(statement))
                .bind(user_id)
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        count.0
    }

    /// Runs `sqlite` or `postgres`, whichever this backend is, beside the store.
    async fn execute(&self, sqlite: &str, postgres: &str) {
        if self.name == "sqlite" {
            let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_owned()))
                .execute(&pool)
                .await
                .unwrap();
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(postgres.to_owned()))
                .execute(&pool)
                .await
                .unwrap();
        }
    }

    async fn delete_user(&self, user_id: &str) {
        let statement = "DELETE FROM users WHERE id = $1";
        if self.name == "sqlite" {
            let options: sqlx::sqlite::SqliteConnectOptions = self.url.parse().unwrap();
            let pool = sqlx::SqlitePool::connect_with(options.foreign_keys(true))
                .await
                .unwrap();
            sqlx::query(statement)
                .bind(user_id)
                .execute(&pool)
                .await
                .unwrap();
        } else {
            let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
            sqlx::query(statement)
                .bind(user_id)
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}

fn unique(prefix: &str) -> String {
    let bytes: [u8; 16] = latchkey_core::random::bytes().unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

fn event(kind: EventKind, user_id: &str) -> NewEvent {
    NewEvent {
        id: unique("e"),
        kind,
        user_id: Some(user_id.to_owned()),
        session_id: None,
        ip: None,
        user_agent: None,
        now_ms: NOW,
    }
}

fn session(user_id: &str, refresh_hash: &str) -> NewSession {
    NewSession {
        id: unique("s"),
        user_id: user_id.to_owned(),
        now_ms: NOW,
        expires_at_ms: NOW + HOUR,
        absolute_expires_at_ms: NOW + 24 * HOUR,
        refresh_seed: "seed".into(),
        refresh_hash: refresh_hash.to_owned(),
        user_agent: None,
        ip: None,
    }
}

/// A user with one session, whose generation-0 refresh token hashes to `refresh_hash`.
async fn user_with_session(store: &Store, refresh_hash: &str) -> (String, NewSession) {
    let id = unique("u");
    let email = format!("{id}@example.com");
    let user = NewUser {
        id: id.clone(),
        email: email.clone(),
        email_key: email,
        name: None,
        password_hash: "hash".into(),
        locale: None,
        now_ms: NOW,
    };
    let session = session(&id, refresh_hash);
    store
        .accounts
        .register(
            &user,
            Some(&session),
            &event(EventKind::Registered, &id),
            &[],
        )
        .await
        .unwrap();
    (id, session)
}

fn mail(id: &str, recipient: &str, token_id: Option<String>) -> NewMail {
    NewMail {
        id: id.to_owned(),
        kind: "reset_password",
        recipient: recipient.to_owned(),
        data: "{}".into(),
        token_id,
        now_ms: NOW,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_rotation_is_won_by_exactly_one_of_many_racing_requests() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let (_, session) = user_with_session(store, "h0").await;
        let mut racers = JoinSet::new();
        for i in 0..20 {
            let sessions = store.sessions.clone();
            let rotation = Rotation {
                session_id: session.id.clone(),
                from_generation: 0,
                presented_hash: "h0".into(),
                next_hash: format!("h1-{i}"),
                now_ms: NOW + 1,
                expires_at_ms: NOW + HOUR,
            };
            racers.spawn(async move { sessions.rotate_refresh(&rotation).await.unwrap() });
        }
        let won = winners(racers).await;
        assert_eq!(won, 1, "{}", backend.name);

        let spent = store.sessions.find_refresh("h0").await.unwrap().unwrap();
        assert_eq!(spent.spent_at, Some(NOW + 1), "{}", backend.name);
        assert_eq!(spent.session_generation, 1, "{}", backend.name);
        let mut live = 0;
        for i in 0..20 {
            if let Some(record) = store
                .sessions
                .find_refresh(&format!("h1-{i}"))
                .await
                .unwrap()
            {
                assert_eq!(record.token_generation, 1);
                assert_eq!(record.spent_at, None);
                live += 1;
            }
        }
        assert_eq!(live, 1, "one successor stored, on {}", backend.name);
        backend.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_one_time_token_is_spent_exactly_once() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let (user_id, _) = user_with_session(store, "r0").await;
        let token = NewOneTimeToken {
            id: unique("t"),
            token_hash: "link-hash".into(),
            seed: "seed".into(),
            user_id: user_id.clone(),
            purpose: Purpose::ResetPassword,
            email: "ann@example.com".into(),
            now_ms: NOW,
            expires_at_ms: NOW + HOUR,
            keep_session: None,
        };
        let outgoing = Outgoing {
            mail: mail(&unique("m"), "ann@example.com", Some(token.id.clone())),
            token: Some(token),
        };
        store.outbox.enqueue(&[outgoing], None).await.unwrap();
        let found = store
            .one_time
            .find_one_time("link-hash", Purpose::ResetPassword, NOW + 1)
            .await
            .unwrap();
        assert_eq!(found.map(|t| t.user.id), Some(user_id.clone()));
        // A link for one purpose is not one for another.
        let other = store
            .one_time
            .find_one_time("link-hash", Purpose::VerifyEmail, NOW + 1);
        assert!(other.await.unwrap().is_none());

        let mut racers = JoinSet::new();
        for i in 0..10 {
            let one_time = store.one_time.clone();
            let consume = Consume {
                token_hash: "link-hash".into(),
                purpose: Purpose::ResetPassword,
                user_id: user_id.clone(),
                now_ms: NOW + 2,
            };
            let notice = mail(&unique("m"), "ann@example.com", None);
            let hash = format!("new-hash-{i}");
            racers.spawn(async move {
                let done = event(EventKind::PasswordReset, &consume.user_id);
                one_time
                    .reset_password(&consume, &hash, &notice, &done)
                    .await
                    .unwrap()
            });
        }
        let spent: Vec<_> = racers.join_all().await.into_iter().flatten().collect();
        assert_eq!(spent.len(), 1, "{}", backend.name);
        assert_eq!(spent[0].len(), 1, "the reset ended the user's one session");
        let gone = store
            .one_time
            .find_one_time("link-hash", Purpose::ResetPassword, NOW + 3);
        assert!(gone.await.unwrap().is_none(), "{}", backend.name);
        backend.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outbox_message_is_claimed_by_exactly_one_worker() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let id = unique("m");
        let outgoing = Outgoing {
            mail: mail(&id, "ann@example.com", None),
            token: None,
        };
        store.outbox.enqueue(&[outgoing], None).await.unwrap();
        let due = store.outbox.due_mail(NOW, 10).await.unwrap();
        assert_eq!(due.len(), 1, "{}", backend.name);
        assert_eq!((due[0].id.as_str(), due[0].attempts), (id.as_str(), 0));

        let mut workers = JoinSet::new();
        for _ in 0..10 {
            let outbox = store.outbox.clone();
            let id = id.clone();
            workers.spawn(async move { outbox.claim_mail(&id, 0, NOW + 60_000).await.unwrap() });
        }
        let claimed = workers.join_all().await.into_iter().filter(|c| *c).count();
        assert_eq!(claimed, 1, "{}", backend.name);
        // Leased: not due again until the lease runs out.
        assert!(store.outbox.due_mail(NOW + 1, 10).await.unwrap().is_empty());
        store.outbox.mail_sent(&id, 1, NOW + 2).await.unwrap();
        let counts = store.outbox.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (0, 0), "{}", backend.name);
        backend.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_counter_never_loses_a_concurrent_hit() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let bucket = unique("b");
        store
            .counters
            .rate_hit(&bucket, 6, 3, NOW + HOUR)
            .await
            .unwrap();
        let mut hits = JoinSet::new();
        for _ in 0..50 {
            let counters = store.counters.clone();
            let bucket = bucket.clone();
            hits.spawn(async move { counters.rate_hit(&bucket, 7, 1, NOW + HOUR).await.unwrap() });
        }
        let mut seen: Vec<(i64, i64)> = hits.join_all().await;
        seen.sort_unstable();
        // Each hit saw its own count, and the previous window's.
        let expected: Vec<(i64, i64)> = (1..=50).map(|n| (3, n)).collect();
        assert_eq!(seen, expected, "{}", backend.name);
        assert_eq!(store.counters.rate_purge(NOW + HOUR + 1).await.unwrap(), 2);
        backend.drop().await;
    }
}

fn imported_session(user_id: &str, token_hash: &str, expires_at_ms: i64) -> NewImportedSession {
    NewImportedSession {
        token_hash: token_hash.to_owned(),
        source: "better-auth".into(),
        user_id: user_id.to_owned(),
        created_at_ms: NOW - HOUR,
        expires_at_ms,
        user_agent: Some("Mozilla/5.0".into()),
        ip: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_imported_session_is_exchanged_exactly_once() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let (user_id, _) = user_with_session(store, "x0").await;
        let rows = [
            imported_session(&user_id, "ba-hash", NOW + HOUR),
            imported_session(&user_id, "ba-expired", NOW),
        ];
        let imported_sessions = &store.imported_sessions;
        assert_eq!(
            imported_sessions
                .insert_imported_sessions(&rows)
                .await
                .unwrap(),
            2
        );
        // An import run twice writes nothing new.
        assert_eq!(
            imported_sessions
                .insert_imported_sessions(&rows)
                .await
                .unwrap(),
            0
        );
        let found = imported_sessions
            .find_imported_session("ba-hash", "better-auth", NOW)
            .await;
        let found = found.unwrap().expect("live and unexchanged");
        assert_eq!(
            (found.user.id.as_str(), found.expires_at_ms),
            (user_id.as_str(), NOW + HOUR)
        );
        for (hash, source) in [("ba-expired", "better-auth"), ("ba-hash", "another-system")] {
            let none = imported_sessions
                .find_imported_session(hash, source, NOW)
                .await;
            assert!(none.unwrap().is_none(), "{hash} from {source}");
        }

        let mut racers = JoinSet::new();
        for i in 0..10 {
            let imported_sessions = store.imported_sessions.clone();
            let opened = session(&user_id, &format!("x1-{i}"));
            let opened_event = event(EventKind::SessionExchanged, &user_id);
            racers.spawn(async move {
                let exchange = Exchange {
                    token_hash: "ba-hash",
                    source: "better-auth",
                };
                imported_sessions
                    .exchange_imported_session(&exchange, &opened, &opened_event, None)
                    .await
                    .unwrap()
            });
        }
        let won = winners(racers).await;
        assert_eq!(won, 1, "{}", backend.name);
        let mut opened = 0;
        for i in 0..10 {
            opened += usize::from(
                store
                    .sessions
                    .find_refresh(&format!("x1-{i}"))
                    .await
                    .unwrap()
                    .is_some(),
            );
        }
        assert_eq!(opened, 1, "one session opened, on {}", backend.name);
        let spent = imported_sessions
            .find_imported_session("ba-hash", "better-auth", NOW)
            .await;
        assert!(spent.unwrap().is_none(), "{}", backend.name);
        // An expired one cannot be spent, even by a caller that found it earlier.
        let exchange = Exchange {
            token_hash: "ba-expired",
            source: "better-auth",
        };
        let late = session(&user_id, "x2");
        let done = event(EventKind::SessionExchanged, &user_id);
        let spent = imported_sessions.exchange_imported_session(&exchange, &late, &done, None);
        assert!(!spent.await.unwrap(), "{}", backend.name);
        assert!(
            store.sessions.find_refresh("x2").await.unwrap().is_none(),
            "nothing half-written"
        );
        backend.drop().await;
    }
}

#[tokio::test]
async fn signing_out_the_others_ends_the_pending_imported_sessions_only() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let (user_id, kept) = user_with_session(store, "y0").await;
        let (other_id, _) = user_with_session(store, "y1").await;
        let rows = [
            imported_session(&user_id, "spent", NOW + HOUR),
            imported_session(&user_id, "pending", NOW + HOUR),
            imported_session(&other_id, "others", NOW + HOUR),
        ];
        store
            .imported_sessions
            .insert_imported_sessions(&rows)
            .await
            .unwrap();
        let exchange = Exchange {
            token_hash: "spent",
            source: "better-auth",
        };
        let opened = session(&user_id, "y-opened");
        let done = event(EventKind::SessionExchanged, &user_id);
        assert!(
            store
                .imported_sessions
                .exchange_imported_session(&exchange, &opened, &done, None)
                .await
                .unwrap()
        );
        assert_eq!(backend.count("imported_sessions", &user_id).await, 2);
        let revoked = store
            .sessions
            .revoke_other_sessions(
                &user_id,
                Some(&kept.id),
                NOW + 1,
                &event(EventKind::OtherSessionsRevoked, &user_id),
            )
            .await
            .unwrap();
        assert_eq!(revoked, vec![opened.id.clone()], "{}", backend.name);
        // The spent row stays as the record of its exchange; the pending one stays too, ended,
        // so that writing it again (a re-run of the import) cannot bring it back.
        assert_eq!(
            backend.count("imported_sessions", &user_id).await,
            2,
            "{}",
            backend.name
        );
        let pending =
            store
                .imported_sessions
                .find_imported_session("pending", "better-auth", NOW + 1);
        assert!(pending.await.unwrap().is_none());
        store
            .imported_sessions
            .insert_imported_sessions(&[imported_session(&user_id, "pending", NOW + HOUR)])
            .await
            .unwrap();
        let again =
            store
                .imported_sessions
                .find_imported_session("pending", "better-auth", NOW + 1);
        assert!(again.await.unwrap().is_none(), "{}", backend.name);
        let others =
            store
                .imported_sessions
                .find_imported_session("others", "better-auth", NOW + 1);
        assert!(
            others.await.unwrap().is_some(),
            "another user's is untouched"
        );
        backend.drop().await;
    }
}

#[tokio::test]
async fn deleting_an_account_takes_its_rows_with_it() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let (user_id, _) = user_with_session(store, "c0").await;
        let task = NewTask {
            id: unique("task"),
            user_id: user_id.clone(),
            title: "t".into(),
            description: None,
            now_ms: NOW,
        };
        store.tasks.create_task(&task).await.unwrap();
        let row = imported_session(&user_id, "c-imported", NOW + HOUR);
        store
            .imported_sessions
            .insert_imported_sessions(&[row])
            .await
            .unwrap();
        let keep = Arc::new(user_with_session(store, "c1").await.0);
        let tables = ["credentials", "sessions", "tasks", "imported_sessions"];
        for table in tables {
            assert_eq!(backend.count(table, &user_id).await, 1, "{table}");
        }
        backend.delete_user(&user_id).await;
        for table in tables {
            assert_eq!(
                backend.count(table, &user_id).await,
                0,
                "{table} on {}",
                backend.name
            );
        }
        assert!(store.sessions.find_refresh("c0").await.unwrap().is_none());
        // Another account is untouched.
        assert!(store.sessions.find_refresh("c1").await.unwrap().is_some());
        assert!(store.accounts.find_user(&keep).await.unwrap().is_some());
        backend.drop().await;
    }
}

/// A user to import, `n` naming their id and address.
fn imported(n: &str, sessions: &[&str]) -> ImportedUser {
    let id = format!("ba{n}XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    ImportedUser {
        email: format!("{n}@Example.com"),
        email_key: format!("{n}@example.com"),
        name: Some(n.to_owned()),
        image: None,
        email_verified: true,
        created_at_ms: NOW - 100 * HOUR,
        password_hash: format!("hash-of-{n}"),
        sessions: sessions
            .iter()
            .map(|token_hash| imported_session(&id, token_hash, NOW + HOUR))
            .collect(),
        now_ms: NOW,
        id,
    }
}

#[tokio::test]
async fn an_import_batch_is_one_transaction_and_a_rerun_changes_nothing() {
    use Imported::*;
    for backend in Backend::all().await {
        let store = &backend.store;
        let imports = &store.imports;
        let batch = [
            imported("ann", &["s-ann"]),
            imported("bo", &[]),
            imported("cy", &[]),
        ];
        let first = imports.import_users(&batch, false).await.unwrap();
        assert_eq!(
            first.users,
            [Inserted, Inserted, Inserted],
            "{}",
            backend.name
        );
        assert_eq!((first.sessions_inserted, first.sessions_unchanged), (1, 0));
        let ann = store
            .accounts
            .find_user(&batch[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ann.email, "ann@Example.com");
        assert_eq!(ann.created_at, NOW - 100 * HOUR);
        assert!(ann.email_verified);
        let login = store
            .credentials
            .find_login("ann@example.com")
            .await
            .unwrap();
        assert_eq!(login.unwrap().password_hash, "hash-of-ann");

        // Again: nothing is written, not even a session already spent by the exchange.
        backend
            .execute(
                "UPDATE imported_sessions SET exchanged_at = 1",
                "UPDATE imported_sessions SET exchanged_at = 1",
            )
            .await;
        let again = imports.import_users(&batch, false).await.unwrap();
        assert_eq!(
            again.users,
            [Unchanged, Unchanged, Unchanged],
            "{}",
            backend.name
        );
        assert_eq!((again.sessions_inserted, again.sessions_unchanged), (0, 1));
        assert_eq!(backend.count("imported_sessions", &batch[0].id).await, 1);
        backend
            .execute(
                "DELETE FROM imported_sessions WHERE exchanged_at IS NULL",
                "DELETE FROM imported_sessions WHERE exchanged_at IS NULL",
            )
            .await;
        assert_eq!(
            backend.count("imported_sessions", &batch[0].id).await,
            1,
            "still spent"
        );

        // What a complete run did not bring has ended in the source: ended here too, but
        // never one already exchanged (Ann's); a dry run only counts.
        let source = "better-auth";
        let bo = [imported("bo", &["s-bo1", "s-bo2"])];
        let written = imports.import_users(&bo, false).await.unwrap();
        assert_eq!(written.sessions_inserted, 2);
        let live = |hash: &'static str| async move {
            let sessions = &store.imported_sessions;
            let found = sessions.find_imported_session(hash, source, NOW);
            found.await.unwrap().is_some()
        };
        let brought: HashSet<String> = ["s-bo2".to_owned()].into();
        let counted = imports.end_sessions_not_brought(source, &brought, true);
        assert_eq!(counted.await.unwrap(), 1, "{}", backend.name);
        assert!(live("s-bo1").await, "a dry run ends nothing");
        let ended = imports.end_sessions_not_brought(source, &brought, false);
        assert_eq!(ended.await.unwrap(), 1, "{}", backend.name);
        // One: Ann's session, not brought either, is spent, so not pending.
        assert!(!live("s-bo1").await && live("s-bo2").await);
        // Ended, the row stays, so a later run cannot bring it back.
        let back = imports.import_users(&bo, false).await.unwrap();
        assert_eq!(back.sessions_inserted, 0);
        assert!(!live("s-bo1").await);
        // Another source's sessions are not this one's to end.
        let none = HashSet::new();
        let other = imports.end_sessions_not_brought("other", &none, false);
        assert_eq!(other.await.unwrap(), 0);
        assert!(live("s-bo2").await);

        // Another address under a taken id, a taken address under another id.
        let mut moved = imported("ann", &["s-moved"]);
        moved.email_key = "ann@elsewhere.example".into();
        let mut twin = imported("dee", &[]);
        twin.email_key = "bo@example.com".into();
        let conflicts = imports.import_users(&[moved, twin], false).await.unwrap();
        assert_eq!(conflicts.users, [IdTaken, EmailTaken], "{}", backend.name);
        assert_eq!(
            conflicts.sessions_inserted, 0,
            "no session for a refused user"
        );

        // A dry run answers as a real run would, and keeps nothing.
        let dry = imports
            .import_users(&[imported("eve", &["s-eve"])], true)
            .await
            .unwrap();
        assert_eq!((dry.users[0], dry.sessions_inserted), (Inserted, 1));
        let eve = imported("eve", &[]).id;
        assert!(
            store.accounts.find_user(&eve).await.unwrap().is_none(),
            "{}",
            backend.name
        );

        // A row the database refuses part-way: nothing of its batch is kept.
        backend
            .execute(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON users
                 WHEN NEW.email_key = 'boom@example.com'
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                     IF NEW.email_key = 'boom@example.com' THEN
                         RAISE EXCEPTION 'refused by the test';
                     END IF;
                     RETURN NEW;
                 END $$;
                 CREATE TRIGGER refuse_boom BEFORE INSERT ON users
                 FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
            )
            .await;
        let failing = [imported("fay", &["s-fay"]), imported("boom", &[])];
        assert!(imports.import_users(&failing, false).await.is_err());
        let fay = &failing[0].id;
        assert!(
            store.accounts.find_user(fay).await.unwrap().is_none(),
            "{}",
            backend.name
        );
        assert_eq!(backend.count("imported_sessions", fay).await, 0);
        backend.drop().await;
    }
}

#[tokio::test]
async fn a_password_hash_upgrade_writes_only_over_the_hash_it_replaces() {
    for backend in Backend::all().await {
        let store = &backend.store;
        let (user_id, _) = user_with_session(store, "u0").await;
        let email = format!("{user_id}@example.com");
        let stored = || async {
            store
                .credentials
                .find_login(&email)
                .await
                .unwrap()
                .unwrap()
                .password_hash
        };
        // The account was registered with "hash"; a change lands before the upgrade does.
        store
            .credentials
            .set_password_hash(&user_id, "changed", NOW)
            .await
            .unwrap();
        let upgraded = store
            .credentials
            .upgrade_password_hash(&user_id, "hash", "upgraded", NOW)
            .await;
        assert!(!upgraded.unwrap(), "{}", backend.name);
        assert_eq!(stored().await, "changed");
        let upgraded = store
            .credentials
            .upgrade_password_hash(&user_id, "changed", "upgraded", NOW)
            .await;
        assert!(upgraded.unwrap(), "{}", backend.name);
        assert_eq!(stored().await, "upgraded");
        backend.drop().await;
    }
}

#[tokio::test]
async fn the_hash_kinds_are_one_hash_of_each_format_and_parameters() {
    let bcrypt = |cost: &str, salt: char| format!("$2b${cost}${}", salt.to_string().repeat(53));
    let argon2 =
        |m: u32, salt: &str| format!("$argon2id$v=19$m={m},t=2,p=1${salt}$aGFzaGhhc2hoYXNoaGFzaA");
    let better_auth = |salt: char| format!("{}:{}", salt.to_string().repeat(32), "ab".repeat(64));
    let stored = [
        bcrypt("12", 'a'),
        bcrypt("12", 'b'),
        bcrypt("10", 'c'),
        argon2(19456, "c2FsdHNhbHRzYWx0"),
        argon2(19456, "b3RoZXJzYWx0c2FsdA"),
        argon2(65536, "c2FsdHNhbHRzYWx0"),
        better_auth('1'),
        better_auth('2'),
        "$scrypt$ln=16,r=8,p=1$c2FsdA$ZGlnZXN0".into(),
        "$scrypt$ln=16,r=8,p=1$b3RoZXI$ZGlnZXN0".into(),
        "plain text".into(),
    ];
    for backend in Backend::all().await {
        let store = &backend.store;
        assert!(store.credentials.hash_kinds().await.unwrap().is_empty());
        for hash in &stored {
            let (user_id, _) = user_with_session(store, &unique("r")).await;
            store
                .credentials
                .set_password_hash(&user_id, hash, NOW)
                .await
                .unwrap();
        }
        let mut kinds = store.credentials.hash_kinds().await.unwrap();
        kinds.sort();
        let mut expected = vec![
            // The first of each kind in text order.
            bcrypt("10", 'c'),
            bcrypt("12", 'a'),
            argon2(19456, "b3RoZXJzYWx0c2FsdA"),
            argon2(65536, "c2FsdHNhbHRzYWx0"),
            better_auth('1'),
            "$scrypt$ln=16,r=8,p=1$b3RoZXI$ZGlnZXN0".into(),
            "plain text".into(),
        ];
        expected.sort();
        assert_eq!(kinds, expected, "{}", backend.name);
        backend.drop().await;
    }
}

/// How many of the racers won (answered true).
async fn winners(racers: JoinSet<bool>) -> usize {
    racers
        .join_all()
        .await
        .into_iter()
        .filter(|won| *won)
        .count()
}
