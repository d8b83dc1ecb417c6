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
mod tests {
    use super::*;

    const MINUTE: i64 = 60 * 1000;

    fn rule(text: &str) -> Rule {
        Rule::parse(text).unwrap()
    }

    /// What a peek at `later` sees when the counts at `now` were (`previous`, `current`) and
    /// nothing happened since: the current window's counter becomes the previous one, and
    /// two windows on both are gone.
    fn peek_later(r: &Rule, previous: u64, current: u64, now: i64, later: i64) -> Verdict {
        let (p, c) = match r.window(later) - r.window(now) {
            0 => (previous, current),
            1 => (current, 0),
            _ => (0, 0),
        };
        peek(r, p, c, later)
    }

    /// `reset_secs` of a refusal is exact: one more event passes after that many seconds,
    /// and not one second earlier.
    fn assert_reset_tells_the_truth(r: &Rule, previous: u64, current: u64, now: i64) {
        let v = peek(r, previous, current, now);
        assert!(!v.allowed, "{r} {previous} {current} {now}");
        let at = |secs: u64| now.saturating_add(secs as i64 * 1000);
        assert!(
            peek_later(r, previous, current, now, at(v.reset_secs)).allowed,
            "{r} {previous} {current} {now}: not allowed after {}s",
            v.reset_secs
        );
        assert!(
            !peek_later(r, previous, current, now, at(v.reset_secs - 1)).allowed,
            "{r} {previous} {current} {now}: already allowed after {}s",
            v.reset_secs - 1
        );
    }

    #[test]
    fn rules_parse_from_count_slash_duration() {
        let cases = [
            ("5/15m", 5, 15 * MINUTE),
            ("10/1h", 10, 60 * MINUTE),
            ("3/1m", 3, MINUTE),
            ("100/10s", 100, 10_000),
            ("60/1m", 60, MINUTE),
            ("1/30s", 1, 30_000),
            ("7/250ms", 7, 250),
            ("2/1d", 2, 24 * 60 * MINUTE),
            (" 5 / 15m ", 5, 15 * MINUTE),
            ("4294967295/1ms", u32::MAX, 1),
        ];
        for (text, limit, window_ms) in cases {
            assert_eq!(Rule::parse(text), Ok(Rule { limit, window_ms }), "{text}");
        }
        assert_eq!("5/15m".parse::<Rule>(), Ok(rule("5/15m")));
    }

