//! The outbox worker: sends what the flows wrote into `mail_outbox`.
//!
//! Flows never talk to a mail server. They write the email (its template, its data, the id
//! of its one-time token) in the same transaction as the change that caused it, and wake
//! this worker. The worker takes each due message with a lease (a compare-and-set, so
//! several instances can run workers on one database and no message goes out twice from a
//! race), renders it — re-deriving the link's token from the token's seed, since no table
//! holds a token, under the key whose derivation matches the stored hash — and hands it to
//! the [`Mailer`]. A temporary failure schedules a retry with exponential backoff; a restart
//! simply finds the message still due.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use latchkey_core::onetime::{self, OneTimeKey, Purpose};
use latchkey_store::{PendingMail, Store, StoreError};
use tokio::sync::{Notify, watch};

use super::templates::{Data, Kind, Templates};
use super::{Email, MailError, Mailer};
use crate::clock::Clock;

/// Messages taken per query, and sent at once: one slow relay round trip must not hold up
/// the rest of a burst (lettre pools the connections).
const BATCH: i64 = 16;
/// How long a taken message is reserved for its worker before another may try it.
const LEASE_MS: i64 = 60_000;
/// The longest one delivery may take, pool wait included; well inside the lease, so no
/// other worker takes a message while it is still being sent.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts before a message is given up (the backoff makes that about a day).
pub const MAX_ATTEMPTS: i64 = 30;
/// How often the worker looks for due messages when nobody wakes it (retries, and mail
/// written by other instances).
const POLL: Duration = Duration::from_secs(1);

/// The keys a link's token may have been derived under.
#[derive(Debug, Clone)]
pub struct LinkKeys {
    /// From the server secret: every token made by this release.
    pub current: OneTimeKey,
    /// From the app's secret, as earlier releases derived tokens: only for mail queued
    /// before the upgrade, recognised by its stored hash.
    pub legacy: OneTimeKey,
}

impl LinkKeys {
    /// The token with this id, seed and purpose whose stored hash is `hash`, under whichever
    /// key derived it; `None` if neither did (the app's secret changed since).
    pub fn token(&self, id: &str, seed: &str, purpose: Purpose, hash: &str) -> Option<String> {
        [&self.current, &self.legacy]
            .into_iter()
            .map(|key| key.token(id, seed, purpose))
            .find(|token| onetime::hash(token) == hash)
    }
}

pub struct Outbox {
    store: Store,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    keys: LinkKeys,
    /// Where links point: the app's origin, no trailing slash.
    link_base: String,
    templates: Templates,
    /// The store raises it when a write that queued mail commits.
    wake: Arc<Notify>,
    /// Whether the mailer itself failed the last message handed to it (out of reach, TLS,
    /// a timeout, our credentials refused), for `/readyz`: an outage even while the
    /// database is fine. A refusal of one message or recipient does not count: anyone can
    /// cause one by registering an address that bounces.
    last_send_failed: AtomicBool,
}

impl Outbox {
    pub fn new(
        store: Store,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        keys: LinkKeys,
        link_base: &str,
        templates: Templates,
    ) -> Self {
        Outbox {
            wake: store.mail_written.clone(),
            store,
            mailer,
            clock,
            keys,
            link_base: link_base.trim_end_matches('/').to_owned(),
            templates,
            last_send_failed: AtomicBool::new(false),
        }
    }

    /// Whether the mailer itself failed the last message it was given (until the relay
    /// answers again, if only to refuse a message).
    pub fn last_send_failed(&self) -> bool {
        self.last_send_failed.load(Ordering::Relaxed)
    }

