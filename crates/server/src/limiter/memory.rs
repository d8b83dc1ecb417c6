//! Counters in this process's memory: nothing to run, and lost on restart — right for one
//! instance. Bounded: past `capacity` counters, expired ones are dropped, and if that is not
//! enough the ones closest to expiry go first.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{CounterError, Counters, clamp};

pub struct MemoryCounters {
    counters: Mutex<HashMap<(String, i64), (i64, i64)>>,
    capacity: usize,
}

impl MemoryCounters {
    pub fn new(capacity: usize) -> Self {
        MemoryCounters {
            counters: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.counters.lock().map_or(0, |c| c.len())
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
        now_ms: i64,
    ) -> Result<(u64, u64), CounterError> {
        let mut counters = self
            .counters
            .lock()
            .map_err(|_| CounterError("poisoned".into()))?;
        let key = (bucket.to_owned(), window);
        if !counters.contains_key(&key) && counters.len() >= self.capacity {
            counters.retain(|_, (_, expires)| *expires >= now_ms);
            while counters.len() >= self.capacity {
                let soonest = counters
                    .iter()
                    .min_by_key(|(_, (_, expires))| *expires)
                    .map(|(k, _)| k.clone());
                match soonest {
                    Some(k) => counters.remove(&k),
                    None => break,
                };
            }
        }
        let entry = counters.entry(key).or_insert((0, expires_at_ms));
        entry.0 = entry.0.saturating_add(delta);
        let current = entry.0;
        let previous = counters
            .get(&(bucket.to_owned(), window.saturating_sub(1)))
            .map_or(0, |(hits, _)| *hits);
        Ok((clamp(previous), clamp(current)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_per_bucket_and_window_and_stays_within_its_capacity() {
        let counters = MemoryCounters::new(3);
        assert_eq!(counters.hit("a", 1, 1, 100, 0).await.unwrap(), (0, 1));
        assert_eq!(counters.hit("a", 1, 1, 100, 0).await.unwrap(), (0, 2));
        assert_eq!(counters.hit("a", 2, 1, 200, 0).await.unwrap(), (2, 1));
        assert_eq!(counters.hit("b", 2, 1, 50, 0).await.unwrap(), (0, 1));
        // Full: a new counter first drops expired ones, then the soonest to expire ("b").
        assert_eq!(counters.hit("c", 2, 1, 300, 60).await.unwrap(), (0, 1));
        assert_eq!(counters.len(), 3);
        assert_eq!(counters.hit("b", 2, 0, 50, 60).await.unwrap().1, 0);
    }
}
