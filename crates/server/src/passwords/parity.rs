//! Timing parity across stored formats: a wrong password takes as long as on the slowest kind
//! of hash in the store, whatever the account's own hash, and as long as an unknown email.
//!
//! Without it, an account that moved in with a bcrypt-12 hash answers a wrong password in
//! about 0.25 s, and an unknown address (one argon2id dummy) in 0.03 s: the time would tell
//! which addresses have accounts. So the hasher learns what verifying each kind of stored
//! hash ([`Work`]) takes — at start-up from one hash of each kind in the store, afterwards
//! from every verification — and pads every refusal with a sleep up to a floor a little
//! above the slowest kind's time. The sleep holds no hashing slot, so it costs no CPU. With
//! only today's argon2id present there is no floor: the dummy already costs what a real
//! check does, as it always has.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use latchkey_core::hash::Work;

/// How far above the slowest kind's average the floor sits, so that the slowest kind's own
/// checks, which vary around that average, are padded too, and all refusals end together.
const MARGIN: f64 = 1.1;

/// Each new time moves a kind's average by this share: recent enough to follow a server
/// getting busier, steady enough that one slow check does not move every refusal.
const WEIGHT: f64 = 1.0 / 8.0;

pub(super) struct Parity {
    /// What the dummy costs: argon2id at today's parameters.
    baseline: Work,
    /// The average time of one verification of each kind seen, in seconds.
    seconds: Mutex<HashMap<Work, f64>>,
}

impl Parity {
    pub(super) fn new(baseline: Work) -> Self {
        Parity {
            baseline,
            seconds: Mutex::default(),
        }
    }

    pub(super) fn baseline(&self) -> Work {
        self.baseline
    }

    /// Whether a verification of `work` has been timed yet.
    pub(super) fn knows(&self, work: Work) -> bool {
        self.times().contains_key(&work)
    }

    /// Folds one verification's time into its kind's average.
    pub(super) fn observe(&self, work: Work, took: Duration) {
        let took = took.as_secs_f64();
        self.times()
            .entry(work)
            .and_modify(|average| *average += (took - *average) * WEIGHT)
            .or_insert(took);
    }

    /// The least time a refusal takes, and the kind that sets it: `None` while today's
    /// argon2id is the only kind seen.
    pub(super) fn floor(&self) -> Option<(Duration, Work)> {
        let times = self.times();
        if times.keys().all(|work| *work == self.baseline) {
            return None;
        }
        let (work, slowest) = times
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(work, seconds)| (*work, *seconds))?;
        Some((Duration::from_secs_f64(slowest * MARGIN), work))
    }

    /// Sleeps out the rest of the floor after a refusal whose hashing took `took`.
    pub(super) async fn pad(&self, took: Duration) {
        if let Some((floor, _)) = self.floor() {
            let rest = floor.saturating_sub(took);
            if !rest.is_zero() {
                tokio::time::sleep(rest).await;
            }
        }
    }

    fn times(&self) -> std::sync::MutexGuard<'_, HashMap<Work, f64>> {
        self.seconds.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_core::hash::DEFAULT_COST;

    const ARGON2: Work = Work::Argon2id(DEFAULT_COST);
    const BCRYPT: Work = Work::Bcrypt { cost: 12 };

    #[test]
    fn argon2id_alone_has_no_floor_and_a_slower_kind_sets_it() {
        let parity = Parity::new(ARGON2);
        assert_eq!(parity.floor(), None);
        parity.observe(ARGON2, Duration::from_millis(30));
        assert_eq!(parity.floor(), None);
        parity.observe(BCRYPT, Duration::from_millis(250));
        let (floor, work) = parity.floor().unwrap();
        assert_eq!(work, BCRYPT);
        assert_eq!(floor.as_millis(), 275);
        // A faster foreign kind still sets a floor: the baseline's, with the margin.
        let parity = Parity::new(ARGON2);
        parity.observe(ARGON2, Duration::from_millis(30));
        parity.observe(Work::Bcrypt { cost: 4 }, Duration::from_millis(1));
        let (floor, work) = parity.floor().unwrap();
        assert_eq!((floor.as_millis(), work), (33, ARGON2));
    }

    #[test]
    fn the_average_follows_a_busier_server_an_eighth_at_a_time() {
        let parity = Parity::new(ARGON2);
        parity.observe(BCRYPT, Duration::from_millis(200));
        parity.observe(BCRYPT, Duration::from_millis(1000));
        let (floor, _) = parity.floor().unwrap();
        assert_eq!(floor.as_millis(), 330, "(200 + 800 / 8) × 1.1");
    }
}
