//! The current user's profile for `GET /me`, cached as briefly as session liveness.
//!
//! `/me` is the request an app makes most, and its one database read cost about half of its
//! CPU (on SQLite, mostly the hand-off to the database thread). The cache keeps each profile
//! for the session cache's TTL (`LATCHKEY_SESSION_CACHE_TTL`, 5 s by default) and forgets it
//! the moment this server changes it, so a change made here shows on the very next `/me` and
//! one made on another instance within the TTL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use latchkey_store::User;

/// Past this many entries, expired ones are swept and, if that is not enough, the whole
/// cache is dropped (it only ever saves work, never changes an answer).
const CAPACITY: usize = 100_000;

pub struct ProfileCache {
    ttl_ms: i64,
    entries: Mutex<HashMap<String, (User, i64)>>,
    /// Bumped by every [`ProfileCache::forget`], so a profile read before a change is never
    /// cached after it.
    changes: AtomicU64,
}

/// Taken before reading the store; [`ProfileCache::put`] drops the profile if any profile
/// changed in between.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl ProfileCache {
    /// A cache whose profiles last `ttl_ms`; 0 disables it.
    pub fn new(ttl_ms: i64) -> Self {
        ProfileCache {
            ttl_ms,
            entries: Mutex::new(HashMap::new()),
            changes: AtomicU64::new(0),
        }
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(self.changes.load(Ordering::SeqCst))
    }

    pub fn get(&self, user_id: &str, now_ms: i64) -> Option<User> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(user_id)
            .filter(|(_, until_ms)| now_ms < *until_ms)
            .map(|(user, _)| user.clone())
    }

    pub fn put(&self, ticket: Ticket, user: &User, now_ms: i64) {
        if self.ttl_ms == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock `forget` also takes, so no change can slip between.
        if self.changes.load(Ordering::SeqCst) != ticket.0 {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, until_ms)| now_ms < *until_ms);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let until_ms = now_ms.saturating_add(self.ttl_ms);
        entries.insert(user.id.clone(), (user.clone(), until_ms));
    }

    /// Forgets `user_id`'s profile when the guard is dropped: hold it across a write to the
    /// store, so the profile is forgotten after the write even if the request is cancelled
    /// (the client hung up) between the commit and the handler's next line.
    pub fn forget_after<'a>(&'a self, user_id: &str) -> ForgetAfter<'a> {
        ForgetAfter {
            cache: self,
            user_id: user_id.to_owned(),
        }
    }

    /// Forgets a profile, after changing it in the store.
    pub fn forget(&self, user_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.changes.fetch_add(1, Ordering::SeqCst);
        entries.remove(user_id);
    }
}

/// See [`ProfileCache::forget_after`].
pub struct ForgetAfter<'a> {
    cache: &'a ProfileCache,
    user_id: String,
}

impl Drop for ForgetAfter<'_> {
    fn drop(&mut self) {
        self.cache.forget(&self.user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(name: &str) -> User {
        User {
            id: "u".into(),
            email: "ann@example.com".into(),
            name: Some(name.into()),
            image: None,
            email_verified: false,
            created_at: 0,
            locale: None,
        }
    }

    #[test]
    fn a_profile_lasts_the_ttl_and_goes_when_forgotten() {
        let cache = ProfileCache::new(5_000);
        cache.put(cache.ticket(), &ann("Ann"), 1_000);
        assert_eq!(
            cache.get("u", 5_999).and_then(|u| u.name),
            Some("Ann".into())
        );
        assert!(cache.get("u", 6_000).is_none());
        cache.put(cache.ticket(), &ann("Ann"), 1_000);
        cache.forget("u");
        assert!(cache.get("u", 1_001).is_none());
    }

    /// A `/me` that read the old name, then a rename here, then the `/me` finishing: the
    /// old name must not be cached for the next five seconds.
    #[test]
    fn a_profile_read_before_a_change_is_not_cached_after_it() {
        let cache = ProfileCache::new(5_000);
        let ticket = cache.ticket();
        cache.forget("u");
        cache.put(ticket, &ann("Old"), 0);
        assert!(cache.get("u", 1).is_none());
    }

    #[test]
    fn the_guard_forgets_when_it_is_dropped_however_that_happens() {
        let cache = ProfileCache::new(5_000);
        cache.put(cache.ticket(), &ann("Ann"), 0);
        // A request dropped while it waits (the client hung up after the commit).
        let mut request = Box::pin(async {
            let _forget = cache.forget_after("u");
            std::future::pending::<()>().await;
        });
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(request.as_mut().poll(&mut cx).is_pending());
        assert!(
            cache.get("u", 1).is_some(),
            "not forgotten while the request runs"
        );
        drop(request);
        assert!(cache.get("u", 1).is_none());

        cache.put(cache.ticket(), &ann("Ann"), 0);
        {
            let _forget = cache.forget_after("u");
        }
        assert!(cache.get("u", 1).is_none());
    }

    #[test]
    fn a_zero_ttl_remembers_nothing() {
        let cache = ProfileCache::new(0);
        cache.put(cache.ticket(), &ann("Ann"), 0);
        assert!(cache.get("u", 1).is_none());
    }
}
