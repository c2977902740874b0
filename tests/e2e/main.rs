//! sparkfeed end to end: real processes, real data directories, real sockets on 127.0.0.1.
//!
//! - `api`: the GraphQL server over HTTP and WebSocket.
//! - `crash`, `projector_crash`: kill -9 of a writer and of a projector.
//! - `chaos`: kill -9 of the real server under concurrent GraphQL writers that retry.
//! - `power_cut`: power cuts under the log, on a file system that forgets unsynced writes.

mod api;
mod chaos;
mod crash;
mod power_cut;
mod projector_crash;
