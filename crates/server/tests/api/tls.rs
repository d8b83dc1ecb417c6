//! TLS to PostgreSQL and Redis against real servers: the machine's PostgreSQL (`ssl = on`),
//! and a PostgreSQL cluster and a Redis each test starts with certificates from its own CA.
//! Every mode is judged by what the server saw or what the client refused, and a failure at
//! start by what the real binary printed, how it exited and how long it took.

use std::path::Path;
use std::time::{Duration, Instant};

use latchkey_server::limiter::Counters;
use latchkey_server::limiter::redis::RedisCounters;
use sqlx::Connection;

use crate::cli::latchkey;
use crate::limits::fresh_prefix;
use crate::pki::Ca;
use crate::throwaway::{Postgres, Redis, TempDir};

/// A password no log line may show.
const PASSWORD: &str = "tls-test-password-9f3c1d";

/// Whether every connection the server has from `application_name` is encrypted, and how
/// many there are, as PostgreSQL itself reports (`pg_stat_ssl`), asked over `admin_url`.
async fn encrypted(admin_url: &str, application_name: &str) -> (bool, i64) {
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    let (all, count): (Option<bool>, i64) = sqlx::query_as(
        "SELECT bool_and(s.ssl), count(*) FROM pg_stat_ssl s \
         JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1",
    )
    .bind(application_name)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    (all.unwrap_or(false), count)
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
    )
}

fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

#[tokio::test]
async fn sslmode_require_reaches_the_machines_postgresql_encrypted_as_the_server_reports() {
    let Ok(admin_url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("LATCHKEY_REQUIRE_ALL").is_none(),
            "LATCHKEY_REQUIRE_ALL is set but LATCHKEY_TEST_POSTGRES_URL is not"
        );
        eprintln!("SKIPPED on PostgreSQL: LATCHKEY_TEST_POSTGRES_URL is not set");
        return;
    };
    // A schema of its own, as every PostgreSQL test here has.
    let schema = unique("lk_test_tls_");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    for (mode, expect_tls) in [("require", true), ("disable", false)] {
        let name = format!("{schema}_{mode}");
        let url = with_query(
            &admin_url,
            &format!("sslmode={mode}&application_name={name}&options=-c%20search_path%3D{schema}"),
        );
        // The store's own way in: the pool, then its migrations.
        let store = latchkey_store::connect(&url).await.unwrap();
        store.health.ping().await.unwrap();
        let (tls, count) = encrypted(&admin_url, &name).await;
        assert!(count >= 1, "the store holds no connection named {name}");
        assert_eq!(tls, expect_tls, "sslmode={mode}: pg_stat_ssl.ssl");
        drop(store);
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// The outcome of connecting the store to `url`: `Ok` or the error's text.
async fn store_at(url: &str) -> Result<(), String> {
    match latchkey_store::connect(url).await {
        Ok(store) => store.health.ping().await.map_err(|e| e.to_string()),
        Err(err) => Err(err.to_string()),
    }
}

#[tokio::test]
async fn verify_full_and_verify_ca_trust_only_the_ca_in_sslrootcert_and_check_the_host_name() {
    let dir = TempDir::new("pg-pki");
    let ca = Ca::new("Latchkey test CA");
    let ca_pem = ca.write_cert(&dir.0.join("ca.pem"));
    let other_pem = Ca::new("Another CA").write_cert(&dir.0.join("other-ca.pem"));
    // The certificate names `localhost`; the same server reached as 127.0.0.1 is a host the
    // certificate is not for.
    let cert = ca.issue(&["localhost"], &dir.0, "server");
    let Some(pg) = Postgres::start(&cert).await else {
        return;
    };
    let ca = ca_pem.display();
    let other = other_pem.display();

    let name = unique("lk_tls_");
    let url = pg.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}&application_name={name}"),
    );
    let store = latchkey_store::connect(&url)
        .await
        .expect("verify-full, the right CA and host name");
    store.health.ping().await.unwrap();
    let (tls, count) = encrypted(&pg.url("127.0.0.1", "sslmode=disable"), &name).await;
    assert!(count >= 1, "the store holds no connection named {name}");
    assert!(tls, "verify-full connected without TLS");
    drop(store);

    let refusals = [
        // Another host name than the certificate's.
        (
            "127.0.0.1",
            format!("sslmode=verify-full&sslrootcert={ca}"),
            "not valid for name",
        ),
        // Another CA: the chain is checked even when the host name is not.
        (
            "localhost",
            format!("sslmode=verify-ca&sslrootcert={other}"),
            "UnknownIssuer",
        ),
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={other}"),
            "UnknownIssuer",
        ),
        // Only the public roots: a private CA is not among them.
        (
            "localhost",
            "sslmode=verify-full".to_owned(),
            "UnknownIssuer",
        ),
        // libpq: `require` with a root certificate checks the chain, as verify-ca does.
        (
            "127.0.0.1",
            format!("sslmode=require&sslrootcert={other}"),
            "UnknownIssuer",
        ),
        // verify-ca, and require with a root certificate, check the host name too here: the
        // public roots are trusted beside the file, so a chain-only check would take any
        // public certificate for any name.
        (
            "127.0.0.1",
            format!("sslmode=verify-ca&sslrootcert={ca}"),
            "not valid for name",
        ),
        (
            "127.0.0.1",
            format!("sslmode=require&sslrootcert={ca}"),
            "not valid for name",
        ),
    ];
    for (host, query, why) in refusals {
        let err = store_at(&pg.url(host, &query)).await.expect_err(&query);
        assert!(err.contains(why), "{host} {query}: {err}");
    }
    let accepted = [
        ("localhost", format!("sslmode=verify-ca&sslrootcert={ca}")),
        ("localhost", format!("sslmode=require&sslrootcert={ca}")),
        // require alone: encrypted, the certificate not checked (as in libpq).
        ("127.0.0.1", "sslmode=require".to_owned()),
        ("127.0.0.1", "sslmode=prefer".to_owned()),
    ];
    for (host, query) in accepted {
        store_at(&pg.url(host, &query))
            .await
            .unwrap_or_else(|err| panic!("{host} {query}: {err}"));
    }
}

