//! Settings: command-line flags, each with an environment-variable fallback and a default.
//!
//! The secrets get special care. There are two: the app's (`LATCHKEY_SECRET`), which the
//! Next.js app holds too, to verify HS256 access tokens; and the server's own
//! (`LATCHKEY_SERVER_SECRET`), which nobody else holds and from which refresh tokens and
//! emailed links are derived, so reading the app's environment and the database is not
//! enough to mint either. In production (`LATCHKEY_ENV=production`) both must be given, be
//! at least 32 bytes and differ, or the server refuses to start. In development a missing
//! secret is generated once and kept in a local file, so tokens survive restarts, and the
//! start-up log says so.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_core::{Secret, random};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// How access tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JwtAlg {
    /// A shared secret (`LATCHKEY_SECRET`); the seeds' choice and the default.
    #[value(name = "HS256")]
    Hs256,
    /// Ed25519 keys from the keys file, published at `/.well-known/jwks.json`.
    #[value(name = "EdDSA")]
    EdDsa,
}

/// Where emails go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MailerKind {
    /// An SMTP relay (`LATCHKEY_SMTP_HOST` …).
    Smtp,
    /// `.eml` files in `LATCHKEY_MAIL_OUTBOX_DIR`, for development.
    File,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on this host.
    None,
}

/// Which forwarding header a trusted proxy writes (and so which one is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx, HAProxy, AWS ALB, Vercel, Cloudflare…).
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    Forwarded,
}

/// Where rate-limit counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RateLimitStore {
    /// This process's memory: one instance only.
    Memory,
    /// The database: shared by every instance on it, nothing else to run.
    Database,
    /// Redis (`REDIS_URL`): shared, and the fastest shared store.
    Redis,
}

