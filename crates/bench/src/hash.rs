//! The cost of one password hash at the server's configured parameters, as the server runs it
//! (a kept argon2 workspace per thread): what bounds sign-in throughput.
//!
//! Measured in CPU time of the hashing thread, which a busy shared machine disturbs far less
//! than wall time, and compared with the server's CPU time per sign-in.

use std::thread;

use latchkey_core::hash::{DEFAULT_COST, Workspace, hash_password_in};
use serde_json::{Value, json};

const PASSWORD: &str = "velvet-Harbor-2931!";
const SALT: [u8; 16] = *b"bench-salt-16byt";

/// The median CPU time of one hash on one thread, and the same with every core hashing at
/// once (memory-hard hashes slow each other down through the shared cache and memory bus,
/// so the second is what a busy server pays).
pub fn time_default_cost(rounds: usize) -> anyhow::Result<Value> {
    let rounds = rounds.max(1);
    let alone = one_thread(rounds)?;
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let mut together = thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|_| scope.spawn(|| one_thread(rounds)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a hashing thread panicked"))
            .collect::<Result<Vec<_>, _>>()
    })?
    .concat();
    let cost = DEFAULT_COST;
    Ok(json!({
        "algorithm": "argon2id",
        "params": format!("m={},t={},p={}", cost.memory_kib, cost.iterations, cost.parallelism),
        "ms": median(alone),
        "all_cores_ms": median(std::mem::take(&mut together)),
    }))
}

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

/// CPU milliseconds per hash, `rounds` hashes in one workspace (after one to warm it up).
fn one_thread(rounds: usize) -> anyhow::Result<Vec<f64>> {
    let mut workspace = Workspace::default();
    let hash = |ws: &mut Workspace| {
        hash_password_in(ws, PASSWORD, &SALT, DEFAULT_COST)
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    };
    hash(&mut workspace)?;
    (0..rounds)
        .map(|_| {
            let start = thread_cpu_ns()?;
            hash(&mut workspace)?;
            Ok((thread_cpu_ns()? - start) as f64 / 1e6)
        })
        .collect()
}

/// This thread's CPU time so far, in nanoseconds. (`/proc/thread-self/schedstat` moves in
/// whole scheduler ticks, 4 ms here: too coarse for one hash.)
fn thread_cpu_ns() -> anyhow::Result<u64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        anyhow::bail!("clock_gettime: {}", std::io::Error::last_os_error());
    }
    Ok(now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64)
}
