//! The HTTP face: the axum router, the GraphQL handler with its limits, WebSocket
//! subscriptions, health, readiness and metrics.
//!
//! Status codes say what happened to the request itself: 200 for every executed GraphQL
//! operation (its errors are in the body, each with `extensions.code`); 400 for JSON that
//! is not a GraphQL request; 401 for a bad token; 413 for a body over the cap; 415 for a
//! body that is not JSON; 503 for a request that ran out of time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};

use crate::protocol::{Breach, ProtocolGuard};
use crate::rate::ClientAddr;
use crate::sockets::{MemberSockets, SubscriptionSlots};
use axum::body::Body;
use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use tokio::sync::{Semaphore, watch};

use crate::Api;
use crate::auth::Identity;
use crate::error::{ApiError, request_error};
use crate::listener::{ConnectionLimits, serve_connections};
use crate::loaders::Reads;
use crate::schema::{Coded, build_schema};

/// Set (inside the server only) by a mutation that wrote: an answer that holds a written
/// mutation is never a 429, so a client that retries 429s without keys writes nothing twice.
pub(crate) const WROTE_HEADER: &str = "x-sparkfeed-wrote";

/// The WebSocket subprotocol served (the `graphql-ws` npm package's protocol).
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

#[derive(Clone)]
struct AppState {
    api: Arc<Api>,
    schema: Coded,
    live_runners: Arc<AtomicUsize>,
    /// Flipped to `true` when the server stops: open WebSockets end then (they are not
    /// connections `axum::serve` waits for once upgraded).
    closing: Arc<watch::Sender<bool>>,
    /// One permit per open WebSocket (`Limits::max_subscriptions`).
    subscriptions: Arc<Semaphore>,
    /// The open WebSockets of each member (`Limits::max_sockets_per_member`).
    member_sockets: Arc<MemberSockets>,
}

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
        .route("/", get(graphiql))
        .route("/graphql", get(graphql_ws).post(graphql_post))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn json_bytes(body: hyper::body::Bytes) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The identity an `Authorization` header proves; a header that proves nothing is an error.
fn identity(api: &Api, headers: &HeaderMap) -> Result<Identity, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Identity { user: None });
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::InvalidToken("the header is not ASCII".into()))?;
    Ok(Identity {
        user: Some(api.tokens.verify_header(value)?),
    })
}

