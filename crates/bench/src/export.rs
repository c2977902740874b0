//! `sparkfeed bench export`: the analysts' export (JSON Lines, Parquet) over a seed world,
//! beside the log-read ceiling (the whole log read and decoded, as `bench projections`
//! prints it) measured in the same run, with each export's peak memory growth.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use sparkfeed_api::export::parquet::ParquetWriter;
use sparkfeed_api::export::{ExportFilter, ExportParams, export_log};
use sparkfeed_eventlog::EventLog;

use crate::projections::reads::whole_log;
use crate::projections::world;
use crate::stats::{median, median_bytes, mib};
use crate::usage::Memory;

/// What `bench export` measures.
#[derive(Clone, Debug)]
pub struct ExportBench {
    /// Events in the scratch log (about).
    pub events: u64,
    /// Posts among them.
    pub posts: u64,
    /// Runs of each scenario (medians are reported).
    pub runs: usize,
    /// Where the scratch log goes.
    pub dir: PathBuf,
}

/// One export run: events/s, bytes written, and the peak resident growth it caused.
#[derive(Clone, Copy, Debug)]
struct Run {
    events_per_sec: f64,
    bytes: u64,
    peak_growth: Option<u64>,
}

/// What `bench export` measured.
pub struct ExportReport {
    events: u64,
    load_secs: f64,
    /// Reading the whole log decoded, events/s, per run.
    ceiling: Vec<f64>,
    jsonl: Vec<Run>,
    parquet: Vec<Run>,
}

/// Counts the bytes an export writes and keeps none of them.
#[derive(Default)]
struct Counting(u64);

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Exports the whole of `log` into `write` with the export's own loop
/// ([`export_log`]), as `sparkfeed export --data-dir` does.
fn export_run(
    log: &EventLog,
    write: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> anyhow::Result<Run> {
    let all = ExportFilter::parse(ExportParams::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let before = Memory::reset_peak();
    let started = Instant::now();
    let mut examined = 0;
    export_log(log, &all, write, |done| examined = done)?;
    let secs = started.elapsed().as_secs_f64();
    let peak_growth = match (before, Memory::now()) {
        (Some(before), Some(after)) => Some(after.peak.saturating_sub(before.rss)),
        _ => None,
    };
    Ok(Run {
        events_per_sec: examined as f64 / secs.max(1e-9),
        bytes: 0,
        peak_growth,
    })
}

/// Runs the bench.
pub fn export(config: &ExportBench) -> anyhow::Result<ExportReport> {
    anyhow::ensure!(config.runs >= 1, "--runs must be at least 1");
    let (_runtime, _scratch, loaded) = world::scratch(&config.dir, config.events, config.posts)?;
    let log = &loaded.log;
    let (mut ceiling, mut jsonl, mut parquet) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..config.runs {
        ceiling.push(
            whole_log(log, 1)?
                .first()
                .map_or(0.0, |(_, decoded)| *decoded),
        );
        let mut lines = Counting::default();
        let mut run = export_run(log, |bytes| lines.write_all(bytes))?;
        run.bytes = lines.0;
        jsonl.push(run);
        let mut writer = ParquetWriter::new(Counting::default()).context("a Parquet writer")?;
        let mut run = export_run(log, |bytes| {
            writer.write(bytes).map_err(std::io::Error::other)
        })?;
        run.bytes = writer.finish().context("finishing Parquet")?.0;
        parquet.push(run);
    }
    Ok(ExportReport {
        events: log.head().len,
        load_secs: loaded.load_secs,
        ceiling,
        jsonl,
        parquet,
    })
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ceiling = median(self.ceiling.clone());
        writeln!(
            f,
            "scratch log: {} events (the seed world, loaded through the domain in {:.1}s); medians of {} runs",
            self.events,
            self.load_secs,
            self.ceiling.len()
        )?;
        writeln!(
            f,
            "log-read ceiling (whole log read and decoded): {ceiling:.0} events/s"
        )?;
        for (name, runs) in [("JSON Lines", &self.jsonl), ("Parquet", &self.parquet)] {
            let rate = median(runs.iter().map(|r| r.events_per_sec).collect());
            let bytes = median_bytes(runs.iter().map(|r| r.bytes).collect());
            let growth = median_bytes(runs.iter().filter_map(|r| r.peak_growth).collect());
            writeln!(
                f,
                "export {name}: {rate:.0} events/s ({:.2}x the ceiling), {} written, peak memory growth {}",
                rate / ceiling.max(1e-9),
                mib(bytes),
                mib(growth),
            )?;
        }
        Ok(())
    }
}