/// A secret as configured: `Debug` never shows it, so no log line or panic can.
#[derive(Clone, Default)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything `latchkey serve` can be told. The secrets are read from the environment (or a
/// file) only (`LATCHKEY_SECRET`, then `BETTER_AUTH_SECRET`; `LATCHKEY_SERVER_SECRET`): a
/// command-line flag would show them in `ps`.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// sqlite://… (the default, created on start) or postgres://…
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://latchkey.db")]
    pub database_url: String,

    /// `production` refuses to start without a strong secret.
    #[arg(
        long = "env",
        env = "LATCHKEY_ENV",
        value_enum,
        default_value = "development"
    )]
    pub environment: Environment,

    /// The HS256 signing secret, when given in code rather than the environment (tests).
    #[arg(skip)]
    pub secret: Option<SecretText>,

    /// Where development mode keeps its generated secret.
    #[arg(long, env = "LATCHKEY_SECRET_FILE", default_value = "latchkey.secret")]
    pub secret_file: PathBuf,

    /// The server's own secret, when given in code rather than the environment (tests).
    #[arg(skip)]
    pub server_secret: Option<SecretText>,

    /// A file holding the server secret, read when LATCHKEY_SERVER_SECRET is not set.
    /// Development creates it when missing (default: `latchkey.server-secret` beside
    /// LATCHKEY_SECRET_FILE); production only reads it.
    #[arg(long, env = "LATCHKEY_SERVER_SECRET_FILE")]
    pub server_secret_file: Option<PathBuf>,

    /// The `iss` claim of issued access tokens.
    #[arg(long, env = "LATCHKEY_ISSUER", default_value = "latchkey")]
    pub issuer: String,

    /// The `aud` claim of issued access tokens.
    #[arg(long, env = "LATCHKEY_AUDIENCE", default_value = "latchkey")]
    pub audience: String,

    /// Access-token lifetime in seconds (60 to 86400).
    #[arg(long, env = "LATCHKEY_ACCESS_TOKEN_TTL", default_value_t = 900,
          value_parser = clap::value_parser!(i64).range(60..=86_400))]
    pub access_token_ttl: i64,

    /// Absolute session lifetime in seconds, however active (one hour to one year).
    #[arg(long, env = "LATCHKEY_SESSION_TTL", default_value_t = 30 * 24 * 3600,
          value_parser = clap::value_parser!(i64).range(3_600..=366 * 24 * 3_600))]
    pub session_ttl: i64,

    /// A session not refreshed for this many seconds ends (5 minutes to one year).
    #[arg(long, env = "LATCHKEY_SESSION_IDLE_TTL", default_value_t = 7 * 24 * 3600,
          value_parser = clap::value_parser!(i64).range(300..=366 * 24 * 3_600))]
    pub session_idle_ttl: i64,

    /// Seconds a spent refresh token may be presented again and get the same successor
    /// (0 to 60; 0 makes every reuse a revocation).
    #[arg(long, env = "LATCHKEY_REFRESH_GRACE", default_value_t = 10,
          value_parser = clap::value_parser!(i64).range(0..=60))]
    pub refresh_grace: i64,

    /// Seconds a live session, and the profile `GET /me` returns, are remembered before the
    /// database is asked again (0 to 60; 0 asks on every request). Revocations and profile
    /// changes on this instance clear them at once; the TTL bounds how long another
    /// instance's take to be seen here.
    #[arg(long, env = "LATCHKEY_SESSION_CACHE_TTL", default_value_t = 5,
          value_parser = clap::value_parser!(i64).range(0..=60))]
    pub session_cache_ttl: i64,

    /// Live sessions a user may have at once (1 to 10000); signing in past it ends the least
    /// recently used.
    #[arg(long, env = "LATCHKEY_MAX_SESSIONS", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_sessions: u32,

    /// Where browsers reach the app. `https://…` gives `__Host-` cookies with `Secure`;
    /// `http://` is accepted for localhost only. Its origin is always trusted for CSRF.
    #[arg(
        long,
        env = "LATCHKEY_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_url: String,

    /// More origins allowed to make cookie-authenticated changes, comma-separated
    /// (e.g. `https://app.example.com,http://localhost:3000`).
    #[arg(long, env = "LATCHKEY_TRUSTED_ORIGINS", value_delimiter = ',')]
    pub trusted_origins: Vec<String>,

    /// Access-token signing: `HS256` (shared secret) or `EdDSA` (Ed25519 keys, JWKS).
    #[arg(
        long,
        env = "LATCHKEY_JWT_ALG",
        value_enum,
        ignore_case = true,
        default_value = "HS256"
    )]
    pub jwt_alg: JwtAlg,

    /// The Ed25519 keys (EdDSA only); `latchkey keys generate` creates and rotates them.
    #[arg(long, env = "LATCHKEY_KEYS_FILE", default_value = "latchkey.keys.json")]
    pub keys_file: PathBuf,

    /// Minimum password length in characters (8 to 128).
    #[arg(long, env = "LATCHKEY_PASSWORD_MIN_LENGTH", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(8..=128))]
    pub password_min_length: u16,

    /// Words no password may contain, comma-separated, beside the product's name (the
    /// company, its products, the city…): each bans itself and its parts of 4+ characters.
    #[arg(long, env = "LATCHKEY_PASSWORD_CONTEXT_WORDS", value_delimiter = ',')]
    pub password_context_words: Vec<String>,

    /// Refuse sign-in until the address is verified; registration then answers 202 for new
    /// and existing addresses alike, so it reveals no accounts.
    #[arg(long, env = "LATCHKEY_REQUIRE_EMAIL_VERIFICATION", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub require_email_verification: bool,

    /// The product name in emails.
    #[arg(long, env = "LATCHKEY_APP_NAME", default_value = "Latchkey")]
    pub app_name: String,

    /// Where links in emails point (the app's pages `/reset-password`, `/verify-email`,
    /// `/confirm-email`, `/unblock`); defaults to LATCHKEY_PUBLIC_URL.
    #[arg(long, env = "LATCHKEY_LINK_URL")]
    pub link_url: Option<String>,

    /// `smtp` or `file`; by default SMTP when LATCHKEY_SMTP_HOST is set, else files.
    #[arg(long, env = "LATCHKEY_MAILER", value_enum)]
    pub mailer: Option<MailerKind>,

    /// The SMTP relay's host name.
    #[arg(long, env = "LATCHKEY_SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// The SMTP port (default 587 for STARTTLS, 465 for TLS, 25 for none).
    #[arg(long, env = "LATCHKEY_SMTP_PORT")]
    pub smtp_port: Option<u16>,

    /// `starttls`, `tls` or `none` (a relay on this host only).
    #[arg(
        long,
        env = "LATCHKEY_SMTP_TLS",
        value_enum,
        default_value = "starttls"
    )]
    pub smtp_tls: SmtpTls,

    /// The SMTP user name; the password is read from LATCHKEY_SMTP_PASSWORD only.
    #[arg(long, env = "LATCHKEY_SMTP_USER")]
    pub smtp_user: Option<String>,

    /// The SMTP password, when given in code rather than the environment (tests).
    #[arg(skip)]
    pub smtp_password: Option<SecretText>,

    /// The sender of every email.
    #[arg(
        long,
        env = "LATCHKEY_MAIL_FROM",
        default_value = "Latchkey <no-reply@localhost>"
    )]
    pub mail_from: String,

    /// Where the development file mailer writes `.eml` files.
    #[arg(long, env = "LATCHKEY_MAIL_OUTBOX_DIR", default_value = "mail-outbox")]
    pub mail_outbox_dir: PathBuf,

    /// Proxies (CIDRs or addresses, comma-separated) whose `X-Forwarded-For` / `Forwarded`
    /// name the client; from anyone else the TCP peer is the client.
    #[arg(long, env = "LATCHKEY_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// The header your proxies write: `x-forwarded-for` (the default) or `forwarded`. Only
    /// that one is read; a client's own copy of the other cannot choose its address.
    #[arg(
        long,
        env = "LATCHKEY_FORWARDED_HEADER",
        value_enum,
        default_value = "x-forwarded-for"
    )]
    pub forwarded_header: ForwardedHeader,

    /// `memory`, `database` or `redis`; by default Redis when REDIS_URL is set, else memory.
    #[arg(long, env = "LATCHKEY_RATE_LIMIT_STORE", value_enum)]
    pub rate_limit_store: Option<RateLimitStore>,

    /// Rate-limit rules: the defaults, changed by comma-separated `name=count/window` items
    /// (e.g. `signin_ip=10/15m`), or `off`.
    #[arg(long, env = "LATCHKEY_RATE_LIMITS", default_value = "")]
    pub rate_limits: String,

    /// Redis, when given in code rather than the environment (tests); read from REDIS_URL
    /// only, since the URL may carry a password.
    #[arg(skip)]
    pub redis_url: Option<SecretText>,

    /// Prefix of every Redis key, so deployments sharing a Redis stay apart.
    #[arg(long, env = "LATCHKEY_REDIS_PREFIX", default_value = "latchkey:")]
    pub redis_prefix: String,
}