fn unauthenticated(error: &ApiError) -> Response {
    let mut response = json(
        StatusCode::UNAUTHORIZED,
        &request_error(error.code(), &error.to_string()),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

async fn graphql_post(
    State(state): State<AppState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let response = execute(&state, address.map(|a| a.0), &headers, body).await;
    state
        .api
        .metrics
        .request("/graphql", response.status().as_u16(), started.elapsed());
    response
}

async fn execute(
    state: &AppState,
    address: Option<ClientAddr>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let api = &state.api;
    let refuse = |status: StatusCode, code: &str, message: &str| {
        api.metrics.error(code);
        json(status, &request_error(code, message))
    };
    let identity = match identity(api, headers) {
        Ok(identity) => identity,
        Err(e) => {
            api.metrics.error(e.code());
            return unauthenticated(&e);
        }
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "send the request as `Content-Type: application/json`",
        );
    }
    // One deadline for the whole request, body included: a client that trickles its body
    // would otherwise hold its connection (and one of `max_connections`) for ever.
    let deadline = tokio::time::Instant::now() + api.limits.request_timeout;
    let limit = api.limits.max_body_bytes;
    let read = tokio::time::timeout_at(
        deadline,
        http_body_util::Limited::new(body, limit).collect(),
    );
    let Ok(read) = read.await else {
        return refuse(
            StatusCode::REQUEST_TIMEOUT,
            "TIMEOUT",
            &format!(
                "the request body did not arrive within {:?}",
                api.limits.request_timeout
            ),
        );
    };
    let bytes = match read {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("the request body is over {limit} bytes"),
            );
        }
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the request body could not be read: {e}"),
            );
        }
    };
    if let Some(answer) = api.responses.get(&bytes, identity.user.as_ref()) {
        return json_bytes(answer);
    }
    let mut request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!(
                    "the body is not a GraphQL request ({{\"query\": ..., \"variables\": ...}}): {e}"
                ),
            );
        }
    };
    if request.query.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the request has no query",
        );
    }
    if let Some(document) = api.documents.parse(&request.query) {
        request.set_parsed_query(document);
    }
    let applied = api.projections.applied();
    let viewer = identity.user.clone();
    let query = (!api.limits.response_cache.is_zero()).then(|| request.query.clone());
    let request = match crate::schema::request_as(api, identity, request) {
        Ok(request) => match address {
            Some(address) => request.data(address),
            None => request,
        },
        Err(e) => {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, e.code(), &e.to_string());
        }
    };
    let Ok(response) = tokio::time::timeout_at(
        deadline,
        async_graphql::Executor::execute(&state.schema, request),
    )
    .await
    else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            &format!(
                "the request took over {:?}; a mutation in it may still complete",
                api.limits.request_timeout
            ),
        );
    };
    for error in &response.errors {
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map_or_else(
                || "UNKNOWN".to_owned(),
                |c| c.to_string().trim_matches('"').to_owned(),
            );
        api.metrics.error(&code);
    }
    match serde_json::to_vec(&response) {
        Ok(body) => {
            let body = hyper::body::Bytes::from(body);
            if response.errors.is_empty()
                && query.as_deref().is_some_and(crate::cache::only_queries)
            {
                api.responses.put(bytes, viewer, applied, body.clone());
            }
            let mut answer = json_bytes(body);
            // A mutation over its rate, and nothing written: 429 with the wait it set.
            if let Some(wait) = response.http_headers.get(header::RETRY_AFTER)
                && !response.http_headers.contains_key(WROTE_HEADER)
            {
                *answer.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                answer
                    .headers_mut()
                    .insert(header::RETRY_AFTER, wait.clone());
            }
            answer
        }
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the response could not be encoded",
        ),
    }
}

/// The token of a `connection_init` payload: `{"Authorization": "Bearer …"}` (any case)
/// or `{"token": "…"}`.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    let map = payload.as_object()?;
    for (key, value) in map {
        let Some(text) = value.as_str() else { continue };
        if key.eq_ignore_ascii_case("authorization") {
            return Some(text.to_owned());
        }
        if key == "token" {
            return Some(format!("Bearer {text}"));
        }
    }
    None
}

