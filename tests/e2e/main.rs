//! sparkfeed end to end: real processes, real data directories, real sockets on 127.0.0.1.
//!
//! - `api`: the GraphQL server over HTTP and WebSocket.
//! - `crash`, `projector_crash`: kill -9 of a writer and of a projector.
//! - `chaos`: kill -9 of the real server under concurrent GraphQL writers that retry.

mod api;
mod chaos;
mod crash;
mod projector_crash;