/// Runs the binary against settings that must fail at start, and returns its output after
/// checking what every such failure must be: a non-zero exit, no panic, well inside the
/// connect timeout (5 s for the database, 2 s per Redis attempt), one line naming `what`
/// and `why`, and never the password.
fn refused_at_start(env: &[(&str, &str)], what: &str, why: &str) -> String {
    let dir = TempDir::new("tls-start");
    let started = Instant::now();
    let out = latchkey(&dir.0, env, &[]);
    let took = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "it started: {text}");
    assert_ne!(out.status.code(), Some(101), "a panic's exit code: {text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(took < Duration::from_secs(4), "took {took:?}: {text}");
    assert!(!text.contains(PASSWORD), "the password was printed: {text}");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(what) && l.contains(why))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one line naming {what:?} and {why:?}: {text}"
    );
    eprintln!("refused in {took:?}: {}", lines[0]);
    text
}

#[tokio::test]
async fn a_database_certificate_that_cannot_be_trusted_stops_the_binary_at_once_in_one_line() {
    let dir = TempDir::new("pg-start-pki");
    let ca = Ca::new("Latchkey test CA");
    let ca_pem = ca.write_cert(&dir.0.join("ca.pem"));
    let other_pem = Ca::new("Another CA").write_cert(&dir.0.join("other-ca.pem"));
    let cert = ca.issue(&["localhost"], &dir.0, "server");
    let Some(pg) = Postgres::start(&cert).await else {
        return;
    };
    let url = |host: &str, ca: &Path| {
        format!(
            "postgres://postgres:{PASSWORD}@{host}:{}/postgres?sslmode=verify-full&sslrootcert={}",
            pg.port,
            ca.display()
        )
    };
    let wrong_host = url("127.0.0.1", &ca_pem);
    let at = format!("database at 127.0.0.1:{}", pg.port);
    refused_at_start(&[("DATABASE_URL", &wrong_host)], &at, "not valid for name");
    let wrong_ca = url("localhost", &other_pem);
    let at = format!("database at localhost:{}", pg.port);
    let text = refused_at_start(&[("DATABASE_URL", &wrong_ca)], &at, "UnknownIssuer");
    assert!(text.contains("sslrootcert"), "what to do: {text}");
}

#[test]
fn neons_channel_binding_require_is_refused_at_start_with_what_to_do() {
    let url = format!(
        "postgres://neondb_owner:{PASSWORD}@127.0.0.1:9/neondb?sslmode=require&channel_binding=require"
    );
    let text = refused_at_start(
        &[("DATABASE_URL", &url)],
        "DATABASE_URL",
        "channel_binding=require",
    );
    assert!(text.contains("sslmode=verify-full"), "{text}");
}

