//! Is this session still live? The answer every authenticated request needs, cached briefly.
//!
//! A verified access token is only trusted while its session is live, which is one indexed
//! query. The cache remembers each answer for a few seconds (never past the session's own
//! expiry) and forgets it the moment this server revokes the session, so a revocation here
//! is seen on the very next request and one on another instance within the TTL.

use std::collections::HashMap;
use std::sync::Mutex;

/// Bounded: past this many entries, expired ones are swept and, if that is not enough, the
/// whole cache is dropped (it only ever saves work, never changes an answer).
const CAPACITY: usize = 100_000;

pub struct LivenessCache {
    ttl_ms: i64,
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    user_id: String,
    /// Whether the session was live, and until when this answer may be reused.
    live: bool,
    until_ms: i64,
}

impl LivenessCache {
    /// A cache whose answers last `ttl_ms`; 0 disables it.
    pub fn new(ttl_ms: i64) -> Self {
        LivenessCache {
            ttl_ms,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The remembered answer for (session, user) at `now_ms`, if any.
    pub fn get(&self, session_id: &str, user_id: &str, now_ms: i64) -> Option<bool> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(session_id)
            .filter(|e| e.user_id == user_id && now_ms < e.until_ms)
            .map(|e| e.live)
    }

    /// Remembers the store's answer: live until `expires_at_ms`, or not live (`None`).
    pub fn put(&self, session_id: &str, user_id: &str, now_ms: i64, expires_at_ms: Option<i64>) {
        if self.ttl_ms == 0 {
            return;
        }
        let until_ms = now_ms.saturating_add(self.ttl_ms);
        let entry = Entry {
            user_id: user_id.to_owned(),
            live: expires_at_ms.is_some(),
            until_ms: expires_at_ms.map_or(until_ms, |end| end.min(until_ms)),
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| now_ms < e.until_ms);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(session_id.to_owned(), entry);
    }

    /// Forgets a session, after revoking it.
    pub fn forget(&self, session_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_last_the_ttl_but_never_past_the_sessions_end() {
        let cache = LivenessCache::new(5_000);
        cache.put("s", "u", 1_000, Some(100_000));
        assert_eq!(cache.get("s", "u", 5_999), Some(true));
        assert_eq!(cache.get("s", "u", 6_000), None);
        cache.put("s", "u", 1_000, Some(2_000));
        assert_eq!(cache.get("s", "u", 2_000), None);
    }

    #[test]
    fn another_user_or_a_forgotten_session_is_a_miss() {
        let cache = LivenessCache::new(5_000);
        cache.put("s", "u", 0, Some(100_000));
        assert_eq!(cache.get("s", "other", 1), None);
        cache.forget("s");
        assert_eq!(cache.get("s", "u", 1), None);
        cache.put("dead", "u", 0, None);
        assert_eq!(cache.get("dead", "u", 1), Some(false));
    }

    #[test]
    fn a_zero_ttl_remembers_nothing() {
        let cache = LivenessCache::new(0);
        cache.put("s", "u", 0, Some(100_000));
        assert_eq!(cache.get("s", "u", 0), None);
    }
}
