//! The cost of one password hash at the server's configured parameters, as the server runs it
//! (a kept argon2 workspace per thread): what bounds sign-in throughput.

use std::thread;
use std::time::Instant;

use latchkey_core::hash::{DEFAULT_COST, Workspace, hash_password_in};
use serde_json::{Value, json};

const PASSWORD: &str = "velvet-Harbor-2931!";
const SALT: [u8; 16] = *b"bench-salt-16byt";

/// The median time of one hash on one thread, and the hashes per second that every core
/// hashing at once achieves (memory-hard hashes slow each other down through the shared
/// cache and memory bus, so the second is the real ceiling).
pub fn time_default_cost(rounds: usize) -> anyhow::Result<Value> {
    let rounds = rounds.max(1);
    let mut ms = one_thread(rounds)?;
    ms.sort_by(f64::total_cmp);
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let per_thread = thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|_| scope.spawn(|| one_thread(rounds)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a hashing thread panicked"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let all_cores_per_s = (per_thread.len() * rounds) as f64 / started.elapsed().as_secs_f64();
    let cost = DEFAULT_COST;
    Ok(json!({
        "algorithm": "argon2id",
        "params": format!("m={},t={},p={}", cost.memory_kib, cost.iterations, cost.parallelism),
        "ms": ms[ms.len() / 2],
        "all_cores_per_s": all_cores_per_s,
    }))
}

/// Milliseconds per hash, `rounds` hashes in one workspace (the first one warms it up).
fn one_thread(rounds: usize) -> anyhow::Result<Vec<f64>> {
    let mut workspace = Workspace::default();
    hash_password_in(&mut workspace, PASSWORD, &SALT, DEFAULT_COST)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            hash_password_in(&mut workspace, PASSWORD, &SALT, DEFAULT_COST)
                .map(|_| start.elapsed().as_secs_f64() * 1e3)
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
        })
        .collect()
}