/// A TLS Redis whose certificate, from a CA of the test's, is for 127.0.0.1 only; the CA and
/// another CA as PEM files.
struct TlsRedis {
    redis: Redis,
    ca: std::path::PathBuf,
    other_ca: std::path::PathBuf,
    _dir: TempDir,
}

async fn tls_redis() -> Option<TlsRedis> {
    let dir = TempDir::new("redis-pki");
    let ca = Ca::new("Latchkey test CA");
    let ca_pem = ca.write_cert(&dir.0.join("ca.pem"));
    let other_ca = Ca::new("Another CA").write_cert(&dir.0.join("other-ca.pem"));
    let cert = ca.issue(&["127.0.0.1"], &dir.0, "redis");
    let redis = Redis::start(&cert, &ca_pem).await?;
    Some(TlsRedis {
        redis,
        ca: ca_pem,
        other_ca,
        _dir: dir,
    })
}

#[tokio::test]
async fn the_rate_limiter_counts_in_redis_over_rediss_with_the_ca_setting_and_refuses_another_ca() {
    let Some(tls) = tls_redis().await else {
        return;
    };
    let url = format!("rediss://127.0.0.1:{}", tls.redis.port);
    let counters = RedisCounters::connect(&url, &fresh_prefix(), Some(&tls.ca))
        .await
        .unwrap_or_else(|err| panic!("{err:#}: {}", tls.redis.log()));
    let far = i64::MAX / 2;
    assert_eq!(
        counters.hit("ip:192.0.2.1", 7, 1, far, 0).await.unwrap(),
        (0, 1)
    );
    assert_eq!(
        counters.hit("ip:192.0.2.1", 7, 2, far, 0).await.unwrap(),
        (0, 3)
    );

    for ca in [Some(tls.other_ca.as_path()), None] {
        let err = match RedisCounters::connect(&url, &fresh_prefix(), ca).await {
            Ok(_) => panic!("connected to a Redis whose CA is not trusted ({ca:?})"),
            Err(err) => format!("{err:#}"),
        };
        assert!(err.contains("UnknownIssuer"), "{err}");
        assert!(err.contains("LATCHKEY_REDIS_CA_FILE"), "{err}");
    }
}

#[tokio::test]
async fn a_redis_certificate_that_cannot_be_trusted_stops_the_binary_at_once_in_one_line() {
    let Some(tls) = tls_redis().await else {
        return;
    };
    let port = tls.redis.port;
    let ca = tls.ca.to_string_lossy().into_owned();
    let other = tls.other_ca.to_string_lossy().into_owned();
    // The certificate is for 127.0.0.1, not for localhost.
    let wrong_host = format!("rediss://default:{PASSWORD}@localhost:{port}");
    refused_at_start(
        &[("REDIS_URL", &wrong_host), ("LATCHKEY_REDIS_CA_FILE", &ca)],
        &format!("Redis at localhost:{port}"),
        "not valid for name",
    );
    let wrong_ca = format!("rediss://default:{PASSWORD}@127.0.0.1:{port}");
    refused_at_start(
        &[("REDIS_URL", &wrong_ca), ("LATCHKEY_REDIS_CA_FILE", &other)],
        &format!("Redis at 127.0.0.1:{port}"),
        "UnknownIssuer",
    );
}

#[test]
fn a_redis_ca_file_without_rediss_or_that_holds_no_certificate_is_refused_at_start() {
    let dir = TempDir::new("redis-ca-file");
    let ca = dir.0.join("ca.pem");
    Ca::new("Latchkey test CA").write_cert(&ca);
    let ca = ca.to_string_lossy().into_owned();
    refused_at_start(
        &[
            ("REDIS_URL", "redis://127.0.0.1:9"),
            ("LATCHKEY_REDIS_CA_FILE", &ca),
        ],
        "LATCHKEY_REDIS_CA_FILE",
        "rediss://",
    );
    let empty = dir.0.join("empty.pem");
    std::fs::write(&empty, "no certificate here").unwrap();
    let empty = empty.to_string_lossy().into_owned();
    refused_at_start(
        &[
            ("REDIS_URL", "rediss://127.0.0.1:9"),
            ("LATCHKEY_REDIS_CA_FILE", &empty),
        ],
        "LATCHKEY_REDIS_CA_FILE",
        "no PEM certificate",
    );
}
