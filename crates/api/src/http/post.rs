//! `POST /graphql` (a query or mutation) and `GET /graphql?query=…` (a query only), read
//! within the request's deadline, answered from the response cache or executed, with the
//! media type the client accepts and the status HTTP has a word for (GraphQL over HTTP:
//! `media.rs`).
//!
//! Invariant: a GET never executes a mutation (405, `Allow: POST`); only a GET's answer
//! to an anonymous reader, with no error, says `Cache-Control: public`.

use std::time::Instant;

use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use tokio::time::Instant as Deadline;

use super::media::{Media, is_request_error};
use super::respond::{json, json_bytes, unauthenticated};
use super::state::{AppState, identity};
use crate::Api;
use crate::error::request_error;
use crate::rate::ClientAddr;

/// Set (inside the server only) by a mutation that wrote: an answer that holds a written
/// mutation is never a 429, so a client that retries 429s without keys writes nothing twice.
pub(crate) const WROTE_HEADER: &str = "x-sparkfeed-wrote";

/// Where a request's GraphQL comes from.
pub(super) enum Source {
    /// A POST's JSON body.
    Post(Body),
    /// A GET's URL parameters (`query`, `variables`, `operationName`, `extensions`).
    Get(Uri),
}

/// The GET parameters of a query.
#[derive(serde::Deserialize)]
struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// The handler: executes the request and counts it by status and latency.
pub(super) async fn graphql_post(
    State(state): State<AppState>,
    address: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    graphql(&state, address.map(|a| a.0), &headers, Source::Post(body)).await
}

/// A request from either method, counted by status and latency.
pub(super) async fn graphql(
    state: &AppState,
    address: Option<ClientAddr>,
    headers: &HeaderMap,
    source: Source,
) -> Response {
    let started = Instant::now();
    let response = execute(state, address, headers, source).await;
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
    source: Source,
) -> Response {
    let api = &state.api;
    let Some(media) = Media::accepted(headers) else {
        return refuse(
            api,
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "accept application/graphql-response+json or application/json",
        );
    };
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
    let get = matches!(source, Source::Get(_));
    let public = get && identity.user.is_none();
    let (bytes, parsed) = match source {
        Source::Post(body) => match read_body(api, headers, body, deadline).await {
            Ok(bytes) => (bytes, None),
            Err(refused) => return refused,
        },
        Source::Get(uri) => match get_request(&uri) {
            // The cache key of a GET: its URL parameters, apart from any POST body.
            Ok(request) => (
                Bytes::from(format!("GET {}", uri.query().unwrap_or(""))),
                Some(request),
            ),
            Err((status, code, why)) => {
                let mut refused = refuse(api, status, code, &why);
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    refused
                        .headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("POST"));
                }
                return refused;
            }
        },
    };
    if let Some(answer) = api.responses.get(&bytes, identity.user.as_ref()) {
        return with_media(json_bytes(answer), media, get.then_some(public));
    }
    let mut request = match parsed.map_or_else(|| parse_request(&bytes), Ok) {
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
    let public = public && response.errors.is_empty();
    with_media(
        answer(
            api,
            &response,
            cache.then_some((bytes, viewer, applied)),
            media,
        ),
        media,
        get.then_some(public),
    )
}

/// The request a GET's URL parameters hold: a query (never a mutation: 405), or why not.
fn get_request(uri: &Uri) -> Result<async_graphql::Request, (StatusCode, &'static str, String)> {
    let bad = |why: String| (StatusCode::BAD_REQUEST, "BAD_REQUEST", why);
    let params = axum::extract::Query::<GetParams>::try_from_uri(uri)
        .map_err(|e| bad(format!("the URL parameters are not a GraphQL request: {e}")))?
        .0;
    let query = params
        .query
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| bad("GET /graphql needs a `query` parameter".into()))?;
    if is_mutation(&query, params.operation_name.as_deref()) {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations are sent with POST, never GET".into(),
        ));
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        let value: serde_json::Value = serde_json::from_str(&variables)
            .map_err(|e| bad(format!("`variables` is not JSON: {e}")))?;
        request = request.variables(async_graphql::Variables::from_json(value));
    }
    if let Some(extensions) = params.extensions {
        let _: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&extensions)
            .map_err(|e| bad(format!("`extensions` is not a JSON object: {e}")))?;
    }
    Ok(request)
}

/// Whether the operation `query` would run (the one named, or the only one) is a mutation.
/// A document that does not parse is left to the executor, which says why.
fn is_mutation(query: &str, operation: Option<&str>) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    let kind = match (&document.operations, operation) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    kind == Some(OperationType::Mutation)
}

/// `response` with the negotiated `Content-Type`, and for a GET its `Cache-Control`:
/// `public` (for the response cache's time) when `public`, else `private, no-store`.
fn with_media(mut response: Response, media: Media, get_public: Option<bool>) -> Response {
    if response.status() == StatusCode::OK || response.status() == StatusCode::BAD_REQUEST {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, media.content_type());
    }
    if let Some(public) = get_public {
        let value = if public && response.status() == StatusCode::OK {
            HeaderValue::from_static("public, max-age=1")
        } else {
            HeaderValue::from_static("private, no-store")
        };
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
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
    media: Media,
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
    // Nothing executed, and the client understands status codes: 400 and no `data`.
    let request_error = media == Media::GraphqlResponse && is_request_error(response);
    let encoded = if request_error {
        serde_json::to_vec(&serde_json::json!({ "errors": response.errors }))
    } else {
        serde_json::to_vec(response)
    };
    let Ok(body) = encoded else {
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
    if request_error {
        *answer.status_mut() = StatusCode::BAD_REQUEST;
    }
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
