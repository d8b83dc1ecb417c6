//! Log capture for the suite-wide log-hygiene check. With `LATCHKEY_LOG_CAPTURE=DIR` set,
//! every log line the servers under test write — in-process at debug level, and the real
//! binary's output in the process tests — goes to `DIR/log-<pid>.txt`, and every secret the
//! tests hand to a server or get from one (passwords, access, refresh and one-time tokens,
//! the signing secret) to `DIR/secrets-<pid>.txt`. `tests/hardening/log_hygiene.py DIR` then
//! checks that no secret appears in any line, and that every line is one whole event.
//!
//! Half the tests' servers write their lines as JSON (as LATCHKEY_LOG_FORMAT=json does), half
//! as text, so the check covers both formats.
//!
//! Without the variable, server logs go to the test's output when RUST_LOG is set, as before.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use latchkey_server::logging::OneLine;
use serde_json::Value;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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
            // Half the tests' servers log text and half JSON (LATCHKEY_LOG_FORMAT=json), so
            // the hygiene check reads both. The subscriber is the process's, so the half is
            // chosen per event, by the test thread that serves it.
            let json_log = log.try_clone().unwrap();
            let text = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(OneLine(Mutex::new(log)))
                .with_filter(filter_fn(|_| !json_half()));
            let json = tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .with_writer(OneLine(Mutex::new(json_log)))
                .with_filter(filter_fn(|_| json_half()));
            tracing_subscriber::registry()
                .with(tracing_subscriber::EnvFilter::new(filter))
                .with(text)
                .with(json)
                .try_init()
                .ok()?;
            Some(Capture {
                secrets: Mutex::new((open(format!("secrets-{pid}.txt")), HashSet::new())),
                log_path: dir.join(format!("log-{pid}-processes.txt")),
            })
        })
        .as_ref()
}

/// Whether this thread's events are captured as JSON: a test thread is named after its
/// test, and the names split about evenly by the parity of their bytes' sum.
fn json_half() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|name| name.bytes().map(u32::from).sum::<u32>() % 2 == 1)
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
