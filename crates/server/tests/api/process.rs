//! The real `latchkey` binary as a separate process, for tests that need what an
//! in-process server cannot show: its log output, or several instances side by side.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    child: Child,
    dir: std::path::PathBuf,
    pub url: String,
}

impl Server {
    /// Starts the binary on a free port in a fresh directory, with only `env` (and
    /// `LATCHKEY_LISTEN`) in its environment; its stdout and stderr go to one log file.
    pub async fn start(env: &[(&str, String)]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "latchkey-process-{}",
            uuid::Uuid::from_bytes(latchkey_core::random::bytes().unwrap()).simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .current_dir(&dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("LATCHKEY_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let server = Server { child, dir, url };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client
                .get(format!("{}/healthz", server.url))
                .send()
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start: {}", server.stop_and_read_log());
    }

    /// Kills the process and returns everything it printed.
    pub fn stop_and_read_log(mut self) -> String {
        self.child.kill().ok();
        self.child.wait().ok();
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        crate::capture::process_log(&log);
        std::fs::remove_dir_all(&self.dir).ok();
        log
    }
}
