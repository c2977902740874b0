//! The work behind the `sparkfeed` binary's subcommands, testable without a terminal.
//!
//! `main.rs` only parses flags and calls into here (and into `sparkfeed_bench` for
//! `sparkfeed bench`).

pub mod audit;
pub mod demo;
pub mod export;
pub mod forget;
pub mod http;
pub mod inspect;
pub mod remote;
pub mod replay;
pub mod server;
