//! What a setting cannot be on its own (its range), and what the settings cannot be
//! together (production's refusals).
//!
//! Ranges are checked at load, where the error can name the variable, flag or file key that
//! gave the value. The rest is [`Settings::check`]: it parses what the state is built from
//! and applies production's rules, once per start (the state is built from its result) and
//! once per `latchkey config`.

use std::time::Duration;

use latchkey_core::client_ip::TrustedProxies;
use latchkey_core::cookie::Cookies;
use latchkey_core::csrf::{self, TrustedOrigins};

use super::{
    DAY, Environment, HOUR, JwtAlg, MINUTE, MailerKind, Settings, SmtpTls, Sources, duration,
};
use crate::keys::KeyFile;
use crate::limiter::Rules;
use crate::mail::templates::Templates;

/// Refuses a value outside its setting's range, naming where it came from.
pub fn ranges(s: &Settings, sources: &Sources) -> anyhow::Result<()> {
    if let Some(metrics) = s.telemetry.metrics_listen
        && metrics.port() == s.http.listen.port()
        && (metrics.ip() == s.http.listen.ip()
            || metrics.ip().is_unspecified()
            || s.http.listen.ip().is_unspecified())
    {
        anyhow::bail!(
            "{}: {metrics} is the public listener ({}); metrics need a port of their own",
            sources.name("telemetry.metrics_listen"),
            sources.name("http.listen")
        );
    }
    let secs = Duration::from_secs;
    let spans = [
        ("tokens.access_ttl", s.tokens.access_ttl, MINUTE, DAY),
        ("sessions.ttl", s.sessions.ttl, HOUR, 366 * DAY),
        (
            "sessions.idle_ttl",
            s.sessions.idle_ttl,
            5 * MINUTE,
            366 * DAY,
        ),
        ("sessions.refresh_grace", s.sessions.refresh_grace, 0, 60),
        ("sessions.cache_ttl", s.sessions.cache_ttl, 0, 60),
    ];
    for (key, value, min, max) in spans {
        if !(secs(min)..=secs(max)).contains(&value) {
            anyhow::bail!(
                "{}: {} is outside {} to {}",
                sources.name(key),
                duration::format(value),
                duration::format(secs(min)),
                duration::format(secs(max))
            );
        }
    }
    let counts = [
        (
            "sessions.max_per_user",
            u64::from(s.sessions.max_per_user),
            1,
            10_000,
        ),
        (
            "accounts.password_min_length",
            u64::from(s.accounts.password_min_length),
            8,
            128,
        ),
    ];
    for (key, value, min, max) in counts {
        if !(min..=max).contains(&value) {
            anyhow::bail!("{}: {value} is outside {min} to {max}", sources.name(key));
        }
    }
    Ok(())
}

/// What the state is built from, parsed from the settings' text.
pub struct Checked {
    pub cookies: Cookies,
    pub trusted_origins: TrustedOrigins,
    pub trusted_proxies: TrustedProxies,
    pub rules: Rules,
    /// The email templates, every one of them rendered once with sample data.
    pub templates: Templates,
}

impl Settings {
    /// How the store reaches PostgreSQL and where it keeps its tables. Refused: a schema
    /// name that is not a plain identifier, and either option with SQLite (its file is
    /// Latchkey's own, so nothing can collide there).
    pub fn database_options(&self) -> anyhow::Result<latchkey_store::Options> {
        let sqlite = self.database.url.expose().starts_with("sqlite:");
        if sqlite && self.database.pooler != super::DatabasePooler::None {
            anyhow::bail!(
                "LATCHKEY_DATABASE_POOLER applies to PostgreSQL only; DATABASE_URL is SQLite"
            );
        }
        let schema = match &self.database.schema {
            None => None,
            Some(_) if sqlite => anyhow::bail!(
                "LATCHKEY_DATABASE_SCHEMA applies to PostgreSQL only: a SQLite file is Latchkey's own, so its tables need no schema or prefix; leave it unset"
            ),
            Some(name) => Some(
                latchkey_store::Schema::parse(name)
                    .map_err(|e| anyhow::anyhow!("LATCHKEY_DATABASE_SCHEMA: {e}"))?,
            ),
        };
        let pooler = match self.database.pooler {
            super::DatabasePooler::None => latchkey_store::Pooler::None,
            super::DatabasePooler::Transaction => latchkey_store::Pooler::Transaction,
        };
        Ok(latchkey_store::Options { pooler, schema })
    }

