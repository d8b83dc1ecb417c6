//! What the property-test files share.

use proptest::test_runner::Config;

/// `default` cases per property, unless `PROPTEST_CASES` asks for another number (the deep
/// profile, `scripts/hardening --deep properties`).
pub fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    Config {
        // Properties that skip a rare input (a "mutation" to the same byte) skip more of
        // them over a deep run; proptest's fixed default of 1,024 would end it early.
        max_global_rejects: 1_024.max(cases / 10),
        ..Config::with_cases(cases)
    }
}
