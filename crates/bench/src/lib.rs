//! sparkfeed's benchmarks, behind `sparkfeed bench`: the binary parses the flags, calls
//! one of these and prints the report it answers.
//!
//! - [`all`]: every workload of issue 17 in one run, beside a throwaway PostgreSQL 15
//!   ([`postgres`]) with `--vs-postgres`;
//! - [`append`]: durable appends per second beside raw sled, measured in the same run;
//! - [`cluster`]: appends and the API on a 3-server NATS JetStream cluster, one node and
//!   two, beside the embedded sled log in the same run;
//! - [`projections`]: rebuild throughput and feed-page latency over a seed world;
//! - [`api`]: GraphQL throughput and latency over loopback HTTP against `serve --demo`;
//! - [`lag`]: how far the live projections run behind a steady write rate;
//! - [`export`]: the analysts' export beside the log-read ceiling;
//! - [`scale`]: a feed page and the server's memory as the log grows;
//! - [`verify`]: `sparkfeed verify` from a copy beside the check in place.
//!
//! Invariant: nothing in the server links this crate; it measures through the same public
//! interfaces a caller has.

/// Writes a progress line to stderr, ignoring a stderr that fails or that nobody reads any
/// more: a bench's messages never stop or panic it (`eprintln!` panics on a closed stderr).
macro_rules! tell {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod all;
pub mod api;
pub mod append;
pub mod cluster;
pub mod disk;
pub mod export;
pub mod lag;
pub mod postgres;
pub mod projections;
pub mod scale;
mod stats;
mod usage;
pub mod verify;

/// The benchmarks' tokio runtime: two workers, one a core of the machines measured on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// The bytes of the files under `dir` (their lengths).
pub(crate) fn dir_bytes(dir: &std::path::Path) -> anyhow::Result<u64> {
    use anyhow::Context as _;
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
