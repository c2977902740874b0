//! The graphql-transport-ws rules async-graphql leaves to the server: every client message
//! is checked here before async-graphql sees it, and a breach closes the socket with the
//! protocol's close code and a short reason.
//!
//! - a message that is not JSON, has an unknown `type`, or lacks its `id` or `payload`:
//!   4400;
//! - `subscribe` before `connection_init`: 4401;
//! - a second `connection_init`: 4429;
//! - `subscribe` with the id of a running subscription: 4409.
//!
//! Invariant: a running subscription's id is forgotten when the client completes it or the
//! server sends its `complete` or `error`, so an id may be reused once its stream ended.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::ws::Message;
use serde_json::Value;

/// A breach: the close code and its reason (at most 123 bytes, as a close frame allows).
pub(crate) type Breach = (u16, String);

#[derive(Default)]
struct State {
    initialised: bool,
    running: HashSet<String>,
}

/// The protocol state of one socket, shared by its reading and writing halves.
#[derive(Clone, Default)]
pub(crate) struct ProtocolGuard(Arc<Mutex<State>>);

fn breach(code: u16, reason: &str) -> Breach {
    let mut reason = reason.to_owned();
    while reason.len() > 123 {
        reason.pop();
    }
    (code, reason)
}

impl ProtocolGuard {
    /// Checks a message from the client.
    pub(crate) fn incoming(&self, message: &Message) -> Result<(), Breach> {
        let bytes: &[u8] = match message {
            Message::Text(text) => text.as_str().as_bytes(),
            Message::Binary(bytes) => bytes,
            _ => return Ok(()),
        };
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|_| breach(4400, "Invalid message received: not JSON"))?;
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let id = || value["id"].as_str().map(str::to_owned);
        match value["type"].as_str() {
            Some("connection_init") => {
                if state.initialised {
                    return Err(breach(4429, "Too many initialisation requests"));
                }
                state.initialised = true;
            }
            Some("subscribe") => {
                if !state.initialised {
                    return Err(breach(4401, "Unauthorized"));
                }
                let Some(id) = id() else {
                    return Err(breach(
                        4400,
                        "Invalid message received: subscribe needs an id",
                    ));
                };
                if serde_json::from_value::<async_graphql::Request>(value["payload"].clone())
                    .is_err()
                {
                    return Err(breach(
                        4400,
                        "Invalid message received: subscribe needs a payload with a query",
                    ));
                }
                if !state.running.insert(id.clone()) {
                    return Err(breach(4409, &format!("Subscriber for {id} already exists")));
                }
            }
            Some("complete") => {
                let Some(id) = id() else {
                    return Err(breach(
                        4400,
                        "Invalid message received: complete needs an id",
                    ));
                };
                state.running.remove(&id);
            }
            Some("ping" | "pong") => {}
            _ => return Err(breach(4400, "Invalid message received: unknown type")),
        }
        Ok(())
    }

    /// Whether the client sent its `connection_init`.
    pub(crate) fn initialised(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).initialised
    }

    /// Notes a message to the client: a subscription's `complete` or `error` ends it.
    pub(crate) fn outgoing(&self, message: &Message) {
        let Message::Text(text) = message else {
            return;
        };
        // Most messages are `next`s (serialised type first); skip parsing them.
        if text.as_str().starts_with("{\"type\":\"next\"") {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
            return;
        };
        if matches!(value["type"].as_str(), Some("complete" | "error"))
            && let Some(id) = value["id"].as_str()
        {
            let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
            state.running.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: Value) -> Message {
        Message::Text(value.to_string().into())
    }

    fn subscribe(id: &str) -> Message {
        text(
            serde_json::json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { x }" } }),
        )
    }

    #[test]
    fn the_protocol_rules_give_their_close_codes() {
        let guard = ProtocolGuard::default();
        let code = |r: Result<(), Breach>| r.err().map(|b| b.0);
        assert_eq!(code(guard.incoming(&subscribe("a"))), Some(4401));
        let init = text(serde_json::json!({ "type": "connection_init" }));
        assert_eq!(code(guard.incoming(&init)), None);
        assert_eq!(code(guard.incoming(&init)), Some(4429));
        assert_eq!(code(guard.incoming(&subscribe("a"))), None);
        assert_eq!(code(guard.incoming(&subscribe("a"))), Some(4409));
        // Ended by the server: the id may be used again.
        guard.outgoing(&text(serde_json::json!({ "type": "complete", "id": "a" })));
        assert_eq!(code(guard.incoming(&subscribe("a"))), None);
        for bad in [
            Message::Text("not json".into()),
            text(serde_json::json!({ "type": "launch" })),
            text(serde_json::json!({ "type": "subscribe", "id": 5 })),
            text(serde_json::json!({ "type": "subscribe", "id": "b", "payload": 5 })),
        ] {
            let (code, reason) = guard.incoming(&bad).expect_err("a breach");
            assert_eq!(code, 4400);
            assert!(reason.len() <= 123);
        }
    }
}
