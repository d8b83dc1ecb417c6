//! Secrets: the type that never prints them, the `NAME_FILE` convention, and the rules for
//! the two key secrets.
//!
//! There are two key secrets. The app's (`LATCHKEY_SECRET`), which the Next.js app holds
//! too, to verify HS256 access tokens; and the server's own (`LATCHKEY_SERVER_SECRET`), which
//! nobody else holds and from which refresh tokens and emailed links are derived, so reading
//! the app's environment and the database is not enough to mint either. In production both
//! must be given, be at least 32 bytes and differ, or the server refuses to start. In
//! development a missing one is generated once into its file (`LATCHKEY_SECRET_FILE`,
//! default `latchkey.secret`; `LATCHKEY_SERVER_SECRET_FILE`, default `latchkey.server-secret`
//! beside it), so tokens survive restarts, and the start-up log says so.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_core::{Secret, random};

use super::{Environment, Settings, TEST_SERVER_SECRET};
use crate::files::write_private;

/// A secret as configured. `Debug`, `Display` and `Serialize` all show `[redacted]`, so no
/// log line, panic message or `latchkey config` output can carry it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: impl Into<String>) -> Self {
        SecretText(text.into())
    }

    /// The secret itself: the one way to read it, easy to find in a review.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl serde::Serialize for SecretText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

impl<'de> serde::Deserialize<'de> for SecretText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Any scalar: a TOML password may well be all digits.
        super::text::scalar(d).map(SecretText)
    }
}

pub const REDACTED: &str = "[redacted]";

/// For the two key secrets: refused at load, naming where it came from, when shorter than
/// [`Secret::MIN_LEN`]; the message never includes the value.
pub mod key {
    use latchkey_core::Secret;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::SecretText;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretText>, D::Error> {
        let text = SecretText::deserialize(d)?;
        Secret::parse(text.expose()).map_err(|_| serde::de::Error::custom(super::too_short()))?;
        Ok(Some(text))
    }

    pub fn serialize<S: Serializer>(value: &Option<SecretText>, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
}

fn too_short() -> String {
    format!(
        "too short: it must be at least {} bytes (generate one with `openssl rand -base64 48`)",
        Secret::MIN_LEN
    )
}

/// Reads a secret from a file, the container convention behind every `NAME_FILE`: the
/// file's contents, with the line break(s) an editor or `echo` leaves at the end removed.
pub fn read_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// One key secret's configuration, and the names its messages use.
struct KeySecret<'a> {
    var: &'static str,
    value: Option<&'a SecretText>,
    file: Option<&'a Path>,
    /// Where development generates it when no file is named.
    dev_default: PathBuf,
    /// Production's refusal when neither the value nor a file is given.
    missing: String,
}

