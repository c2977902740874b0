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
use serde::{Deserialize, Serialize};
use sparkfeed_domain::Role as DomainRole;
use sparkfeed_events::{Position, RecordedEvent};
use tokio::sync::mpsc;

use super::respond::{json, unauthenticated};
use super::state::{AppState, identity};
use crate::Api;
use crate::error::{ApiError, ApiResult, request_error};
use crate::objects::event::{event_data, known_types};

/// Encoded chunks a request may hold ahead of the client.
const CHUNKS_AHEAD: usize = 4;

/// The most events one chunk encodes.
const CHUNK_EVENTS: usize = 512;

/// The export's query string, as sent.
#[derive(Deserialize, Default)]
pub(crate) struct ExportParams {
    from: Option<u64>,
    until: Option<u64>,
    since: Option<String>,
    before: Option<String>,
    types: Option<String>,
    stream_prefix: Option<String>,
    #[serde(default)]
    follow: bool,
}

/// Which events an export writes, checked.
#[derive(Clone, Debug)]
pub struct ExportFilter {
    from: u64,
    until: Option<u64>,
    since: Option<i64>,
    before: Option<i64>,
    types: Vec<String>,
    stream_prefix: Option<String>,
    follow: bool,
}

impl ExportFilter {
    fn parse(p: ExportParams) -> ApiResult<Self> {
        let from = p.from.unwrap_or(0);
        if let Some(until) = p.until
            && until < from
        {
            return Err(ApiError::input("until", "is before from"));
        }
        let time = |field: &'static str, text: Option<String>| {
            text.map(|t| {
                crate::time::parse(&t)
                    .ok_or_else(|| ApiError::input(field, "expected an RFC 3339 timestamp"))
            })
            .transpose()
        };
        let (since, before) = (time("since", p.since)?, time("before", p.before)?);
        if let (Some(since), Some(before)) = (since, before)
            && before < since
        {
            return Err(ApiError::input("before", "is before since"));
        }
        let types = known_types(
            p.types
                .iter()
                .flat_map(|t| t.split(','))
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        )?;
        Ok(Self {
            from,
            until: p.until,
            since,
            before,
            types,
            stream_prefix: p.stream_prefix.filter(|s| !s.is_empty()),
            follow: p.follow,
        })
    }

    fn wants(&self, e: &RecordedEvent) -> bool {
        let r = &e.record;
        self.since.is_none_or(|s| r.recorded_at.0 >= s)
            && self.before.is_none_or(|b| r.recorded_at.0 < b)
            && (self.types.is_empty() || self.types.iter().any(|t| t == r.event_type.as_str()))
            && self
                .stream_prefix
                .as_ref()
                .is_none_or(|p| r.stream.as_str().starts_with(p.as_str()))
    }
}

/// One event as an export line writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    position: u64,
    id: String,
    stream: &'a str,
    version: u64,
    #[serde(rename = "type")]
    event_type: &'a str,
    schema_version: u16,
    recorded_at: String,
    actor: String,
    correlation_id: String,
    causation_id: Option<String>,
    hash: String,
    data: serde_json::Value,
}

/// `event` as one line of JSON, ending in a newline.
pub(crate) fn export_line(api: &Api, event: &RecordedEvent) -> ApiResult<Vec<u8>> {
    let r = &event.record;
    let line = Line {
        position: r.position.0,
        id: r.id.to_string(),
        stream: r.stream.as_str(),
        version: r.version.0,
        event_type: r.event_type.as_str(),
        schema_version: r.schema_version,
        recorded_at: crate::time::format(r.recorded_at.0),
        actor: r.metadata.actor.to_string(),
        correlation_id: r.metadata.correlation_id.to_string(),
        causation_id: r.metadata.causation_id.map(|c| c.to_string()),
        hash: event.hash.to_hex(),
        data: event_data(api, event)?,
    };
    let mut bytes =
        serde_json::to_vec(&line).map_err(|_| ApiError::Internal { code: "INTERNAL" })?;
    bytes.push(b'\n');
    Ok(bytes)
}

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
    let head = api.domain.log().head().len;
    let end = match (filter.until, filter.follow) {
        (Some(until), _) => until,
        (None, true) => u64::MAX,
        (None, false) => head,
    };
    if filter.from >= end {
        return;
    }
    let mut subscription = api.domain.log().subscribe(Position(filter.from));
    loop {
        let Some(batch) = subscription.next_batch(CHUNK_EVENTS).await else {
            return;
        };
        let (chunk, done) = match encode(&api, &filter, batch, end) {
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
    api: &Api,
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
            chunk.extend_from_slice(&export_line(api, &event)?);
        }
        if position + 1 >= end {
            return Ok((chunk, true));
        }
    }
    Ok((chunk, false))
}
