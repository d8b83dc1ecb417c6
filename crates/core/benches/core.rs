//! Prints what the core's hot paths cost on this machine: token issue and verify, an
//! argon2id hash at the default cost, and the refusal of an over-cost stored hash.
//!
//!     cargo bench -p latchkey-core --features hashing
//!
//! A plain timing loop (no harness): the figures are for the issue notes and the README, not
//! a pass/fail gate. The machine is shared, so each figure is the median of several runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use latchkey_core::hash::{self, DEFAULT_COST};
use latchkey_core::{AccessTokens, Secret, TokenSubject};

/// Median time per call of `f`, over `rounds` rounds of `per_round` calls.
fn median_per_call(rounds: usize, per_round: u32, mut f: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                f();
            }
            start.elapsed() / per_round
        })
        .collect();
    samples.sort();
    samples[rounds / 2]
}

fn main() {
    let secret = Secret::parse("bench-secret-0123456789abcdef-0123456789").unwrap();
    let tokens = AccessTokens::new(&secret, "latchkey", "latchkey");
    let subject = TokenSubject {
        user_id: "7d0f6c1e-0000-4000-8000-000000000001",
        session_id: "7d0f6c1e-0000-4000-8000-000000000002",
        email: "ann@example.com",
        email_verified: true,
    };
    let now = 1_800_000_000;
    let (token, _) = tokens.issue(&subject, now, "jti").unwrap();

    let issue = median_per_call(9, 2_000, || {
        black_box(tokens.issue(black_box(&subject), now, "jti").unwrap());
    });
    let verify = median_per_call(9, 2_000, || {
        black_box(tokens.verify(black_box(&token), now).unwrap());
    });
    let garbage = "x".repeat(20_000);
    let refuse_big = median_per_call(9, 2_000, || {
        black_box(tokens.verify(black_box(&garbage), now).unwrap_err());
    });

    let salt = *b"0123456789abcdef";
    let hash_time = median_per_call(5, 3, || {
        black_box(hash::hash_password("correct horse", &salt, DEFAULT_COST).unwrap());
    });
    let stored = hash::hash_password("correct horse", &salt, DEFAULT_COST).unwrap();
    let bomb = stored.replace("m=19456", "m=4194304");
    let refuse_bomb = median_per_call(9, 1_000, || {
        black_box(hash::verify_password("correct horse", black_box(&bomb)).unwrap_err());
    });

    let per_sec = |d: Duration| 1.0 / d.as_secs_f64();
    println!(
        "{:<48} {:>12} {:>14}",
        "operation", "time/call", "calls/s/core"
    );
    println!(
        "{:<48} {:>12.2?} {:>14.0}",
        "HS256 access token: issue",
        issue,
        per_sec(issue)
    );
    println!(
        "{:<48} {:>12.2?} {:>14.0}",
        "HS256 access token: verify",
        verify,
        per_sec(verify)
    );
    println!(
        "{:<48} {:>12.2?} {:>14.0}",
        "refuse a 20 KB non-token",
        refuse_big,
        per_sec(refuse_big)
    );
    println!(
        "{:<48} {:>12.2?} {:>14.1}",
        "argon2id hash (m=19456 KiB, t=2, p=1)",
        hash_time,
        per_sec(hash_time)
    );
    println!(
        "{:<48} {:>12.2?} {:>14.0}",
        "refuse a stored hash asking for 4 GiB",
        refuse_bomb,
        per_sec(refuse_bomb)
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "hash-bound sign-in ceiling on {cores} cores: {:.0}/s",
        cores as f64 * per_sec(hash_time)
    );
}
