//! Rate limiting: which rules apply to what, and the counter stores behind them.
//!
//! The arithmetic (sliding windows, backoff) is `latchkey_core::ratelimit`; this module
//! decides *what* is counted — sign-in failures per client address and per account,
//! registrations per address, recovery emails per address and per recipient, refreshes per
//! session, password checks per session, email changes per account, exchanges of imported
//! sessions per address, and a ceiling on everything under `/api/v1/auth/` per address —
//! and where the counters live:
//!
//! - [`memory`]: one process, bounded, nothing to run (the default);
//! - the database (`LATCHKEY_RATE_LIMIT_STORE=database`): one atomic upsert per hit, so every
//!   instance on the same database shares the limits with no extra service;
//! - [`redis`] (`REDIS_URL`): one atomic script per hit.
//!
//! A counter store that cannot answer refuses the request (503 `rate_limit_unavailable`):
//! a limit that silently stops counting during an outage is an open door for exactly the
//! attack it exists for.

pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use latchkey_core::Error;
use latchkey_core::ratelimit::{self, Rule, Verdict};
use latchkey_store::Store;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::clock::Clock;
use crate::observe::metrics::RuleLabels;

/// Why a counter store could not answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CounterError(pub String);

/// Where counters live. `hit` adds `delta` to the counter of (`bucket`, `window`) — creating
/// it to expire at `expires_at_ms` — atomically, and returns (previous window's count, new
/// count of this window).
#[async_trait::async_trait]
pub trait Counters: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    async fn hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<(u64, u64), CounterError>;

    /// Whether the store answers; in-process stores always do, and the database's is
    /// checked as the database.
    async fn ping(&self) -> Result<(), CounterError> {
        Ok(())
    }
}

/// The database as a counter store.
pub struct DatabaseCounters {
    store: Store,
    hits: AtomicU64,
}

impl DatabaseCounters {
    /// Expired counters are deleted once every this many hits.
    const PURGE_EVERY: u64 = 1000;

    pub fn new(store: Store) -> Self {
        DatabaseCounters {
            store,
            hits: AtomicU64::new(0),
        }
    }
}

#[async_trait::async_trait]
impl Counters for DatabaseCounters {
    fn name(&self) -> &'static str {
        "database"
    }

    async fn hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<(u64, u64), CounterError> {
        let purge = self
            .hits
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(Self::PURGE_EVERY);
        if purge && let Err(err) = self.store.counters.rate_purge(now_ms).await {
            tracing::warn!(error = %err, "could not purge expired rate-limit counters");
        }
        let (previous, current) = self
            .store
            .counters
            .rate_hit(bucket, window, delta, expires_at_ms)
            .await
            .map_err(|err| CounterError(err.to_string()))?;
        Ok((clamp(previous), clamp(current)))
    }
}

/// Counts are never negative in practice (a refund follows its hit); treat one as zero.
pub fn clamp(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}

/// What is being limited. Each has its own rule and counter namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Failed sign-ins per client address.
    SignInIp,
    /// Failed sign-ins per account (by email, known or not).
    SignInAccount,
    /// Registrations per client address.
    RegisterIp,
    /// Recovery emails (reset, verification) per recipient, per minute and per hour.
    RecoveryAddress,
    RecoveryAddressHourly,
    /// Recovery requests per client address.
    RecoveryIp,
    /// Refreshes per session.
    RefreshSession,
    /// Failed password checks inside one session (change-password, change-email).
    PasswordSession,
    /// Email-change requests per account (each mails an address not yet proven).
    EmailChangeAccount,
    /// Everything under `/api/v1/auth/` per client address.
    AuthIp,
    /// Exchanges of imported sessions per client address, every attempt (each checks a
    /// signed cookie and looks up a token).
    ExchangeIp,
}

impl Limit {
    pub const ALL: [Limit; 11] = [
        Limit::SignInIp,
        Limit::SignInAccount,
        Limit::RegisterIp,
        Limit::RecoveryAddress,
        Limit::RecoveryAddressHourly,
        Limit::RecoveryIp,
        Limit::RefreshSession,
        Limit::PasswordSession,
        Limit::EmailChangeAccount,
        Limit::AuthIp,
        Limit::ExchangeIp,
    ];

