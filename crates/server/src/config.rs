//! Settings: command-line flags, each with an environment-variable fallback and a default.
//!
//! The signing secret gets special care. In production (`LATCHKEY_ENV=production`) it must be
//! given and be at least 32 bytes, or the server refuses to start. In development a missing
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

/// Everything `latchkey serve` can be told.
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

    /// The HS256 signing secret, at least 32 bytes (BETTER_AUTH_SECRET is read too).
    #[arg(long, env = "LATCHKEY_SECRET", hide_env_values = true, hide = true)]
    pub secret: Option<String>,

    /// Where development mode keeps its generated secret.
    #[arg(long, env = "LATCHKEY_SECRET_FILE", default_value = "latchkey.secret")]
    pub secret_file: PathBuf,

    /// The `iss` claim of issued access tokens.
    #[arg(long, env = "LATCHKEY_ISSUER", default_value = "latchkey")]
    pub issuer: String,

    /// The `aud` claim of issued access tokens.
    #[arg(long, env = "LATCHKEY_AUDIENCE", default_value = "latchkey")]
    pub audience: String,

    /// Access-token lifetime in seconds.
    #[arg(long, env = "LATCHKEY_ACCESS_TOKEN_TTL", default_value_t = 900)]
    pub access_token_ttl: i64,

    /// Session lifetime in seconds.
    #[arg(long, env = "LATCHKEY_SESSION_TTL", default_value_t = 30 * 24 * 3600)]
    pub session_ttl: i64,

    /// Minimum password length in characters (never below 8).
    #[arg(long, env = "LATCHKEY_PASSWORD_MIN_LENGTH", default_value_t = 8)]
    pub password_min_length: usize,
}

impl Settings {
    /// The settings a test or an embedding program starts from, without reading the
    /// command line or the environment.
    pub fn for_tests(database_url: &str, secret: &str) -> Self {
        Settings {
            listen: ([127, 0, 0, 1], 0).into(),
            database_url: database_url.to_owned(),
            environment: Environment::Development,
            secret: Some(secret.to_owned()),
            secret_file: PathBuf::from("latchkey.secret"),
            issuer: "latchkey".into(),
            audience: "latchkey".into(),
            access_token_ttl: 900,
            session_ttl: 30 * 24 * 3600,
            password_min_length: 8,
        }
    }

    /// Resolves the signing secret according to the environment's rules.
    pub fn load_secret(&self) -> anyhow::Result<Secret> {
        let given = self.secret.clone().filter(|s| !s.is_empty()).or_else(|| {
            std::env::var("BETTER_AUTH_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
        });
        match (given, self.environment) {
            (Some(secret), _) => Secret::parse(secret).map_err(|_| {
                anyhow::anyhow!(
                    "LATCHKEY_SECRET is too short: it must be at least {} bytes \
                     (generate one with `openssl rand -base64 48`)",
                    Secret::MIN_LEN
                )
            }),
            (None, Environment::Production) => Err(anyhow::anyhow!(
                "LATCHKEY_SECRET is not set; production mode needs a secret of at least {} bytes",
                Secret::MIN_LEN
            )),
            (None, Environment::Development) => development_secret(&self.secret_file),
        }
    }
}

/// Reads the development secret from `path`, creating it (readable by its owner only) first.
fn development_secret(path: &Path) -> anyhow::Result<Secret> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        tracing::warn!(file = %path.display(), "using the development secret kept in this file; set LATCHKEY_SECRET in production");
        return Secret::parse(existing.trim())
            .map_err(|_| anyhow::anyhow!("{} holds a secret under 32 bytes", path.display()));
    }
    let fresh = URL_SAFE_NO_PAD.encode(random::bytes::<32>()?);
    write_private(path, &fresh)?;
    tracing::warn!(file = %path.display(), "generated a development secret and saved it in this file; set LATCHKEY_SECRET in production");
    Ok(Secret::parse(fresh)?)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
