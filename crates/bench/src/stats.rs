//! What one load run measured, as the JSON the harness reads.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

#[derive(Default)]
pub struct Tally {
    /// Microseconds per request that got the expected status (a fast refusal must not
    /// flatter the percentiles).
    pub latencies_us: Vec<u32>,
    pub statuses: BTreeMap<u16, u64>,
    pub ok: u64,
    /// Connection failures and unreadable answers.
    pub transport_errors: u64,
    pub first_error: Option<String>,
}

impl Tally {
    pub fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.ok += other.ok;
        self.transport_errors += other.transport_errors;
        self.first_error = self.first_error.take().or(other.first_error);
    }

    pub fn report(mut self, elapsed: Duration) -> Value {
        self.latencies_us.sort_unstable();
        let timed = self.latencies_us.len() as u64;
        let answered: u64 = self.statuses.values().sum();
        let pct = |p: f64| -> f64 {
            if self.latencies_us.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * timed as f64).ceil() as usize;
            f64::from(self.latencies_us[rank.clamp(1, timed as usize) - 1]) / 1e3
        };
        let secs = elapsed.as_secs_f64();
        json!({
            "requests": answered,
            "ok": self.ok,
            "errors": answered - self.ok + self.transport_errors,
            "statuses": self.statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect::<BTreeMap<_, _>>(),
            "first_error": self.first_error,
            "seconds": secs,
            "rps": if secs > 0.0 { self.ok as f64 / secs } else { 0.0 },
            "p50_ms": pct(50.0),
            "p95_ms": pct(95.0),
            "p99_ms": pct(99.0),
            "max_ms": pct(100.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut tally = Tally {
            latencies_us: (1..=100).rev().map(|ms| ms * 1000).collect(),
            ok: 100,
            ..Tally::default()
        };
        tally.statuses.insert(200, 100);
        tally.statuses.insert(401, 1);
        let r = tally.report(Duration::from_secs(2));
        assert_eq!(r["p50_ms"], 50.0);
        assert_eq!(r["p95_ms"], 95.0);
        assert_eq!(r["p99_ms"], 99.0);
        assert_eq!(r["max_ms"], 100.0);
        assert_eq!(r["requests"], 101);
        assert_eq!(r["errors"], 1);
        assert_eq!(r["rps"], 50.0);
        assert_eq!(r["statuses"]["401"], 1);
    }
}
