//! `latchkey`: the server binary. It parses the command line, starts tracing, and awaits.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use latchkey_server::clock::{Clock, SystemClock};
use latchkey_server::import::{self, Progress};
use latchkey_server::keys::KeyFile;
use latchkey_server::logging::OneLine;
use latchkey_server::settings::{self, Flags, LogFormat, Settings, Sources, duration};
use latchkey_server::{api, startup};

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Authentication for Next.js apps, with a Rust core",
    after_help = "Settings come from defaults, then the settings file, then the environment, \
                  then flags; `latchkey config` prints what they add up to."
)]
struct Cli {
    /// The settings file (TOML) [env: LATCHKEY_CONFIG; default: latchkey.toml in the working
    /// directory, if there is one].
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
    /// Settings flags before the subcommand (or without one: `serve`); a subcommand's own
    /// flags win over these.
    #[command(flatten)]
    flags: Flags,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Flags),
    /// Print the effective settings (secrets redacted) and check them as a start would,
    /// without starting; exit 1, naming the setting, if one is wrong.
    Config(Flags),
    /// Create or upgrade the database schema, then exit.
    Migrate(Flags),
    /// Manage the Ed25519 signing keys used with LATCHKEY_JWT_ALG=EdDSA.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Import users from another system, keeping their ids, password hashes and sessions
    /// (README: "Importing users"). Exit status: 0 when every user was imported or was
    /// already here, 3 when some rows were refused (the others were imported), 1 when the
    /// import stopped part-way (the batches before stay written).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write openapi.json and openapi.yaml.
    Openapi {
        #[arg(long, default_value = "openapi")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key. It is published in the JWKS at once (after a restart) and
    /// starts signing `--activate-in` later; restart every instance within that window.
    /// The previous key keeps verifying until the last token it signed expires.
    Generate {
        /// The keys file [env: LATCHKEY_KEYS_FILE; default: latchkey.keys.json].
        #[arg(long, value_name = "PATH")]
        keys_file: Option<String>,
        /// How long until the new key signs (up to 30d; seconds, or 15m, 1h…). The first key
        /// in a file signs at once.
        #[arg(long, default_value = "1h", value_parser = activation_delay)]
        activate_in: i64,
    },
    /// List the keys in the file (ids and dates only; never the private keys).
    List {
        /// The keys file [env: LATCHKEY_KEYS_FILE; default: latchkey.keys.json].
        #[arg(long, value_name = "PATH")]
        keys_file: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// From Better Auth's database: its users and their password credentials, and with
    /// --sessions their live sessions (for the session-cookie exchange).
    BetterAuth {
        #[command(flatten)]
        from: ImportFrom,
        /// Import the live sessions too, so signed-in browsers stay signed in.
        #[arg(long)]
        sessions: bool,
        #[command(flatten)]
        run: ImportRun,
    },
    /// From a users table with the columns id, email, password_hash and created_at (the
    /// seeds' FastAPI app).
    Users {
        #[command(flatten)]
        from: ImportFrom,
        /// The table, optionally with its schema (auth.users).
        #[arg(long, default_value = "users")]
        table: String,
        #[command(flatten)]
        run: ImportRun,
    },
    /// From a file with one user per line, as a JSON object (the schema is in README).
    Jsonl {
        file: PathBuf,
        #[command(flatten)]
        run: ImportRun,
    },
}

#[derive(clap::Args)]
struct ImportFrom {
    /// The database to read: sqlite://PATH or postgres://… (opened read only; in the
    /// environment, it keeps its password out of the process list).
    #[arg(
        long,
        value_name = "URL",
        env = "LATCHKEY_IMPORT_FROM",
        hide_env_values = true
    )]
    from: String,
}

#[derive(clap::Args)]
struct ImportRun {
    /// Report what the import would do, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Users per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    batch_size: u64,
}

