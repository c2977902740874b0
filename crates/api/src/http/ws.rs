//! `GET /graphql` upgraded to a WebSocket: subscriptions over graphql-transport-ws, each
//! client message checked by the [`ProtocolGuard`] first.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, watch};

use super::respond::{json, unauthenticated};
use super::state::{AppState, identity};
use crate::Api;
use crate::auth::Identity;
use crate::error::request_error;
use crate::loaders::Reads;
use crate::protocol::{Breach, ProtocolGuard};
use crate::rate::ClientAddr;
use crate::schema::Coded;
use crate::sockets::{MemberSockets, SubscriptionSlots};

/// The WebSocket subprotocol served (the `graphql-ws` npm package's protocol).
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// The handler: admits a WebSocket (subprotocol, token, the server's and the member's
/// caps) and serves subscriptions on it.
pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    protocol: Result<GraphQLProtocol, StatusCode>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    uri: axum::http::Uri,
) -> Response {
    // A plain GET (no upgrade asked for) is a query over HTTP.
    if !headers.contains_key(header::UPGRADE) {
        let source = super::post::Source::Get(uri);
        return super::post::graphql(&state, address.map(|a| a.0), &headers, source).await;
    }
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim() == SUBPROTOCOL));
    let (Ok(upgrade), Ok(protocol), true) = (upgrade, protocol, offered) else {
        return json(
            StatusCode::BAD_REQUEST,
            &request_error(
                "BAD_REQUEST",
                "a WebSocket on /graphql speaks the graphql-transport-ws subprotocol; \
                 send queries with GET or POST, mutations with POST",
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
    let max_message = state.api.limits.max_ws_message_bytes;
    let socket = Socket {
        api: Arc::clone(&state.api),
        schema: state.schema.clone(),
        member_sockets: Arc::clone(&state.member_sockets),
        closing: state.closing.subscribe(),
        permit,
        header_identity,
        address: address.map(|Extension(a)| a),
        protocol,
    };
    upgrade
        .protocols([SUBPROTOCOL])
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |ws| socket.serve(ws))
}

/// An admitted WebSocket, before its upgrade.
struct Socket {
    api: Arc<Api>,
    schema: Coded,
    member_sockets: Arc<MemberSockets>,
    closing: watch::Receiver<bool>,
    /// Held as long as the socket is open (`Limits::max_subscriptions`).
    permit: OwnedSemaphorePermit,
    header_identity: Identity,
    address: Option<ClientAddr>,
    protocol: GraphQLProtocol,
}

impl Socket {
    /// Serves subscriptions on `socket` until the client leaves, breaches the protocol,
    /// never initialises, or the server stops.
    async fn serve(self, socket: WebSocket) {
        let Socket {
            api,
            schema,
            member_sockets,
            mut closing,
            permit,
            header_identity,
            address,
            protocol,
        } = self;
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
                connection_data(
                    &init_api,
                    &member_sockets,
                    header_identity,
                    address,
                    &payload,
                )
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
    }
}

/// The data of a connection that sent `connection_init` with `payload`: its identity (the
/// payload's token, else the upgrade's header), its member's socket slot, its address, its
/// subscription slots, and reads that remember no row (a connection lives long).
fn connection_data(
    api: &Arc<Api>,
    member_sockets: &Arc<MemberSockets>,
    header_identity: Identity,
    address: Option<ClientAddr>,
    payload: &serde_json::Value,
) -> async_graphql::Result<Data> {
    let identity = match init_token(payload) {
        Some(value) => Identity {
            user: Some(api.tokens.verify_header(&value)?),
        },
        None => header_identity,
    };
    let mut data = Data::default();
    if let Some(user) = &identity.user {
        let socket = member_sockets.take(user).map_err(|e| {
            api.metrics.error(e.code());
            async_graphql::Error::new(format!("{}: {e}", e.code()))
        })?;
        data.insert(socket);
    }
    data.insert(identity);
    if let Some(address) = address {
        data.insert(address);
    }
    data.insert(SubscriptionSlots::new(
        api.limits.max_subscriptions_per_socket,
    ));
    data.insert(Reads::for_connection(Arc::clone(api)));
    Ok(data)
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
