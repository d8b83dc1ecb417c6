//! Settings: one struct, nested by concern, with every default written once (the `Default`
//! impls below) and loaded in layers.
//!
//! The layers, each overriding the one before: the defaults; a TOML file (`--config PATH`
//! or `LATCHKEY_CONFIG`, else `latchkey.toml` in the working directory if there is one); the
//! environment (`LATCHKEY_*`, `DATABASE_URL`, `REDIS_URL`); command-line flags. Every
//! secret may also come from `NAME_FILE`, a file holding it. Secrets are [`SecretText`],
//! which never prints them, and are never flags (`ps` would show them).
//!
//! # Layout
//!
//! - this file: the struct, its defaults, and what tests start from.
//! - [`vars`]: every setting's file key, environment variable(s), flag and help, in one table.
//! - [`load`]: the layers, and errors that name the variable, flag or file key at fault.
//! - [`flags`]: the table's flags as a clap argument group.
//! - [`check`]: rules across settings (ranges, production's refusals), run once at start.
//! - [`secret`]: [`SecretText`], `NAME_FILE`, and the two key secrets' rules.
//! - [`duration`]: `900`, `15m`, `1h`, `30d`.
//! - [`text`], [`choices`]: one parser per kind of value, whichever layer gave it.
//! - [`show`]: what `latchkey config` prints.

pub mod check;
pub mod choices;
pub mod duration;
pub mod flags;
pub mod load;
pub mod secret;
pub mod show;
pub mod text;
pub mod vars;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use check::Checked;
pub use choices::{
    DatabasePooler, Environment, ForwardedHeader, JwtAlg, LogFormat, MailerKind, RateLimitStore,
    SmtpTls,
};
pub use flags::Flags;
pub use load::Sources;
pub use secret::SecretText;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Everything the server can be told. The file's sections are these fields' names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `production` refuses to start without strong secrets, https and real email.
    pub environment: Environment,
    pub http: Http,
    pub database: Database,
    pub secrets: Secrets,
    pub tokens: Tokens,
    pub sessions: Sessions,
    pub accounts: Accounts,
    pub mail: Mail,
    pub proxies: Proxies,
    pub limits: Limits,
    pub telemetry: Telemetry,
}

/// What an operator watches: logs and metrics.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Telemetry {
    /// Where `GET /metrics` is served (Prometheus); unset, nowhere. Never the public port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// `text` or `json`.
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Http {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where browsers reach the app: decides the cookies' names and `Secure`.
    pub public_url: String,
    /// More origins allowed to make cookie-authenticated changes.
    #[serde(with = "text::list")]
    pub trusted_origins: Vec<String>,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: ([127, 0, 0, 1], 8080).into(),
            public_url: "http://localhost:8080".into(),
            trusted_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// `sqlite://…` or `postgres://…`; a secret, since a URL may carry a password.
    pub url: SecretText,
    /// PostgreSQL: `transaction` behind a transaction pooler (Neon's pooled endpoint).
    pub pooler: DatabasePooler,
    /// PostgreSQL: the schema Latchkey's tables live in, created if missing. Unset: the
    /// one the URL's role lands in (`public`, usually).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            url: SecretText::new("sqlite://latchkey.db"),
            pooler: DatabasePooler::None,
            schema: None,
        }
    }
}

