//! `sparkfeed bench export`: the analysts' export (JSON Lines, Parquet) over a seed world,
//! beside the log-read ceiling (the whole log read and decoded, as `bench projections`
//! prints it) measured in the same run, with each one's peak memory growth.
//!
//! Each measurement runs in a fresh process (`sparkfeed bench export-one`), as the
//! command runs: memory the allocator kept from an earlier measurement would otherwise
//! hide (or inflate) the next one's growth.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use sparkfeed_api::export::parquet::ParquetWriter;
use sparkfeed_api::export::{
    ExportFilter, ExportParams, ExportSink, JsonLines, export_log, open_for_export,
};
use sparkfeed_eventlog::{Config, EventLog};

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
    /// The `sparkfeed` binary that runs each measurement (`bench export-one`).
    pub exe: PathBuf,
}

/// One measurement, as `bench export-one` runs it in a process of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The whole log read and decoded, the log opened as the server opens it.
    Ceiling,
    /// The whole log read and decoded, the log opened as `sparkfeed export --data-dir`
    /// opens it: what an export pays before it encodes a byte.
    Read,
    /// The export as JSON Lines, the log opened as `sparkfeed export --data-dir` opens it.
    Jsonl,
    /// The export as Parquet, likewise.
    Parquet,
}

impl Scenario {
    const ALL: [Scenario; 4] = [
        Scenario::Ceiling,
        Scenario::Read,
        Scenario::Jsonl,
        Scenario::Parquet,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ceiling => "ceiling",
            Scenario::Read => "read",
            Scenario::Jsonl => "jsonl",
            Scenario::Parquet => "parquet",
        }
    }

    /// The scenario called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One measurement: events/s, bytes written, the peak resident growth while it ran, and
/// what opening the log had added before it (sled's page table, which grows with the log).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    events_per_sec: f64,
    bytes: u64,
    peak_growth: Option<u64>,
    open_growth: Option<u64>,
}

impl Run {
    /// The one line `bench export-one` prints.
    fn line(&self) -> String {
        let bytes = |b: Option<u64>| b.map_or_else(|| "-".into(), |b| b.to_string());
        format!(
            "{} {} {} {}",
            self.events_per_sec,
            self.bytes,
            bytes(self.peak_growth),
            bytes(self.open_growth)
        )
    }

    /// A line of [`Run::line`] read back.
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split_whitespace();
        let mut next = || fields.next();
        let bytes = |text: &str| (text != "-").then(|| text.parse().ok()).flatten();
        Some(Self {
            events_per_sec: next()?.parse().ok()?,
            bytes: next()?.parse().ok()?,
            peak_growth: bytes(next()?),
            open_growth: bytes(next()?),
        })
    }
}