    /// The name used in LATCHKEY_RATE_LIMITS and in counter buckets.
    pub fn name(self) -> &'static str {
        match self {
            Limit::SignInIp => "signin_ip",
            Limit::SignInAccount => "signin_account",
            Limit::RegisterIp => "register_ip",
            Limit::RecoveryAddress => "recovery_address",
            Limit::RecoveryAddressHourly => "recovery_address_hourly",
            Limit::RecoveryIp => "recovery_ip",
            Limit::RefreshSession => "refresh_session",
            Limit::PasswordSession => "password_session",
            Limit::EmailChangeAccount => "email_change_account",
            Limit::AuthIp => "auth_ip",
            Limit::ExchangeIp => "exchange_ip",
        }
    }

    fn default_rule(self) -> Rule {
        let (limit, window_ms) = match self {
            Limit::SignInIp | Limit::SignInAccount => (5, 15 * MINUTE),
            Limit::RegisterIp => (10, HOUR),
            Limit::RecoveryAddress => (1, MINUTE),
            Limit::RecoveryAddressHourly => (5, HOUR),
            Limit::RecoveryIp => (3, MINUTE),
            Limit::RefreshSession => (60, MINUTE),
            Limit::PasswordSession => (5, 15 * MINUTE),
            Limit::EmailChangeAccount => (5, DAY),
            Limit::AuthIp => (100, 10_000),
            // A browser exchanges once; ten a minute leaves room for a household or an
            // office behind one address arriving at once after the switch.
            Limit::ExchangeIp => (10, MINUTE),
        };
        Rule { limit, window_ms }
    }
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The rules in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    rules: Vec<(Limit, Rule)>,
    pub enabled: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            rules: Limit::ALL.iter().map(|l| (*l, l.default_rule())).collect(),
            enabled: true,
        }
    }
}

impl Rules {
    /// The defaults, changed by `spec`: `off`, or comma-separated `name=count/window` items
    /// (e.g. `signin_ip=10/15m,auth_ip=200/10s`).
    pub fn parse(spec: &str) -> Result<Rules, String> {
        let mut rules = Rules::default();
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("off") {
            rules.enabled = false;
            return Ok(rules);
        }
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, rule) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected name=count/window"))?;
            let limit = Limit::ALL
                .into_iter()
                .find(|l| l.name() == name.trim())
                .ok_or_else(|| {
                    let names: Vec<_> = Limit::ALL.iter().map(|l| l.name()).collect();
                    format!(
                        "{name:?} is not a limit; the limits are {}",
                        names.join(", ")
                    )
                })?;
            let rule = Rule::parse(rule).map_err(|e| format!("{name}: {e}"))?;
            rules.set(limit, rule);
        }
        Ok(rules)
    }

    pub fn set(&mut self, limit: Limit, rule: Rule) {
        for (l, r) in &mut self.rules {
            if *l == limit {
                *r = rule;
            }
        }
    }

    pub fn get(&self, limit: Limit) -> Rule {
        self.rules
            .iter()
            .find(|(l, _)| *l == limit)
            .map_or(limit.default_rule(), |(_, r)| *r)
    }
}

/// A counted event, to take back if it turns out not to count (a correct password).
#[derive(Debug, Clone)]
pub struct Hit {
    bucket: String,
    window: i64,
    expires_at_ms: i64,
}

pub struct Limiter {
    counters: Arc<dyn Counters>,
    rules: Rules,
    clock: Arc<dyn Clock>,
    /// Refused events by rule (registered in the app's metrics).
    refusals: Family<RuleLabels, Counter>,
}

impl Limiter {
    pub fn new(counters: Arc<dyn Counters>, rules: Rules, clock: Arc<dyn Clock>) -> Self {
        Limiter {
            counters,
            rules,
            clock,
            refusals: Family::default(),
        }
    }

    /// The count of refused events by rule, for the app's metrics.
    pub fn refusals(&self) -> Family<RuleLabels, Counter> {
        self.refusals.clone()
    }

