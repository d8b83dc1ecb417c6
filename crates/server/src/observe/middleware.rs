//! Around every request, outside everything else (panics and unknown routes included):
//! the request's id, a `request` span carrying it as `request_id` (so every line logged
//! while serving it names it), the `X-Request-Id` response header, the one access-log line
//! and the request metrics.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, Method};
use poem::{Endpoint, IntoResponse, Request, Response, Result};
use tracing::Instrument;

use super::{RequestId, RouteTemplates, request_id};
use crate::auth::client_addr;
use crate::state::AppState;

/// The method as a label and a log field: one of the methods the API has, else `other`.
/// hyper accepts any token as a method, of any length; copied as it came, each new one
/// would be a new series kept for good and a client-chosen string in the access log.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

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
    let method = method_label(req.method());
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
        .request(method, &route, status, elapsed.as_secs_f64());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_outside_the_apis_is_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let long = Method::from_bytes("X".repeat(60_000).as_bytes()).unwrap();
        assert_eq!(method_label(&long), "other");
        assert_eq!(method_label(&Method::from_bytes(b"MFOO").unwrap()), "other");
    }
}
