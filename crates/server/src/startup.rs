//! Assembling the application and serving it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use latchkey_core::Error;
use latchkey_store::{Store, StoreError};
use poem::http::header::CACHE_CONTROL;
use poem::listener::TcpAcceptor;
use poem::middleware::{CatchPanic, SetHeader};
use poem::{Endpoint, EndpointExt, Route, Server};
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::limiter::redis::RedisCounters;
use crate::observe::RouteTemplates;
use crate::settings::{RateLimitStore, Settings};
use crate::state::AppState;
use crate::{api, error, limits, observe, tls};

/// Connects the store (running its migrations), loads the secrets, and builds the state.
pub async fn build_state(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<AppState>> {
    let secret = settings.load_secret()?;
    let server_secret = settings.load_server_secret(&secret)?;
    let store = connect_store(settings).await?;
    let mut state = AppState::new(settings, &secret, &server_secret, store, clock)?;
    // `AppState::new` checked that a Redis store comes with its URL.
    if let (RateLimitStore::Redis, Some(url)) =
        (settings.rate_limit_store(), &settings.limits.redis_url)
    {
        let counters = RedisCounters::connect(
            url.expose(),
            &settings.limits.redis_prefix,
            settings.limits.redis_ca_file.as_deref(),
        )
        .await?;
        state.limiter = state.limiter.with_counters(Arc::new(counters));
    }
    let state = Arc::new(state);
    // Before the first request, so even the first unknown-email sign-in costs one hash, and
    // a refusal takes as long on any kind of stored hash as on the slowest.
    let stored_kinds = state.store.credentials.hash_kinds().await?;
    state.hasher.warm_up(&stored_kinds).await?;
    Ok(state)
}

/// Connects the store (running its migrations). An error names the database's host, never
/// its URL (which may hold a password), and a refused certificate in words.
pub async fn connect_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database.url.expose();
    latchkey_store::connect_with(url, &settings.database_options()?)
        .await
        .map_err(|err| match &err {
            StoreError::Unavailable(cause) | StoreError::Database(cause) => anyhow::anyhow!(
                "cannot connect to the database at {}: {}",
                tls::endpoint(url),
                tls::explain(
                    cause,
                    "for a private CA, add sslrootcert=PATH to DATABASE_URL"
                )
            ),
            _ => err.into(),
        })
}

/// Every route: the API, its contract (`/openapi.json`, `/openapi.yaml`) and Swagger UI.
/// Responses carry tokens and personal data, so no cache may keep them (RFC 6749 §5.1).
pub fn routes(state: Arc<AppState>) -> impl Endpoint {
    let observed = state.clone();
    let templates = Arc::new(RouteTemplates::of_api());
    let service = api::service();
    let spec_json = service.spec_endpoint();
    let spec_yaml = service.spec_endpoint_yaml();
    let docs = service.swagger_ui();
    Route::new()
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .nest("/docs", docs)
        .nest("/", service)
        .around(limits::limit_body)
        .around(limits::limit_auth_calls)
        .data(state)
        .catch_all_error(|err| async move { error::normalize(err) })
        // A panic is a bug; the client still gets the JSON 500 shape, not a dropped connection.
        .with(CatchPanic::new().with_handler(|_| error::into_json_response(&Error::Internal)))
        .with(SetHeader::new().overriding(CACHE_CONTROL, "no-store"))
        // Outermost, so a panic's 500 and an unknown route's 404 get an id and a log line too.
        .around(move |next, req| {
            observe::middleware::observe(observed.clone(), templates.clone(), next, req)
        })
}

/// How often a serving instance looks again at the kinds of stored password hash: an
/// import run while it serves brings kinds it has not timed, and until it times them a wrong
/// password on an imported account would answer later than an unknown address does.
const RELEARN_HASH_KINDS: Duration = Duration::from_secs(5 * 60);

/// Every [`RELEARN_HASH_KINDS`], times the kinds of stored hash not timed yet (start-up timed
/// those there were then). A failure is logged and tried again next time.
async fn relearn_hash_kinds(state: Arc<AppState>) {
    let mut every = tokio::time::interval(RELEARN_HASH_KINDS);
    // After a stall (a slow database), one look, not a burst of full scans.
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is at once, and start-up has just done this.
    every.tick().await;
    loop {
        every.tick().await;
        let failed = match state.store.credentials.hash_kinds().await {
            Ok(kinds) => state
                .hasher
                .warm_up(&kinds)
                .await
                .err()
                .map(|e| e.to_string()),
            Err(err) => Some(err.to_string()),
        };
        if let Some(error) = failed {
            tracing::warn!(%error, "could not look again at the stored password hashes");
        }
    }
}

/// Serves the app on `listener`, with the mail outbox worker beside it, until `shutdown`
/// completes; then drains requests for up to 10 s and stops the worker.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    run_with_metrics(listener, None, state, shutdown).await
}

/// As [`run`], with `GET /metrics` on `metrics` (LATCHKEY_METRICS_LISTEN) when given.
pub async fn run_with_metrics(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(state.outbox.clone().run(stopped.clone()));
    let relearn = tokio::spawn(relearn_hash_kinds(state.clone()));
    let metrics = metrics.map(|listener| {
        let mut stopped = stopped;
        let until_stopped = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        tokio::spawn(observe::listener::serve(
            listener,
            state.clone(),
            until_stopped,
        ))
    });
    let served = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(routes(state), shutdown, Some(Duration::from_secs(10)))
        .await;
    let _ = stop.send(true);
    relearn.abort();
    // A message being sent right now finishes, or its lease lets the next start retry it.
    let _ = worker.await;
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    served
}
