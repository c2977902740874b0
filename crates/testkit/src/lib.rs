//! What every sparkfeed test crate shares, so no test crate keeps its own copy:
//!
//! - [`client`]: a loopback HTTP/1.1 and graphql-transport-ws client (the end-to-end tests
//!   and `sparkfeed bench api` speak to a real server with it);
//! - [`conformance`]: what every backend of the log must do, run against each of them;
//! - [`world`]: a log, a domain and the projections in one temp dir, and commands run on it;
//! - [`ids`]: domain ids from literals, for tests (a bad literal is a bug in the test);
//! - [`js`]: the Node packages of `tests/js` and a real headless chromium;
//! - [`nats`]: a real NATS JetStream cluster of `nats-server` processes on loopback;
//! - [`log`]: raw events for the log's own tests, and the rows of a sled tree.
//!
//! Invariant: nothing here is linked into the `sparkfeed` server; only tests and benches
//! use it.

pub mod client;
pub mod conformance;
pub mod ids;
pub mod js;
pub mod log;
pub mod nats;
pub mod world;
