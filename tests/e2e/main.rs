//! sparkfeed end to end: real processes, real data directories, real sockets on 127.0.0.1.
//!
//! - `api`: the GraphQL server over HTTP and WebSocket.
//! - `crash`, `projector_crash`: kill -9 of a writer and of a projector.
//! - `chaos`: kill -9 of the real server under concurrent GraphQL writers that retry.
//! - `power_cut`: power cuts under the log, on a file system that forgets unsynced writes.
//! - `power_cut_server`: power cuts under the real server (and its rebuilds) on that file
//!   system, under the chaos test's retrying GraphQL writers.
//! - `server_under_fire`: what those two share: the server as a child process, the
//!   retrying clients and their ledger, and the checks against what was acknowledged.
//! - `time_travel`: `replay --until` then `serve --read-only` answers as the live server did.

mod api;
mod chaos;
mod crash;
mod power_cut;
mod power_cut_server;
mod projector_crash;
mod server_under_fire;
mod sled_power_cut;
mod time_travel;
