//! What `latchkey config` prints: the effective settings as TOML, each line with the
//! variable that sets it and where its value came from, secrets as `[redacted]`.
//!
//! The output is itself a valid settings file (once the redacted lines are filled in or
//! removed), so it doubles as a starting point for `latchkey.toml`.

use std::fmt::Write;

use toml::{Table, Value};

use super::load::Source;
use super::secret::REDACTED;
use super::vars::{Kind, VARS};
use super::{Environment, Settings, Sources};

/// The settings as annotated TOML.
pub fn render(settings: &Settings, sources: &Sources) -> String {
    let tree = Table::try_from(settings).expect("the settings serialize as TOML");
    let mut out = String::from("# The effective settings: defaults, then ");
    match &sources.file {
        Some(path) => write!(out, "{}", path.display()).unwrap(),
        None => out.push_str("no settings file"),
    }
    out.push_str(", then the environment, then flags.\n");
    let development = settings.environment == Environment::Development;
    let mut section = None;
    for var in VARS {
        let (this, field) = match var.key.split_once('.') {
            Some((this, field)) => (Some(this), field),
            None => (None, var.key),
        };
        if this != section {
            writeln!(out, "\n[{}]", this.unwrap_or_default()).unwrap();
            section = this;
        }
        let value = match var.kind {
            Kind::SecretUrl => secret_url(settings, var.key).map(|url| Value::from(mask_url(url))),
            _ => lookup(&tree, this, field).cloned(),
        };
        let line = match value {
            Some(value) => format!("{field} = {value}"),
            None => format!("# {field}: not set"),
        };
        let from = match sources.of(var.key) {
            Source::Default if var.kind == Kind::KeySecret && development => {
                "development generates it into its file".to_owned()
            }
            Source::Default => "default".to_owned(),
            Source::Env(name) if name == var.env => "set".to_owned(),
            source => format!("from {source}"),
        };
        writeln!(out, "{line:<48} # {} ({from})", var.env).unwrap();
    }
    out
}

fn lookup<'a>(tree: &'a Table, section: Option<&str>, field: &str) -> Option<&'a Value> {
    match section {
        Some(section) => tree.get(section)?.as_table()?.get(field),
        None => tree.get(field),
    }
}

fn secret_url<'a>(settings: &'a Settings, key: &str) -> Option<&'a str> {
    match key {
        "database.url" => Some(settings.database.url.expose()),
        "limits.redis_url" => settings.limits.redis_url.as_ref().map(|url| url.expose()),
        _ => None,
    }
}

/// A URL with its credentials (user and password) and its query (which may carry a
/// password too) hidden: `postgres://[redacted]@db:5432/app?[redacted]`. The credentials end
/// at the last `@`, since a password may hold `?`, `/` or `#` unescaped; an `@` in the query
/// then hides the host as well, which errs on the safe side.
pub fn mask_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let (credentials, rest) = match rest.rsplit_once('@') {
        Some((_, host)) => (format!("{REDACTED}@"), host),
        None => (String::new(), rest),
    };
    let (base, query) = match rest.split_once('?') {
        Some((base, _)) => (base, format!("?{REDACTED}")),
        None => (rest, String::new()),
    };
    format!("{scheme}{credentials}{base}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_keeps_its_scheme_host_and_path_only() {
        let cases = [
            ("sqlite://latchkey.db", "sqlite://latchkey.db"),
            (
                "postgres://ann:pw@db:5432/app",
                "postgres://[redacted]@db:5432/app",
            ),
            (
                "postgres://db/app?password=pw",
                "postgres://db/app?[redacted]",
            ),
            (
                "redis://:p@ss@cache:6379/0",
                "redis://[redacted]@cache:6379/0",
            ),
            // A password with `?` and `/` in it, unescaped.
            (
                "postgres://u:pa?s/s@db/app?sslmode=require",
                "postgres://[redacted]@db/app?[redacted]",
            ),
        ];
        for (url, shown) in cases {
            assert_eq!(mask_url(url), shown);
        }
    }

    #[test]
    fn the_output_is_a_settings_file_without_secrets() {
        let settings = Settings::for_tests(
            "postgres://ann:pw@db/app",
            "app-secret-0123456789abcdef-0123456789",
        );
        let out = render(&settings, &Sources::default());
        assert!(!out.contains("pw@") && !out.contains("app-secret"), "{out}");
        assert!(out.contains("access_ttl = \"15m\""), "{out}");
        let parsed: Table = out.parse().unwrap();
        assert_eq!(parsed["sessions"]["ttl"].as_str(), Some("30d"));
    }
}
