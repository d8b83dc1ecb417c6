//! What every handler can reach.

use std::sync::Arc;

use latchkey_core::bridge::BridgeKey;
use latchkey_core::client_ip::TrustedProxies;
use latchkey_core::cookie::Cookies;
use latchkey_core::csrf::{self, TrustedOrigins};
use latchkey_core::hash::DEFAULT_COST;
use latchkey_core::onetime::OneTimeKey;
use latchkey_core::refresh::{RefreshKey, RefreshPolicy};
use latchkey_core::{AccessTokens, PasswordPolicy, Secret};
use latchkey_store::Store;

use crate::clock::Clock;
use crate::config::{Environment, JwtAlg, MailerKind, RateLimitStore, Settings, SmtpTls};
use crate::keys::KeyFile;
use crate::limiter::memory::MemoryCounters;
use crate::limiter::{Counters, DatabaseCounters, Limiter, Rules};
use crate::liveness::LivenessCache;
use crate::mail::outbox::{LinkKeys, Outbox};
use crate::mail::{self, Mailer};
use crate::passwords::Hasher;
use crate::profiles::ProfileCache;

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
    pub forwarded_header: crate::config::ForwardedHeader,
    /// Checks the client address the Next.js bridge vouches for. Drawn from the shared
    /// secret (the one the app holds too), under its own label.
    pub bridge_key: BridgeKey,
    /// The rate limits and their counters.
    pub limiter: Limiter,
    /// Live sessions a user may have at once.
    pub max_sessions: usize,
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
        // Before the mailer exists: production must not fall back to the file mailer.
        check_production(settings)?;
        let mailer = mail::from_settings(settings)?;
        Self::with_mailer(settings, secret, server_secret, store, clock, mailer)
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
        let cookies = check_production(settings)?;
        let trusted_origins = TrustedOrigins::parse(
            std::iter::once(csrf::origin_of_url(&settings.public_url))
                .chain(settings.trusted_origins.iter().map(String::as_str)),
        )
        .map_err(|e| anyhow::anyhow!("LATCHKEY_TRUSTED_ORIGINS: {e}"))?;
        let trusted_proxies =
            TrustedProxies::parse(settings.trusted_proxies.iter().map(String::as_str))
                .map_err(|e| anyhow::anyhow!("LATCHKEY_TRUSTED_PROXIES: {e}"))?;
        let rules = Rules::parse(&settings.rate_limits)
            .map_err(|e| anyhow::anyhow!("LATCHKEY_RATE_LIMITS: {e}"))?;
        // Redis needs a connection, made in `startup::build_state`; until then, memory.
        let counters: Arc<dyn Counters> = match settings.rate_limit_store() {
            RateLimitStore::Database => Arc::new(DatabaseCounters::new(store.clone())),
            RateLimitStore::Memory | RateLimitStore::Redis => {
                Arc::new(MemoryCounters::new(MEMORY_COUNTERS))
            }
        };
        let limiter = Limiter::new(counters, rules, clock.clone());
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
            &settings.app_name,
        ));
        Ok(AppState {
            store,
            tokens: access_tokens(settings, secret, clock.now_secs())?,
            refresh_key: RefreshKey::new(server_secret),
            legacy_refresh_key: RefreshKey::new(secret),
            refresh_policy: RefreshPolicy {
                idle_ms: settings.session_idle_ttl.saturating_mul(1000),
                absolute_ms: settings.session_ttl.saturating_mul(1000),
                grace_ms: settings.refresh_grace.saturating_mul(1000),
            },
            cookies,
            trusted_origins,
            liveness: LivenessCache::new(settings.session_cache_ttl.saturating_mul(1000)),
            profiles: ProfileCache::new(settings.session_cache_ttl.saturating_mul(1000)),
            // NIST SP 800-63B's context-specific words: the product's name and the operator's
            // list here; each account's email and display name at each check.
            policy: PasswordPolicy::new(usize::from(settings.password_min_length))?
                .with_context_words(
                    std::iter::once(settings.app_name.as_str())
                        .chain(settings.password_context_words.iter().map(String::as_str)),
                ),
            hasher: Hasher::new(DEFAULT_COST),
            clock,
            onetime_key,
            outbox,
            require_email_verification: settings.require_email_verification,
            background: Arc::new(tokio::sync::Semaphore::new(BACKGROUND_TASKS)),
            trusted_proxies,
            forwarded_header: settings.forwarded_header,
            bridge_key: BridgeKey::new(secret),
            limiter,
            max_sessions: usize::try_from(settings.max_sessions).unwrap_or(usize::MAX),
        })
    }
}

