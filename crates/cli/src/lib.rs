//! The work behind the `sparkfeed` binary's subcommands, testable without a terminal.
//!
//! `main.rs` only parses flags and calls into here.

pub mod bench;
pub mod bench_api;
pub mod demo;
pub mod inspect;
pub mod server;
