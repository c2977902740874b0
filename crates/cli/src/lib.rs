//! The work behind the `sparkfeed` binary's subcommands, testable without a terminal.
//!
//! `main.rs` only parses flags and calls into here (and into `sparkfeed_bench` for
//! `sparkfeed bench`).

use std::fmt::Display;
use std::io::Write as _;

use anyhow::Context as _;

pub mod audit;
pub mod demo;
pub mod export;
pub mod forget;
pub mod http;
pub mod inspect;
pub mod remote;
pub mod replay;
pub mod server;

/// Writes `text` and a line end to stdout. A stdout that fails or that nobody reads any
/// more (`sparkfeed head | true`) is an error the command answers (`error: writing to
/// stdout: Broken pipe`, exit code 1), never the panic of `println!`.
pub fn say(text: impl Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .context("writing to stdout")
}

/// [`say`] without the line end.
pub fn say_raw(text: impl Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")
        .and_then(|()| out.flush())
        .context("writing to stdout")
}