    pub fn mailer_name(&self) -> &'static str {
        self.mailer.name()
    }

    /// Asks the worker to look for due messages now. Writes that queue mail need not: their
    /// commit does it (see [`latchkey_store::Store::mail_written`]).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until `stop` turns true (or its sender is gone).
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            if let Err(err) = self.deliver_due().await {
                tracing::error!(error = %err, "mail outbox: cannot read the outbox");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                changed = stop.changed() => if changed.is_err() || *stop.borrow() { break },
            }
        }
    }

    /// Sends every message due now; returns how many went out.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let mut sent = 0;
        loop {
            let due = self
                .store
                .outbox
                .due_mail(self.clock.now_ms(), BATCH)
                .await?;
            let full = due.len() as i64 == BATCH;
            let results = join_all(due.into_iter().map(|mail| self.deliver(mail))).await;
            for result in results {
                if result? {
                    sent += 1;
                }
            }
            if !full {
                return Ok(sent);
            }
        }
    }

    async fn deliver(&self, mail: PendingMail) -> Result<bool, StoreError> {
        let now_ms = self.clock.now_ms();
        if !self
            .store
            .outbox
            .claim_mail(&mail.id, mail.attempts, now_ms + LEASE_MS)
            .await?
        {
            return Ok(false);
        }
        let attempt = mail.attempts + 1;
        let email = match self.render(&mail) {
            Ok(email) => email,
            Err(reason) => {
                tracing::error!(mail_id = %mail.id, kind = %mail.kind, reason, "mail outbox: message dropped");
                self.store
                    .outbox
                    .mail_not_sent(&mail.id, attempt, reason, None, now_ms)
                    .await?;
                return Ok(false);
            }
        };
        let result = match tokio::time::timeout(SEND_TIMEOUT, self.mailer.send(&email)).await {
            Ok(result) => result,
            Err(_) => Err(MailError::Unreachable("timed out".into())),
        };
        let done_ms = self.clock.now_ms();
        // Any reply from the relay, even a refusal of this one message, shows it working.
        self.last_send_failed.store(
            matches!(result, Err(MailError::Unreachable(_))),
            Ordering::Relaxed,
        );
        match result {
            Ok(()) => {
                self.store
                    .outbox
                    .mail_sent(&mail.id, attempt, done_ms)
                    .await?;
                tracing::info!(
                    mail_id = %mail.id,
                    kind = %mail.kind,
                    attempt,
                    queued_ms = done_ms - mail.created_at,
                    mailer = self.mailer.name(),
                    "email sent"
                );
                Ok(true)
            }
            Err(MailError::Temporary(error) | MailError::Unreachable(error))
                if attempt < MAX_ATTEMPTS =>
            {
                let retry_at = done_ms + backoff_ms(attempt);
                tracing::warn!(mail_id = %mail.id, kind = %mail.kind, attempt, %error, retry_in_ms = retry_at - done_ms, "email not sent; will retry");
                self.store
                    .outbox
                    .mail_not_sent(&mail.id, attempt, &error, Some(retry_at), done_ms)
                    .await?;
                Ok(false)
            }
            Err(err) => {
                let error = err.to_string();
                tracing::error!(mail_id = %mail.id, kind = %mail.kind, attempt, %error, "email given up");
                self.store
                    .outbox
                    .mail_not_sent(&mail.id, attempt, &error, None, done_ms)
                    .await?;
                Ok(false)
            }
        }
    }

    fn render(&self, mail: &PendingMail) -> Result<Email, &'static str> {
        let kind = Kind::parse(&mail.kind).ok_or("unknown template")?;
        let data: Data = serde_json::from_str(&mail.data).map_err(|_| "unreadable data")?;
        let mut link = format!("{}{}", self.link_base, kind.page());
        if kind.has_token() {
            let (Some(id), Some(seed), Some(purpose), Some(hash)) = (
                &mail.token_id,
                &mail.token_seed,
                &mail.token_purpose,
                &mail.token_hash,
            ) else {
                return Err("its one-time token no longer exists");
            };
            let purpose = Purpose::parse(purpose).ok_or("unknown token purpose")?;
            let token = self
                .keys
                .token(id, seed, purpose, hash)
                .ok_or("its one-time token was derived under a key this server no longer has")?;
            // In the fragment: browsers never send it to a server, so the token stays out
            // of access logs and Referer headers; the page reads it and posts it.
            link.push_str("#token=");
            link.push_str(&token);
        }
        let content = self.templates.render(kind, &data, &link).map_err(|error| {
            tracing::error!(mail_id = %mail.id, %error, "mail outbox: cannot render the message");
            "its template cannot be rendered"
        })?;
        Ok(Email {
            to: mail.recipient.clone(),
            content,
        })
    }
}