/// Counters the in-memory rate-limit store keeps at most (a few MB).
const MEMORY_COUNTERS: usize = 100_000;

/// Background tasks (see [`AppState::background`]) allowed at once.
const BACKGROUND_TASKS: usize = 64;

/// The cookie rules for the public URL, after production's refusals: cookies only over
/// https, and real email.
fn check_production(settings: &Settings) -> anyhow::Result<Cookies> {
    let cookies = Cookies::for_public_url(&settings.public_url)
        .map_err(|e| anyhow::anyhow!("LATCHKEY_PUBLIC_URL {:?}: {e}", settings.public_url))?;
    if settings.environment == Environment::Production {
        if !cookies.is_secure() {
            anyhow::bail!(
                "production mode needs an https:// LATCHKEY_PUBLIC_URL: cookies over plain http \
                 can be read by anyone on the network"
            );
        }
        check_production_mail(settings)?;
    }
    Ok(cookies)
}

/// Production sends real email: a password reset that silently goes to a folder is an
/// outage, and plain SMTP is acceptable only to a relay on the same host.
fn check_production_mail(settings: &Settings) -> anyhow::Result<()> {
    let smtp = settings.mailer == Some(MailerKind::Smtp)
        || (settings.mailer.is_none() && settings.smtp_host.is_some());
    if !smtp {
        anyhow::bail!(
            "production mode needs a mailer: set LATCHKEY_SMTP_HOST (and LATCHKEY_SMTP_USER, \
             LATCHKEY_SMTP_PASSWORD, LATCHKEY_MAIL_FROM)"
        );
    }
    let host = settings.smtp_host.as_deref().unwrap_or_default();
    let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
    if settings.smtp_tls == SmtpTls::None && !local {
        anyhow::bail!(
            "LATCHKEY_SMTP_TLS=none sends passwords and links in the clear; in production it \
             is allowed only for a relay on this host"
        );
    }
    Ok(())
}

/// HS256 from the secret, or EdDSA from the keys file. In development a missing keys file
/// is created with a first key; production refuses to start without one.
fn access_tokens(settings: &Settings, secret: &Secret, now: i64) -> anyhow::Result<AccessTokens> {
    let tokens = match settings.jwt_alg {
        JwtAlg::Hs256 => AccessTokens::new(secret, &settings.issuer, &settings.audience),
        JwtAlg::EdDsa => {
            let path = &settings.keys_file;
            let mut file = KeyFile::read(path)?;
            if file.keys.is_empty() {
                if settings.environment == Environment::Production {
                    anyhow::bail!(
                        "LATCHKEY_JWT_ALG=EdDSA but {} holds no key; run `latchkey keys generate`",
                        path.display()
                    );
                }
                let kid = file.rotate(now, 0)?;
                file.write(path)?;
                tracing::warn!(file = %path.display(), %kid, "generated a development signing key and saved it in this file");
            }
            let keys = file
                .load(settings.access_token_ttl, AccessTokens::DEFAULT_LEEWAY_SECS)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            AccessTokens::eddsa(
                &keys.signers,
                keys.verifying,
                &settings.issuer,
                &settings.audience,
            )
        }
    };
    Ok(tokens.with_lifetime(settings.access_token_ttl))
}
