//! `GET /export`: the log as JSON Lines, streamed to analysts (the analyst or admin role),
//! one self-describing object per event, personal data sealed as the `events` query shows
//! it.
//!
//! Filters (query string): `from` (first position, inclusive), `until` (last position,
//! exclusive), `since` and `before` (recorded time, RFC 3339, inclusive and exclusive),
//! `types` (comma-separated event types), `stream_prefix`, and `follow=true` to keep
//! streaming events as they become durable (until `until`, or until the client hangs up).
//!
//! Invariant: memory stays bounded whatever the log's size: one subscription page and
//! [`CHUNKS_AHEAD`] encoded chunks are all a request holds; a slow client slows the reading.
//! Invariant: an export that fails midway ends the response abruptly (no final chunk), so
//! a client never takes a cut stream for a whole one.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Bytes;
use sparkfeed_domain::Role as DomainRole;
use sparkfeed_events::{Position, RecordedEvent, Upcasters};
use tokio::sync::mpsc;

use super::respond::{json, unauthenticated};
use super::state::{AppState, identity};
use crate::Api;
use crate::error::{ApiError, ApiResult, request_error};
use crate::export::{ExportFilter, ExportParams, decode, write_line};

/// Encoded chunks a request may hold ahead of the client.
const CHUNKS_AHEAD: usize = 4;

/// The most events one chunk encodes.
const CHUNK_EVENTS: usize = 512;

/// The handler: 401 without a valid token, 403 without the role, 400 for bad filters,
/// else a streamed `application/x-ndjson` body.
pub(super) async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ExportParams>,
) -> Response {
    let api = &state.api;
    let user = match identity(api, &headers) {
        Ok(identity) => identity.user,
        Err(e) => return unauthenticated(&e),
    };
    let Some(user) = user else {
        return unauthenticated(&ApiError::Unauthenticated);
    };
    let allowed = api.domain.account(&user).ok().flatten().is_some_and(|a| {
        [DomainRole::Analyst, DomainRole::Admin]
            .iter()
            .any(|r| a.roles.contains(r))
    });
    if !allowed {
        let message = "the export needs the analyst role";
        return json(StatusCode::FORBIDDEN, &request_error("FORBIDDEN", message));
    }
    let filter = match ExportFilter::parse(params) {
        Ok(filter) => filter,
        Err(e) => {
            return json(
                StatusCode::BAD_REQUEST,
                &request_error(e.code(), &e.to_string()),
            );
        }
    };
    let (chunks, body) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_AHEAD);
    tokio::spawn(stream_export(Arc::clone(api), filter, chunks));
    let body = Body::from_stream(futures_util::stream::unfold(body, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

/// Reads the log from `filter.from` and sends the wanted events as chunks of lines, until
/// the end (the head when the export started, `until`, or never with `follow`), the
/// client hangs up, or a read fails (then the stream ends in an error).
async fn stream_export(
    api: Arc<Api>,
    filter: ExportFilter,
    chunks: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let end = filter.end(api.domain.log().head().len);
    if filter.from() >= end {
        return;
    }
    let upcasters = sparkfeed_domain::events::upcasters();
    let mut subscription = api.domain.log().subscribe(Position(filter.from()));
    loop {
        let Some(batch) = subscription.next_batch(CHUNK_EVENTS).await else {
            return;
        };
        let (chunk, done) = match encode(&upcasters, &filter, batch, end) {
            Ok(encoded) => encoded,
            Err(e) => {
                tracing::error!(error = %e, "an export stopped midway");
                let _ = chunks.send(Err(std::io::Error::other(e.to_string()))).await;
                return;
            }
        };
        if !chunk.is_empty() && chunks.send(Ok(Bytes::from(chunk))).await.is_err() {
            return; // the client hung up
        }
        if done {
            return;
        }
    }
}

/// The lines of the wanted events of `batch` before `end`, and whether `end` was reached.
fn encode(
    upcasters: &Upcasters,
    filter: &ExportFilter,
    batch: Result<Vec<RecordedEvent>, sparkfeed_eventlog::LogError>,
    end: u64,
) -> ApiResult<(Vec<u8>, bool)> {
    let mut chunk = Vec::new();
    for event in batch? {
        let position = event.record.position.0;
        if position >= end {
            return Ok((chunk, true));
        }
        if filter.wants(&event) {
            write_line(&mut chunk, &event, &decode(upcasters, &event)?)?;
        }
        if position + 1 >= end {
            return Ok((chunk, true));
        }
    }
    Ok((chunk, false))
}
