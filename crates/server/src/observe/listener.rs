//! `GET /metrics` on a listener of its own (LATCHKEY_METRICS_LISTEN), never on the public
//! port: the figures describe the deployment, and the port can stay inside it.

use std::future::Future;
use std::sync::Arc;

use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{EndpointExt, Route, Server, handler};
use tokio::net::TcpListener;

use crate::state::AppState;

/// The OpenMetrics text format (what prometheus-client writes; Prometheus asks for it).
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[handler]
async fn metrics(state: Data<&Arc<AppState>>) -> poem::Response {
    let text = state.metrics.render(&state).await;
    poem::Response::builder()
        .content_type(CONTENT_TYPE)
        .body(text)
}

/// Serves the metrics on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let app = Route::new().at("/metrics", poem::get(metrics)).data(state);
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, None)
        .await
}