    /// Parses the settings the state is built from, then applies production's refusals.
    pub fn check(&self) -> anyhow::Result<Checked> {
        let public_url = &self.http.public_url;
        let cookies = Cookies::for_public_url(public_url)
            .map_err(|e| anyhow::anyhow!("LATCHKEY_PUBLIC_URL {public_url:?}: {e}"))?;
        let trusted_origins = TrustedOrigins::parse(
            std::iter::once(csrf::origin_of_url(public_url))
                .chain(self.http.trusted_origins.iter().map(String::as_str)),
        )
        .map_err(|e| anyhow::anyhow!("LATCHKEY_TRUSTED_ORIGINS: {e}"))?;
        let trusted_proxies =
            TrustedProxies::parse(self.proxies.trusted.iter().map(String::as_str))
                .map_err(|e| anyhow::anyhow!("LATCHKEY_TRUSTED_PROXIES: {e}"))?;
        let rules = Rules::parse(&self.limits.rules)
            .map_err(|e| anyhow::anyhow!("LATCHKEY_RATE_LIMITS: {e}"))?;
        crate::mail::smtp::sender(self)?;
        self.database_options()?;
        let templates = Templates::load(self.mail.templates_dir.as_deref(), &self.mail.app_name)?;
        if self.rate_limit_store() == super::RateLimitStore::Redis
            && self.limits.redis_url.is_none()
        {
            anyhow::bail!("LATCHKEY_RATE_LIMIT_STORE=redis needs REDIS_URL");
        }
        if let Some(path) = &self.limits.redis_ca_file {
            let tls = self
                .limits
                .redis_url
                .as_ref()
                .is_some_and(|url| url.expose().starts_with("rediss://"));
            if !tls {
                anyhow::bail!(
                    "LATCHKEY_REDIS_CA_FILE is set, but REDIS_URL is not a rediss:// URL: the CA \
                     file is for TLS to Redis only"
                );
            }
            crate::tls::read_ca_file(path)
                .map_err(|e| anyhow::anyhow!("LATCHKEY_REDIS_CA_FILE: {e}"))?;
        }
        if self.environment == Environment::Production {
            self.check_production(&cookies)?;
        }
        Ok(Checked {
            cookies,
            trusted_origins,
            trusted_proxies,
            rules,
            templates,
        })
    }

    /// Production's refusals: cookies only over https, real email, and (EdDSA) keys made
    /// ahead, since every instance must publish a key before any token carries it.
    fn check_production(&self, cookies: &Cookies) -> anyhow::Result<()> {
        if !cookies.is_secure() {
            anyhow::bail!(
                "production mode needs an https:// LATCHKEY_PUBLIC_URL: cookies over plain http \
                 can be read by anyone on the network"
            );
        }
        // A password reset that silently goes to a folder is an outage, and plain SMTP is
        // acceptable only to a relay on the same host.
        if self.mailer() != MailerKind::Smtp {
            anyhow::bail!(
                "production mode needs a mailer: set LATCHKEY_SMTP_HOST (and LATCHKEY_SMTP_USER, \
                 LATCHKEY_SMTP_PASSWORD, LATCHKEY_MAIL_FROM)"
            );
        }
        let host = self.mail.smtp_host.as_deref().unwrap_or_default();
        let local = matches!(host, "localhost" | "127.0.0.1" | "::1");
        if self.mail.smtp_tls == SmtpTls::None && !local {
            anyhow::bail!(
                "LATCHKEY_SMTP_TLS=none sends passwords and links in the clear; in production it \
                 is allowed only for a relay on this host"
            );
        }
        if self.tokens.jwt_alg == JwtAlg::EdDsa {
            let path = &self.tokens.keys_file;
            if KeyFile::read(path)?.keys.is_empty() {
                anyhow::bail!(
                    "LATCHKEY_JWT_ALG=EdDSA but {} holds no key; run `latchkey keys generate`",
                    path.display()
                );
            }
        }
        Ok(())
    }
}
