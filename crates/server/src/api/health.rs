//! Liveness and readiness.

use std::sync::Arc;

use latchkey_core::Error;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use crate::error::ErrorBody;
use crate::state::AppState;

#[derive(Debug, Object)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
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

#[derive(ApiResponse)]
pub enum Ready {
    /// The database answers.
    #[oai(status = 200)]
    Ok(Json<Readiness>),
    /// The database does not answer (`unavailable`).
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
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

    /// Readiness: checks the database
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&Arc<AppState>>, req: &poem::Request) -> Ready {
        let checked = match state.store.health.ping().await {
            Ok(()) => state.store.outbox.outbox_counts().await,
            Err(err) => Err(err),
        };
        match checked {
            Ok(outbox) => Ready::Ok(Json(Readiness {
                status: "ok".into(),
                database: state.store.backend().into(),
                mailer: state.outbox.mailer_name().into(),
                mail_pending: outbox.pending,
                mail_failed: outbox.failed,
                rate_limit_store: state.limiter.store_name().into(),
                client_ip: crate::auth::ClientInfo::of(req).ip,
            })),
            Err(err) => {
                tracing::error!(error = %err, "readiness check failed");
                Ready::Unavailable(Json(ErrorBody {
                    error: Error::Unavailable.code().into(),
                    message: "The database is not answering.".into(),
                }))
            }
        }
    }
}
