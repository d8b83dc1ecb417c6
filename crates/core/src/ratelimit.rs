//! Rate limiting: the arithmetic shared by every counter store.
//!
//! Three stores keep the counters (in memory, in the SQL database, in Redis), and each can do
//! only two things atomically: "increment the counter of (key, window) and return the new
//! count" and "read the count of (key, window)". Everything else (which window a moment falls
//! in, how long a counter must be kept, whether an event passes, what to put in
//! `RateLimit-Reset` and `Retry-After`) is decided here, once, so the three stores agree to
//! the millisecond and the policy is tested without any of them.
//!
//! The method is the *sliding-window counter*. Time is cut into fixed windows of
//! [`Rule::window_ms`]; a store keeps one counter per key and window. The count "in the last
//! window" at a moment is estimated as the previous window's count, weighted by the share of
//! the previous window still inside a sliding window ending now, plus the current window's
//! count. Why this method and not the others:
//!
//! - *Fixed windows* alone let a client spend its limit at the end of one window and again at
//!   the start of the next: twice the limit in a moment. The weighted previous count closes
//!   that gap.
//! - A *sliding log* (one timestamp per event) is exact but costs storage per event; this
//!   costs two counters per key, and both are plain atomic increments in every store.
//!
//! The weighted previous count is rounded down, so the estimate is lenient by less than one
//! event, never strict. The event being judged is counted *before* it is judged (that is what
//! the store's atomic increment returns), so refused events count too: a client that keeps
//! trying while refused pushes its own reset further away, and two concurrent events can
//! never both take the last slot, because the store hands them different counts.
//!
//! A store serving an event at `now_ms` does:
//!
//! ```text
//! let w = rule.window(now_ms);
//! let current = store.increment(key, w, rule.keep_until(w));   // atomic, returns new count
//! let previous = store.read(key, w.saturating_sub(1));
//! let verdict = judge(&rule, previous, current, now_ms);
//! ```
//!
//! [`backoff_ms`] is the other half: the growing wait after repeated failures (sign-in with a
//! wrong password), counted by the caller and turned into a delay here.
//!
//! Like the rest of the crate, nothing here reads a clock: every moment is an argument in
//! milliseconds since the Unix epoch, and no input, however extreme, panics or overflows.

use std::fmt;
use std::str::FromStr;

/// One limit: at most `limit` events per `window_ms`.
///
/// The fields are public so a rule can be written as a constant; [`Rule::parse`] refuses a
/// zero limit or window, and a rule built by hand with a window below 1 ms is treated as a
/// 1 ms window (a zero limit refuses everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub limit: u32,
    pub window_ms: i64,
}