fn activation_delay(text: &str) -> Result<i64, String> {
    let delay = duration::parse(text)?;
    if delay.as_secs() > 30 * 24 * 3600 {
        return Err(format!("{text:?} is longer than 30d"));
    }
    Ok(duration::secs(delay))
}

#[tokio::main]
async fn main() -> ExitCode {
    latchkey_server::tls::install_provider();
    let cli = Cli::parse();
    let config = cli.config.as_deref();
    let flags = cli.flags;
    // The format is a setting, so the settings are read once before logging starts; an
    // error in them is reported by the command's own load below.
    let effective = match &cli.command {
        Some(Command::Serve(more) | Command::Config(more) | Command::Migrate(more)) => {
            flags.clone().then(more.clone())
        }
        _ => flags.clone(),
    };
    let format = settings::load::load(config, &effective)
        .map(|(settings, _)| settings.telemetry.log_format)
        .unwrap_or_default();
    start_logging(format);
    if let Some(Command::Import(command)) = cli.command {
        return import_command(config, &flags, command).await;
    }
    let result = match cli.command {
        None => serve(config, &flags).await,
        Some(Command::Serve(more)) => serve(config, &flags.then(more)).await,
        Some(Command::Config(more)) => show_config(config, &flags.then(more)),
        Some(Command::Migrate(more)) => migrate(config, &flags.then(more)).await,
        Some(Command::Keys(command)) => keys(config, flags, command),
        Some(Command::Openapi { out }) => write_openapi(&out),
        Some(Command::Import(_)) => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("latchkey: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stdout, one event per line whatever the format.
fn start_logging(format: LogFormat) {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,poem=warn".into()),
        )
        .with_writer(OneLine(std::io::stdout));
    match format {
        // Colours only on a terminal: a log file should hold text, not escape codes.
        LogFormat::Text => logs.with_ansi(std::io::stdout().is_terminal()).init(),
        // The event's fields at the top level, and the request's span (its `request_id`)
        // under `span`.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

fn load(config: Option<&Path>, flags: &Flags) -> anyhow::Result<(Settings, Sources)> {
    let (settings, sources) = settings::load::load(config, flags)?;
    if let Some(file) = &sources.file {
        tracing::info!(file = %file.display(), "settings file read");
    }
    Ok((settings, sources))
}

async fn serve(config: Option<&Path>, flags: &Flags) -> anyhow::Result<()> {
    let (settings, _) = load(config, flags)?;
    let state = startup::build_state(&settings, Arc::new(SystemClock)).await?;
    let listener = tokio::net::TcpListener::bind(settings.http.listen)
        .await
        .map_err(|err| anyhow::anyhow!("LATCHKEY_LISTEN {}: {err}", settings.http.listen))?;
    let metrics = match settings.telemetry.metrics_listen {
        Some(addr) => {
            let metrics = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|err| anyhow::anyhow!("LATCHKEY_METRICS_LISTEN {addr}: {err}"))?;
            tracing::info!("metrics on http://{}/metrics", metrics.local_addr()?);
            if !private(addr.ip()) {
                // Not refused: in a container, 0.0.0.0 behind a network policy is usual.
                tracing::warn!(
                    "LATCHKEY_METRICS_LISTEN {addr} is not a loopback or private address: /metrics needs no credentials, so keep it behind a firewall"
                );
            }
            Some(metrics)
        }
        None => None,
    };
    tracing::info!(
        "listening on http://{} ({}); API docs at /docs",
        listener.local_addr()?,
        state.store.backend()
    );
    startup::run_with_metrics(listener, metrics, state, shutdown_signal()).await?;
    Ok(())
}

/// Whether only this host or a private network can reach `ip`.
fn private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
    }
}

/// `latchkey config`: the checks a start makes before it touches the database, writing
/// nothing (a development secret that is not there yet is reported, not generated).
fn show_config(config: Option<&Path>, flags: &Flags) -> anyhow::Result<()> {
    let (settings, sources) = settings::load::load(config, flags)?;
    settings.check_secrets()?;
    settings.check()?;
    print!("{}", settings::show::render(&settings, &sources));
    Ok(())
}

async fn migrate(config: Option<&Path>, flags: &Flags) -> anyhow::Result<()> {
    let (settings, _) = load(config, flags)?;
    let store = startup::connect_store(&settings).await?;
    tracing::info!(backend = store.backend(), "migrations applied");
    Ok(())
}

fn keys(config: Option<&Path>, flags: Flags, command: KeysCommand) -> anyhow::Result<()> {
    let now = SystemClock.now_secs();
    let keys_file = |flag: Option<String>| -> anyhow::Result<PathBuf> {
        let flags = match flag {
            Some(path) => flags.clone().with("tokens.keys_file", path),
            None => flags.clone(),
        };
        Ok(load(config, &flags)?.0.tokens.keys_file)
    };
    match command {
        KeysCommand::Generate {
            keys_file: flag,
            activate_in,
        } => {
            let keys_file = keys_file(flag)?;
            let mut file = KeyFile::read(&keys_file)?;
            let kid = file.rotate(now, activate_in)?;
            file.write(&keys_file)?;
            let from = file.keys.last().map_or(now, |k| k.active_from);
            println!(
                "generated key {kid} in {}; it signs from {from} (Unix seconds)",
                keys_file.display()
            );
        }
        KeysCommand::List { keys_file: flag } => {
            let keys_file = keys_file(flag)?;
            let mut keys = KeyFile::read(&keys_file)?.keys;
            keys.sort_by_key(|k| k.active_from);
            let current = keys.iter().rposition(|k| k.active_from <= now);
            for (i, key) in keys.iter().enumerate() {
                let state = match current {
                    Some(c) if c == i => "signing",
                    Some(c) if i < c => "retired (verifies until its tokens expire)",
                    _ => "published, not signing yet",
                };
                println!(
                    "{}  created {}  active from {}  {state}",
                    key.kid, key.created_at, key.active_from
                );
            }
        }
    }
    Ok(())
}

/// `latchkey import …`: the report on stdout (the progress line on stderr, on a terminal),
/// and the report's exit status.
async fn import_command(config: Option<&Path>, flags: &Flags, command: ImportCommand) -> ExitCode {
    match run_import(config, flags, command).await {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("latchkey: {err:#}");
            ExitCode::from(import::report::EXIT_STOPPED)
        }
    }
}

