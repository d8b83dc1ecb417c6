//! Every setting, once: its key (in the file, and as a path in [`super::Settings`]), its
//! environment variable, its flag, and its help. The loader, the flags and `latchkey
//! config` all read this table, so a name cannot be spelled two ways.

/// One setting.
#[derive(Debug)]
pub struct Var {
    /// `section.field` (a top-level field has no section).
    pub key: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// Older or foreign names for the same setting, read before `env` (so `env` wins).
    pub aliases: &'static [&'static str],
    /// `--flag`, if the setting has one. Secrets have none: `ps` would show them.
    pub flag: Option<&'static str>,
    pub kind: Kind,
    pub help: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One value.
    Value,
    /// Comma-separated in the environment, a repeatable flag, an array in the file.
    List,
    /// A secret. `NAME_FILE` (in the file, `field_file`) names a file holding it, read at load.
    Secret,
    /// A secret that is a URL: `latchkey config` shows it with the credentials hidden.
    SecretUrl,
    /// One of the two key secrets: its file is a setting of its own (development creates it).
    KeySecret,
}

impl Var {
    pub fn is_secret(&self) -> bool {
        matches!(self.kind, Kind::Secret | Kind::SecretUrl | Kind::KeySecret)
    }

    /// For [`Kind::Secret`] and [`Kind::SecretUrl`]: the variable and the file key naming a
    /// file that holds it.
    pub fn file_names(&self) -> Option<(String, String)> {
        matches!(self.kind, Kind::Secret | Kind::SecretUrl)
            .then(|| (format!("{}_FILE", self.env), format!("{}_file", self.key)))
    }
}

const fn var(key: &'static str, env: &'static str, flag: &'static str, help: &'static str) -> Var {
    Var {
        key,
        env,
        aliases: &[],
        flag: Some(flag),
        kind: Kind::Value,
        help,
    }
}

const fn list(key: &'static str, env: &'static str, flag: &'static str, help: &'static str) -> Var {
    Var {
        kind: Kind::List,
        ..var(key, env, flag, help)
    }
}

const fn secret(key: &'static str, env: &'static str, kind: Kind, help: &'static str) -> Var {
    Var {
        key,
        env,
        aliases: &[],
        flag: None,
        kind,
        help,
    }
}

