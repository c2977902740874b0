//! A small GraphQL client for loopback: one HTTP/1.1 keep-alive connection per client (no
//! pool, so N clients are N connections), and a graphql-transport-ws subscriber. The
//! end-to-end tests and `sparkfeed bench api` use it to speak to a real server.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// HTTP failed.
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The answer is not JSON.
    #[error("the answer is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The WebSocket failed.
    #[error("websocket: {0}")]
    WebSocket(#[from] Box<tokio_tungstenite::tungstenite::Error>),
    /// The server broke the subscription protocol.
    #[error("protocol: {0}")]
    Protocol(String),
}

/// An HTTP answer: its status and body.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub body: Value,
    /// The raw body.
    pub text: String,
    /// The response headers.
    pub headers: hyper::HeaderMap,
}

impl Answer {
    /// The `extensions.code` of the first error, if any.
    pub fn error_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }

    /// `data`, or a panic-free `Null`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

/// One keep-alive connection to a server.
pub struct Client {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
    token: Option<String>,
}

impl Client {
    /// A client of the server at `addr` (connects on first use).
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            sender: None,
            token: None,
        }
    }

    /// Sends `Authorization: Bearer <token>` from now on (`None`: signed out).
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, ClientError> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_ok()
        {
            return Ok(self.sender.as_mut().unwrap_or_else(|| unreachable!()));
        }
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(self.sender.insert(sender))
    }

    /// Sends one request with extra `headers`; answers status and body.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Answer, ClientError> {
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        if let Some(token) = &self.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(Bytes::from(body)))?;
        let response = self.sender().await?.send_request(request).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            body,
            text,
            headers,
        })
    }

    /// Runs a GraphQL operation and answers the status and the raw body, unparsed (for load
    /// generation, where parsing every answer would take the server's CPU).
    pub async fn graphql_raw(&mut self, body: Vec<u8>) -> Result<(u16, Bytes), ClientError> {
        let mut builder = hyper::Request::builder()
            .method("POST")
            .uri("/graphql")
            .header("host", self.addr.to_string())
            .header("content-type", "application/json");
        if let Some(token) = &self.token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let request = builder.body(Full::new(Bytes::from(body)))?;
        let response = self.sender().await?.send_request(request).await?;
        let status = response.status().as_u16();
        Ok((status, response.into_body().collect().await?.to_bytes()))
    }

    /// Runs a GraphQL operation.
    pub async fn graphql(&mut self, query: &str, variables: Value) -> Result<Answer, ClientError> {
        let body = serde_json::to_vec(&json!({ "query": query, "variables": variables }))?;
        self.request(
            "POST",
            "/graphql",
            &[("content-type", "application/json")],
            body,
        )
        .await
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<Answer, ClientError> {
        self.request("GET", path, &[], Vec::new()).await
    }
}

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

/// A graphql-transport-ws connection.
pub struct Subscriber {
    socket: Socket,
}

fn ws_error(e: tokio_tungstenite::tungstenite::Error) -> ClientError {
    ClientError::WebSocket(Box::new(e))
}

impl Subscriber {
    /// Opens the WebSocket `ws://addr/graphql` with the subprotocol and nothing sent yet
    /// (for tests of what a server does with out-of-order or malformed messages).
    pub async fn open(addr: SocketAddr) -> Result<Self, ClientError> {
        let mut request = format!("ws://{addr}/graphql")
            .into_client_request()
            .map_err(ws_error)?;
        request.headers_mut().insert(
            "sec-websocket-protocol",
            hyper::header::HeaderValue::from_static(sparkfeed_api::http::SUBPROTOCOL),
        );
        let stream = TcpStream::connect(addr).await?;
        // The client's own cap on frames is above any server's (the server's is tested).
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(64 << 20))
            .max_frame_size(Some(64 << 20));
        let (socket, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(ws_error)?;
        Ok(Self { socket })
    }

    /// Sends `text` as one text message, as it is.
    pub async fn send_text(&mut self, text: String) -> Result<(), ClientError> {
        self.socket
            .send(Message::text(text))
            .await
            .map_err(ws_error)
    }

    /// The next protocol message, or how the server closed: `Err(Some((code, reason)))`
    /// for a close frame, `Err(None)` for a connection that ended without one.
    pub async fn receive_or_close(&mut self) -> Result<Value, Option<(u16, String)>> {
        while let Some(message) = self.socket.next().await {
            match message {
                Ok(Message::Text(text)) => match serde_json::from_str::<Value>(&text) {
                    Ok(value) if value["type"] == "ping" => {
                        let _ = self.send(json!({ "type": "pong" })).await;
                    }
                    Ok(value) => return Ok(value),
                    Err(_) => return Ok(Value::String(text.to_string())),
                },
                Ok(Message::Close(frame)) => {
                    return Err(frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Ok(_) => {}
                Err(_) => return Err(None),
            }
        }
        Err(None)
    }

    /// Connects to `ws://addr/graphql`, sends `connection_init` (with the token, if any)
    /// and waits for `connection_ack`.
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Result<Self, ClientError> {
        let mut me = Self::open(addr).await?;
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        me.send(json!({ "type": "connection_init", "payload": payload }))
            .await?;
        match me.receive().await? {
            Some(m) if m["type"] == "connection_ack" => Ok(me),
            other => Err(ClientError::Protocol(format!(
                "expected connection_ack, got {other:?}"
            ))),
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), ClientError> {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .map_err(ws_error)
    }

    /// Starts operation `id`.
    pub async fn subscribe(
        &mut self,
        id: &str,
        query: &str,
        variables: Value,
    ) -> Result<(), ClientError> {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await
    }

    /// The next protocol message (pings are answered and skipped); `None` once closed.
    pub async fn receive(&mut self) -> Result<Option<Value>, ClientError> {
        while let Some(message) = self.socket.next().await {
            match message.map_err(ws_error)? {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text)?;
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await?;
                        continue;
                    }
                    return Ok(Some(value));
                }
                Message::Close(_) => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }

    /// The next `next` payload of any operation (errors and completions are returned as
    /// they are, for the caller to check).
    pub async fn next_payload(&mut self) -> Result<Option<Value>, ClientError> {
        self.receive().await
    }

    /// Ends operation `id`.
    pub async fn complete(&mut self, id: &str) -> Result<(), ClientError> {
        self.send(json!({ "id": id, "type": "complete" })).await
    }
}
