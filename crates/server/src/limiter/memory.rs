//! Counters in this process's memory: nothing to run, and lost on restart — right for one
//! instance. Bounded: at `capacity` counters, the one closest to expiry goes (an expired one
//! if there is any), found through an expiry-ordered index, so a flood of new buckets costs
//! O(log n) per request and evicts its own short-lived counters before anyone's 15-minute
//! sign-in counts.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::{CounterError, Counters, clamp};

type Key = (String, i64);

#[derive(Default)]
struct Table {
    /// (bucket, window) → (hits, expires at, insertion number).
    counters: HashMap<Key, (i64, i64, u64)>,
    /// (expires at, insertion number) → (bucket, window): eviction order.
    by_expiry: BTreeMap<(i64, u64), Key>,
    inserted: u64,
}

pub struct MemoryCounters {
    table: Mutex<Table>,
    capacity: usize,
}

impl MemoryCounters {
    pub fn new(capacity: usize) -> Self {
        MemoryCounters {
            table: Mutex::new(Table::default()),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.table.lock().map_or(0, |t| t.counters.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl Counters for MemoryCounters {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
        _now_ms: i64,
    ) -> Result<(u64, u64), CounterError> {
        let mut guard = self
            .table
            .lock()
            .map_err(|_| CounterError("poisoned".into()))?;
        let table = &mut *guard;
        let key = (bucket.to_owned(), window);
        if !table.counters.contains_key(&key) {
            while table.counters.len() >= self.capacity {
                let Some((_, oldest)) = table.by_expiry.pop_first() else {
                    break;
                };
                table.counters.remove(&oldest);
            }
            table.inserted += 1;
            let seq = table.inserted;
            table.by_expiry.insert((expires_at_ms, seq), key.clone());
            table.counters.insert(key.clone(), (0, expires_at_ms, seq));
        }
        let current = match table.counters.get_mut(&key) {
            Some(entry) => {
                entry.0 = entry.0.saturating_add(delta);
                entry.0
            }
            None => 0,
        };
        let previous = table
            .counters
            .get(&(bucket.to_owned(), window.saturating_sub(1)))
            .map_or(0, |(hits, _, _)| *hits);
        Ok((clamp(previous), clamp(current)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_per_bucket_and_window_and_evicts_the_soonest_to_expire() {
        let counters = MemoryCounters::new(3);
        assert_eq!(counters.hit("a", 1, 1, 100, 0).await.unwrap(), (0, 1));
        assert_eq!(counters.hit("a", 1, 1, 100, 0).await.unwrap(), (0, 2));
        assert_eq!(counters.hit("a", 2, 1, 200, 0).await.unwrap(), (2, 1));
        assert_eq!(counters.hit("b", 2, 1, 50, 0).await.unwrap(), (0, 1));
        // Full: a new counter pushes out the one closest to expiry ("b", then "a" window 1).
        assert_eq!(counters.hit("c", 2, 1, 300, 60).await.unwrap(), (0, 1));
        assert_eq!(counters.len(), 3);
        assert_eq!(counters.hit("b", 2, 0, 50, 60).await.unwrap().1, 0);
        assert_eq!(counters.len(), 3);
    }

    #[tokio::test]
    async fn a_flood_of_new_buckets_stays_within_capacity_and_keeps_long_lived_counts() {
        let counters = MemoryCounters::new(1000);
        // A sign-in count that lives 30 minutes…
        for _ in 0..4 {
            counters
                .hit("signin_account:ann", 7, 1, 1_800_000, 0)
                .await
                .unwrap();
        }
        // …survives 100,000 ten-second buckets from a flood.
        for i in 0..100_000 {
            counters
                .hit(&format!("auth_ip:{i}"), 1, 1, 20_000, 0)
                .await
                .unwrap();
        }
        assert_eq!(counters.len(), 1000);
        assert_eq!(
            counters
                .hit("signin_account:ann", 7, 1, 1_800_000, 0)
                .await
                .unwrap()
                .1,
            5
        );
    }
}