/// What `bench export` measured.
pub struct ExportReport {
    events: u64,
    load_secs: f64,
    ceiling: Vec<Run>,
    read: Vec<Run>,
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

/// The peak resident growth since `before` ([`Memory::reset_peak`]).
fn growth_since(before: Option<Memory>) -> Option<u64> {
    match (before, Memory::now()) {
        (Some(before), Some(after)) => Some(after.peak.saturating_sub(before.rss)),
        _ => None,
    }
}

/// Runs `scenario` over the log in `log_dir` in this process and answers the line
/// `bench export` reads back. The ceiling opens the log as the server does
/// ([`Config::new`]); an export opens it as `sparkfeed export --data-dir` opens its copy
/// ([`open_for_export`]) and runs the export's own loop ([`export_log`]).
pub fn export_one(scenario: Scenario, log_dir: &Path) -> anyhow::Result<String> {
    anyhow::ensure!(
        log_dir.join("sled").is_dir(),
        "{} holds no sparkfeed log",
        log_dir.display()
    );
    let closed = Memory::now();
    let log = match scenario {
        Scenario::Ceiling => EventLog::open(Config::new(log_dir))?,
        Scenario::Read => open_for_export(log_dir)?,
        Scenario::Jsonl | Scenario::Parquet => open_for_export(log_dir)?,
    };
    let before = Memory::reset_peak();
    let open_growth = closed
        .zip(before)
        .map(|(closed, open)| open.rss.saturating_sub(closed.rss));
    let all = ExportFilter::parse(ExportParams::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let export = |sink: &mut dyn ExportSink| -> anyhow::Result<f64> {
        let started = Instant::now();
        let mut examined = 0;
        export_log(&log, &all, sink, |done| examined = done)?;
        Ok(examined as f64 / started.elapsed().as_secs_f64().max(1e-9))
    };
    let (events_per_sec, bytes) = match scenario {
        Scenario::Ceiling | Scenario::Read => {
            let rate = whole_log(&log, 1)?.first().map_or(0.0, |(_, d)| *d);
            (rate, 0)
        }
        Scenario::Jsonl => {
            let mut lines = JsonLines::new(Counting::default(), false);
            let rate = export(&mut lines)?;
            (rate, lines.finish()?.0)
        }
        Scenario::Parquet => {
            let mut writer = ParquetWriter::new(Counting::default()).context("a Parquet writer")?;
            let rate = export(&mut writer)?;
            (rate, writer.finish().context("finishing Parquet")?.0)
        }
    };
    let run = Run {
        events_per_sec,
        bytes,
        peak_growth: growth_since(before),
        open_growth,
    };
    Ok(run.line())
}

/// Runs `scenario` in a fresh `exe bench export-one` process.
fn in_child(exe: &Path, scenario: Scenario, log_dir: &Path) -> anyhow::Result<Run> {
    let out = std::process::Command::new(exe)
        .args([
            "bench",
            "export-one",
            "--scenario",
            scenario.name(),
            "--log",
        ])
        .arg(log_dir)
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "bench export-one {} failed: {}",
        scenario.name(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Run::parse(stdout.trim())
        .with_context(|| format!("bench export-one printed {:?}", stdout.trim()))
}

/// Runs the bench.
pub fn export(config: &ExportBench) -> anyhow::Result<ExportReport> {
    anyhow::ensure!(config.runs >= 1, "--runs must be at least 1");
    let (_runtime, scratch, loaded) = world::scratch(&config.dir, config.events, config.posts)?;
    let (events, load_secs) = (loaded.log.head().len, loaded.load_secs);
    // The measurements open the log in processes of their own.
    drop(loaded);
    let log_dir = world::log_dir(scratch.path());
    let (mut ceiling, mut read) = (Vec::new(), Vec::new());
    let (mut jsonl, mut parquet) = (Vec::new(), Vec::new());
    for _ in 0..config.runs {
        for (scenario, runs) in [
            (Scenario::Ceiling, &mut ceiling),
            (Scenario::Read, &mut read),
            (Scenario::Jsonl, &mut jsonl),
            (Scenario::Parquet, &mut parquet),
        ] {
            runs.push(in_child(&config.exe, scenario, &log_dir)?);
        }
    }
    Ok(ExportReport {
        events,
        load_secs,
        ceiling,
        read,
        jsonl,
        parquet,
    })
}

impl fmt::Display for ExportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = |runs: &[Run]| median(runs.iter().map(|r| r.events_per_sec).collect());
        let growth = |runs: &[Run]| {
            let peak = median_bytes(runs.iter().filter_map(|r| r.peak_growth).collect());
            let open = median_bytes(runs.iter().filter_map(|r| r.open_growth).collect());
            format!(
                "peak memory growth {} (opening the log added {} before it)",
                mib(peak),
                mib(open)
            )
        };
        let ceiling = rate(&self.ceiling);
        writeln!(
            f,
            "scratch log: {} events (the seed world, loaded through the domain in {:.1}s); each measurement in a fresh process; medians of {} runs",
            self.events,
            self.load_secs,
            self.ceiling.len()
        )?;
        writeln!(
            f,
            "log-read ceiling (whole log read and decoded, the log opened as the server opens it): {ceiling:.0} events/s, {}",
            growth(&self.ceiling)
        )?;
        writeln!(
            f,
            "the same read, the log opened as the export opens it (8 MiB page cache): {:.0} events/s, {}",
            rate(&self.read),
            growth(&self.read)
        )?;
        for (name, runs) in [("JSON Lines", &self.jsonl), ("Parquet", &self.parquet)] {
            let bytes = median_bytes(runs.iter().map(|r| r.bytes).collect());
            writeln!(
                f,
                "export {name}: {:.0} events/s ({:.2}x the ceiling), {} written, {}",
                rate(runs),
                rate(runs) / ceiling.max(1e-9),
                mib(bytes),
                growth(runs),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_line_reads_back_as_the_run() {
        let run = Run {
            events_per_sec: 123_456.5,
            bytes: 42,
            peak_growth: Some(7 << 20),
            open_growth: None,
        };
        assert_eq!(Run::parse(&run.line()), Some(run));
        assert_eq!(Run::parse("1.0 2"), None);
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::parse(scenario.name()), Some(scenario));
        }
        assert_eq!(Scenario::parse("csv"), None);
    }
}
