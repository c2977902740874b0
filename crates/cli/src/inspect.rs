//! `sparkfeed verify` and `sparkfeed head`: look at a data directory.

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sparkfeed_eventlog::{Config, EventLog, VerifyReport};

/// Opens the log in `dir` (taking its lock) with default settings.
pub fn open(dir: &Path) -> anyhow::Result<EventLog> {
    EventLog::open(Config::new(dir))
        .with_context(|| format!("opening the log in {}", dir.display()))
}

/// Verifies the chain and indexes of the log in `dir`, with a progress bar on a terminal.
pub fn verify(dir: &Path) -> anyhow::Result<VerifyReport> {
    let log = open(dir)?;
    let bar = ProgressBar::new(log.head().len).with_style(
        ProgressStyle::with_template(
            "verifying {bar:40} {pos}/{len} records, {per_sec}, eta {eta}",
        )
        .context("progress template")?,
    );
    let report = log
        .verify(|done| bar.set_position(done))
        .context("reading the log")?;
    bar.finish_and_clear();
    Ok(report)
}

/// One line describing a verify report.
pub fn describe(report: &VerifyReport) -> String {
    match &report.tamper {
        None => format!(
            "ok: {} events verified; head position {}, hash {}",
            report.records,
            report
                .head
                .last_position()
                .map_or("none".to_owned(), |p| p.to_string()),
            report.head.hash
        ),
        Some(t) => format!(
            "TAMPERED at position {}: {} ({} events before it verified)",
            t.position, t.kind, report.records
        ),
    }
}
