//! What the property-test files share.

use proptest::test_runner::Config;

/// `default` cases per property, unless `PROPTEST_CASES` asks for another number (the deep
/// profile, `scripts/hardening --deep properties`).
pub fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    Config::with_cases(cases)
}
