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

/// The exit code of a command that changed something (appended events, wrote files or a
/// store) but could not write its report to stdout: the change stands, so it is not the
/// failure code 1 a script would retry on.
pub const DONE_UNREPORTED: u8 = 3;

/// Writes the report of a command that changed something, and answers its exit code: 0
/// once the report is written, [`DONE_UNREPORTED`] (with a line on stderr, if anyone reads
/// it) when stdout fails after the change was made.
///
/// Invariant: called only once the command's change is complete; a failure before it is
/// an error (exit 1) and changed nothing the command promised.
pub fn report_done(text: impl Display) -> std::process::ExitCode {
    match say(text) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tell(format_args!(
                "done, but its report could not be written: {e:#} (exit {DONE_UNREPORTED})"
            ));
            std::process::ExitCode::from(DONE_UNREPORTED)
        }
    }
}

/// Writes `text` and a line end to stderr, ignoring a stderr that fails or that nobody
/// reads any more: a message about the work never stops or panics the work
/// (`eprintln!` panics on a closed stderr).
pub fn tell(text: impl Display) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// [`say`] without the line end.
pub fn say_raw(text: impl Display) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{text}")
        .and_then(|()| out.flush())
        .context("writing to stdout")
}
