//! What every handler can reach.

use std::sync::Arc;

use latchkey_core::bridge::BridgeKey;
use latchkey_core::client_ip::TrustedProxies;
use latchkey_core::cookie::Cookies;
use latchkey_core::csrf::TrustedOrigins;
use latchkey_core::hash::DEFAULT_COST;
use latchkey_core::onetime::OneTimeKey;
use latchkey_core::refresh::{RefreshKey, RefreshPolicy};
use latchkey_core::{AccessTokens, PasswordPolicy, Secret};
use latchkey_store::Store;

use crate::clock::Clock;
use crate::keys::KeyFile;
use crate::limiter::memory::MemoryCounters;
use crate::limiter::{Counters, DatabaseCounters, Limiter};
use crate::liveness::LivenessCache;
use crate::mail::outbox::{LinkKeys, Outbox};
use crate::mail::{self, Mailer};
use crate::observe::Metrics;
use crate::passwords::Hasher;
use crate::profiles::ProfileCache;
use crate::settings::{JwtAlg, RateLimitStore, SecretText, Settings, duration};

pub struct AppState {
    pub store: Store,
    pub tokens: AccessTokens,
    /// Derives refresh tokens; from the server secret, which the app never holds.
    pub refresh_key: RefreshKey,
    /// The key earlier releases derived refresh tokens under (from the app's secret). Used
    /// only to re-derive a token whose stored hash it matches: a session's live token from
    /// before the upgrade, handed out again in the grace window. Never to derive a new one.
    pub legacy_refresh_key: RefreshKey,
    pub refresh_policy: RefreshPolicy,
    pub cookies: Cookies,
    pub trusted_origins: TrustedOrigins,
    pub liveness: LivenessCache,
    pub profiles: ProfileCache,
    pub policy: PasswordPolicy,
    pub hasher: Hasher,
    pub clock: Arc<dyn Clock>,
    /// Derives the tokens in emailed links; from the server secret.
    pub onetime_key: OneTimeKey,
    /// Sends what the flows write to the mail outbox.
    pub outbox: Arc<Outbox>,
    /// Sign-in waits for a verified address; registration reveals nothing.
    pub require_email_verification: bool,
    /// Bounds the work flows do after answering (forgot-password's look-up and email).
    pub background: Arc<tokio::sync::Semaphore>,
    /// Whose forwarding headers name the client, and which header that is.
    pub trusted_proxies: TrustedProxies,
    pub forwarded_header: crate::settings::ForwardedHeader,
    /// Checks the client address the Next.js bridge vouches for. Drawn from the shared
    /// secret (the one the app holds too), under its own label.
    pub bridge_key: BridgeKey,
    /// The rate limits and their counters.
    pub limiter: Limiter,
    /// Live sessions a user may have at once.
    pub max_sessions: usize,
    /// This server's figures, served on LATCHKEY_METRICS_LISTEN.
    pub metrics: Metrics,
    /// The secret that signed the session cookies of the Better Auth a team moved from;
    /// `None`: no exchange.
    pub better_auth_secret: Option<SecretText>,
}

impl AppState {
    /// `secret` is the app's (it signs HS256 access tokens, and re-derives what earlier
    /// releases derived from it); `server_secret` is the server's own, for everything else.
    pub fn new(
        settings: &Settings,
        secret: &Secret,
        server_secret: &Secret,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        Self::assemble(settings, secret, server_secret, store, clock, None)
    }

    /// As [`AppState::new`], with a mailer of the caller's choosing (tests).
    pub fn with_mailer(
        settings: &Settings,
        secret: &Secret,
        server_secret: &Secret,
        store: Store,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
    ) -> anyhow::Result<Self> {
        Self::assemble(settings, secret, server_secret, store, clock, Some(mailer))
    }

