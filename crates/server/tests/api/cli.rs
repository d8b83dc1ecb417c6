//! The `latchkey` binary itself: start-up rules, and the openapi and keys subcommands.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary to completion, or kills it and fails after 30 s: a refusal that regressed
/// into a running server must fail the test, not hang it. Every setting the caller's
/// environment may hold is removed first, so only `env` counts.
pub fn latchkey(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("LATCHKEY_CONFIG");
    for var in latchkey_server::settings::vars::VARS {
        for name in var.aliases.iter().chain([&var.env]) {
            cmd.env_remove(name).env_remove(format!("{name}_FILE"));
        }
    }
    cmd.env("LATCHKEY_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", "sqlite://cli.db");
    cmd.envs(env.iter().copied());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("latchkey {args:?} was still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("latchkey-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn production_refuses_to_start_without_a_secret() {
    let dir = temp_dir("prod-missing");
    let out = latchkey(&dir, &[("LATCHKEY_ENV", "production")], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LATCHKEY_SECRET is not set"), "{stderr}");
    assert!(
        !dir.join("latchkey.secret").exists(),
        "production must not generate a secret"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_short_secret_is_refused_under_either_name_and_is_never_printed() {
    let dir = temp_dir("short");
    for var in ["LATCHKEY_SECRET", "BETTER_AUTH_SECRET"] {
        for mode in ["production", "development"] {
            let out = latchkey(
                &dir,
                &[("LATCHKEY_ENV", mode), (var, "short-but-secret-value")],
                &[],
            );
            assert!(!out.status.success(), "{var} in {mode}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("at least 32 bytes"), "{stderr}");
            assert!(
                !stderr.contains("short-but-secret-value"),
                "the secret leaked: {stderr}"
            );
        }
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn development_generates_a_secret_file_once_and_reuses_it() {
    use latchkey_server::settings::{Environment, Settings};
    let dir = temp_dir("dev");
    let mut settings = Settings::for_tests("sqlite://unused.db", "");
    settings.secrets.app = None;
    settings.environment = Environment::Development;
    let file = dir.join("latchkey.secret");
    settings.secrets.app_file = Some(file.clone());
    let first = settings.load_secret().unwrap();
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(stored.len() >= 32);
    let second = settings.load_secret().unwrap();
    assert_eq!(
        first.expose(),
        second.expose(),
        "the same secret on every start"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read the secret file");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn production_with_a_strong_secret_uses_it_and_writes_no_file() {
    use latchkey_server::settings::{Environment, Settings};
    let dir = temp_dir("prod-ok");
    let mut settings =
        Settings::for_tests("sqlite://unused.db", "production-secret-0123456789abcdef");
    settings.environment = Environment::Production;
    // A value wins over the file, which production then neither reads nor creates.
    settings.secrets.app_file = Some(dir.join("latchkey.secret"));
    let secret = settings.load_secret().unwrap();
    assert_eq!(secret.expose(), b"production-secret-0123456789abcdef");
    assert!(!dir.join("latchkey.secret").exists());
    assert!(
        !format!("{settings:?}").contains("production-secret"),
        "Debug shows the secret"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn migrate_creates_the_schema_and_exits() {
    let dir = temp_dir("migrate");
    let out = latchkey(&dir, &[], &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("cli.db").exists());
    // Twice is fine: migrations are idempotent.
    assert!(latchkey(&dir, &[], &["migrate"]).status.success());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_openapi_subcommand_writes_the_committed_contract() {
    let dir = temp_dir("openapi");
    let out = latchkey(&dir, &[], &["openapi", "--out", "spec"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(dir.join("spec/openapi.json")).unwrap();
    let committed = std::fs::read_to_string(format!(
        "{}/../../openapi/openapi.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert!(
        written == committed,
        "`latchkey openapi` wrote something other than openapi/openapi.json"
    );
    std::fs::remove_dir_all(dir).ok();
}

const STRONG: &str = "production-secret-0123456789abcdef";
const SERVER_STRONG: &str = "production-server-secret-0123456789abcdef";

#[test]
fn production_refuses_plain_http_cookies_and_eddsa_without_keys() {
    let dir = temp_dir("prod-config");
    let secrets = [
        ("LATCHKEY_ENV", "production"),
        ("LATCHKEY_SECRET", STRONG),
        ("LATCHKEY_SERVER_SECRET", SERVER_STRONG),
    ];
    let out = latchkey(&dir, &secrets, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("https:// LATCHKEY_PUBLIC_URL"), "{stderr}");

    let https = [
        secrets[0],
        secrets[1],
        secrets[2],
        ("LATCHKEY_PUBLIC_URL", "https://app.example.com"),
    ];
    let out = latchkey(&dir, &https, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs a mailer: set LATCHKEY_SMTP_HOST"),
        "{stderr}"
    );
    assert!(
        !dir.join("mail-outbox").exists(),
        "production must not fall back to the file mailer"
    );
    let cleartext = [
        https[0],
        https[1],
        https[2],
        https[3],
        ("LATCHKEY_SMTP_HOST", "smtp.example.com"),
        ("LATCHKEY_SMTP_TLS", "none"),
    ];
    let out = latchkey(&dir, &cleartext, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LATCHKEY_SMTP_TLS=none"), "{stderr}");

    let https = [
        https[0],
        https[1],
        https[2],
        https[3],
        ("LATCHKEY_SMTP_HOST", "smtp.example.com"),
        ("LATCHKEY_JWT_ALG", "EdDSA"),
    ];
    let out = latchkey(&dir, &https, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("latchkey keys generate"), "{stderr}");
    assert!(
        !dir.join("latchkey.keys.json").exists(),
        "production must not generate keys"
    );

    let out = latchkey(
        &dir,
        &[("LATCHKEY_PUBLIC_URL", "http://app.example.com")],
        &[],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only allowed for localhost"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn production_refuses_a_missing_short_or_shared_server_secret() {
    let dir = temp_dir("prod-server-secret");
    let base = [
        ("LATCHKEY_ENV", "production"),
        ("LATCHKEY_SECRET", STRONG),
        ("LATCHKEY_PUBLIC_URL", "https://app.example.com"),
        ("LATCHKEY_SMTP_HOST", "smtp.example.com"),
    ];
    let out = latchkey(&dir, &base, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("LATCHKEY_SERVER_SECRET is not set"),
        "{stderr}"
    );
    assert!(
        !dir.join("latchkey.server-secret").exists(),
        "production must not generate a server secret"
    );

    let cases = [
        ("short-but-secret-value", "at least 32 bytes"),
        (STRONG, "must differ from LATCHKEY_SECRET"),
    ];
    for (value, expected) in cases {
        let mut env = base.to_vec();
        env.push(("LATCHKEY_SERVER_SECRET", value));
        let out = latchkey(&dir, &env, &[]);
        assert!(!out.status.success(), "{value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains(value), "the secret leaked: {stderr}");
    }

    // From a file: read, never created.
    let file = dir.join("server-secret");
    let path = file.to_str().unwrap().to_owned();
    let mut env = base.to_vec();
    env.push(("LATCHKEY_SERVER_SECRET_FILE", &path));
    let out = latchkey(&dir, &env, &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    assert!(
        !file.exists(),
        "production must not generate a server secret"
    );
    std::fs::write(&file, format!("{STRONG}\n")).unwrap();
    let out = latchkey(&dir, &env, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("must differ from LATCHKEY_SECRET"),
        "the file was read: {stderr}"
    );
    // The same material with a stray newline in the environment is still the same key.
    let app_with_newline = format!("{STRONG}\n");
    let mut env = env.clone();
    env[1] = ("LATCHKEY_SECRET", app_with_newline.as_str());
    let out = latchkey(&dir, &env, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("must differ from LATCHKEY_SECRET"),
        "{stderr}"
    );

    // The tests' server secret is public: never in production.
    let mut env = base.to_vec();
    env.push((
        "LATCHKEY_SERVER_SECRET",
        latchkey_server::settings::TEST_SERVER_SECRET,
    ));
    let out = latchkey(&dir, &env, &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("public test secret"), "{stderr}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn better_auths_secret_is_refused_as_the_apps_even_through_the_alias() {
    let dir = temp_dir("better-auth-secret");
    let old = "better-auth-secret-that-the-old-deployments-all-hold";
    // LATCHKEY_SECRET unset: BETTER_AUTH_SECRET stands in for it, as the seeds' apps set it.
    let env = [
        ("BETTER_AUTH_SECRET", old),
        ("LATCHKEY_BETTER_AUTH_SECRET", old),
        ("LATCHKEY_SERVER_SECRET", STRONG),
    ];
    let out = latchkey(&dir, &env, &["config"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("LATCHKEY_SECRET must differ from LATCHKEY_BETTER_AUTH_SECRET"),
        "{stderr}"
    );
    assert!(!stderr.contains(old), "the secret leaked: {stderr}");
    // A new secret of its own: accepted.
    let mut env = env.to_vec();
    env.push((
        "LATCHKEY_SECRET",
        "a-new-secret-for-latchkey-alone-0123456789",
    ));
    let out = latchkey(&dir, &env, &["config"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nor may the server's secret be Better Auth's: it derives refresh tokens and links.
    env[2] = ("LATCHKEY_SERVER_SECRET", old);
    let out = latchkey(&dir, &env, &["config"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("LATCHKEY_SERVER_SECRET must differ from LATCHKEY_BETTER_AUTH_SECRET"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn development_generates_a_server_secret_beside_the_apps_and_reuses_it() {
    use latchkey_server::settings::{Environment, Settings};
    let dir = temp_dir("dev-server");
    let mut settings = Settings::for_tests("sqlite://unused.db", "");
    settings.secrets.app = None;
    settings.secrets.server = None;
    settings.environment = Environment::Development;
    settings.secrets.app_file = Some(dir.join("latchkey.secret"));
    let app = settings.load_secret().unwrap();
    let first = settings.load_server_secret(&app).unwrap();
    assert_ne!(first.expose(), app.expose());
    let file = dir.join("latchkey.server-secret");
    assert!(std::fs::read_to_string(&file).unwrap().len() >= 32);
    let second = settings.load_server_secret(&app).unwrap();
    assert_eq!(
        first.expose(),
        second.expose(),
        "the same secret on every start"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read the secret file");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn keys_generate_rotates_into_a_private_file_and_list_never_prints_a_seed() {
    use latchkey_server::keys::KeyFile;
    let dir = temp_dir("keys");
    for _ in 0..2 {
        let out = latchkey(&dir, &[], &["keys", "generate"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("generated key "));
    }
    let path = dir.join("latchkey.keys.json");
    let file = KeyFile::read(&path).unwrap();
    assert_eq!(file.keys.len(), 2);
    // The second key is published now and signs an hour later.
    let delay = file.keys[1].active_from - file.keys[0].active_from;
    assert!((3_599..=3_660).contains(&delay), "{delay}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read the keys file");
    }
    let out = latchkey(&dir, &[], &["keys", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    for key in &file.keys {
        assert!(listed.contains(&key.kid), "{listed}");
        assert!(!listed.contains(&key.seed), "a private key was printed");
    }
    assert!(
        listed.contains("signing") && listed.contains("published, not signing yet"),
        "{listed}"
    );
    std::fs::remove_dir_all(dir).ok();
}
