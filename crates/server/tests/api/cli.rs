//! The `latchkey` binary itself: secret rules at start-up, and the openapi subcommand.

use std::process::{Command, Output};

fn latchkey(dir: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    cmd.current_dir(dir).args(args);
    for var in [
        "LATCHKEY_SECRET",
        "BETTER_AUTH_SECRET",
        "LATCHKEY_ENV",
        "DATABASE_URL",
        "LATCHKEY_LISTEN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("LATCHKEY_LISTEN", "127.0.0.1:0")
        .env("DATABASE_URL", "sqlite://cli.db");
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
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
fn development_generates_a_secret_file_once_and_says_so() {
    use latchkey_server::config::{Environment, Settings};
    let dir = temp_dir("dev");
    let mut settings = Settings::for_tests("sqlite://unused.db", "");
    settings.secret = None;
    settings.environment = Environment::Development;
    settings.secret_file = dir.join("latchkey.secret");
    let first = settings.load_secret().unwrap();
    let stored = std::fs::read_to_string(&settings.secret_file).unwrap();
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
        let mode = std::fs::metadata(&settings.secret_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read the secret file");
    }
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
    assert_eq!(written, committed);
    std::fs::remove_dir_all(dir).ok();
}
