//! sparkfeed end to end: real processes, real data directories, real sockets on 127.0.0.1.
//!
//! - `api`: the GraphQL server over HTTP and WebSocket.
//! - `crash`, `projector_crash`: kill -9 of a writer and of a projector.

mod api;
mod crash;
mod projector_crash;