async fn graphql_ws(
    State(state): State<AppState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    protocol: Result<GraphQLProtocol, StatusCode>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim() == SUBPROTOCOL));
    let (Ok(upgrade), Ok(protocol), true) = (upgrade, protocol, offered) else {
        return json(
            StatusCode::BAD_REQUEST,
            &request_error(
                "BAD_REQUEST",
                "GET /graphql is for subscriptions over WebSocket with the \
                 graphql-transport-ws subprotocol; send queries and mutations with POST",
            ),
        );
    };
    let header_identity = match identity(&state.api, &headers) {
        Ok(identity) => identity,
        Err(e) => return unauthenticated(&e),
    };
    let Ok(permit) = Arc::clone(&state.subscriptions).try_acquire_owned() else {
        state.api.metrics.error("OVERLOADED");
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            &request_error(
                "OVERLOADED",
                "too many open subscription connections; retry shortly",
            ),
        );
    };
    // A member already at their cap is told before the upgrade, when the header names them.
    if let Some(user) = &header_identity.user
        && let Err(e) = state.member_sockets.take(user)
    {
        state.api.metrics.error(e.code());
        return json(
            StatusCode::TOO_MANY_REQUESTS,
            &request_error(e.code(), &e.to_string()),
        );
    }
    let api = Arc::clone(&state.api);
    let schema = state.schema.clone();
    let member_sockets = Arc::clone(&state.member_sockets);
    let mut closing = state.closing.subscribe();
    let max_message = api.limits.max_ws_message_bytes;
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| async move {
            let _permit = permit;
            api.metrics.subscription_connection(true);
            let init_api = Arc::clone(&api);
            // Client messages pass the protocol guard first; a breach ends the input, and
            // the socket is closed with the breach's code once async-graphql lets go.
            let guard = ProtocolGuard::default();
            let guard_for_init = guard.clone();
            let breach: Arc<std::sync::Mutex<Option<Breach>>> = Arc::default();
            let (sink, stream) = socket.split();
            let sink = Arc::new(tokio::sync::Mutex::new(sink));
            let outgoing = {
                let guard = guard.clone();
                futures_util::sink::unfold(Arc::clone(&sink), move |sink, message: Message| {
                    guard.outgoing(&message);
                    async move {
                        sink.lock().await.send(message).await?;
                        Ok::<_, axum::Error>(sink)
                    }
                })
            };
            let incoming = {
                let breach = Arc::clone(&breach);
                stream.take_while(move |message| {
                    let verdict = match message {
                        Ok(message) => guard.incoming(message),
                        Err(_) => Ok(()),
                    };
                    let go_on = match verdict {
                        Ok(()) => true,
                        Err(b) => {
                            *breach.lock().unwrap_or_else(|p| p.into_inner()) = Some(b);
                            false
                        }
                    };
                    std::future::ready(go_on)
                })
            };
            let connection = GraphQLWebSocket::new_with_pair(outgoing, incoming, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let identity = match init_token(&payload) {
                        Some(value) => Identity {
                            user: Some(init_api.tokens.verify_header(&value)?),
                        },
                        None => header_identity,
                    };
                    // A connection lives long: its reads must not remember rows.
                    let mut data = Data::default();
                    if let Some(user) = &identity.user {
                        let socket = member_sockets.take(user).map_err(|e| {
                            init_api.metrics.error(e.code());
                            async_graphql::Error::new(format!("{}: {e}", e.code()))
                        })?;
                        data.insert(socket);
                    }
                    data.insert(identity);
                    if let Some(Extension(address)) = address {
                        data.insert(address);
                    }
                    data.insert(SubscriptionSlots::new(
                        init_api.limits.max_subscriptions_per_socket,
                    ));
                    data.insert(Reads::for_connection(Arc::clone(&init_api)));
                    Ok(data)
                })
                .serve();
            // graphql-transport-ws: no `connection_init` in time is 4408.
            let init_guard = guard_for_init;
            let init_timeout = api.limits.ws_init_timeout;
            let init_deadline = async move {
                tokio::time::sleep(init_timeout).await;
                if init_guard.initialised() {
                    std::future::pending::<()>().await;
                }
            };
            let ended = tokio::select! {
                () = connection => breach.lock().unwrap_or_else(|p| p.into_inner()).take(),
                () = init_deadline => Some((4408, "Connection initialisation timeout".into())),
                // Dropping the connection closes the socket.
                _ = closing.wait_for(|closing| *closing) => None,
            };
            if let Some((code, reason)) = ended {
                api.metrics.error("WS_PROTOCOL");
                let frame = CloseFrame {
                    code,
                    reason: reason.into(),
                };
                // A client that reads nothing must not hold the socket (and its permit).
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    sink.lock().await.send(Message::Close(Some(frame))).await
                })
                .await;
            }
            api.metrics.subscription_connection(false);
        })
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("sparkfeed")
            .finish(),
    )
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
    let ready = running == names.len() && lag.iter().all(|(_, l)| *l <= api.limits.ready_max_lag);
    let body = serde_json::json!({
        "ready": ready,
        "logHead": api.domain.log().head().len,
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
    let runners = api
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
