//! What every handler shares: the server's state and the identity a request's
//! `Authorization` header proves.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use axum::http::{HeaderMap, header};
use tokio::sync::{Semaphore, watch};

use crate::Api;
use crate::auth::Identity;
use crate::error::ApiError;
use crate::schema::Coded;
use crate::sockets::MemberSockets;

/// The state every handler of the router reads.
#[derive(Clone)]
pub(super) struct AppState {
    pub api: Arc<Api>,
    pub schema: Coded,
    pub live_runners: Arc<AtomicUsize>,
    /// Flipped to `true` when the server stops: open WebSockets end then (they are not
    /// connections `axum::serve` waits for once upgraded).
    pub closing: Arc<watch::Sender<bool>>,
    /// One permit per open WebSocket (`Limits::max_subscriptions`).
    pub subscriptions: Arc<Semaphore>,
    /// The open WebSockets of each member (`Limits::max_sockets_per_member`).
    pub member_sockets: Arc<MemberSockets>,
}

/// The identity an `Authorization` header proves; a header that proves nothing is an error.
pub(super) fn identity(api: &Api, headers: &HeaderMap) -> Result<Identity, ApiError> {
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
