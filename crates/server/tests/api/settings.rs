//! Settings: the layers (file, environment, flags), `NAME_FILE` secrets, durations, refusals
//! that name the bad setting, and `latchkey config`, run as the real binary; and, in
//! process, what `LATCHKEY_SECRET_FILE` means now that it is also the `_FILE` of
//! `LATCHKEY_SECRET`.

use std::path::Path;

use latchkey_server::settings::load::load_from;
use latchkey_server::settings::{Environment, Flags, Settings};

use crate::cli::{latchkey, temp_dir};

const APP_SECRET: &str = "app-secret-value-0123456789abcdefghij";
const SERVER_SECRET: &str = "server-secret-value-0123456789abcdefghij";

/// `latchkey config` in `dir`: (exit success, stdout, stderr).
fn config(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let args: Vec<&str> = ["config"].iter().chain(args).copied().collect();
    let out = latchkey(dir, env, &args);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// The line of `latchkey config`'s output that sets `field`.
fn line<'a>(out: &'a str, field: &str) -> &'a str {
    let prefix = format!("{field} = ");
    out.lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {field} in {out}"))
}

#[test]
fn a_setting_from_the_file_is_overridden_by_the_environment_and_that_by_a_flag() {
    let dir = temp_dir("layers");
    std::fs::write(
        dir.join("latchkey.toml"),
        "[tokens]\naccess_ttl = \"20m\"\nissuer = \"from-file\"\n[sessions]\nmax_per_user = 7\n",
    )
    .unwrap();
    let (ok, out, err) = config(&dir, &[], &[]);
    assert!(ok, "{err}");
    assert!(
        line(&out, "access_ttl").starts_with("access_ttl = \"20m\""),
        "{out}"
    );
    assert!(line(&out, "access_ttl").contains("(from latchkey.toml: tokens.access_ttl)"));
    assert!(line(&out, "max_per_user").starts_with("max_per_user = 7 "));

    let env = [("LATCHKEY_ACCESS_TOKEN_TTL", "30m")];
    let (ok, out, err) = config(&dir, &env, &[]);
    assert!(ok, "{err}");
    assert!(
        line(&out, "access_ttl").starts_with("access_ttl = \"30m\""),
        "{out}"
    );
    // The rest of the file still counts.
    assert!(line(&out, "issuer").starts_with("issuer = \"from-file\""));

    let (ok, out, err) = config(&dir, &env, &["--access-token-ttl", "1h"]);
    assert!(ok, "{err}");
    assert!(
        line(&out, "access_ttl").starts_with("access_ttl = \"1h\""),
        "{out}"
    );
    assert!(line(&out, "access_ttl").contains("(from --access-token-ttl)"));

    // Another file, by flag or by LATCHKEY_CONFIG, instead of latchkey.toml.
    std::fs::write(dir.join("other.toml"), "[tokens]\nissuer = \"other\"\n").unwrap();
    let (_, out, _) = config(&dir, &[], &["--config", "other.toml"]);
    assert!(
        line(&out, "issuer").starts_with("issuer = \"other\""),
        "{out}"
    );
    assert!(
        line(&out, "access_ttl").starts_with("access_ttl = \"15m\""),
        "{out}"
    );
    let (_, out, _) = config(&dir, &[("LATCHKEY_CONFIG", "other.toml")], &[]);
    assert!(
        line(&out, "issuer").starts_with("issuer = \"other\""),
        "{out}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn durations_take_units_and_plain_seconds_still_work() {
    let dir = temp_dir("durations");
    std::fs::write(dir.join("latchkey.toml"), "[sessions]\nrefresh_grace = 5\n").unwrap();
    let env = [
        ("LATCHKEY_SESSION_TTL", "43200"),
        ("LATCHKEY_SESSION_IDLE_TTL", "30m"),
        ("LATCHKEY_ACCESS_TOKEN_TTL", "1h"),
    ];
    let (ok, out, err) = config(&dir, &env, &["--session-cache-ttl", "0"]);
    assert!(ok, "{err}");
    for (field, shown) in [
        ("ttl", "12h"),
        ("idle_ttl", "30m"),
        ("access_ttl", "1h"),
        ("refresh_grace", "5s"),
        ("cache_ttl", "0s"),
    ] {
        assert!(
            line(&out, field).starts_with(&format!("{field} = \"{shown}\"")),
            "{out}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

/// Environment variables for one run.
type Env<'a> = &'a [(&'a str, &'a str)];

#[test]
fn a_bad_setting_is_refused_naming_the_variable_flag_or_file_key_that_gave_it() {
    let dir = temp_dir("refusals");
    let cases: [(Env, &[&str], &str); 6] = [
        (
            &[("LATCHKEY_ACCESS_TOKEN_TTL", "abc")],
            &[],
            "LATCHKEY_ACCESS_TOKEN_TTL: \"abc\" is not a duration",
        ),
        (
            &[],
            &["--session-ttl", "10m"],
            "--session-ttl: 10m is outside 1h to 366d",
        ),
        (
            &[("LATCHKEY_MAX_SESSIONS", "lots")],
            &[],
            "LATCHKEY_MAX_SESSIONS: \"lots\" is not a whole number",
        ),
        (
            &[("LATCHKEY_JWT_ALG", "RS256")],
            &[],
            "LATCHKEY_JWT_ALG: \"RS256\" is not one of HS256, EdDSA",
        ),
        (
            &[("LATCHKEY_SMTP_PASSWORD_FILE", "no-such-file")],
            &[],
            "LATCHKEY_SMTP_PASSWORD_FILE: cannot read no-such-file",
        ),
        (
            &[
                ("LATCHKEY_ENV", "production"),
                ("LATCHKEY_SECRET", APP_SECRET),
                ("LATCHKEY_SERVER_SECRET", SERVER_SECRET),
            ],
            &[],
            "production mode needs an https:// LATCHKEY_PUBLIC_URL",
        ),
    ];
    for (env, args, expected) in cases {
        let (ok, out, err) = config(&dir, env, args);
        assert!(!ok, "{env:?} {args:?} was accepted: {out}");
        assert!(err.contains(expected), "{expected:?} not in {err}");
    }
    // A start refuses the same way, before touching the database.
    let out = latchkey(&dir, &[("LATCHKEY_REFRESH_GRACE", "2m")], &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LATCHKEY_REFRESH_GRACE: 2m is outside 0s to 1m"),
        "{err}"
    );
    assert!(!dir.join("cli.db").exists());

    // In the file: the file and the key, for a bad value and for a key that does not exist.
    std::fs::write(
        dir.join("latchkey.toml"),
        "[sessions]\nidle_ttl = \"a week\"\n",
    )
    .unwrap();
    let (ok, _, err) = config(&dir, &[], &[]);
    assert!(!ok);
    assert!(
        err.contains("latchkey.toml: sessions.idle_ttl: \"a week\" is not a duration"),
        "{err}"
    );
    std::fs::write(dir.join("latchkey.toml"), "[sessions]\nidle = \"7d\"\n").unwrap();
    let (ok, _, err) = config(&dir, &[], &[]);
    assert!(!ok);
    assert!(
        err.contains("latchkey.toml: sessions.idle: unknown field `idle`"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn every_secret_may_come_from_a_file_named_by_its_name_file() {
    let dir = temp_dir("name-file");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let app = write("app", &format!("{APP_SECRET}\n"));
    let server = write("server", &format!("{SERVER_SECRET}\n"));
    let smtp = write("smtp", "smtp-password-from-file\n");
    let better_auth = write("better-auth", "better-auth-secret-from-file\n");
    let database = write("database", "sqlite://from-file.db\n");
    let env = [
        ("LATCHKEY_ENV", "production"),
        ("LATCHKEY_PUBLIC_URL", "https://app.example.com"),
        ("LATCHKEY_SMTP_HOST", "smtp.example.com"),
        ("LATCHKEY_SECRET_FILE", app.as_str()),
        ("LATCHKEY_SERVER_SECRET_FILE", server.as_str()),
        ("LATCHKEY_SMTP_PASSWORD_FILE", smtp.as_str()),
        ("LATCHKEY_BETTER_AUTH_SECRET_FILE", better_auth.as_str()),
        ("DATABASE_URL", ""),
        ("DATABASE_URL_FILE", database.as_str()),
    ];
    let (ok, out, err) = config(&dir, &env, &[]);
    assert!(ok, "production accepts secrets from files: {err}");
    assert!(
        line(&out, "smtp_password").contains("(from LATCHKEY_SMTP_PASSWORD_FILE)"),
        "{out}"
    );
    assert!(
        line(&out, "url").starts_with("url = \"sqlite://from-file.db\""),
        "{out}"
    );
    assert!(
        line(&out, "better_auth").contains("(from LATCHKEY_BETTER_AUTH_SECRET_FILE)"),
        "{out}"
    );
    for secret in [
        APP_SECRET,
        SERVER_SECRET,
        "smtp-password-from-file",
        "better-auth-secret-from-file",
    ] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} printed"
        );
    }

    // Read as the running server reads them: contents, less the trailing line break.
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (settings, _) = load_from(None, &Flags::default(), &get).unwrap();
    let password = settings.mail.smtp_password.as_ref().unwrap();
    assert_eq!(password.expose(), "smtp-password-from-file");
    let better_auth = settings.secrets.better_auth.as_ref().unwrap();
    assert_eq!(better_auth.expose(), "better-auth-secret-from-file");
    assert_eq!(
        settings.load_secret().unwrap().expose(),
        APP_SECRET.as_bytes()
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn latchkey_config_prints_no_secret_and_writes_nothing() {
    let dir = temp_dir("no-secrets");
    let env = [
        ("LATCHKEY_SECRET", APP_SECRET),
        ("LATCHKEY_SERVER_SECRET", SERVER_SECRET),
        ("LATCHKEY_SMTP_USER", "mailer"),
        ("LATCHKEY_SMTP_PASSWORD", "smtp-password-value"),
        ("LATCHKEY_BETTER_AUTH_SECRET", "better-auth-secret-value"),
        (
            "DATABASE_URL",
            "postgres://ann:db-password-value@db.example.com/app",
        ),
        (
            "REDIS_URL",
            "redis://:redis-password-value@cache.example.com:6379/0",
        ),
    ];
    let (ok, out, err) = config(&dir, &env, &[]);
    assert!(ok, "{err}");
    for (_, value) in &env[..2] {
        assert!(
            !out.contains(value) && !err.contains(value),
            "a secret was printed: {out}"
        );
    }
    for value in [
        "smtp-password-value",
        "better-auth-secret-value",
        "db-password-value",
        "redis-password-value",
    ] {
        assert!(
            !out.contains(value) && !err.contains(value),
            "{value} was printed: {out}"
        );
    }
    assert!(
        line(&out, "app").starts_with("app = \"[redacted]\""),
        "{out}"
    );
    assert!(line(&out, "smtp_password").starts_with("smtp_password = \"[redacted]\""));
    assert!(line(&out, "better_auth").starts_with("better_auth = \"[redacted]\""));
    assert!(
        line(&out, "url").contains("postgres://[redacted]@db.example.com/app"),
        "{out}"
    );
    assert!(line(&out, "redis_url").contains("redis://[redacted]@cache.example.com:6379/0"));

    // Development without secrets: reported, not generated.
    let (ok, out, err) = config(&dir, &[], &[]);
    assert!(ok, "{err}");
    assert!(out.contains("# app: not set"), "{out}");
    let written: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(written.is_empty(), "latchkey config wrote {written:?}");
    std::fs::remove_dir_all(dir).ok();
}

/// The settings `env` gives, loaded as the binary loads them.
fn load(env: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let get = |name: &str| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    Ok(load_from(None, &Flags::default(), &get)?.0)
}

/// `LATCHKEY_SECRET_FILE` was "where development keeps its generated secret" and is now
/// also the `_FILE` of `LATCHKEY_SECRET`. A file that holds the secret gives that secret
/// either way, so no setup changes meaning: development reads it (or creates it), a value
/// given beside it still wins, and the server secret still goes beside it.
#[test]
fn latchkey_secret_file_keeps_its_development_meaning_and_gains_the_file_convention() {
    let dir = temp_dir("secret-file");
    let file = dir.join("app.secret");
    let path = file.to_str().unwrap();

    // Development, no file yet: generated there, then read back on every start.
    let dev = load(&[("LATCHKEY_SECRET_FILE", path)]).unwrap();
    let generated = dev.load_secret().unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), generated.expose());
    let server = dev.load_server_secret(&generated).unwrap();
    assert_eq!(
        std::fs::read(dir.join("latchkey.server-secret")).unwrap(),
        server.expose(),
        "the server secret goes beside the app's file, as before"
    );

    // A file holding a secret: that secret, in development as in production.
    std::fs::write(&file, format!("{APP_SECRET}\n")).unwrap();
    for mode in ["development", "production"] {
        let settings = load(&[("LATCHKEY_ENV", mode), ("LATCHKEY_SECRET_FILE", path)]).unwrap();
        assert_eq!(
            settings.load_secret().unwrap().expose(),
            APP_SECRET.as_bytes(),
            "{mode}"
        );
    }

    // A value beside it wins, as it always did (LATCHKEY_SECRET, then BETTER_AUTH_SECRET).
    let other = "another-secret-value-0123456789abcdefgh";
    for name in ["LATCHKEY_SECRET", "BETTER_AUTH_SECRET"] {
        for mode in ["development", "production"] {
            let env = [
                ("LATCHKEY_ENV", mode),
                ("LATCHKEY_SECRET_FILE", path),
                (name, other),
            ];
            let settings = load(&env).unwrap();
            assert_eq!(settings.load_secret().unwrap().expose(), other.as_bytes());
        }
    }

    // Production never creates it: a missing file is refused by name.
    std::fs::remove_file(&file).unwrap();
    let prod = load(&[
        ("LATCHKEY_ENV", "production"),
        ("LATCHKEY_SECRET_FILE", path),
    ])
    .unwrap();
    assert_eq!(prod.environment, Environment::Production);
    let err = prod.load_secret().unwrap_err().to_string();
    assert!(
        err.starts_with("LATCHKEY_SECRET_FILE: cannot read"),
        "{err}"
    );
    assert!(!file.exists());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_later_layer_replaces_a_secret_whether_it_gives_the_value_or_a_file() {
    let dir = temp_dir("secret-layers");
    let settings_file = dir.join("settings.toml");
    std::fs::write(
        &settings_file,
        "[mail]\nsmtp_password = \"from-the-settings-file\"\n",
    )
    .unwrap();
    let password_file = dir.join("smtp");
    std::fs::write(&password_file, "from-the-password-file").unwrap();
    let path = password_file.to_str().unwrap();
    let get = |name: &str| (name == "LATCHKEY_SMTP_PASSWORD_FILE").then(|| path.to_owned());
    let (settings, _) = load_from(Some(&settings_file), &Flags::default(), &get).unwrap();
    let password = settings.mail.smtp_password.unwrap();
    assert_eq!(password.expose(), "from-the-password-file");
    std::fs::remove_dir_all(dir).ok();
}
