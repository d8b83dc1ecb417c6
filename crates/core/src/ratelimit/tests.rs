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