/// In the order `latchkey config` prints them.
pub const VARS: &[Var] = &[
    var(
        "environment",
        "LATCHKEY_ENV",
        "env",
        "`development` or `production`: production refuses to start without strong secrets, https and real email",
    ),
    var(
        "http.listen",
        "LATCHKEY_LISTEN",
        "listen",
        "address to listen on",
    ),
    var(
        "http.public_url",
        "LATCHKEY_PUBLIC_URL",
        "public-url",
        "where browsers reach the app: `https://…` gives `__Host-` cookies with `Secure`; `http://` is accepted for localhost only. Its origin is always trusted for CSRF",
    ),
    list(
        "http.trusted_origins",
        "LATCHKEY_TRUSTED_ORIGINS",
        "trusted-origins",
        "more origins allowed to make cookie-authenticated changes, comma-separated",
    ),
    Var {
        kind: Kind::SecretUrl,
        ..var(
            "database.url",
            "DATABASE_URL",
            "database-url",
            "`sqlite://…` (created on start) or `postgres://…`",
        )
    },
    var(
        "database.pooler",
        "LATCHKEY_DATABASE_POOLER",
        "database-pooler",
        "PostgreSQL: `transaction` when DATABASE_URL is a pooler in transaction mode (PgBouncer's `pool_mode = transaction`, Neon's `-pooler` host), else `none` (the default; a transaction pooler is then refused at start)",
    ),
    var(
        "database.schema",
        "LATCHKEY_DATABASE_SCHEMA",
        "database-schema",
        "PostgreSQL: the schema for Latchkey's tables and migrations, created if missing (lower-case letters, digits, `_`), so it can share a database with an app's own `users` or `tasks`; unset: the URL's default schema. Not for SQLite, whose file is Latchkey's own",
    ),
    Var {
        aliases: &["BETTER_AUTH_SECRET"],
        ..secret(
            "secrets.app",
            "LATCHKEY_SECRET",
            Kind::KeySecret,
            "the app's secret (HS256 access tokens), at least 32 bytes; also read from BETTER_AUTH_SECRET",
        )
    },
    var(
        "secrets.app_file",
        "LATCHKEY_SECRET_FILE",
        "secret-file",
        "a file holding LATCHKEY_SECRET: production reads it; development creates it when missing (default `latchkey.secret`)",
    ),
    secret(
        "secrets.server",
        "LATCHKEY_SERVER_SECRET",
        Kind::KeySecret,
        "the server's own secret (refresh tokens, emailed links), at least 32 bytes, not LATCHKEY_SECRET",
    ),
    var(
        "secrets.server_file",
        "LATCHKEY_SERVER_SECRET_FILE",
        "server-secret-file",
        "a file holding LATCHKEY_SERVER_SECRET: production reads it; development creates it when missing (default `latchkey.server-secret` beside LATCHKEY_SECRET_FILE)",
    ),
    secret(
        "secrets.better_auth",
        "LATCHKEY_BETTER_AUTH_SECRET",
        Kind::Secret,
        "the BETTER_AUTH_SECRET of the Better Auth you move from: with it, a user's Better Auth session cookie is exchanged once for a Latchkey session (`POST /api/v1/auth/exchange/better-auth`); unset, that answers 404 `exchange_not_configured`",
    ),
    var(
        "tokens.jwt_alg",
        "LATCHKEY_JWT_ALG",
        "jwt-alg",
        "access-token signing: `HS256` (shared secret) or `EdDSA` (Ed25519 keys, JWKS)",
    ),
    var(
        "tokens.keys_file",
        "LATCHKEY_KEYS_FILE",
        "keys-file",
        "the Ed25519 keys (EdDSA only); `latchkey keys generate` creates and rotates them",
    ),
    var(
        "tokens.issuer",
        "LATCHKEY_ISSUER",
        "issuer",
        "the `iss` claim of access tokens",
    ),
    var(
        "tokens.audience",
        "LATCHKEY_AUDIENCE",
        "audience",
        "the `aud` claim of access tokens",
    ),
    var(
        "tokens.access_ttl",
        "LATCHKEY_ACCESS_TOKEN_TTL",
        "access-token-ttl",
        "access-token lifetime (1m to 1d; seconds, or 15m, 1h…)",
    ),
    var(
        "sessions.ttl",
        "LATCHKEY_SESSION_TTL",
        "session-ttl",
        "absolute session lifetime, however active (1h to 366d)",
    ),
    var(
        "sessions.idle_ttl",
        "LATCHKEY_SESSION_IDLE_TTL",
        "session-idle-ttl",
        "a session not refreshed for this long ends (5m to 366d)",
    ),
    var(
        "sessions.refresh_grace",
        "LATCHKEY_REFRESH_GRACE",
        "refresh-grace",
        "how long a spent refresh token may be presented again and get the same successor (0 to 60s; 0 makes every reuse a revocation)",
    ),
    var(
        "sessions.cache_ttl",
        "LATCHKEY_SESSION_CACHE_TTL",
        "session-cache-ttl",
        "how long a live session, and the profile `GET /me` returns, are remembered before the database is asked again (0 to 60s)",
    ),
    var(
        "sessions.max_per_user",
        "LATCHKEY_MAX_SESSIONS",
        "max-sessions",
        "live sessions a user may have at once (1 to 10000); signing in past it ends the least recently used",
    ),
    var(
        "accounts.password_min_length",
        "LATCHKEY_PASSWORD_MIN_LENGTH",
        "password-min-length",
        "minimum password length in characters (8 to 128)",
    ),
    list(
        "accounts.password_context_words",
        "LATCHKEY_PASSWORD_CONTEXT_WORDS",
        "password-context-words",
        "words no password may contain, comma-separated, beside the product's name",
    ),
    var(
        "accounts.require_email_verification",
        "LATCHKEY_REQUIRE_EMAIL_VERIFICATION",
        "require-email-verification",
        "refuse sign-in until the address is verified (`true` or `false`); registration then reveals no accounts",
    ),
    var(
        "mail.mailer",
        "LATCHKEY_MAILER",
        "mailer",
        "`smtp` or `file`; by default SMTP when LATCHKEY_SMTP_HOST is set, else files",
    ),
    var(
        "mail.app_name",
        "LATCHKEY_APP_NAME",
        "app-name",
        "the product name in emails",
    ),
    var(
        "mail.link_url",
        "LATCHKEY_LINK_URL",
        "link-url",
        "where links in emails point (the app's pages); defaults to LATCHKEY_PUBLIC_URL",
    ),
    var(
        "mail.from",
        "LATCHKEY_MAIL_FROM",
        "mail-from",
        "the sender of every email",
    ),
    var(
        "mail.outbox_dir",
        "LATCHKEY_MAIL_OUTBOX_DIR",
        "mail-outbox-dir",
        "where the development file mailer writes `.eml` files",
    ),
    var(
        "mail.templates_dir",
        "LATCHKEY_TEMPLATES_DIR",
        "templates-dir",
        "a folder of email templates replacing the built-in ones file by file (same layout as crates/server/templates); every one is checked at start",
    ),
    var(
        "mail.smtp_host",
        "LATCHKEY_SMTP_HOST",
        "smtp-host",
        "the SMTP relay's host name",
    ),
    var(
        "mail.smtp_port",
        "LATCHKEY_SMTP_PORT",
        "smtp-port",
        "the SMTP port (default 587 for STARTTLS, 465 for TLS, 25 for none)",
    ),
    var(
        "mail.smtp_tls",
        "LATCHKEY_SMTP_TLS",
        "smtp-tls",
        "`starttls`, `tls` or `none` (a relay on this host only)",
    ),
    var(
        "mail.smtp_user",
        "LATCHKEY_SMTP_USER",
        "smtp-user",
        "the SMTP user name",
    ),
    secret(
        "mail.smtp_password",
        "LATCHKEY_SMTP_PASSWORD",
        Kind::Secret,
        "the SMTP password",
    ),
    list(
        "proxies.trusted",
        "LATCHKEY_TRUSTED_PROXIES",
        "trusted-proxies",
        "proxies (CIDRs or addresses, comma-separated) whose forwarding header names the client",
    ),
    var(
        "proxies.header",
        "LATCHKEY_FORWARDED_HEADER",
        "forwarded-header",
        "the header your proxies write: `x-forwarded-for` or `forwarded`; only that one is read",
    ),
    var(
        "limits.rules",
        "LATCHKEY_RATE_LIMITS",
        "rate-limits",
        "rate-limit rules: the defaults, changed by comma-separated `name=count/window` items (e.g. `signin_ip=10/15m`), or `off`",
    ),
    var(
        "limits.store",
        "LATCHKEY_RATE_LIMIT_STORE",
        "rate-limit-store",
        "`memory`, `database` or `redis`; by default Redis when REDIS_URL is set, else memory",
    ),
    secret(
        "limits.redis_url",
        "REDIS_URL",
        Kind::SecretUrl,
        "Redis, for rate-limit counters",
    ),
    var(
        "limits.redis_prefix",
        "LATCHKEY_REDIS_PREFIX",
        "redis-prefix",
        "prefix of every Redis key, so deployments sharing a Redis stay apart",
    ),
    var(
        "limits.redis_ca_file",
        "LATCHKEY_REDIS_CA_FILE",
        "redis-ca-file",
        "a PEM file of the CA certificates to trust for a `rediss://` REDIS_URL instead of the public roots (a private CA)",
    ),
    var(
        "telemetry.metrics_listen",
        "LATCHKEY_METRICS_LISTEN",
        "metrics-listen",
        "where Prometheus metrics are served (`GET /metrics`), e.g. `127.0.0.1:9464`; unset, nowhere. Must not be LATCHKEY_LISTEN",
    ),
    var(
        "telemetry.log_format",
        "LATCHKEY_LOG_FORMAT",
        "log-format",
        "`text` (one line per event) or `json` (one JSON object per event)",
    ),
];

