//! Counters in Redis (`REDIS_URL`): one script per hit, so the increment, its expiry and the
//! read of the previous window are atomic together, and any number of instances share them.

use std::path::Path;

use redis::aio::ConnectionManager;
use redis::{Script, TlsCertificates};

use super::{CounterError, Counters, clamp};

/// INCRBY the current window's counter, give a new counter its expiry, read the previous
/// window's count.
const HIT: &str = r"
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
if current == tonumber(ARGV[1]) then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
local previous = redis.call('GET', KEYS[2])
return {previous or 0, current}
";

pub struct RedisCounters {
    connection: ConnectionManager,
    script: Script,
    /// Keeps several deployments (or test runs) on one Redis apart.
    prefix: String,
}

impl RedisCounters {
    /// Connects (the connection manager reconnects by itself after an outage). A `rediss://`
    /// URL is TLS, verified against the public roots, or against the CAs in `ca_file`
    /// (LATCHKEY_REDIS_CA_FILE) when given.
    pub async fn connect(url: &str, prefix: &str, ca_file: Option<&Path>) -> anyhow::Result<Self> {
        crate::tls::install_provider();
        let client = match ca_file {
            Some(path) => {
                let root_cert = crate::tls::read_ca_file(path)
                    .map_err(|err| anyhow::anyhow!("LATCHKEY_REDIS_CA_FILE: {err}"))?;
                let certificates = TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                };
                redis::Client::build_with_tls(url, certificates)
            }
            None => redis::Client::open(url),
        }
        .map_err(|err| anyhow::anyhow!("REDIS_URL is not usable: {err}"))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
            .set_response_timeout(Some(std::time::Duration::from_secs(2)))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|err| {
                anyhow::anyhow!(
                    "cannot connect to Redis at {}: {}",
                    crate::tls::endpoint(url),
                    crate::tls::explain(&err, "for a private CA, set LATCHKEY_REDIS_CA_FILE")
                )
            })?;
        Ok(RedisCounters {
            connection,
            script: Script::new(HIT),
            prefix: prefix.to_owned(),
        })
    }
}

#[async_trait::async_trait]
impl Counters for RedisCounters {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), CounterError> {
        let mut connection = self.connection.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(drop)
            .map_err(|err| CounterError(err.to_string()))
    }

    async fn hit(
        &self,
        bucket: &str,
        window: i64,
        delta: i64,
        expires_at_ms: i64,
        _now_ms: i64,
    ) -> Result<(u64, u64), CounterError> {
        // The bucket in braces is a hash tag: both windows' keys land in one Redis Cluster
        // slot, as a script touching two keys requires.
        let key = |w: i64| format!("{}{{{bucket}}}:{w}", self.prefix);
        let mut connection = self.connection.clone();
        let (previous, current): (i64, i64) = self
            .script
            .key(key(window))
            .key(key(window.saturating_sub(1)))
            .arg(delta)
            .arg(expires_at_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| CounterError(err.to_string()))?;
        Ok((clamp(previous), clamp(current)))
    }
}