    fn assemble(
        settings: &Settings,
        secret: &Secret,
        server_secret: &Secret,
        store: Store,
        clock: Arc<dyn Clock>,
        mailer: Option<Arc<dyn Mailer>>,
    ) -> anyhow::Result<Self> {
        // Checked once, and before any mailer is made: production must not fall back to
        // the file mailer.
        let checked = settings.check()?;
        let mailer = match mailer {
            Some(mailer) => mailer,
            None => mail::from_settings(settings)?,
        };
        // Redis needs a connection, made in `startup::build_state`; until then, memory.
        let counters: Arc<dyn Counters> = match settings.rate_limit_store() {
            RateLimitStore::Database => Arc::new(DatabaseCounters::new(store.clone())),
            RateLimitStore::Memory | RateLimitStore::Redis => {
                Arc::new(MemoryCounters::new(MEMORY_COUNTERS))
            }
        };
        let limiter = Limiter::new(counters, checked.rules, clock.clone());
        let onetime_key = OneTimeKey::new(server_secret);
        let outbox = Arc::new(Outbox::new(
            store.clone(),
            mailer,
            clock.clone(),
            LinkKeys {
                current: onetime_key.clone(),
                legacy: OneTimeKey::new(secret),
            },
            settings.link_base(),
            checked.templates,
        ));
        let hasher = Hasher::new(DEFAULT_COST);
        let metrics = Metrics::new(limiter.refusals(), hasher.queue_wait());
        let ms = |duration| duration::secs(duration).saturating_mul(1000);
        let sessions = &settings.sessions;
        Ok(AppState {
            store,
            tokens: access_tokens(settings, secret, clock.now_secs())?,
            refresh_key: RefreshKey::new(server_secret),
            legacy_refresh_key: RefreshKey::new(secret),
            refresh_policy: RefreshPolicy {
                idle_ms: ms(sessions.idle_ttl),
                absolute_ms: ms(sessions.ttl),
                grace_ms: ms(sessions.refresh_grace),
            },
            cookies: checked.cookies,
            trusted_origins: checked.trusted_origins,
            liveness: LivenessCache::new(ms(sessions.cache_ttl)),
            profiles: ProfileCache::new(ms(sessions.cache_ttl)),
            // NIST SP 800-63B's context-specific words: the product's name and the operator's
            // list here; each account's email and display name at each check.
            policy: PasswordPolicy::new(usize::from(settings.accounts.password_min_length))?
                .with_context_words(
                    std::iter::once(settings.mail.app_name.as_str()).chain(
                        settings
                            .accounts
                            .password_context_words
                            .iter()
                            .map(String::as_str),
                    ),
                ),
            hasher,
            clock,
            onetime_key,
            outbox,
            require_email_verification: settings.accounts.require_email_verification,
            background: Arc::new(tokio::sync::Semaphore::new(BACKGROUND_TASKS)),
            trusted_proxies: checked.trusted_proxies,
            forwarded_header: settings.proxies.header,
            bridge_key: BridgeKey::new(secret),
            limiter,
            max_sessions: usize::try_from(sessions.max_per_user).unwrap_or(usize::MAX),
            metrics,
            better_auth_secret: settings
                .secrets
                .better_auth
                .clone()
                .filter(|secret| !secret.expose().is_empty()),
        })
    }
}

/// Counters the in-memory rate-limit store keeps at most (a few MB).
const MEMORY_COUNTERS: usize = 100_000;

/// Background tasks (see [`AppState::background`]) allowed at once.
const BACKGROUND_TASKS: usize = 64;

/// HS256 from the secret, or EdDSA from the keys file. In development a missing keys file
/// is created with a first key (production refused an empty one in [`Settings::check`]).
fn access_tokens(settings: &Settings, secret: &Secret, now: i64) -> anyhow::Result<AccessTokens> {
    let config = &settings.tokens;
    let ttl = duration::secs(config.access_ttl);
    let tokens = match config.jwt_alg {
        JwtAlg::Hs256 => AccessTokens::new(secret, &config.issuer, &config.audience),
        JwtAlg::EdDsa => {
            let path = &config.keys_file;
            let mut file = KeyFile::read(path)?;
            if file.keys.is_empty() {
                let kid = file.rotate(now, 0)?;
                file.write(path)?;
                tracing::warn!(file = %path.display(), %kid, "generated a development signing key and saved it in this file");
            }
            let keys = file
                .load(ttl, AccessTokens::DEFAULT_LEEWAY_SECS)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            AccessTokens::eddsa(
                &keys.signers,
                keys.verifying,
                &config.issuer,
                &config.audience,
            )
        }
    };
    Ok(tokens.with_lifetime(ttl))
}
