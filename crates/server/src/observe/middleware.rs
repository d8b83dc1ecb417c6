//! Around every request, outside everything else (panics and unknown routes included):
//! the request's id, a `request` span carrying it as `request_id` (so every line logged
//! while serving it names it), the `X-Request-Id` response header, the one access-log line
//! and the request metrics.

use std::sync::Arc;
use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use tracing::Instrument;

use super::{RequestId, RouteTemplates, request_id};
use crate::auth::client_addr;
use crate::state::AppState;

/// Serves `req` through `next`, observed.
pub async fn observe<E: Endpoint>(
    state: Arc<AppState>,
    routes: Arc<RouteTemplates>,
    next: Arc<E>,
    mut req: Request,
) -> Result<Response> {
    // Elapsed time is measured, not decided on: the wall clock is right here.
    let started = Instant::now();
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip().to_canonical());
    let trusted = peer.is_some_and(|ip| state.trusted_proxies.contains(ip));
    let id = RequestId::choose(req.header(request_id::HEADER), trusted);
    // The address resolution below (and every handler's) reads the state from here.
    req.extensions_mut().insert(state.clone());
    let client = client_addr(&req).map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let method = req.method().as_str().to_owned();
    let route = routes.template(req.uri().path()).to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = match id
        .clone()
        .scope(next.call(req).instrument(span.clone()))
        .await
    {
        Ok(response) => response.into_response(),
        Err(err) => err.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(request_id::HEADER, value);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .request(&method, &route, status, elapsed.as_secs_f64());
    tracing::info!(
        target: "latchkey::access",
        parent: &span,
        method,
        route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        client,
        "request"
    );
    Ok(response)
}
