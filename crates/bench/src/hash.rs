//! The cost of one password hash at the server's configured parameters: what bounds sign-in
//! throughput (cores ÷ this time).

use std::time::Instant;

use latchkey_core::hash::{DEFAULT_COST, hash_password};
use serde_json::{Value, json};

pub fn time_default_cost(rounds: usize) -> anyhow::Result<Value> {
    let salt = *b"bench-salt-16byt";
    let mut ms: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            hash_password("velvet-Harbor-2931!", &salt, DEFAULT_COST)
                .map(|_| start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    ms.sort_by(f64::total_cmp);
    let cost = DEFAULT_COST;
    Ok(json!({
        "algorithm": "argon2id",
        "params": format!("m={},t={},p={}", cost.memory_kib, cost.iterations, cost.parallelism),
        "ms": ms[ms.len() / 2],
    }))
}
