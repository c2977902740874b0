//! The binary's HTTP client: one HTTP/1.1 connection to a running `sparkfeed serve`, for
//! the commands that go through it (`export --server`, `rebuild` on a held directory).

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The `host:port` of an `http://host:port` server URL.
fn authority(server: &str) -> anyhow::Result<String> {
    let uri: hyper::Uri = server
        .parse()
        .with_context(|| format!("{server:?} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        bail!("{server:?}: only http:// servers are supported (put TLS in front of both ends)");
    }
    let host = uri.host().context("the server URL has no host")?;
    Ok(format!("{host}:{}", uri.port_u16().unwrap_or(80)))
}

/// Sends one request to `server` with `token` as its bearer (none when empty); answers the response with
/// its body still streaming.
pub async fn send(
    server: &str,
    token: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> anyhow::Result<Response<Incoming>> {
    let authority = authority(server)?;
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .with_context(|| format!("connecting to {authority}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake")?;
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, &authority);
    // No token: a public request, with no `Authorization` at all.
    if !token.is_empty() {
        request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .context("the request")?;
    sender
        .send_request(request)
        .await
        .context("sending the request")
}

/// Runs a GraphQL operation on `server`; answers its `data`, or the first error's code
/// and message as the error.
pub async fn graphql(
    server: &str,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let body = serde_json::to_vec(&serde_json::json!({ "query": query, "variables": variables }))
        .context("encoding the request")?;
    let response = send(server, token, "POST", "/graphql", body).await?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .context("reading the answer")?
        .to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("the server answered {status}, not JSON"))?;
    if let Some(error) = answer["errors"].get(0) {
        bail!(
            "the server refused ({}): {}",
            error["extensions"]["code"].as_str().unwrap_or("?"),
            error["message"].as_str().unwrap_or("?")
        );
    }
    Ok(answer["data"].clone())
}
