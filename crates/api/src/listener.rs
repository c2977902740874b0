//! The accept loop: HTTP/1.1 connections with a header read timeout, a cap on open
//! connections, and a graceful stop.
//!
//! `axum::serve` sets no timer, so hyper's header read timeout never fires and a client
//! that sends half a request line holds its connection (and a task) forever; nor does it
//! bound how many connections are open. Both matter for a public API, so the loop is ours.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;

use tower::ServiceExt;

use crate::Api;
use crate::error::request_error;
use crate::rate::ClientAddr;

/// What the loop enforces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnectionLimits {
    /// A request's head must arrive within this long, or the connection is closed.
    pub header_read_timeout: Duration,
    /// At most this many connections are open; the next one is answered 503 and closed.
    pub max_connections: usize,
}

/// The answer to a connection over the cap, written before its request is read.
fn overloaded() -> Vec<u8> {
    let body = request_error(
        "OVERLOADED",
        "the server has too many open connections; retry shortly",
    )
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers 503 without reading the request, then drains what the client sent (for at
/// most a second): closing a socket with unread bytes resets it, and the reset could
/// overtake the answer.
async fn refuse(mut stream: TcpStream) {
    let answer = overloaded();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&answer).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        std::io::Result::Ok(())
    })
    .await;
}

/// Serves `app` on `listener` until `stopped` fires (or its sender is dropped); then stops
/// accepting, flips `closing` (open WebSockets end), lets every open connection finish its
/// request in flight, and returns.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    api: Arc<Api>,
    mut stopped: oneshot::Receiver<()>,
    closing: Arc<watch::Sender<bool>>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    api.metrics.error("OVERLOADED");
                    connections.spawn(refuse(stream));
                    continue;
                };
                // Every request of the connection knows its address (the rate limits).
                let service = TowerToHyperService::new(app.clone().map_request(
                    move |mut request: axum::http::Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(ClientAddr(peer.ip()));
                        request
                    },
                ));
                let mut closing = closing.subscribe();
                connections.spawn(async move {
                    let _permit = permit;
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(limits.header_read_timeout)
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades();
                    tokio::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        () = async { let _ = closing.wait_for(|closing| *closing).await; } => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    closing.send_replace(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}
