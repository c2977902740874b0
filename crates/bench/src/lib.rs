//! sparkfeed's benchmarks, behind `sparkfeed bench`: the binary parses the flags, calls
//! one of these and prints the report it answers.
//!
//! - [`append`]: durable appends per second beside raw sled, measured in the same run;
//! - [`projections`]: rebuild throughput and feed-page latency over a seed world;
//! - [`api`]: GraphQL throughput and latency over loopback HTTP against `serve --demo`.
//!
//! Invariant: nothing in the server links this crate; it measures through the same public
//! interfaces a caller has.

pub mod api;
pub mod append;
pub mod export;
pub mod projections;
mod stats;
mod usage;
