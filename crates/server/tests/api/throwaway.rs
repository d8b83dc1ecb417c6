//! Servers a test starts for itself, serving TLS with certificates the test issued, and
//! stops when they are dropped, whether the test passed or panicked: a PostgreSQL cluster
//! (initdb on a free port) and a Redis listening on TLS only.
//!
//! initdb and postgres refuse to run as root; as root they run as the `postgres` user
//! (`Command::uid`, which drops the groups too: what `runuser -u postgres` does, without a
//! process in between to forward signals through).

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pki::ServerFiles;

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "latchkey-{name}-{}",
            uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// `Some(path)` of a program this test needs, or `None` and a note (a failure instead when
/// LATCHKEY_REQUIRE_ALL is set, as in CI). Looked for on PATH, then in `extra` directories.
pub fn program(name: &str, extra: &[&str], why: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(extra.iter().map(PathBuf::from));
    let mut found = None;
    for dir in dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            found = Some(candidate);
            break;
        }
    }
    if found.is_none() {
        assert!(
            std::env::var_os("LATCHKEY_REQUIRE_ALL").is_none(),
            "LATCHKEY_REQUIRE_ALL is set but `{name}` is not installed ({why})"
        );
        eprintln!("SKIPPED: `{name}` is not installed ({why})");
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops a child gently (`signal`), then for good after 10 s.
fn stop(child: &mut Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().ok();
    child.wait().ok();
}

/// The uid and gid of the `postgres` user when this process is root, which initdb refuses.
fn postgres_user() -> Option<(u32, u32)> {
    let me = std::fs::metadata("/proc/self").ok()?.uid();
    if me != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("running as root needs a `postgres` user to run initdb as");
    let fields: Vec<&str> = line.split(':').collect();
    Some((fields[2].parse().unwrap(), fields[3].parse().unwrap()))
}

/// A PostgreSQL cluster of its own, serving TLS with the given certificate, trusting every
/// local connection (`postgres` user, no password). Fast rather than durable.
pub struct Postgres {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

const PG_BINS: &[&str] = &[
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
];

impl Postgres {
    /// `None` (with a note) on a machine without initdb.
    pub async fn start(cert: &ServerFiles) -> Option<Postgres> {
        let initdb = program("initdb", PG_BINS, "a throwaway PostgreSQL cluster")?;
        let postgres = initdb.with_file_name("postgres");
        let dir = TempDir::new("pg");
        let user = postgres_user();
        let as_owner = |cmd: &mut Command| {
            if let Some((uid, gid)) = user {
                cmd.uid(uid).gid(gid);
            }
        };
        let own = |path: &Path| {
            if let Some((uid, gid)) = user {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
            }
        };
        own(&dir.0);
        let data = dir.0.join("data");
        let mut cmd = Command::new(&initdb);
        as_owner(&mut cmd);
        let out = cmd
            .args([
                "--auth=trust",
                "--username=postgres",
                "--no-sync",
                "--encoding=UTF8",
            ])
            .arg("-D")
            .arg(&data)
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // postgres wants its key private to its own user.
        for (from, name, mode) in [
            (&cert.cert, "server.crt", 0o644),
            (&cert.key, "server.key", 0o600),
        ] {
            let to = data.join(name);
            std::fs::copy(from, &to).unwrap();
            std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(mode))
                .unwrap();
            own(&to);
        }
        let port = free_port();
        let log = std::fs::File::create(dir.0.join("postgres.log")).unwrap();
        own(&dir.0.join("postgres.log"));
        let mut cmd = Command::new(&postgres);
        as_owner(&mut cmd);
        let settings = [
            "listen_addresses=127.0.0.1".to_owned(),
            format!("unix_socket_directories={}", dir.0.display()),
            "ssl=on".to_owned(),
            "ssl_cert_file=server.crt".to_owned(),
            "ssl_key_file=server.key".to_owned(),
            "fsync=off".to_owned(),
            "synchronous_commit=off".to_owned(),
            "full_page_writes=off".to_owned(),
            "shared_buffers=16MB".to_owned(),
            "max_connections=40".to_owned(),
        ];
        cmd.arg("-D").arg(&data).args(["-p", &port.to_string()]);
        for setting in &settings {
            cmd.args(["-c", setting]);
        }
        let child = cmd
            .env("LC_ALL", "C")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut cluster = Postgres { child, port, dir };
        cluster.wait_until_ready().await;
        Some(cluster)
    }

    /// Polls until the cluster accepts a connection (a fixed sleep would be too short on a
    /// busy machine and too long on an idle one).
    async fn wait_until_ready(&mut self) {
        let url = self.url("127.0.0.1", "sslmode=disable");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            use sqlx::Connection;
            if let Ok(conn) = sqlx::PgConnection::connect(&url).await {
                conn.close().await.ok();
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("postgres exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections within 60 s: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A URL to database `postgres` at `host` (`127.0.0.1` or `localhost`) and this port.
    pub fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Fast shutdown: open sessions are ended, nothing is waited for.
        stop(&mut self.child, "-INT");
    }
}

/// A Redis of its own, listening on TLS only (no client certificates asked for).
pub struct Redis {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

impl Redis {
    /// `None` (with a note) on a machine without redis-server.
    pub async fn start(cert: &ServerFiles, ca: &Path) -> Option<Redis> {
        let server = program("redis-server", &[], "a Redis serving TLS")?;
        let dir = TempDir::new("redis");
        let port = free_port();
        let log = std::fs::File::create(dir.0.join("redis.log")).unwrap();
        let child = Command::new(server)
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(&cert.cert)
            .arg("--tls-key-file")
            .arg(&cert.key)
            .arg("--tls-ca-cert-file")
            .arg(ca)
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&dir.0)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut redis = Redis { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = redis.child.try_wait() {
                panic!("redis-server exited ({status}): {}", redis.log());
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen: {}",
                redis.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some(redis)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        stop(&mut self.child, "-TERM");
    }
}
