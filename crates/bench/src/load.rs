//! N keep-alive connections, each sending one request at a time until the budget (a
//! deadline, a request count, or both) runs out.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::LoadArgs;
use crate::stats::Tally;

/// A connection that fails this many times in a row gives up: the server is gone.
const MAX_CONSECUTIVE_FAILURES: u32 = 50;
/// An answer slower than this is a failure, so a stuck server cannot hang a run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

struct Target {
    addr: String,
    method: Method,
    uri: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<String>,
    expect: u16,
    chain: Option<String>,
}

struct Budget {
    deadline: Option<Instant>,
    remaining: AtomicI64,
    counter: AtomicU64,
}

impl Budget {
    fn take(&self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return false;
        }
        self.remaining.fetch_sub(1, Ordering::Relaxed) > 0
    }
}

pub async fn run(args: LoadArgs) -> anyhow::Result<Value> {
    if args.duration.is_none() && args.requests.is_none() {
        bail!("give --duration, --requests or both: a load must be bounded");
    }
    let connections = args.connections.max(1);
    let seeds = match &args.seeds {
        Some(path) => read_seeds(path, connections)?,
        None => Vec::new(),
    };
    let target = Arc::new(Target::from_args(&args)?);
    let start = Instant::now();
    let budget = Arc::new(Budget {
        deadline: args.duration.map(|d| start + d),
        remaining: AtomicI64::new(args.requests.map_or(i64::MAX, |n| n as i64)),
        counter: AtomicU64::new(0),
    });
    let mut tasks = JoinSet::new();
    for i in 0..connections {
        let seed = seeds.get(i).cloned();
        tasks.spawn(connection(target.clone(), budget.clone(), seed));
    }
    let mut tally = Tally::default();
    while let Some(done) = tasks.join_next().await {
        tally.merge(done?);
    }
    Ok(tally.report(start.elapsed()))
}

fn read_seeds(path: &Path, connections: usize) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path:?}"))?;
    let seeds: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if seeds.len() < connections {
        bail!(
            "{path:?} has {} tokens for {connections} connections",
            seeds.len()
        );
    }
    Ok(seeds)
}

impl Target {
    fn from_args(args: &LoadArgs) -> anyhow::Result<Self> {
        let uri: Uri = args.url.parse().context("--url")?;
        if uri.scheme_str() != Some("http") {
            bail!("--url must be http:// (the harness loads loopback servers only)");
        }
        let authority = uri.authority().context("--url has no host")?.clone();
        let mut headers = vec![(HOST, HeaderValue::from_str(authority.as_str())?)];
        for line in &args.headers {
            let (name, value) = line
                .split_once(':')
                .with_context(|| format!("--header {line:?} is not `Name: value`"))?;
            headers.push((name.trim().parse()?, HeaderValue::from_str(value.trim())?));
        }
        if args.body.is_some() && !headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
            headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        }
        let port = authority.port_u16().unwrap_or(80);
        Ok(Target {
            addr: format!("{}:{port}", authority.host()),
            method: args.method.parse()?,
            uri: uri
                .path_and_query()
                .context("--url has no path")?
                .as_str()
                .parse()?,
            headers,
            body: args.body.clone(),
            expect: args.expect,
            chain: args.chain.clone(),
        })
    }

    fn request(&self, n: u64, token: Option<&str>) -> anyhow::Result<Request<Full<Bytes>>> {
        let body = self.body.as_deref().map_or_else(String::new, |b| {
            b.replace("{n}", &n.to_string())
                .replace("{token}", token.unwrap_or_default())
        });
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(self.uri.clone())
            .body(Full::new(Bytes::from(body)))?;
        for (name, value) in &self.headers {
            req.headers_mut().append(name, value.clone());
        }
        Ok(req)
    }
}

async fn connect(addr: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn connection(target: Arc<Target>, budget: Arc<Budget>, mut token: Option<String>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    let mut failures = 0;
    while budget.take() {
        let n = budget.counter.fetch_add(1, Ordering::Relaxed);
        let request = match target.request(n, token.as_deref()) {
            Ok(r) => r,
            Err(e) => {
                tally.first_error.get_or_insert(e.to_string());
                break;
            }
        };
        let open = match sender.take() {
            Some(s) if !s.is_closed() => Ok(s),
            _ => connect(&target.addr).await,
        };
        let mut s = match open {
            Ok(s) => s,
            Err(e) => {
                if failed(&mut tally, &mut failures, format!("connect: {e}")) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                break;
            }
        };
        let started = Instant::now();
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, async {
            s.ready().await?;
            let response = s.send_request(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, body))
        })
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {REQUEST_TIMEOUT:?}")));
        let (status, body) = match answer {
            Ok(a) => a,
            Err(e) => {
                // A chain's token may have been spent by the request that got no answer;
                // sending it again would be reuse, so the chain ends here.
                if failed(&mut tally, &mut failures, format!("request: {e}"))
                    && target.chain.is_none()
                {
                    continue;
                }
                break;
            }
        };
        failures = 0;
        sender = Some(s);
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        *tally.statuses.entry(status).or_default() += 1;
        if status != target.expect {
            tally.first_error.get_or_insert_with(|| {
                let text = String::from_utf8_lossy(&body);
                format!(
                    "status {status}: {}",
                    text.chars().take(200).collect::<String>()
                )
            });
            if target.chain.is_some() {
                break; // the chain is broken; every further request would fail the same way
            }
            continue;
        }
        tally.ok += 1;
        tally.latencies_us.push(micros);
        if let Some(field) = &target.chain {
            let next = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get(field)?.as_str().map(str::to_owned));
            match next {
                Some(t) => token = Some(t),
                None => {
                    tally
                        .first_error
                        .get_or_insert(format!("no {field:?} in the answer"));
                    break;
                }
            }
        }
    }
    tally
}

/// Counts a transport failure; false once the connection should give up.
fn failed(tally: &mut Tally, failures: &mut u32, error: String) -> bool {
    tally.transport_errors += 1;
    tally.first_error.get_or_insert(error);
    *failures += 1;
    *failures < MAX_CONSECUTIVE_FAILURES
}
