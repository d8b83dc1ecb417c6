//! The benchmark harness's tools (driven by `scripts/bench`, which reads their JSON):
//!
//!     latchkey-load load --url URL [--method M] [--header 'K: V']… [--body B]
//!                        --connections N (--duration S | --requests N | both)
//!                        [--chain FIELD --seeds FILE] [--expect STATUS]
//!     latchkey-load hash
//!
//! `load` keeps N HTTP/1.1 keep-alive connections busy, one request at a time each, on one
//! thread, so the generator costs the machine one core at most and the server keeps the
//! other. `hash` times one argon2id hash at the server's default cost.

mod hash;
mod load;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Latchkey's benchmark load generator and hash timer")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load one endpoint and print requests/s and latency percentiles as JSON.
    Load(LoadArgs),
    /// Time one argon2id hash at the default cost; prints JSON.
    Hash {
        /// Hashes to take the median of.
        #[arg(long, default_value_t = 15)]
        rounds: usize,
    },
}

#[derive(clap::Args)]
pub struct LoadArgs {
    /// http://host:port/path (loopback only: no TLS).
    #[arg(long)]
    url: String,
    #[arg(long, default_value = "GET")]
    method: String,
    /// `Name: value`, repeatable.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Request body; `{n}` becomes a number unique within the run (for sign-ups), `{token}`
    /// the connection's current chain token.
    #[arg(long)]
    body: Option<String>,
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Stop after this many seconds.
    #[arg(long, value_parser = parse_secs)]
    duration: Option<Duration>,
    /// Stop after this many requests in all.
    #[arg(long)]
    requests: Option<u64>,
    /// The status a request must get to count as done; anything else is an error.
    #[arg(long, default_value_t = 200)]
    expect: u16,
    /// For rotating tokens: each answer's JSON field FIELD becomes the connection's next
    /// `{token}`. Connection i starts from line i of `--seeds`.
    #[arg(long, requires = "seeds")]
    chain: Option<String>,
    #[arg(long)]
    seeds: Option<PathBuf>,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("not a number of seconds: {s}"))?;
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Load(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let report = runtime.block_on(load::run(args))?;
            println!("{report}");
        }
        Command::Hash { rounds } => println!("{}", hash::time_default_cost(rounds)?),
    }
    Ok(())
}