    /// Whether the counter store answers (Redis: a PING), for `/readyz`.
    pub async fn ping(&self) -> Result<(), CounterError> {
        self.counters.ping().await
    }

    /// The same rules and clock over other counters (Redis, once connected).
    pub fn with_counters(self, counters: Arc<dyn Counters>) -> Self {
        Limiter { counters, ..self }
    }

    pub fn store_name(&self) -> &'static str {
        self.counters.name()
    }

    pub fn rule(&self, limit: Limit) -> Rule {
        self.rules.get(limit)
    }

    /// Counts one event of `limit` for `key`. `Ok((verdict, hit))`; a refused verdict is
    /// for the caller to turn into 429 (see [`refused`]). A store failure is 503.
    pub async fn count(&self, limit: Limit, key: &str) -> Result<(Verdict, Option<Hit>), Error> {
        if !self.rules.enabled {
            return Ok((
                Verdict {
                    allowed: true,
                    limit: u32::MAX,
                    remaining: u32::MAX,
                    reset_secs: 1,
                },
                None,
            ));
        }
        let rule = self.rules.get(limit);
        let now_ms = self.clock.now_ms();
        let window = rule.window(now_ms);
        let bucket = format!("{}:{key}", limit.name());
        let expires_at_ms = rule.keep_until(window);
        let (previous, current) = self
            .counters
            .hit(&bucket, window, 1, expires_at_ms, now_ms)
            .await
            .map_err(|err| {
                tracing::error!(store = self.counters.name(), error = %err, "rate-limit store failed; refusing");
                Error::RateLimitUnavailable
            })?;
        let verdict = ratelimit::judge(&rule, previous, current, now_ms);
        // Every caller refuses the event when the verdict says so.
        if !verdict.allowed {
            self.refusals
                .get_or_create(&RuleLabels { rule: limit.name() })
                .inc();
        }
        let hit = Hit {
            bucket,
            window,
            expires_at_ms,
        };
        Ok((verdict, Some(hit)))
    }

    /// Counts one event and refuses it with 429 when over the limit.
    pub async fn check(&self, limit: Limit, key: &str) -> Result<Option<Hit>, Error> {
        let (verdict, hit) = self.count(limit, key).await?;
        if !verdict.allowed {
            tracing::info!(limit = limit.name(), "rate limited");
            return Err(refused(&verdict));
        }
        Ok(hit)
    }

    /// Takes a counted event back. Best effort: a failure leaves the event counted.
    pub async fn refund(&self, hit: Option<Hit>) {
        let Some(hit) = hit else { return };
        let now_ms = self.clock.now_ms();
        if let Err(err) = self
            .counters
            .hit(&hit.bucket, hit.window, -1, hit.expires_at_ms, now_ms)
            .await
        {
            tracing::warn!(error = %err, "could not take back a rate-limit hit");
        }
    }
}

/// The 429 for a refused verdict.
pub fn refused(verdict: &Verdict) -> Error {
    Error::RateLimited {
        retry_after_secs: verdict.reset_secs.max(1),
        limit: verdict.limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_default_to_the_documented_limits_and_can_be_changed_or_switched_off() {
        let rules = Rules::default();
        assert_eq!(
            rules.get(Limit::SignInIp),
            Rule {
                limit: 5,
                window_ms: 15 * MINUTE
            }
        );
        assert_eq!(
            rules.get(Limit::AuthIp),
            Rule {
                limit: 100,
                window_ms: 10_000
            }
        );
        let changed = Rules::parse(" signin_ip=10/1h , auth_ip=200/10s").unwrap();
        assert_eq!(
            changed.get(Limit::SignInIp),
            Rule {
                limit: 10,
                window_ms: HOUR
            }
        );
        assert_eq!(
            changed.get(Limit::RegisterIp),
            Rule {
                limit: 10,
                window_ms: HOUR
            }
        );
        assert!(!Rules::parse("off").unwrap().enabled);
        assert!(Rules::parse("").unwrap().enabled);
        for bad in [
            "signin=5/1m",
            "signin_ip",
            "signin_ip=0/1m",
            "signin_ip=5/1y",
        ] {
            assert!(Rules::parse(bad).is_err(), "{bad}");
        }
    }
}
