//! What an operator sees of a running server: request ids, the access log, Prometheus
//! metrics.
//!
//! # Layout
//!
//! - [`request_id`]: each request's id — a trusted proxy's `X-Request-Id`, else a fresh one —
//!   and where the code serving the request finds it (error bodies quote it).
//! - [`routes`]: a request's route template (`/api/v1/sessions/{id}`), the only path that
//!   reaches a log line or a metric label.
//! - [`middleware`]: wraps every request: gives it its id and a `request` span carrying
//!   it, sets `X-Request-Id` on the response, writes the one access-log line, counts it.
//! - [`metrics`]: the registry (one per [`crate::state::AppState`]) and its metrics.
//! - [`listener`]: `GET /metrics` on its own listener (LATCHKEY_METRICS_LISTEN).

pub mod listener;
pub mod metrics;
pub mod middleware;
pub mod request_id;
pub mod routes;

pub use metrics::Metrics;
pub use request_id::RequestId;
pub use routes::RouteTemplates;