/// The units a rule's window may be written in, longest first (for [`fmt::Display`]).
const UNITS: [(&str, i64); 5] = [
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

impl Rule {
    /// Parses "5/15m", "10/1h", "3/1m", "100/10s", "60/1m", "1/30s": count/duration, with
    /// units ms, s, m, h, d. Errors on a zero limit, a zero or negative window, an unknown
    /// unit, garbage, or numbers that overflow.
    ///
    /// Spaces around the whole and around either side of the `/` are ignored; the numbers are
    /// plain decimal digits (no sign, no fraction).
    pub fn parse(text: &str) -> Result<Rule, String> {
        let bad = |why: &str| format!("{text:?} is not a rate limit ({why}; expected e.g. 5/15m)");
        let (count, window) = text.trim().split_once('/').ok_or_else(|| bad("no `/`"))?;
        let (count, window) = (count.trim(), window.trim());
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the count is not a whole number"));
        }
        let limit: u32 = count.parse().map_err(|_| bad("the count is too large"))?;
        if limit == 0 {
            return Err(bad("the count must be at least 1"));
        }
        let digits = window
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(window.len());
        let (amount, unit) = window.split_at(digits);
        if amount.is_empty() {
            return Err(bad("the window has no length"));
        }
        let amount: i64 = amount.parse().map_err(|_| bad("the window is too long"))?;
        let unit_ms = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|&(_, ms)| ms)
            .ok_or_else(|| bad("the window's unit is not one of ms, s, m, h, d"))?;
        let window_ms = amount
            .checked_mul(unit_ms)
            .ok_or_else(|| bad("the window is too long"))?;
        if window_ms <= 0 {
            return Err(bad("the window must be longer than zero"));
        }
        Ok(Rule { limit, window_ms })
    }

    /// The window length actually used: `window_ms`, but at least 1 ms.
    fn span(&self) -> i64 {
        self.window_ms.max(1)
    }

    /// The window index `now_ms` falls in.
    pub fn window(&self, now_ms: i64) -> i64 {
        now_ms.div_euclid(self.span())
    }

    /// How long a counter for window `w` must be kept (until the end of window w+1), as an
    /// absolute ms timestamp: stores use it as the expiry.
    ///
    /// A counter is the current one during its window and the previous one during the next;
    /// after that nothing reads it. Saturates at the ends of `i64`.
    pub fn keep_until(&self, window: i64) -> i64 {
        window.saturating_add(2).saturating_mul(self.span())
    }

    /// Milliseconds from `now_ms` to the end of its window: 1 to `window_ms`.
    fn left_in_window(&self, now_ms: i64) -> i64 {
        let span = self.span();
        span - now_ms.rem_euclid(span)
    }
}

impl fmt::Display for Rule {
    /// The rule as [`Rule::parse`] reads it, in the longest unit that divides the window:
    /// `5/15m`, `100/10s`, `1/1500ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let span = self.span();
        let (unit, ms) = UNITS
            .iter()
            .find(|(_, ms)| span % ms == 0)
            .copied()
            .unwrap_or(("ms", 1));
        write!(f, "{}/{}{}", self.limit, span / ms, unit)
    }
}

impl FromStr for Rule {
    type Err = String;

    fn from_str(text: &str) -> Result<Rule, String> {
        Rule::parse(text)
    }
}

/// The outcome of counting one event against a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    /// Events left in the (sliding) window after this one; 0 when refused.
    pub remaining: u32,
    /// Seconds until the estimate falls below the limit again (for `RateLimit-Reset` and, when
    /// refused, `Retry-After`); at least 1 when refused.
    ///
    /// When allowed, the seconds left in the current window (rounded up, at least 1). When
    /// refused, the smallest whole number of seconds after which, with no further events, one
    /// more event would pass; never more than two windows.
    pub reset_secs: u64,
}

/// The estimated number of events in the sliding window ending at `now_ms`:
/// `floor(previous * weight) + current`, where `weight` is the share of the current window
/// still to come (1 at its first millisecond, `1 / window_ms` at its last). Saturates.
pub fn estimate(rule: &Rule, previous: u64, current: u64, now_ms: i64) -> u64 {
    weighted(previous, rule.left_in_window(now_ms), rule.span()).saturating_add(current)
}

/// `floor(count * left / span)` without overflow; `left <= span`, so the result fits.
fn weighted(count: u64, left: i64, span: i64) -> u64 {
    (u128::from(count) * left as u128 / span as u128) as u64
}

/// Decides, given the previous window's count and the current window's count *including this
/// event* (as the store's atomic increment returned it), whether this event is allowed.
///
/// Allowed iff `floor(previous * weight) + current_including_this <= limit` (see
/// [`estimate`]). Because each increment returns a different count, with one slot left
/// exactly one of any number of concurrent events is allowed.
pub fn judge(rule: &Rule, previous: u64, current_including_this: u64, now_ms: i64) -> Verdict {
    let estimate = estimate(rule, previous, current_including_this, now_ms);
    let limit = u64::from(rule.limit);
    if estimate <= limit {
        allowed(rule, (limit - estimate) as u32, now_ms)
    } else {
        refused(rule, previous, current_including_this, now_ms)
    }
}

