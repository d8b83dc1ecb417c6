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

/// A secret as configured: `Debug` never shows it, so no log line or panic can.
#[derive(Clone, Default)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything `latchkey serve` can be told. The secret is read from the environment only
/// (`LATCHKEY_SECRET`, then `BETTER_AUTH_SECRET`): a command-line flag would show it in `ps`.
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

    /// Session lifetime in seconds (one hour to one year).
    #[arg(long, env = "LATCHKEY_SESSION_TTL", default_value_t = 30 * 24 * 3600,
          value_parser = clap::value_parser!(i64).range(3_600..=366 * 24 * 3_600))]
    pub session_ttl: i64,

    /// Minimum password length in characters (8 to 128).
    #[arg(long, env = "LATCHKEY_PASSWORD_MIN_LENGTH", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(8..=128))]
    pub password_min_length: u16,
}

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
            issuer: "latchkey".into(),
            audience: "latchkey-tests".into(),
            access_token_ttl: 900,
            session_ttl: 30 * 24 * 3600,
            password_min_length: 8,
        }
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
            (None, Environment::Development) => development_secret(&self.secret_file),
        }
    }
}

/// Reads the development secret from `path`, creating it (readable by its owner only) first.
fn development_secret(path: &Path) -> anyhow::Result<Secret> {
    let fresh = URL_SAFE_NO_PAD.encode(random::bytes::<32>()?);
    match write_private(path, &fresh) {
        Ok(()) => {
            tracing::warn!(file = %path.display(), "generated a development secret and saved it in this file; set LATCHKEY_SECRET in production");
            return Ok(Secret::parse(fresh)?);
        }
        // Already there (from an earlier start, or a process starting beside this one).
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => anyhow::bail!("cannot create {}: {err}", path.display()),
    }
    let existing = std::fs::read_to_string(path)
        .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?;
    tracing::warn!(file = %path.display(), "using the development secret kept in this file; set LATCHKEY_SECRET in production");
    Secret::parse(existing.trim())
        .map_err(|_| anyhow::anyhow!("{} holds a secret under 32 bytes", path.display()))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
