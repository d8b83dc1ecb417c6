//! What the server's benches share: the databases they run against.

/// A fresh SQLite file in a directory of its own (named after `bench`), and the test
/// PostgreSQL when `LATCHKEY_TEST_POSTGRES_URL` names one (said when it does not); and the
/// directory, to remove at the end.
pub fn database_urls(bench: &str) -> (std::path::PathBuf, Vec<(&'static str, String)>) {
    let dir = std::env::temp_dir().join(format!("latchkey-bench-{bench}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut urls = vec![("sqlite", format!("sqlite://{}/bench.db", dir.display()))];
    if let Ok(url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") {
        urls.push(("postgres", url));
    } else {
        println!("(PostgreSQL skipped: set LATCHKEY_TEST_POSTGRES_URL to include it)");
    }
    (dir, urls)
}
