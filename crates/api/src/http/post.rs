//! `POST /graphql`: a query or mutation, read within the request's deadline, answered from
//! the response cache or executed, with the status HTTP has a word for.

use std::time::Instant;

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use tokio::time::Instant as Deadline;

use super::respond::{json, json_bytes, unauthenticated};
use super::state::{AppState, identity};
use crate::Api;
use crate::error::request_error;
use crate::rate::ClientAddr;

/// Set (inside the server only) by a mutation that wrote: an answer that holds a written
/// mutation is never a 429, so a client that retries 429s without keys writes nothing twice.
pub(crate) const WROTE_HEADER: &str = "x-sparkfeed-wrote";

/// The handler: executes the request and counts it by status and latency.
pub(super) async fn graphql_post(
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

/// A request-level refusal: counted by its code, answered with `status`.
fn refuse(api: &Api, status: StatusCode, code: &str, message: &str) -> Response {
    api.metrics.error(code);
    json(status, &request_error(code, message))
}

async fn execute(
    state: &AppState,
    address: Option<ClientAddr>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let api = &state.api;
    let identity = match identity(api, headers) {
        Ok(identity) => identity,
        Err(e) => {
            api.metrics.error(e.code());
            return unauthenticated(&e);
        }
    };
    // One deadline for the whole request, body included: a client that trickles its body
    // would otherwise hold its connection (and one of `max_connections`) for ever.
    let deadline = Deadline::now() + api.limits.request_timeout;
    let bytes = match read_body(api, headers, body, deadline).await {
        Ok(bytes) => bytes,
        Err(refused) => return refused,
    };
    if let Some(answer) = api.responses.get(&bytes, identity.user.as_ref()) {
        return json_bytes(answer);
    }
    let mut request = match parse_request(&bytes) {
        Ok(request) => request,
        Err(why) => return refuse(api, StatusCode::BAD_REQUEST, "BAD_REQUEST", &why),
    };
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
            return refuse(
                api,
                StatusCode::SERVICE_UNAVAILABLE,
                e.code(),
                &e.to_string(),
            );
        }
    };
    let Ok(response) = tokio::time::timeout_at(
        deadline,
        async_graphql::Executor::execute(&state.schema, request),
    )
    .await
    else {
        return refuse(
            api,
            StatusCode::SERVICE_UNAVAILABLE,
            "TIMEOUT",
            &format!(
                "the request took over {:?}; a mutation in it may still complete",
                api.limits.request_timeout
            ),
        );
    };
    let cache =
        response.errors.is_empty() && query.as_deref().is_some_and(crate::cache::only_queries);
    answer(api, &response, cache.then_some((bytes, viewer, applied)))
}

/// The body of a JSON request, read whole before `deadline` and within the size cap, or
/// the refusal to answer (415, 408, 413, 400).
async fn read_body(
    api: &Api,
    headers: &HeaderMap,
    body: Body,
    deadline: Deadline,
) -> Result<Bytes, Response> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(refuse(
            api,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "send the request as `Content-Type: application/json`",
        ));
    }
    let limit = api.limits.max_body_bytes;
    let read = tokio::time::timeout_at(
        deadline,
        http_body_util::Limited::new(body, limit).collect(),
    );
    let Ok(read) = read.await else {
        return Err(refuse(
            api,
            StatusCode::REQUEST_TIMEOUT,
            "TIMEOUT",
            &format!(
                "the request body did not arrive within {:?}",
                api.limits.request_timeout
            ),
        ));
    };
    match read {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(refuse(
            api,
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("the request body is over {limit} bytes"),
        )),
        Err(e) => Err(refuse(
            api,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("the request body could not be read: {e}"),
        )),
    }
}

/// The GraphQL request `bytes` hold, or why they hold none (a 400).
fn parse_request(bytes: &[u8]) -> Result<async_graphql::Request, String> {
    let request: async_graphql::Request = serde_json::from_slice(bytes).map_err(|e| {
        format!("the body is not a GraphQL request ({{\"query\": ..., \"variables\": ...}}): {e}")
    })?;
    if request.query.trim().is_empty() {
        return Err("the request has no query".into());
    }
    Ok(request)
}

/// The executed `response` as HTTP: its errors counted, put in the response cache when
/// `cache` names the request it answers (body, reader, projections applied), and a 429
/// when a mutation over its rate wrote nothing.
fn answer(
    api: &Api,
    response: &async_graphql::Response,
    cache: Option<(
        Bytes,
        Option<sparkfeed_domain::UserId>,
        sparkfeed_events::Position,
    )>,
) -> Response {
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
    let Ok(body) = serde_json::to_vec(response) else {
        return refuse(
            api,
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "the response could not be encoded",
        );
    };
    let body = Bytes::from(body);
    if let Some((request, viewer, applied)) = cache {
        api.responses.put(request, viewer, applied, body.clone());
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