impl KeySecret<'_> {
    /// The secret, or `None` in development when it is yet to be generated and `create` is
    /// false (`latchkey config` looks, and writes nothing).
    fn resolve(&self, environment: Environment, create: bool) -> anyhow::Result<Option<Secret>> {
        if let Some(value) = self.value.filter(|v| !v.expose().is_empty()) {
            let secret = Secret::parse(value.expose())
                .map_err(|_| anyhow::anyhow!("{} is {}", self.var, too_short()))?;
            return Ok(Some(secret));
        }
        let path = match (self.file, environment) {
            (Some(path), Environment::Production) => {
                return read_key_file(path, self.var).map(Some);
            }
            (None, Environment::Production) => anyhow::bail!("{}", self.missing),
            (path, Environment::Development) => path.unwrap_or(&self.dev_default),
        };
        if create {
            development_secret(path, self.var).map(Some)
        } else if path.exists() {
            read_key_file(path, self.var).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl Settings {
    fn app_secret(&self) -> KeySecret<'_> {
        KeySecret {
            var: "LATCHKEY_SECRET",
            value: self.secrets.app.as_ref(),
            file: self.secrets.app_file.as_deref(),
            dev_default: PathBuf::from(APP_SECRET_PATH),
            missing: format!(
                "LATCHKEY_SECRET is not set; production mode needs a secret of at least {} bytes",
                Secret::MIN_LEN
            ),
        }
    }

    fn server_secret(&self) -> KeySecret<'_> {
        // Beside the app's file: a development setup that moved one moved both.
        let beside = self
            .secrets
            .app_file
            .as_deref()
            .unwrap_or(Path::new(APP_SECRET_PATH));
        KeySecret {
            var: "LATCHKEY_SERVER_SECRET",
            value: self.secrets.server.as_ref(),
            file: self.secrets.server_file.as_deref(),
            dev_default: beside.with_file_name(SERVER_SECRET_NAME),
            missing: format!(
                "LATCHKEY_SERVER_SECRET is not set; production mode needs a server secret of at \
                 least {} bytes, different from LATCHKEY_SECRET (generate one with \
                 `openssl rand -base64 48`; only the server may hold it)",
                Secret::MIN_LEN
            ),
        }
    }

    /// The app's secret (it signs HS256 access tokens); in development a missing one is
    /// generated into its file.
    pub fn load_secret(&self) -> anyhow::Result<Secret> {
        let secret = self.app_secret().resolve(self.environment, true)?;
        secret.ok_or_else(|| anyhow::anyhow!("no secret"))
    }

    /// The server's own secret; in development a missing one is generated into its file. It
    /// must differ from `app`: the point of a second secret is that the app cannot derive
    /// with it.
    pub fn load_server_secret(&self, app: &Secret) -> anyhow::Result<Secret> {
        let secret = self.server_secret().resolve(self.environment, true)?;
        let secret = secret.ok_or_else(|| anyhow::anyhow!("no server secret"))?;
        self.check_secret_pair(app, &secret)?;
        Ok(secret)
    }

    /// What [`Settings::load_secret`] and [`Settings::load_server_secret`] would refuse,
    /// without generating anything.
    pub fn check_secrets(&self) -> anyhow::Result<()> {
        let app = self.app_secret().resolve(self.environment, false)?;
        let server = self.server_secret().resolve(self.environment, false)?;
        if let (Some(app), Some(server)) = (app, server) {
            self.check_secret_pair(&app, &server)?;
        }
        Ok(())
    }

    fn check_secret_pair(&self, app: &Secret, server: &Secret) -> anyhow::Result<()> {
        // Compared without surrounding whitespace: one copy from a file (trimmed) and one from
        // the environment with a stray newline are still the same key material.
        if server.expose().trim_ascii() == app.expose().trim_ascii() {
            anyhow::bail!(
                "LATCHKEY_SERVER_SECRET must differ from LATCHKEY_SECRET: the app holds \
                 LATCHKEY_SECRET, and must not be able to derive refresh tokens or emailed links"
            );
        }
        // Better Auth's secret is in every place Better Auth ran (old deployments, CI,
        // backups) and lives on after the switch; signing our tokens with it would let anyone
        // who kept a copy mint a session for any user. (`LATCHKEY_SECRET` falls back to
        // `BETTER_AUTH_SECRET`, so this is easy to do by accident.)
        if let Some(better_auth) = &self.secrets.better_auth {
            let old = better_auth.expose().as_bytes().trim_ascii();
            for (name, ours) in [("LATCHKEY_SECRET", app), ("LATCHKEY_SERVER_SECRET", server)] {
                if old == ours.expose().trim_ascii() {
                    anyhow::bail!(
                        "{name} must differ from LATCHKEY_BETTER_AUTH_SECRET: give Latchkey new \
                         secrets of its own (LATCHKEY_SECRET is also read from \
                         BETTER_AUTH_SECRET when it is not set)"
                    );
                }
            }
        }
        // The tests' secret is public: a production server keyed with it (an embedding
        // program that started from `for_tests`) would let anyone reading the database mint
        // refresh tokens and links.
        if self.environment == Environment::Production
            && server.expose() == TEST_SERVER_SECRET.as_bytes()
        {
            anyhow::bail!(
                "the server secret is the public test secret; production needs its own \
                 LATCHKEY_SERVER_SECRET"
            );
        }
        Ok(())
    }
}

/// Where development keeps the app's generated secret unless `LATCHKEY_SECRET_FILE` says.
pub const APP_SECRET_PATH: &str = "latchkey.secret";
/// The server's generated secret's file name, beside the app's.
pub const SERVER_SECRET_NAME: &str = "latchkey.server-secret";

/// Reads a key secret kept in a file. Surrounding whitespace is trimmed, as every release
/// has done for these two (the key material is what is left).
fn read_key_file(path: &Path, var: &str) -> anyhow::Result<Secret> {
    let text = read_file(path).map_err(|err| anyhow::anyhow!("{var}_FILE: {err}"))?;
    Secret::parse(text.trim()).map_err(|_| {
        anyhow::anyhow!(
            "{var}_FILE: {} holds a secret under {} bytes",
            path.display(),
            Secret::MIN_LEN
        )
    })
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
    read_key_file(path, var)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_display_or_serialize() {
        let secret = SecretText::new("hunter2-but-longer");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"[redacted]\"");
        assert_eq!(secret.expose(), "hunter2-but-longer");
    }

    #[test]
    fn a_secret_file_loses_its_trailing_line_break_only() {
        let path = std::env::temp_dir().join(format!("latchkey-secret-{}", std::process::id()));
        std::fs::write(&path, " pass word \r\n\n").unwrap();
        assert_eq!(read_file(&path), Ok(" pass word ".to_owned()));
        std::fs::remove_file(&path).unwrap();
        assert!(read_file(&path).unwrap_err().starts_with("cannot read "));
    }
}