/// The setting with this key.
pub fn by_key(key: &str) -> Option<&'static Var> {
    VARS.iter().find(|var| var.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_a_field_of_the_settings() {
        let mut settings = super::super::Settings::for_tests("sqlite://x.db", "s");
        // Fill the optional fields, so that every key serializes.
        settings.secrets.app_file = Some("a".into());
        settings.secrets.server_file = Some("b".into());
        settings.secrets.better_auth = Some(super::super::SecretText::new("c"));
        settings.mail.mailer = Some(super::super::MailerKind::File);
        settings.mail.link_url = Some("http://l".into());
        settings.mail.smtp_host = Some("h".into());
        settings.mail.templates_dir = Some("t".into());
        settings.mail.smtp_port = Some(25);
        settings.mail.smtp_user = Some("u".into());
        settings.mail.smtp_password = Some(super::super::SecretText::new("p"));
        settings.limits.redis_url = Some(super::super::SecretText::new("redis://r"));
        settings.limits.redis_ca_file = Some("ca.pem".into());
        settings.database.schema = Some("s".into());
        settings.telemetry.metrics_listen = Some(([127, 0, 0, 1], 9464).into());
        let tree = toml::Table::try_from(&settings).unwrap();
        let mut keys = Vec::new();
        for (name, value) in &tree {
            match value.as_table() {
                Some(section) => keys.extend(section.keys().map(|field| format!("{name}.{field}"))),
                None => keys.push(name.clone()),
            }
        }
        let listed: Vec<_> = VARS.iter().map(|var| var.key.to_owned()).collect();
        keys.sort();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let mut envs: Vec<_> = VARS.iter().map(|var| var.env).collect();
        envs.sort();
        envs.dedup();
        assert_eq!(
            envs.len(),
            VARS.len(),
            "an environment variable is used twice"
        );
    }
}
