//! Log capture for the suite-wide log-hygiene check. With `LATCHKEY_LOG_CAPTURE=DIR` set,
//! every log line the servers under test write — in-process at debug level, and the real
//! binary's output in the process tests — goes to `DIR/log-<pid>.txt`, and every secret the
//! tests hand to a server or get from one (passwords, access, refresh and one-time tokens,
//! the signing secret) to `DIR/secrets-<pid>.txt`. `tests/hardening/log_hygiene.py DIR` then
//! checks that no secret appears in any line, and that every line is one whole event.
//!
//! Without the variable, server logs go to the test's output when RUST_LOG is set, as before.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use latchkey_server::logging::OneLine;
use serde_json::Value;

struct Capture {
    secrets: Mutex<(File, HashSet<String>)>,
    log_path: PathBuf,
}

static CAPTURE: OnceLock<Option<Capture>> = OnceLock::new();

fn capture() -> Option<&'static Capture> {
    CAPTURE
        .get_or_init(|| {
            let dir = PathBuf::from(std::env::var_os("LATCHKEY_LOG_CAPTURE")?);
            std::fs::create_dir_all(&dir).unwrap();
            let pid = std::process::id();
            let open = |name: String| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join(name))
                    .unwrap()
            };
            let log = open(format!("log-{pid}.txt"));
            let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| {
                // The servers' own crates at debug; the test client's HTTP stack is not the
                // server's log.
                "debug,hyper=info,hyper_util=info,reqwest=info,h2=info,rustls=info".into()
            });
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_ansi(false)
                .with_writer(OneLine(Mutex::new(log)))
                .try_init()
                .ok()?;
            Some(Capture {
                secrets: Mutex::new((open(format!("secrets-{pid}.txt")), HashSet::new())),
                log_path: dir.join(format!("log-{pid}-processes.txt")),
            })
        })
        .as_ref()
}

/// Starts capturing if `LATCHKEY_LOG_CAPTURE` is set, else shows server logs in the test's
/// output when RUST_LOG is set. Called by every test server; only the first call acts.
pub fn init() {
    if capture().is_none()
        && let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env()
    {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}

/// Records a secret a test handled, for the log-hygiene check.
pub fn secret(value: &str) {
    let Some(capture) = capture() else { return };
    // Very short values (a one-letter name in a wrong-password test) match by accident.
    if value.chars().count() < 6 {
        return;
    }
    let mut guard = capture.secrets.lock().unwrap();
    let (file, seen) = &mut *guard;
    if seen.insert(value.to_owned()) {
        // JSON per line, so a secret with a line break stays one record.
        writeln!(file, "{}", Value::from(value)).unwrap();
    }
}

/// Records the secrets in a request or response body: every string under a key that names
/// a password, a token or a secret, at any depth.
pub fn secrets_in(body: &Value) {
    match body {
        Value::Object(map) => {
            for (key, value) in map {
                let key = key.to_ascii_lowercase();
                match value {
                    // `tokenType` is "Bearer", not a token.
                    Value::String(s)
                        if key != "tokentype"
                            && ["password", "token", "secret"]
                                .iter()
                                .any(|k| key.contains(k)) =>
                    {
                        secret(s)
                    }
                    other => secrets_in(other),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(secrets_in),
        _ => {}
    }
}

/// Appends what a server process printed to the captured logs.
pub fn process_log(text: &str) {
    let Some(capture) = capture() else { return };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&capture.log_path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}
