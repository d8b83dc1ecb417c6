//! `latchkey`: the server binary. It parses the command line, starts tracing, and awaits.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use latchkey_server::clock::{Clock, SystemClock};
use latchkey_server::config::Settings;
use latchkey_server::keys::KeyFile;
use latchkey_server::logging::OneLine;
use latchkey_server::{api, startup};

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Authentication for Next.js apps, with a Rust core"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<Settings>),
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://latchkey.db")]
        database_url: String,
    },
    /// Manage the Ed25519 signing keys used with LATCHKEY_JWT_ALG=EdDSA.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Write openapi.json and openapi.yaml.
    Openapi {
        #[arg(long, default_value = "openapi")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key. It is published in the JWKS at once (after a restart) and
    /// starts signing `--activate-in` seconds later; restart every instance within that
    /// window. The previous key keeps verifying until the last token it signed expires.
    Generate {
        #[arg(long, env = "LATCHKEY_KEYS_FILE", default_value = "latchkey.keys.json")]
        keys_file: PathBuf,
        /// Seconds until the new key signs (the first key in a file signs at once).
        #[arg(long, default_value_t = 3600,
              value_parser = clap::value_parser!(i64).range(0..=30 * 24 * 3600))]
        activate_in: i64,
    },
    /// List the keys in the file (ids and dates only; never the private keys).
    List {
        #[arg(long, env = "LATCHKEY_KEYS_FILE", default_value = "latchkey.keys.json")]
        keys_file: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,poem=warn".into()),
        )
        // Colours only on a terminal: a log file should hold text, not escape codes.
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(OneLine(std::io::stdout))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(settings)) => serve(*settings).await,
        Some(Command::Migrate { database_url }) => migrate(&database_url).await,
        Some(Command::Keys(command)) => keys(command),
        Some(Command::Openapi { out }) => write_openapi(&out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("latchkey: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let state = startup::build_state(&settings, Arc::new(SystemClock)).await?;
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    tracing::info!(
        "listening on http://{} ({}); API docs at /docs",
        listener.local_addr()?,
        state.store.backend()
    );
    startup::run(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let store = latchkey_store::connect(database_url).await?;
    tracing::info!(backend = store.backend(), "migrations applied");
    Ok(())
}

fn keys(command: KeysCommand) -> anyhow::Result<()> {
    let now = SystemClock.now_secs();
    match command {
        KeysCommand::Generate {
            keys_file,
            activate_in,
        } => {
            let mut file = KeyFile::read(&keys_file)?;
            let kid = file.rotate(now, activate_in)?;
            file.write(&keys_file)?;
            let from = file.keys.last().map_or(now, |k| k.active_from);
            println!(
                "generated key {kid} in {}; it signs from {from} (Unix seconds)",
                keys_file.display()
            );
        }
        KeysCommand::List { keys_file } => {
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
