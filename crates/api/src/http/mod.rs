//! The HTTP face: the axum router, the GraphQL handler with its limits, WebSocket
//! subscriptions, health, readiness and metrics.
//!
//! Status codes say what happened to the request itself: 200 for every executed GraphQL
//! operation (its errors are in the body, each with `extensions.code`); 400 for JSON that
//! is not a GraphQL request, and, to a client that accepts
//! `application/graphql-response+json`, for a document that does not parse or validate
//! (no `data`); 401 for a bad token; 405 for a mutation sent with GET; 406 for an
//! `Accept` of neither JSON type; 413 for a body over the cap; 415 for a body that is not
//! JSON; 503 for a request that ran out of time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{Semaphore, watch};

use crate::Api;
use crate::listener::{ConnectionLimits, serve_connections};
use crate::schema::build_schema;
use crate::sockets::MemberSockets;

pub mod app;
mod demo;
mod export;
mod files;
pub mod graphiql;
mod media;
mod post;
mod respond;
mod state;
mod ws;

pub(crate) use post::WROTE_HEADER;
use respond::json;
use state::AppState;
pub use ws::SUBPROTOCOL;

/// The router over `api`. Projections are not started here: see [`serve`].
pub fn router(api: Arc<Api>) -> Router {
    router_with(
        api,
        Arc::new(AtomicUsize::new(0)),
        Arc::new(watch::Sender::new(false)),
    )
}

fn router_with(
    api: Arc<Api>,
    live_runners: Arc<AtomicUsize>,
    closing: Arc<watch::Sender<bool>>,
) -> Router {
    let state = AppState {
        schema: build_schema(Arc::clone(&api)),
        subscriptions: Arc::new(Semaphore::new(api.limits.max_subscriptions.max(1))),
        member_sockets: MemberSockets::new(api.limits.max_sockets_per_member),
        api,
        live_runners,
        closing,
    };
    Router::new()
        .route("/", get(|| async { graphiql::PAGE.index() }))
        .route(
            "/graphiql/{name}",
            get(|Path(name): Path<String>| async move { graphiql::PAGE.asset(&name) }),
        )
        .route("/app", get(|| async { app::PAGE.index() }))
        .route("/app/", get(|| async { app::PAGE.index() }))
        .route("/app/demo.json", get(demo::members))
        .route(
            "/app/{name}",
            get(|Path(name): Path<String>| async move { app::PAGE.asset(&name) }),
        )
        .route("/demo/media", get(demo::picture))
        .route("/graphql", get(ws::graphql_ws).post(post::graphql_post))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/export", get(export::export))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> Response {
    let api = &state.api;
    let names = api.projections.names();
    let lag = match api.projections.lag() {
        Ok(lag) => lag,
        Err(e) => {
            return json(
                StatusCode::SERVICE_UNAVAILABLE,
                &serde_json::json!({ "ready": false, "error": e.to_string() }),
            );
        }
    };
    let running = state.live_runners.load(Ordering::Relaxed);
    let log = api.domain.log().replication();
    let log_ready =
        log.connected && log.failure.is_none() && log.lag_messages <= api.limits.ready_max_lag;
    let ready = log_ready
        && running == names.len()
        && lag.iter().all(|(_, l)| *l <= api.limits.ready_max_lag);
    let body = serde_json::json!({
        "ready": ready,
        "logHead": api.domain.log().head().len,
        "log": {
            "backend": log.backend,
            "connected": log.connected,
            "lagMessages": log.lag_messages,
            "failure": log.failure,
        },
        "projectionsRunning": running,
        "lag": lag.iter().map(|(n, l)| (n.to_string(), serde_json::json!(l))).collect::<serde_json::Map<_, _>>(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json(status, &body)
}

async fn metrics(State(state): State<AppState>) -> Response {
    let api = &state.api;
    let lag = api.projections.lag().unwrap_or_default();
    let rows = api
        .projections
        .view("feeds")
        .map(|v| v.cache().counts())
        .unwrap_or_default();
    let mut response = api
        .metrics
        .render(
            api.domain.log().head().len,
            api.domain.log().stats(),
            &lag,
            api.responses.counts(),
            rows,
        )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// A server running on a task of the current runtime, with its projections following the
/// log live.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    runners: Vec<tokio::task::AbortHandle>,
}

/// How long a stopping server waits for open requests and WebSockets before it cuts them.
const GRACE: Duration = Duration::from_secs(5);

/// Starts the projections live and serves `api` on `listener` until `stop` is called.
pub async fn serve(
    api: Arc<Api>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let live_runners = Arc::new(AtomicUsize::new(0));
    let mut runners: Vec<tokio::task::AbortHandle> = api
        .projections
        .spawn()
        .into_iter()
        .map(|runner| {
            let live = Arc::clone(&live_runners);
            live.fetch_add(1, Ordering::Relaxed);
            let abort = runner.abort_handle();
            tokio::spawn(async move {
                let _ = runner.await;
                live.fetch_sub(1, Ordering::Relaxed);
            });
            abort
        })
        .collect();
    let publisher = tokio::spawn(Arc::clone(&api.heads).run(api.domain.log().clone()));
    runners.push(publisher.abort_handle());
    let closing = Arc::new(watch::Sender::new(false));
    let app = router_with(Arc::clone(&api), live_runners, Arc::clone(&closing));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let limits = ConnectionLimits {
        header_read_timeout: api.limits.header_read_timeout,
        max_connections: api.limits.max_connections,
    };
    let task = tokio::spawn(serve_connections(
        listener, app, limits, api, stopped, closing,
    ));
    tracing::info!(%addr, "serving GraphQL on http://{addr}/graphql, GraphiQL on http://{addr}/");
    Ok(RunningServer {
        addr,
        stop: Some(stop),
        task,
        runners,
    })
}

impl RunningServer {
    /// Stops accepting, ends open WebSockets, lets open requests finish (at most a few
    /// seconds), stops the projection runners.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = match tokio::time::timeout(GRACE, &mut self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Ok(()),
            Err(_) => {
                self.task.abort();
                Ok(())
            }
        };
        for runner in &self.runners {
            runner.abort();
        }
        result
    }

    /// Serves until the server fails or `signal` resolves, then stops.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        tokio::select! {
            result = &mut self.task => {
                for runner in &self.runners {
                    runner.abort();
                }
                result.unwrap_or(Ok(()))
            }
            () = signal => self.stop().await,
        }
    }
}
