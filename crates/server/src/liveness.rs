//! Is this session still live? The answer every authenticated request needs, cached briefly.
//!
//! A verified access token is only trusted while its session is live, which is one indexed
//! query. The cache remembers each answer for a few seconds (never past the session's own
//! expiry) and forgets it the moment this server revokes the session, so a revocation here
//! is seen on the very next request and one on another instance within the TTL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bounded: past this many entries, expired ones are swept and, if that is not enough, the
/// whole cache is dropped (it only ever saves work, never changes an answer).
const CAPACITY: usize = 100_000;

pub struct LivenessCache {
    ttl_ms: i64,
    entries: Mutex<HashMap<String, Entry>>,
    /// Bumped by every [`LivenessCache::forget`]. A store answer read before a revocation
    /// must not be cached after it, or a revoked session would look live again until the TTL.
    revocations: AtomicU64,
}

/// Taken before asking the store; [`LivenessCache::put`] ignores the answer if any session
/// was revoked in between.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

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
            revocations: AtomicU64::new(0),
        }
    }

    /// Call before reading the store; pass the ticket to [`LivenessCache::put`].
    pub fn ticket(&self) -> Ticket {
        Ticket(self.revocations.load(Ordering::SeqCst))
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
    /// Skipped when a revocation happened since `ticket` was taken: the answer may be stale.
    pub fn put(
        &self,
        ticket: Ticket,
        session_id: &str,
        user_id: &str,
        now_ms: i64,
        expires_at_ms: Option<i64>,
    ) {
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
        // Checked under the lock `forget` also takes, so no revocation can slip between.
        if self.revocations.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
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
        self.revocations.fetch_add(1, Ordering::SeqCst);
        entries.remove(session_id);
    }

    /// Forgets every session of a user, after revoking some of them.
    pub fn forget_user(&self, user_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.revocations.fetch_add(1, Ordering::SeqCst);
        entries.retain(|_, e| e.user_id != user_id);
    }

    /// Take before revoking `session_id` in the store: the session is forgotten when the
    /// guard drops — after the revocation, or when the request is cancelled at any await
    /// (the client hung up), even one after the revocation committed. A plain `forget` call
    /// after the store's answer would be skipped then, and the revoked session would stay
    /// live here until the TTL.
    pub fn forget_after<'a>(&'a self, session_id: &str) -> ForgetAfter<'a> {
        ForgetAfter {
            cache: self,
            what: Forget::Session(session_id.to_owned()),
        }
    }

    /// As [`LivenessCache::forget_after`], for every session of `user_id` (a revocation of
    /// several, whose ids the store only names once it has committed).
    pub fn forget_user_after<'a>(&'a self, user_id: &str) -> ForgetAfter<'a> {
        ForgetAfter {
            cache: self,
            what: Forget::User(user_id.to_owned()),
        }
    }
}

/// See [`LivenessCache::forget_after`].
pub struct ForgetAfter<'a> {
    cache: &'a LivenessCache,
    what: Forget,
}

enum Forget {
    Session(String),
    User(String),
}

impl Drop for ForgetAfter<'_> {
    fn drop(&mut self) {
        match &self.what {
            Forget::Session(id) => self.cache.forget(id),
            Forget::User(id) => self.cache.forget_user(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_last_the_ttl_but_never_past_the_sessions_end() {
        let cache = LivenessCache::new(5_000);
        cache.put(cache.ticket(), "s", "u", 1_000, Some(100_000));
        assert_eq!(cache.get("s", "u", 5_999), Some(true));
        assert_eq!(cache.get("s", "u", 6_000), None);
        cache.put(cache.ticket(), "s", "u", 1_000, Some(2_000));
        assert_eq!(cache.get("s", "u", 2_000), None);
    }

    #[test]
    fn another_user_or_a_forgotten_session_is_a_miss() {
        let cache = LivenessCache::new(5_000);
        cache.put(cache.ticket(), "s", "u", 0, Some(100_000));
        assert_eq!(cache.get("s", "other", 1), None);
        cache.forget("s");
        assert_eq!(cache.get("s", "u", 1), None);
        cache.put(cache.ticket(), "dead", "u", 0, None);
        assert_eq!(cache.get("dead", "u", 1), Some(false));
    }

    /// The race a thief would need: the store said "live", then the session was revoked
    /// (and forgotten) before that answer reached the cache. It must not be cached.
    #[test]
    fn an_answer_read_before_a_revocation_is_not_cached_after_it() {
        let cache = LivenessCache::new(5_000);
        let ticket = cache.ticket();
        cache.forget("s");
        cache.put(ticket, "s", "u", 0, Some(100_000));
        assert_eq!(cache.get("s", "u", 1), None);
        cache.put(cache.ticket(), "s", "u", 0, Some(100_000));
        assert_eq!(cache.get("s", "u", 1), Some(true));
    }

    #[test]
    fn a_cancelled_revocation_still_forgets_its_sessions() {
        let cache = LivenessCache::new(5_000);
        cache.put(cache.ticket(), "s", "u", 0, Some(100_000));
        cache.put(cache.ticket(), "t", "u", 0, Some(100_000));
        cache.put(cache.ticket(), "other", "v", 0, Some(100_000));
        let mut request = Box::pin(async {
            let _one = cache.forget_after("s");
            std::future::pending::<()>().await;
        });
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(request.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            cache.get("s", "u", 1),
            Some(true),
            "kept while the request runs"
        );
        drop(request);
        assert_eq!(
            cache.get("s", "u", 1),
            None,
            "forgotten when it is cancelled"
        );
        drop(cache.forget_user_after("u"));
        assert_eq!(cache.get("t", "u", 1), None);
        assert_eq!(cache.get("other", "v", 1), Some(true));
    }

    #[test]
    fn a_zero_ttl_remembers_nothing() {
        let cache = LivenessCache::new(0);
        cache.put(cache.ticket(), "s", "u", 0, Some(100_000));
        assert_eq!(cache.get("s", "u", 0), None);
    }
}