/// Like [`judge`] but for a peek (the event is not counted): `current` excludes it; allowed
/// means one more event would be allowed.
///
/// `remaining` is the number of events that would still pass now (so a peek is allowed
/// exactly when `remaining >= 1`); `reset_secs` means what it means for [`judge`].
pub fn peek(rule: &Rule, previous: u64, current: u64, now_ms: i64) -> Verdict {
    let estimate = estimate(rule, previous, current, now_ms);
    let limit = u64::from(rule.limit);
    if estimate < limit {
        allowed(rule, (limit - estimate) as u32, now_ms)
    } else {
        refused(rule, previous, current, now_ms)
    }
}

fn allowed(rule: &Rule, remaining: u32, now_ms: i64) -> Verdict {
    Verdict {
        allowed: true,
        limit: rule.limit,
        remaining,
        reset_secs: ceil_secs(i128::from(rule.left_in_window(now_ms))).max(1),
    }
}

fn refused(rule: &Rule, previous: u64, current: u64, now_ms: i64) -> Verdict {
    Verdict {
        allowed: false,
        limit: rule.limit,
        remaining: 0,
        reset_secs: secs_until_one_more(rule, previous, current, now_ms),
    }
}

/// Whole seconds, rounded up, in `ms` milliseconds (`ms >= 0`).
fn ceil_secs(ms: i128) -> u64 {
    ((ms.max(0) + 999) / 1000) as u64
}

/// The smallest whole number of seconds after `now_ms` at which, with no further events,
/// `estimate <= limit - 1`, so one more event would pass. At least 1, at most two windows.
///
/// With no further events the estimate only ever falls: within the current window the
/// previous count decays while the current one stays; in the next window the current count
/// becomes the previous one and decays from its full value; after that it is 0. So the
/// answer is found in closed form, in whichever of the two windows the estimate first gets
/// low enough, as the earliest millisecond it does (rounded up to a second).
fn secs_until_one_more(rule: &Rule, previous: u64, current: u64, now_ms: i64) -> u64 {
    let span = i128::from(rule.span());
    let cap = ceil_secs(2 * span).max(1);
    let Some(target) = u128::from(rule.limit).checked_sub(1) else {
        return cap; // a zero limit never lets anything through
    };
    // The most milliseconds still to come in a window at which `floor(count * left / span)`
    // is at most `most`: `count * left <= (most + 1) * span - 1`. Values stay below 2^96.
    let longest_left = |count: u64, most: u128| -> i128 {
        if count == 0 {
            span
        } else {
            let left = ((most + 1) * span as u128 - 1) / u128::from(count);
            left.min(span as u128) as i128
        }
    };
    let now = i128::from(now_ms);
    let window_end = (i128::from(rule.window(now_ms)) + 1) * span;
    let current = u128::from(current);
    let earliest = if current <= target {
        // Low enough once the previous count has decayed by `target - current`, this window.
        window_end - longest_left(previous, target - current)
    } else {
        // Only in the next window, where this window's count is the decaying previous one
        // (at the latest at the start of the window after, where the estimate is 0).
        window_end + span - longest_left(current as u64, target)
    };
    ceil_secs(earliest - now).clamp(1, cap)
}

/// After `failures` consecutive failures, how long (ms) the next attempt must wait after the
/// last failure: 0 below `free` failures, then 1 s doubling per extra failure, capped at
/// `cap_ms`.
///
/// With `free = 5`: 4 failures wait 0, 5 wait 1 s, 6 wait 2 s, 7 wait 4 s, and so on up to
/// the cap. A negative cap is treated as 0.
pub fn backoff_ms(failures: u32, free: u32, cap_ms: i64) -> i64 {
    let Some(extra) = failures.checked_sub(free) else {
        return 0;
    };
    // 1000 < 2^10, so 1000 << 52 < 2^62 still fits; beyond that the cap applies anyway.
    let delay = if extra <= 52 {
        1000_i64 << extra
    } else {
        i64::MAX
    };
    delay.min(cap_ms.max(0))
}

#[cfg(test)]
mod tests;