/// The server secret [`Settings::for_tests`] starts with.
pub const TEST_SERVER_SECRET: &str = "latchkey-tests-server-secret-0123456789abcdef";

impl Settings {
    /// The settings a test or an embedding program starts from, without reading the
    /// command line or the environment.
    pub fn for_tests(database_url: &str, secret: &str) -> Self {
        Settings {
            listen: ([127, 0, 0, 1], 0).into(),
            database_url: database_url.to_owned(),
            environment: Environment::Development,
            secret: Some(SecretText(secret.to_owned())),
            secret_file: PathBuf::from("latchkey.secret"),
            server_secret: Some(SecretText(TEST_SERVER_SECRET.to_owned())),
            server_secret_file: None,
            issuer: "latchkey".into(),
            audience: "latchkey-tests".into(),
            access_token_ttl: 900,
            session_ttl: 30 * 24 * 3600,
            session_idle_ttl: 7 * 24 * 3600,
            refresh_grace: 10,
            session_cache_ttl: 5,
            max_sessions: 50,
            public_url: "http://localhost:8080".into(),
            trusted_origins: Vec::new(),
            jwt_alg: JwtAlg::Hs256,
            keys_file: PathBuf::from("latchkey.keys.json"),
            password_min_length: 8,
            password_context_words: Vec::new(),
            require_email_verification: false,
            app_name: "Latchkey".into(),
            link_url: None,
            mailer: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: SmtpTls::Starttls,
            smtp_user: None,
            smtp_password: None,
            mail_from: "Latchkey <no-reply@localhost>".into(),
            mail_outbox_dir: std::env::temp_dir().join("latchkey-test-mail"),
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::XForwardedFor,
            rate_limit_store: Some(RateLimitStore::Memory),
            // Tests of other things make many requests from one address; the rate-limit
            // tests switch the rules on (with the defaults, or their own).
            rate_limits: "off".into(),
            redis_url: None,
            redis_prefix: "latchkey:".into(),
        }
    }