    #[test]
    fn zero_negative_garbage_unknown_units_and_overflow_are_refused() {
        for bad in [
            "",
            "5",
            "/15m",
            "5/",
            "0/15m",
            "5/0m",
            "5/0ms",
            "5/-1m",
            "-5/1m",
            "+5/1m",
            "5/+1m",
            "5/15",
            "5/m",
            "5/15x",
            "5/15 m",
            "5/15mm",
            "5/15M",
            "5/1.5m",
            "5.0/1m",
            "5/15m/1h",
            "five/15m",
            "4294967296/1m",
            "5/9223372036854775808ms",
            "5/106751991167301d",
            "5/9223372036854776s",
        ] {
            let err = Rule::parse(bad).unwrap_err();
            assert!(err.contains("not a rate limit"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn rules_print_as_they_parse_in_the_longest_fitting_unit() {
        for text in [
            "5/15m", "10/1h", "100/10s", "1/30s", "7/250ms", "2/1d", "1/1500ms",
        ] {
            assert_eq!(rule(text).to_string(), text);
        }
        assert_eq!(rule("1/60s").to_string(), "1/1m");
        assert_eq!(rule("1/24h").to_string(), "1/1d");
    }

    #[test]
    fn windows_are_fixed_slices_counted_from_the_epoch_also_before_it() {
        let r = rule("100/10s");
        assert_eq!(r.window(0), 0);
        assert_eq!(r.window(9_999), 0);
        assert_eq!(r.window(10_000), 1);
        assert_eq!(r.window(-1), -1);
        assert_eq!(r.window(-10_000), -1);
        assert_eq!(r.window(-10_001), -2);
    }

    #[test]
    fn a_counter_is_kept_until_the_end_of_the_window_after_its_own() {
        let r = rule("5/15m");
        assert_eq!(r.keep_until(0), 30 * MINUTE);
        assert_eq!(r.keep_until(r.window(14 * MINUTE)), 30 * MINUTE);
        assert_eq!(r.keep_until(r.window(15 * MINUTE)), 45 * MINUTE);
        assert_eq!(r.keep_until(-1), 15 * MINUTE);
        assert_eq!(r.keep_until(i64::MAX), i64::MAX);
        assert_eq!(r.keep_until(i64::MIN), i64::MIN);
    }

    #[test]
    fn the_previous_count_weighs_fully_at_a_window_start_and_almost_nothing_at_its_end() {
        let r = rule("100/10s");
        assert_eq!(estimate(&r, 50, 0, 10_000), 50);
        assert_eq!(estimate(&r, 50, 0, 12_500), 37); // 50 * 0.75 = 37.5, rounded down
        assert_eq!(estimate(&r, 50, 0, 15_000), 25);
        assert_eq!(estimate(&r, 50, 0, 19_999), 0); // 50 * 1/10000
        assert_eq!(estimate(&r, 50, 7, 19_999), 7);
        assert_eq!(estimate(&r, 50, 7, 20_000), 57); // a new window: weight 1 again
        assert_eq!(estimate(&r, 50, 0, -10_000), 50);
        assert_eq!(estimate(&r, 50, 0, -1), 0);
        assert_eq!(estimate(&r, 10_000, 0, 19_999), 1);
    }

    #[test]
    fn five_per_fifteen_minutes_allows_five_events_then_refuses_the_sixth() {
        let r = rule("5/15m");
        for (current, remaining) in (1..=5).zip([4, 3, 2, 1, 0]) {
            let v = judge(&r, 0, current, 0);
            assert_eq!(
                v,
                Verdict {
                    allowed: true,
                    limit: 5,
                    remaining,
                    reset_secs: 900,
                }
            );
        }
        // The sixth is refused. With six counted, one more passes once 6 * weight <= 4 in
        // the next window: weight 749999/900000, 150001 ms into it, i.e. 1050.001 s from now.
        let sixth = judge(&r, 0, 6, 0);
        assert_eq!(
            sixth,
            Verdict {
                allowed: false,
                limit: 5,
                remaining: 0,
                reset_secs: 1051,
            }
        );
        assert_reset_tells_the_truth(&r, 0, 6, 0);
        assert!(!peek(&r, 6, 0, 15 * MINUTE + 150_000).allowed);
        assert!(peek(&r, 6, 0, 15 * MINUTE + 150_001).allowed);
    }

    #[test]
    fn after_the_window_the_previous_count_weighs_in_and_decays() {
        let r = rule("5/15m");
        // Five events in window 0, none since. At the very start of window 1 all five still
        // weigh; one millisecond later floor(5 * 899999/900000) = 4 and one more passes.
        let start = 15 * MINUTE;
        let v = peek(&r, 5, 0, start);
        assert_eq!((v.allowed, v.remaining, v.reset_secs), (false, 0, 1));
        assert_reset_tells_the_truth(&r, 5, 0, start);
        let v = judge(&r, 5, 1, start + 1);
        assert_eq!((v.allowed, v.remaining, v.reset_secs), (true, 0, 900));
        // Half-way through window 1 the five weigh 2, so three more pass.
        assert_eq!(peek(&r, 5, 0, start + 450_000).remaining, 3);
        assert!(judge(&r, 5, 3, start + 450_000).allowed);
        assert!(!judge(&r, 5, 4, start + 450_000).allowed);
    }

    #[test]
    fn a_refusal_mid_window_waits_for_the_previous_count_to_decay_in_this_window() {
        let r = rule("3/1m");
        let now = 10 * MINUTE + 30_000;
        // floor(6 * 0.5) + 1 = 4 > 3. One more passes once floor(6 * w) <= 1, i.e. with at
        // most 19999 ms of the window left: at 10 min 40.001 s, 10.001 s from now.
        let v = judge(&r, 6, 1, now);
        assert_eq!((v.allowed, v.remaining, v.reset_secs), (false, 0, 11));
        assert_reset_tells_the_truth(&r, 6, 1, now);
        assert!(!peek(&r, 6, 1, 10 * MINUTE + 40_000).allowed);
        assert!(peek(&r, 6, 1, 10 * MINUTE + 40_001).allowed);
    }

    #[test]
    fn with_one_slot_left_exactly_one_of_two_concurrent_events_is_allowed() {
        let r = rule("5/15m");
        let now = 15 * MINUTE + 300_000; // previous 3 weighs floor(3 * 2/3) = 2
        assert_eq!(peek(&r, 3, 2, now).remaining, 1);
        // Both increments run against the same previous count; the store hands them 3 and 4.
        let first = judge(&r, 3, 3, now);
        let second = judge(&r, 3, 4, now);
        assert!(first.allowed && !second.allowed, "{first:?} {second:?}");
        assert_eq!(first.remaining, 0);
    }

    #[test]
    fn a_peek_is_allowed_exactly_when_counting_the_event_would_be() {
        let r = rule("3/1m");
        for previous in 0..8 {
            for current in 0..6 {
                for now in [0, 1, 20_000, 30_000, 59_999] {
                    let p = peek(&r, previous, current, now);
                    let j = judge(&r, previous, current + 1, now);
                    assert_eq!(p.allowed, j.allowed, "{previous} {current} {now}");
                    assert_eq!(p.allowed, p.remaining >= 1);
                    if p.allowed {
                        assert_eq!(p.reset_secs, j.reset_secs);
                    }
                }
            }
        }
    }

    #[test]
    fn refused_events_count_and_push_the_reset_further_away() {
        let r = rule("5/15m");
        let mut last = 0;
        for current in 6..40 {
            let v = judge(&r, 0, current, 0);
            assert!(!v.allowed);
            assert!(v.reset_secs >= last, "{current}");
            last = v.reset_secs;
        }
        // Never beyond the start of the window after next: two windows.
        assert_eq!(judge(&r, 0, u64::MAX, 0).reset_secs, 1800);
    }

    #[test]
    fn a_zero_limit_refuses_everything_for_two_windows() {
        let r = Rule {
            limit: 0,
            window_ms: 10_000,
        };
        let v = peek(&r, 0, 0, 0);
        assert_eq!((v.allowed, v.remaining, v.reset_secs), (false, 0, 20));
        assert!(!judge(&r, 0, 1, 5_000).allowed);
    }

    #[test]
    fn huge_counts_and_extreme_moments_do_not_panic() {
        let rules = [
            rule("5/15m"),
            rule("4294967295/1ms"),
            Rule {
                limit: u32::MAX,
                window_ms: i64::MAX,
            },
            Rule {
                limit: 1,
                window_ms: i64::MAX,
            },
            Rule {
                limit: 0,
                window_ms: 0,
            },
            Rule {
                limit: 3,
                window_ms: i64::MIN,
            },
        ];
        let counts = [0, 1, u64::from(u32::MAX), u64::MAX - 1, u64::MAX];
        let moments = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        for r in &rules {
            for &now in &moments {
                let _ = (r.window(now), r.keep_until(r.window(now)));
                for &previous in &counts {
                    for &current in &counts {
                        for v in [
                            judge(r, previous, current, now),
                            peek(r, previous, current, now),
                        ] {
                            assert!(v.remaining <= r.limit);
                            assert!(v.reset_secs >= 1);
                        }
                    }
                }
            }
        }
        // i64::MAX is 124193 ms before the end of its 15-minute window; a count of u64::MAX
        // only falls low enough at the start of the window after next.
        let v = judge(&rules[0], u64::MAX, u64::MAX, i64::MAX);
        assert_eq!((v.allowed, v.remaining, v.reset_secs), (false, 0, 1025));
        // The longest window there is: the wait is in the next window, so more than one
        // window but at most two, and computing it overflows nothing.
        let huge = &rules[2];
        let reset = judge(huge, u64::MAX, u64::MAX, 0).reset_secs;
        assert!(reset > i64::MAX as u64 / 1000, "{reset}");
        assert!(reset <= (2 * i64::MAX as u64).div_ceil(1000), "{reset}");
    }

    #[test]
    fn backoff_is_free_then_doubles_from_one_second_up_to_the_cap() {
        let cap = 15 * MINUTE;
        let table = [
            (0, 0),
            (4, 0),
            (5, 1_000),
            (6, 2_000),
            (7, 4_000),
            (8, 8_000),
            (14, 512_000),
            (15, 900_000),
            (30, 900_000),
            (u32::MAX, 900_000),
        ];
        for (failures, wait) in table {
            assert_eq!(backoff_ms(failures, 5, cap), wait, "{failures}");
        }
        assert_eq!(backoff_ms(0, 0, cap), 1_000);
        assert_eq!(backoff_ms(60, 0, i64::MAX), i64::MAX);
        assert_eq!(backoff_ms(52, 0, i64::MAX), 1000 << 52);
        assert_eq!(backoff_ms(10, 5, -1), 0);
    }

    #[test]
    fn random_inputs_never_panic_and_every_refusal_tells_the_truth() {
        // A 64-bit LCG (Knuth's MMIX constants); the high bits are the random ones.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 11
        };
        let pick = |n: u64, of: &[i64]| of[(n % of.len() as u64) as usize];
        let windows = [1, 999, 1_000, 1_001, 10_000, MINUTE, 15 * MINUTE, 3_600_000];
        for round in 0..20_000 {
            let small = round % 2 == 0;
            let r = Rule {
                limit: if small {
                    (next() % 12) as u32
                } else {
                    next() as u32
                },
                window_ms: if small {
                    pick(next(), &windows)
                } else {
                    next() as i64 - (1 << 52)
                },
            };
            let (previous, current) = if small {
                (next() % 30, next() % 30)
            } else {
                ((next() << 11) ^ next(), next())
            };
            let now = if small {
                (next() % 100_000_000) as i64 - 50_000_000
            } else {
                ((next() << 11) ^ next()) as i64
            };
            for v in [
                judge(&r, previous, current, now),
                peek(&r, previous, current, now),
            ] {
                assert!(v.remaining <= r.limit, "{r:?} {previous} {current} {now}");
                assert!(v.reset_secs >= 1);
                assert_eq!(v.limit, r.limit);
                if !v.allowed {
                    assert_eq!(v.remaining, 0);
                    assert!(v.reset_secs <= (2 * r.window_ms.max(1) as u64).div_ceil(1000));
                }
            }
            let p = peek(&r, previous, current, now);
            if small && r.limit > 0 && !p.allowed {
                assert_reset_tells_the_truth(&r, previous, current, now);
            }
        }
    }
}
