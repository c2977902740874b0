//! `sparkfeed verify` and `sparkfeed head`: look at a data directory.

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sparkfeed_eventlog::offline::{OfflineVerify, verify_dir};
use sparkfeed_eventlog::{Config, EventLog, VerifyReport};

/// Opens the log in `dir` (taking its lock) with default settings.
pub fn open(dir: &Path) -> anyhow::Result<EventLog> {
    EventLog::open(Config::new(dir))
        .with_context(|| format!("opening the log in {}", dir.display()))
}

/// Verifies the chain and indexes of the log in `dir` from a copy taken beside it under
/// its lock, with no recovery: the directory is never written, and records past the tail
/// marker are named, not removed (`sparkfeed_eventlog::offline`). A progress bar shows on
/// a terminal.
pub fn verify(dir: &Path) -> anyhow::Result<OfflineVerify> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let scratch = tempfile::tempdir_in(parent).context("a scratch directory beside the data")?;
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("verifying {pos} records, {per_sec}")
            .context("progress template")?,
    );
    let found = verify_dir(dir, &scratch.path().join("copy"), |done| {
        bar.set_position(done);
    })
    .with_context(|| format!("verifying the log in {}", dir.display()))?;
    bar.finish_and_clear();
    Ok(found)
}

/// The head of the log in `dir`, read from a copy taken beside it under its lock (the
/// directory is never written, no recovery runs), and the records past its tail marker.
pub fn head(
    dir: &Path,
) -> anyhow::Result<(
    sparkfeed_eventlog::LogHead,
    Option<std::ops::RangeInclusive<sparkfeed_events::Position>>,
)> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let scratch = tempfile::tempdir_in(parent).context("a scratch directory beside the data")?;
    sparkfeed_eventlog::offline::head_dir(dir, &scratch.path().join("copy"))
        .with_context(|| format!("reading the log in {}", dir.display()))
}

/// What an offline verify found, in lines: the verdict, records past the tail marker,
/// and what the copy cost.
pub fn describe_offline(found: &OfflineVerify) -> String {
    let mut lines = vec![describe(&found.report)];
    if let Some(past) = &found.past_tail {
        lines.push(format!(
            "PAST THE TAIL MARKER: {} records at positions {}..={} (a group cut short by a \
             crash, never acknowledged, or a lowered marker); opening the log would remove \
             them, verify left them as they are",
            past.end().0 - past.start().0 + 1,
            past.start(),
            past.end()
        ));
    }
    lines.push(format!(
        "read from a copy: {:.1} MiB copied in {:.2}s, verified in {:.2}s; the directory was not written",
        found.copied_bytes as f64 / (1024.0 * 1024.0),
        found.copy_time.as_secs_f64(),
        found.verify_time.as_secs_f64()
    ));
    lines.join("\n")
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