    /// The Redis URL: as configured in code, else REDIS_URL.
    pub fn redis_url(&self) -> Option<String> {
        match &self.redis_url {
            Some(SecretText(url)) => Some(url.clone()),
            None => std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()),
        }
    }

    /// Which rate-limit store to use.
    pub fn rate_limit_store(&self) -> RateLimitStore {
        self.rate_limit_store
            .unwrap_or(if self.redis_url().is_some() {
                RateLimitStore::Redis
            } else {
                RateLimitStore::Memory
            })
    }

    /// The SMTP password: as configured in code, else from LATCHKEY_SMTP_PASSWORD (never a
    /// flag, which `ps` would show).
    pub fn smtp_password(&self) -> Option<String> {
        match &self.smtp_password {
            Some(SecretText(p)) => Some(p.clone()),
            None => std::env::var("LATCHKEY_SMTP_PASSWORD").ok(),
        }
    }

    /// Where links in emails point.
    pub fn link_base(&self) -> &str {
        self.link_url.as_deref().unwrap_or(&self.public_url)
    }

    /// Resolves the signing secret according to the environment's rules.
    pub fn load_secret(&self) -> anyhow::Result<Secret> {
        let from_env = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|s| !s.is_empty())
                .map(|s| (name, s))
        };
        let given = match &self.secret {
            Some(SecretText(s)) if !s.is_empty() => Some(("the configured secret", s.clone())),
            _ => from_env("LATCHKEY_SECRET").or_else(|| from_env("BETTER_AUTH_SECRET")),
        };
        match (given, self.environment) {
            (Some((name, secret)), _) => Secret::parse(secret).map_err(|_| {
                anyhow::anyhow!(
                    "{name} is too short: it must be at least {} bytes \
                     (generate one with `openssl rand -base64 48`)",
                    Secret::MIN_LEN
                )
            }),
            (None, Environment::Production) => Err(anyhow::anyhow!(
                "LATCHKEY_SECRET is not set; production mode needs a secret of at least {} bytes",
                Secret::MIN_LEN
            )),
            (None, Environment::Development) => {
                development_secret(&self.secret_file, "LATCHKEY_SECRET")
            }
        }
    }

    /// Resolves the server's own secret: LATCHKEY_SERVER_SECRET, else the file
    /// LATCHKEY_SERVER_SECRET_FILE names; in development a missing one is generated into
    /// `latchkey.server-secret` beside the app's secret file. It must differ from `app`
    /// (the app's secret): the point of a second secret is that the app cannot derive with
    /// it.
    pub fn load_server_secret(&self, app: &Secret) -> anyhow::Result<Secret> {
        let given = match &self.server_secret {
            Some(SecretText(s)) if !s.is_empty() => {
                Some(("the configured server secret", s.clone()))
            }
            _ => std::env::var("LATCHKEY_SERVER_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
                .map(|s| ("LATCHKEY_SERVER_SECRET", s)),
        };
        let secret = match (given, &self.server_secret_file, self.environment) {
            (Some((name, secret)), _, _) => Secret::parse(secret).map_err(|_| {
                anyhow::anyhow!(
                    "{name} is too short: it must be at least {} bytes \
                     (generate one with `openssl rand -base64 48`)",
                    Secret::MIN_LEN
                )
            })?,
            (None, Some(path), Environment::Production) => read_secret_file(path)?,
            (None, None, Environment::Production) => anyhow::bail!(
                "LATCHKEY_SERVER_SECRET is not set; production mode needs a server secret of at \
                 least {} bytes, different from LATCHKEY_SECRET (generate one with \
                 `openssl rand -base64 48`; only the server may hold it)",
                Secret::MIN_LEN
            ),
            (None, path, Environment::Development) => {
                let default = self.secret_file.with_file_name("latchkey.server-secret");
                development_secret(path.as_ref().unwrap_or(&default), "LATCHKEY_SERVER_SECRET")?
            }
        };
        // Compared without surrounding whitespace: one copy from a file (trimmed) and one from
        // the environment with a stray newline are still the same key material.
        if secret.expose().trim_ascii() == app.expose().trim_ascii() {
            anyhow::bail!(
                "LATCHKEY_SERVER_SECRET must differ from LATCHKEY_SECRET: the app holds \
                 LATCHKEY_SECRET, and must not be able to derive refresh tokens or emailed links"
            );
        }
        // The tests' secret is public: a production server keyed with it (an embedding
        // program that started from `for_tests`) would let anyone reading the database mint
        // refresh tokens and links.
        if self.environment == Environment::Production
            && secret.expose() == TEST_SERVER_SECRET.as_bytes()
        {
            anyhow::bail!(
                "the server secret is the public test secret; production needs its own                  LATCHKEY_SERVER_SECRET"
            );
        }
        Ok(secret)
    }
}

/// Reads a secret kept in a file (surrounding whitespace trimmed).
fn read_secret_file(path: &Path) -> anyhow::Result<Secret> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?;
    Secret::parse(text.trim()).map_err(|_| {
        anyhow::anyhow!(
            "{} holds a secret under {} bytes",
            path.display(),
            Secret::MIN_LEN
        )
    })
}

/// Writes `contents` to `path` atomically (a private temporary file, then a rename), so a
/// crash never leaves a half-written file behind.
pub fn replace_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::remove_file(&tmp).ok();
    write_private(&tmp, contents)
        .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|err| anyhow::anyhow!("cannot replace {}: {err}", path.display()))
}

/// Reads the development secret `var` stands in for from `path`, creating it (readable by
/// its owner only) first.
fn development_secret(path: &Path, var: &str) -> anyhow::Result<Secret> {
    let fresh = URL_SAFE_NO_PAD.encode(random::bytes::<32>()?);
    match write_private(path, &fresh) {
        Ok(()) => {
            tracing::warn!(file = %path.display(), "generated a development secret and saved it in this file; set {var} in production");
            return Ok(Secret::parse(fresh)?);
        }
        // Already there (from an earlier start, or a process starting beside this one).
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => anyhow::bail!("cannot create {}: {err}", path.display()),
    }
    tracing::warn!(file = %path.display(), "using the development secret kept in this file; set {var} in production");
    read_secret_file(path)
}

/// Creates `path` (it must not exist) readable by its owner only, with `contents`.
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_ref())
}