/// 5 s after the first failure, doubling, at most an hour apart.
pub fn backoff_ms(attempt: i64) -> i64 {
    let doublings = u32::try_from(attempt.clamp(1, 20) - 1).unwrap_or(0);
    5_000_i64.saturating_mul(1 << doublings).min(3_600_000)
}

#[cfg(test)]
mod tests {
    use latchkey_core::Secret;
    use latchkey_store::{EventKind, NewMail, NewOneTimeToken, Outgoing, Purpose};

    use super::*;
    use crate::clock::ManualClock;
    use crate::mail::memory::MemoryMailer;

    const T0: i64 = 1_800_000_000_000;

    struct Rig {
        store: Store,
        clock: Arc<ManualClock>,
        mailer: Arc<MemoryMailer>,
        key: OneTimeKey,
        legacy: OneTimeKey,
    }

    impl Rig {
        async fn new() -> Rig {
            let store = latchkey_store::connect("sqlite::memory:").await.unwrap();
            Rig {
                store,
                clock: Arc::new(ManualClock::new(T0)),
                mailer: Arc::new(MemoryMailer::default()),
                key: OneTimeKey::new(
                    &Secret::parse("outbox-test-secret-0123456789abcdef").unwrap(),
                ),
                legacy: OneTimeKey::new(
                    &Secret::parse("outbox-test-app-secret-0123456789abcdef").unwrap(),
                ),
            }
        }

        fn outbox(&self) -> Outbox {
            Outbox::new(
                self.store.clone(),
                self.mailer.clone(),
                self.clock.clone(),
                LinkKeys {
                    current: self.key.clone(),
                    legacy: self.legacy.clone(),
                },
                "https://app.example/",
                Templates::load(None, "Acme").unwrap(),
            )
        }

        async fn notice(&self, id: &str) {
            let mail = NewMail {
                id: id.into(),
                kind: "password_changed",
                recipient: "ann@example.com".into(),
                data: "{}".into(),
                token_id: None,
                now_ms: self.clock.now_ms(),
            };
            self.store
                .outbox
                .enqueue(&[Outgoing { token: None, mail }], None)
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn an_outage_delays_a_message_until_its_backoff_has_passed() {
        let rig = Rig::new().await;
        let outbox = rig.outbox();
        rig.notice("m1").await;
        rig.mailer.set_down(true);
        assert_eq!(outbox.deliver_due().await.unwrap(), 0);
        rig.mailer.set_down(false);
        rig.clock.advance_secs(4);
        assert_eq!(
            outbox.deliver_due().await.unwrap(),
            0,
            "not before the backoff"
        );
        rig.clock.advance_secs(1);
        assert_eq!(outbox.deliver_due().await.unwrap(), 1);
        let sent = rig.mailer.sent();
        assert_eq!(sent.len(), 1);
        assert!(
            sent[0]
                .content
                .text
                .contains("https://app.example/forgot-password")
        );
        assert_eq!(outbox.deliver_due().await.unwrap(), 0, "sent once");
        let counts = rig.store.outbox.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (0, 0));
    }

    #[tokio::test]
    async fn a_message_is_given_up_after_the_last_attempt() {
        let rig = Rig::new().await;
        let outbox = rig.outbox();
        rig.notice("m1").await;
        rig.mailer.set_down(true);
        for _ in 0..MAX_ATTEMPTS {
            outbox.deliver_due().await.unwrap();
            rig.clock.advance_secs(3600);
        }
        let counts = rig.store.outbox.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (0, 1));
    }