async fn run_import(
    config: Option<&Path>,
    flags: &Flags,
    command: ImportCommand,
) -> anyhow::Result<u8> {
    let (settings, _) = load(config, flags)?;
    let store = startup::connect_store(&settings).await?;
    let now_ms = SystemClock.now_ms();
    let options = |run: ImportRun| import::Options {
        dry_run: run.dry_run,
        batch_size: usize::try_from(run.batch_size).unwrap_or(import::DEFAULT_BATCH_SIZE),
    };
    let (feed, options) = match command {
        ImportCommand::BetterAuth {
            from,
            sessions,
            run,
        } => (
            import::better_auth::open(&from.from, sessions, now_ms).await?,
            options(run),
        ),
        ImportCommand::Users { from, table, run } => (
            import::users_table::open(&from.from, &table).await?,
            options(run),
        ),
        ImportCommand::Jsonl { file, run } => (import::jsonl::open(&file)?, options(run)),
    };
    let report = import::run(&store, feed, &options, now_ms, &mut Progress::on_terminal()).await;
    print!("{}", report.render());
    Ok(report.exit_code())
}

fn write_openapi(out: &Path) -> anyhow::Result<()> {
    let service = api::service();
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("openapi.json"), service.spec() + "\n")?;
    std::fs::write(out.join("openapi.yaml"), service.spec_yaml())?;
    println!("wrote {0}/openapi.json and {0}/openapi.yaml", out.display());
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