/// The two key secrets (see [`secret`]), each its value or else the file named beside it;
/// and the secret of the system a team moves from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Secrets {
    /// `LATCHKEY_SECRET`: the app's, shared with the Next.js app.
    #[serde(with = "secret::key", skip_serializing_if = "Option::is_none")]
    pub app: Option<SecretText>,
    /// `LATCHKEY_SECRET_FILE`: read in production; created in development when missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_file: Option<PathBuf>,
    /// `LATCHKEY_SERVER_SECRET`: the server's own; never give it to the app.
    #[serde(with = "secret::key", skip_serializing_if = "Option::is_none")]
    pub server: Option<SecretText>,
    /// `LATCHKEY_SERVER_SECRET_FILE`, as `app_file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_file: Option<PathBuf>,
    /// `LATCHKEY_BETTER_AUTH_SECRET`: the `BETTER_AUTH_SECRET` of the Better Auth a team
    /// moves from, which signed its session cookies. Unset: no exchange of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub better_auth: Option<SecretText>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tokens {
    pub jwt_alg: JwtAlg,
    /// The Ed25519 keys (EdDSA only); `latchkey keys generate` creates and rotates them.
    pub keys_file: PathBuf,
    pub issuer: String,
    pub audience: String,
    /// Access-token lifetime.
    #[serde(with = "duration::serde")]
    pub access_ttl: Duration,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            jwt_alg: JwtAlg::Hs256,
            keys_file: PathBuf::from("latchkey.keys.json"),
            issuer: "latchkey".into(),
            audience: "latchkey".into(),
            access_ttl: Duration::from_secs(15 * MINUTE),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sessions {
    /// Absolute lifetime, however active.
    #[serde(with = "duration::serde")]
    pub ttl: Duration,
    /// A session not refreshed for this long ends.
    #[serde(with = "duration::serde")]
    pub idle_ttl: Duration,
    /// How long a spent refresh token still gets the same successor (0: every reuse revokes).
    #[serde(with = "duration::serde")]
    pub refresh_grace: Duration,
    /// How long a live session, and the profile `GET /me` returns, are remembered.
    #[serde(with = "duration::serde")]
    pub cache_ttl: Duration,
    /// Live sessions a user may have at once; signing in past it ends the least recently used.
    #[serde(with = "text::whole")]
    pub max_per_user: u32,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            ttl: Duration::from_secs(30 * DAY),
            idle_ttl: Duration::from_secs(7 * DAY),
            refresh_grace: Duration::from_secs(10),
            cache_ttl: Duration::from_secs(5),
            max_per_user: 50,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Accounts {
    #[serde(with = "text::whole")]
    pub password_min_length: u16,
    /// Words no password may contain, beside the product's name.
    #[serde(with = "text::list")]
    pub password_context_words: Vec<String>,
    /// Refuse sign-in until the address is verified; registration then reveals no accounts.
    #[serde(with = "text::boolean")]
    pub require_email_verification: bool,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            password_min_length: 8,
            password_context_words: Vec::new(),
            require_email_verification: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mail {
    /// `smtp` or `file`; unset, SMTP when a host is set, else files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailer: Option<MailerKind>,
    /// The product name in emails (and a word no password may contain).
    pub app_name: String,
    /// Where links in emails point; unset, the public URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
    pub from: String,
    /// Where the development file mailer writes `.eml` files.
    pub outbox_dir: PathBuf,
    /// A folder of templates replacing the built-in ones, file by file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_host: Option<String>,
    /// Unset: 587 for STARTTLS, 465 for TLS, 25 for none.
    #[serde(with = "text::whole_option", skip_serializing_if = "Option::is_none")]
    pub smtp_port: Option<u16>,
    pub smtp_tls: SmtpTls,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_password: Option<SecretText>,
}

impl Default for Mail {
    fn default() -> Self {
        Mail {
            mailer: None,
            app_name: "Latchkey".into(),
            link_url: None,
            from: "Latchkey <no-reply@localhost>".into(),
            outbox_dir: PathBuf::from("mail-outbox"),
            templates_dir: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: SmtpTls::Starttls,
            smtp_user: None,
            smtp_password: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Proxies {
    /// CIDRs or addresses whose forwarding header names the client.
    #[serde(with = "text::list")]
    pub trusted: Vec<String>,
    /// The header those proxies write; only that one is read.
    pub header: ForwardedHeader,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The default rate-limit rules, changed by `name=count/window` items, or `off`.
    pub rules: String,
    /// Unset: Redis when a Redis URL is set, else memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<RateLimitStore>,
    /// A secret, since the URL may carry a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_url: Option<SecretText>,
    /// Prefix of every Redis key, so deployments sharing a Redis stay apart.
    pub redis_prefix: String,
    /// PEM CA certificates to trust for `rediss://` instead of the public roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_ca_file: Option<PathBuf>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rules: String::new(),
            store: None,
            redis_url: None,
            redis_prefix: "latchkey:".into(),
            redis_ca_file: None,
        }
    }
}

/// The server secret [`Settings::for_tests`] starts with.
pub const TEST_SERVER_SECRET: &str = "latchkey-tests-server-secret-0123456789abcdef";

impl Settings {
    /// The settings a test or an embedding program starts from: the defaults, without the
    /// file, the environment or the command line, changed only where a test needs it.
    pub fn for_tests(database_url: &str, secret: &str) -> Self {
        let mut settings = Settings::default();
        settings.http.listen = ([127, 0, 0, 1], 0).into();
        settings.database.url = SecretText::new(database_url);
        settings.secrets.app = Some(SecretText::new(secret));
        settings.secrets.server = Some(SecretText::new(TEST_SERVER_SECRET));
        settings.tokens.audience = "latchkey-tests".into();
        settings.mail.outbox_dir = std::env::temp_dir().join("latchkey-test-mail");
        settings.limits.store = Some(RateLimitStore::Memory);
        // Tests of other things make many requests from one address; the rate-limit tests
        // switch the rules on (with the defaults, or their own).
        settings.limits.rules = "off".into();
        settings
    }

    /// Which rate-limit store to use.
    pub fn rate_limit_store(&self) -> RateLimitStore {
        self.limits
            .store
            .unwrap_or(if self.limits.redis_url.is_some() {
                RateLimitStore::Redis
            } else {
                RateLimitStore::Memory
            })
    }

    /// Which mailer to use.
    pub fn mailer(&self) -> MailerKind {
        self.mail
            .mailer
            .unwrap_or(if self.mail.smtp_host.is_some() {
                MailerKind::Smtp
            } else {
                MailerKind::File
            })
    }

    /// Where links in emails point.
    pub fn link_base(&self) -> &str {
        self.mail
            .link_url
            .as_deref()
            .unwrap_or(&self.http.public_url)
    }
}
