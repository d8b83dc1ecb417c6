//! Liveness and readiness.

use std::sync::Arc;

use latchkey_core::Error;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::failures::ErrorCode;
use super::json::Json;
use crate::error::ErrorBody;
use crate::state::AppState;

#[derive(Debug, Object)]
#[oai(example)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct Readiness {
    /// `ok`.
    pub status: String,
    /// The storage backend in use: `sqlite` or `postgres`.
    pub database: String,
    /// Where emails go: `smtp` or `file` (development).
    pub mailer: String,
    /// Emails waiting in the outbox (not yet sent, still being retried).
    pub mail_pending: i64,
    /// Emails given up after every retry; see the server log.
    pub mail_failed: i64,
    /// Where rate-limit counters live: `memory`, `database` or `redis`.
    pub rate_limit_store: String,
    /// The client address this request was counted under (the TCP peer, or the forwarded
    /// client when the peer is a trusted proxy): a check of LATCHKEY_TRUSTED_PROXIES.
    #[oai(nullable)]
    pub client_ip: Option<String>,
}

#[derive(ApiResponse)]
pub enum Live {
    /// The process is up.
    #[oai(status = 200)]
    Ok(Json<Health>),
}

/// Which dependencies are failing.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase", example)]
pub struct NotReady {
    /// `unavailable`.
    pub error: ErrorCode,
    /// A sentence naming the failing dependencies.
    pub message: String,
    /// This request's id (as in every error body).
    pub request_id: String,
    /// The failing dependencies: `database` (does not answer), `redis` (the rate-limit
    /// store does not answer a PING), `mailer` (the last email handed to it failed).
    pub failing: Vec<String>,
}

#[derive(ApiResponse)]
pub enum Ready {
    /// Every dependency in use answers.
    #[oai(status = 200)]
    Ok(Json<Readiness>),
    /// A dependency is failing; `failing` names it.
    #[oai(status = 503)]
    Unavailable(Json<NotReady>),
}

#[derive(Default)]
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> Live {
        Live::Ok(Json(Health {
            status: "ok".into(),
        }))
    }

    /// Readiness: the database, Redis when it keeps the rate limits, the mailer's last send
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&Arc<AppState>>, req: &poem::Request) -> Ready {
        let mut failing = Vec::new();
        let outbox = match state.store.health.ping().await {
            Ok(()) => state.store.outbox.outbox_counts().await,
            Err(err) => Err(err),
        };
        let outbox = outbox
            .inspect_err(|err| {
                tracing::error!(error = %err, "readiness: the database is not answering");
                failing.push("database");
            })
            .unwrap_or_default();
        if state.limiter.store_name() == "redis"
            && let Err(err) = state.limiter.ping().await
        {
            tracing::error!(error = %err, "readiness: Redis is not answering");
            failing.push("redis");
        }
        if state.outbox.last_send_failed() {
            tracing::error!("readiness: the mailer failed the last email it was given");
            failing.push("mailer");
        }
        if !failing.is_empty() {
            let body = ErrorBody::new(
                &Error::Unavailable,
                format!("Not ready: {} failing.", failing.join(", ")),
            );
            return Ready::Unavailable(Json(NotReady {
                error: body.error,
                message: body.message,
                request_id: body.request_id,
                failing: failing.into_iter().map(String::from).collect(),
            }));
        }
        Ready::Ok(Json(Readiness {
            status: "ok".into(),
            database: state.store.backend().into(),
            mailer: state.outbox.mailer_name().into(),
            mail_pending: outbox.pending,
            mail_failed: outbox.failed,
            rate_limit_store: state.limiter.store_name().into(),
            client_ip: crate::auth::ClientInfo::of(req).ip,
        }))
    }
}
