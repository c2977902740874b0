//! `sparkfeed replay --until POSITION|TIME --into DIR`: a new data directory holding the
//! log up to that point and every projection as of that point, for `serve --read-only`.
//!
//! Invariant: the source directory is never written: the replay reads a copy of it taken
//! under its lock ([`sparkfeed_eventlog::snapshot::copy_quiescent`]), and the new log is a
//! byte-identical copy of the source's records ([`EventLog::copy_records`]), so its chain
//! hashes, and `verify`, are the source's.

use std::path::Path;

use anyhow::{Context, bail};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::Position;
use sparkfeed_projections::Projections;

/// Records copied per batch: bounds the replay's memory whatever the log's size.
const BATCH: usize = 4096;

/// Where a replay stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// Before this position: the new log holds positions `0..n`.
    Position(u64),
    /// Before this time (microseconds since the epoch): every event recorded earlier.
    Time(i64),
}

impl Until {
    /// A position (digits) or an RFC 3339 time.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Until::Position(
                text.parse()
                    .with_context(|| format!("{text} is not a position"))?,
            ));
        }
        match sparkfeed_api::time::parse(text) {
            Some(micros) => Ok(Until::Time(micros)),
            None => bail!("--until {text:?} is neither a position nor an RFC 3339 time"),
        }
    }
}

/// What a replay wrote.
pub struct ReplayReport {
    /// Events in the new log.
    pub events: u64,
    /// Its head hash.
    pub head_hash: String,
}

/// Writes into `into` (absent or empty) the log of `src` up to `until`, its key store,
/// and every projection replayed from that log.
pub fn replay(src: &Path, until: Until, into: &Path) -> anyhow::Result<ReplayReport> {
    if into.exists()
        && std::fs::read_dir(into)
            .with_context(|| format!("reading {}", into.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: replay writes a new data directory",
            into.display()
        );
    }
    let parent = into
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let scratch = tempfile::tempdir_in(parent).context("a scratch directory beside --into")?;
    let copy = scratch.path().join("source");
    sparkfeed_eventlog::snapshot::copy_quiescent(src, &copy, &["keys"])
        .with_context(|| format!("copying {}", src.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let source = EventLog::open(Config::new(&copy)).context("opening the copy of the log")?;
    let end = end_of(&source, until)?;
    let target = EventLog::open(Config::new(into))
        .with_context(|| format!("creating the log in {}", into.display()))?;
    let mut at = Position(0);
    while at.0 < end {
        let max = usize::try_from(end - at.0).unwrap_or(BATCH).min(BATCH);
        let batch = source.read_all(at, max).context("reading the log")?;
        let Some(last) = batch.last() else { break };
        at = last.record.position.next();
        runtime
            .block_on(target.copy_records(batch))
            .context("copying the log")?;
    }
    if copy.join("keys").exists() {
        sparkfeed_eventlog::snapshot::copy_tree(&copy.join("keys"), &into.join("keys"))
            .context("copying the key store")?;
    }
    let projections = Projections::open(&into.join("projections"), target.clone())
        .context("opening the projections")?;
    runtime
        .block_on(projections.catch_up())
        .context("replaying the projections")?;
    let head = target.head();
    Ok(ReplayReport {
        events: head.len,
        head_hash: head.hash.to_hex(),
    })
}

/// The position a replay stops before.
fn end_of(log: &EventLog, until: Until) -> anyhow::Result<u64> {
    let head = log.head().len;
    match until {
        Until::Position(n) => Ok(n.min(head)),
        Until::Time(micros) => {
            // Recorded times never go back, so the first event at or after it is the end.
            let mut at = Position(0);
            loop {
                let batch = log.read_all(at, BATCH).context("reading the log")?;
                let Some(last) = batch.last() else {
                    return Ok(head);
                };
                if let Some(first_after) = batch.iter().find(|e| e.record.recorded_at.0 >= micros) {
                    return Ok(first_after.record.position.0);
                }
                at = last.record.position.next();
            }
        }
    }
}
