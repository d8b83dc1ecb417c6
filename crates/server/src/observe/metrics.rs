//! The server's metrics, in a [`Registry`] owned by the app state rather than a
//! process-global recorder: the integration tests run many servers in one process, and each
//! must report only its own figures. prometheus-client is the Prometheus org's own crate;
//! its text encoder writes the OpenMetrics text format, which Prometheus scrapes natively.
//!
//! Counters move where their event happens (the middleware, sign-in, refresh, the limiter,
//! the hasher); the gauges of state kept elsewhere (the outbox, the connection pool) are
//! read when scraped, so they are never stale.

use std::sync::atomic::AtomicU64;

use latchkey_core::Error;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::state::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// A route template (see [`super::routes`]), never a concrete path.
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `ok`, or the error code the sign-in answered with (a fixed set: `core::Error`).
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    /// A rate-limit rule's name, as in LATCHKEY_RATE_LIMITS (`signin_ip`, `auth_ip`…).
    pub rule: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Request latencies: 1 ms to about 16 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Waits for a hashing slot: 0.1 ms to about 13 s (the queue gives up at 10 s).
pub fn hash_wait() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabels>,
    sign_ins: Family<OutcomeLabels, Counter>,
    pub refresh_rotations: Counter,
    pub refresh_reuses: Counter,
    outbox_depth: Gauge,
    outbox_oldest_seconds: Gauge<f64, AtomicU64>,
    pool_in_use: Gauge,
    pool_waiting: Gauge,
}

impl Metrics {
    /// The metrics, with the ones the limiter and the hasher keep themselves.
    pub fn new(rate_limit_refusals: Family<RuleLabels, Counter>, hash_wait: Histogram) -> Self {
        let mut registry = Registry::with_prefix("latchkey");
        let metrics = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency),
            sign_ins: Family::default(),
            refresh_rotations: Counter::default(),
            refresh_reuses: Counter::default(),
            outbox_depth: Gauge::default(),
            outbox_oldest_seconds: Gauge::default(),
            pool_in_use: Gauge::default(),
            pool_waiting: Gauge::default(),
        };
        let r = &mut registry;
        r.register(
            "http_requests",
            "Requests answered, by method, route template and status",
            metrics.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to answer a request, by method and route template",
            metrics.request_seconds.clone(),
        );
        r.register(
            "sign_ins",
            "Sign-in attempts by outcome (ok, or the error code answered)",
            metrics.sign_ins.clone(),
        );
        r.register(
            "refresh_rotations",
            "Refresh tokens rotated",
            metrics.refresh_rotations.clone(),
        );
        r.register(
            "refresh_reuse_detections",
            "Spent refresh tokens presented outside the grace window (each ends its session)",
            metrics.refresh_reuses.clone(),
        );
        r.register(
            "rate_limit_refusals",
            "Events refused by a rate limit, by rule",
            rate_limit_refusals,
        );
        r.register(
            "outbox_depth",
            "Emails in the outbox not sent yet (including those waiting for a retry)",
            metrics.outbox_depth.clone(),
        );
        r.register(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest email not sent yet (0 when none is)",
            metrics.outbox_oldest_seconds.clone(),
        );
        r.register(
            "db_pool_connections_in_use",
            "Database connections handed out",
            metrics.pool_in_use.clone(),
        );
        r.register(
            "db_pool_waiting",
            "Callers waiting for a database connection",
            metrics.pool_waiting.clone(),
        );
        r.register(
            "password_hash_queue_wait_seconds",
            "Time a password hash or check waited for a hashing slot",
            hash_wait,
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.request_seconds
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Counts one sign-in by how it ended.
    pub fn sign_in<T>(&self, result: &Result<T, Error>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(error) => error.code(),
        };
        self.sign_ins
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The exposition text, with the gauges read now. A gauge whose source does not answer
    /// (the database is down) keeps its last value; `/readyz` is what reports the outage.
    pub async fn render(&self, state: &AppState) -> String {
        if let Ok(counts) = state.store.outbox.outbox_counts().await {
            self.outbox_depth.set(counts.pending);
            let age_ms = counts
                .oldest_pending_at
                .map_or(0, |at| state.clock.now_ms().saturating_sub(at).max(0));
            self.outbox_oldest_seconds.set(age_ms as f64 / 1000.0);
        }
        let pool = state.store.health.pool();
        self.pool_in_use
            .set(i64::try_from(pool.in_use).unwrap_or(i64::MAX));
        self.pool_waiting
            .set(i64::try_from(pool.waiting).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