    #[tokio::test]
    async fn a_worker_whose_lease_ran_out_cannot_undo_the_next_attempt() {
        let rig = Rig::new().await;
        rig.notice("m1").await;
        let due = rig.store.outbox.due_mail(T0, 10).await.unwrap();
        // Attempt 1 takes the row, and its lease runs out; attempt 2 takes it and sends.
        assert!(
            rig.store
                .outbox
                .claim_mail("m1", due[0].attempts, T0 + 1)
                .await
                .unwrap()
        );
        let later = rig.store.outbox.due_mail(T0 + 1, 10).await.unwrap();
        assert!(
            rig.store
                .outbox
                .claim_mail("m1", later[0].attempts, T0 + 60_001)
                .await
                .unwrap()
        );
        rig.store.outbox.mail_sent("m1", 2, T0 + 2).await.unwrap();
        // The first worker finally reports a failure: nothing changes.
        rig.store
            .outbox
            .mail_not_sent("m1", 1, "late", None, T0 + 3)
            .await
            .unwrap();
        let counts = rig.store.outbox.outbox_counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (0, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_workers_on_one_database_send_each_message_once() {
        let rig = Rig::new().await;
        for i in 0..60 {
            rig.notice(&format!("m{i:02}")).await;
        }
        let (a, b) = (Arc::new(rig.outbox()), Arc::new(rig.outbox()));
        let (sent_a, sent_b) = tokio::join!(
            tokio::spawn({
                let a = a.clone();
                async move { a.deliver_due().await.unwrap() }
            }),
            tokio::spawn({
                let b = b.clone();
                async move { b.deliver_due().await.unwrap() }
            }),
        );
        assert_eq!(sent_a.unwrap() + sent_b.unwrap(), 60);
        assert_eq!(rig.mailer.sent().len(), 60);
    }

    #[tokio::test]
    async fn a_link_is_rendered_from_the_tokens_seed_and_matches_its_stored_hash() {
        let rig = Rig::new().await;
        // The token row needs its user.
        let user = latchkey_store::NewUser {
            id: "u1".into(),
            email: "ann@example.com".into(),
            email_key: "ann@example.com".into(),
            name: Some("Ann".into()),
            password_hash: "x".into(),
            locale: None,
            now_ms: T0,
        };
        let event = latchkey_store::NewEvent {
            id: "e1".into(),
            kind: EventKind::Registered,
            user_id: Some("u1".into()),
            session_id: None,
            ip: None,
            user_agent: None,
            now_ms: T0,
        };
        let token = rig.key.token("t1", "seed", Purpose::ResetPassword);
        let outgoing = Outgoing {
            token: Some(NewOneTimeToken {
                id: "t1".into(),
                token_hash: latchkey_core::onetime::hash(&token),
                seed: "seed".into(),
                user_id: "u1".into(),
                purpose: Purpose::ResetPassword,
                email: "ann@example.com".into(),
                now_ms: T0,
                expires_at_ms: T0 + 3_600_000,
                keep_session: None,
            }),
            mail: NewMail {
                id: "m1".into(),
                kind: "reset_password",
                recipient: "ann@example.com".into(),
                data: r#"{"name":"Ann"}"#.into(),
                token_id: Some("t1".into()),
                now_ms: T0,
            },
        };
        rig.store
            .accounts
            .register(&user, None, &event, &[outgoing])
            .await
            .unwrap();
        assert_eq!(rig.outbox().deliver_due().await.unwrap(), 1);
        let sent = rig.mailer.sent();
        let expected = format!("https://app.example/reset-password#token={token}");
        assert!(
            sent[0].content.text.contains(&expected),
            "{}",
            sent[0].content.text
        );
        assert!(sent[0].content.text.starts_with("Hello Ann,"));
        let found = rig
            .store
            .one_time
            .find_one_time(
                &latchkey_core::onetime::hash(&token),
                Purpose::ResetPassword,
                T0,
            )
            .await
            .unwrap();
        assert!(found.is_some());
    }

    #[test]
    fn backoff_doubles_from_five_seconds_to_at_most_an_hour() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(5), 80_000);
        assert_eq!(backoff_ms(12), 3_600_000);
        assert_eq!(backoff_ms(MAX_ATTEMPTS), 3_600_000);
        let total: i64 = (1..MAX_ATTEMPTS).map(backoff_ms).sum();
        assert!(
            (20 * 3_600_000..30 * 3_600_000).contains(&total),
            "about a day of retries: {total}"
        );
    }
}
