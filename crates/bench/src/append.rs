//! `sparkfeed bench append`: durable append throughput beside raw sled, in one run.
//!
//! Every scenario runs `runs` times, interleaved round by round so that a noisy neighbour
//! hurts all of them alike, each time on a fresh store in a fresh temp dir; the report
//! gives the median and the ratio to raw sled measured in the same rounds.

use std::fmt;
use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use sparkfeed_eventlog::{Config, EventLog, ExpectedVersion};
use sparkfeed_events::{Actor, ActorId, EventId, EventType, Metadata, NewEvent, StreamName};

use crate::stats::median;

/// Payload bytes per event: about a smile or a save, sealed.
pub(crate) const PAYLOAD: usize = 200;

/// Settings of the append benchmark.
pub struct AppendBench {
    /// Seconds per measurement.
    pub seconds: f64,
    /// Measurements per scenario.
    pub runs: usize,
    /// Parent directory of the scratch stores.
    pub dir: PathBuf,
}

/// What is measured.
#[derive(Clone, Copy)]
pub(crate) enum Scenario {
    /// One thread: `insert` then `flush` per event, straight on sled.
    RawFlush,
    /// The same plus `fdatasync` of sled's data file: sled's own best durable single write.
    RawFlushSync,
    /// One thread: a `sled::Batch` of 100 inserts, `flush`, `fdatasync`: the raw ceiling
    /// of a durable batch of 100.
    RawBatchSync,
    /// The log: `writers` concurrent tasks, each appending `batch` events per append.
    Log { writers: usize, batch: usize },
}

impl Scenario {
    /// The scenario's row label.
    pub(crate) fn label(self) -> String {
        match self {
            Scenario::RawFlush => "raw sled insert+flush, 1 thread".into(),
            Scenario::RawFlushSync => "raw sled insert+flush+fdatasync, 1 thread".into(),
            Scenario::RawBatchSync => {
                format!("raw sled batch of {RAW_BATCH}+flush+fdatasync, 1 thread")
            }
            Scenario::Log { writers, batch: 1 } => {
                format!(
                    "log append, {writers} writer{}",
                    if writers == 1 { "" } else { "s" }
                )
            }
            Scenario::Log { writers, batch } => {
                format!("log append, {writers} writer, batches of {batch}")
            }
        }
    }

    /// Measures the scenario once for `duration`, on a fresh store in `dir`.
    pub(crate) fn measure(
        self,
        dir: &std::path::Path,
        duration: Duration,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<Sample> {
        match self {
            Scenario::RawFlush => raw_sled(dir, duration, false),
            Scenario::RawFlushSync => raw_sled(dir, duration, true),
            Scenario::RawBatchSync => raw_sled_batches(dir, duration),
            Scenario::Log { writers, batch } => {
                runtime.block_on(log_appends(dir.into(), duration, writers, batch))
            }
        }
    }
}

/// Inserts per batch of [`Scenario::RawBatchSync`].
const RAW_BATCH: usize = 100;

const SCENARIOS: [Scenario; 7] = [
    Scenario::RawFlush,
    Scenario::RawFlushSync,
    Scenario::RawBatchSync,
    Scenario::Log {
        writers: 1,
        batch: 1,
    },
    Scenario::Log {
        writers: 8,
        batch: 1,
    },
    Scenario::Log {
        writers: 64,
        batch: 1,
    },
    Scenario::Log {
        writers: 1,
        batch: 100,
    },
];

/// One measurement.
#[derive(Clone, Copy)]
pub(crate) struct Sample {
    /// Events written per second.
    pub(crate) events_per_sec: f64,
    /// Events per durable commit (1 for raw single inserts).
    pub(crate) events_per_commit: f64,
}

/// The medians of every scenario.
pub struct AppendReport {
    seconds: f64,
    rows: Vec<(Scenario, Vec<Sample>)>,
}

/// Runs the append benchmark.
pub fn append(config: &AppendBench) -> anyhow::Result<AppendReport> {
    anyhow::ensure!(config.runs >= 1, "--runs must be at least 1");
    anyhow::ensure!(config.seconds > 0.0, "--seconds must be positive");
    let duration = Duration::from_secs_f64(config.seconds);
    let runtime = crate::runtime()?;
    let mut rows: Vec<(Scenario, Vec<Sample>)> =
        SCENARIOS.iter().map(|s| (*s, Vec::new())).collect();
    for round in 0..config.runs {
        for (i, scenario) in SCENARIOS.iter().enumerate() {
            let scratch = tempfile::tempdir_in(&config.dir)
                .with_context(|| format!("temp dir in {}", config.dir.display()))?;
            let sample = scenario.measure(scratch.path(), duration, &runtime)?;
            tell!(
                "round {}/{}: {:<45} {:>10.0} events/s",
                round + 1,
                config.runs,
                scenario.label(),
                sample.events_per_sec
            );
            rows[i].1.push(sample);
        }
    }
    Ok(AppendReport {
        seconds: config.seconds,
        rows,
    })
}

/// A fresh raw sled store in `dir` (the log's cache, no background flush) and its data
/// file, for the fdatasync that sled's flush does not do.
fn open_raw_sled(dir: &std::path::Path) -> anyhow::Result<(sled::Db, File)> {
    let sled_dir = dir.join("sled");
    let db = sled::Config::new()
        .path(&sled_dir)
        .cache_capacity(64 * 1024 * 1024)
        .flush_every_ms(None)
        .open()
        .context("opening raw sled")?;
    let data = File::open(sled_dir.join("db")).context("opening sled's data file")?;
    Ok((db, data))
}

fn raw_sled(dir: &std::path::Path, duration: Duration, fdatasync: bool) -> anyhow::Result<Sample> {
    let (db, data) = open_raw_sled(dir)?;
    let value = vec![7u8; PAYLOAD];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        db.insert(n.to_be_bytes(), value.as_slice())?;
        db.flush()?;
        if fdatasync {
            data.sync_data()?;
        }
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(Sample {
        events_per_sec: n as f64 / secs,
        events_per_commit: 1.0,
    })
}

fn raw_sled_batches(dir: &std::path::Path, duration: Duration) -> anyhow::Result<Sample> {
    let (db, data) = open_raw_sled(dir)?;
    let value = vec![7u8; PAYLOAD];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        let mut batch = sled::Batch::default();
        for _ in 0..RAW_BATCH {
            batch.insert(n.to_be_bytes().as_slice(), value.as_slice());
            n += 1;
        }
        db.apply_batch(batch)?;
        db.flush()?;
        data.sync_data()?;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(Sample {
        events_per_sec: n as f64 / secs,
        events_per_commit: RAW_BATCH as f64,
    })
}

fn bench_event() -> NewEvent {
    NewEvent {
        id: EventId::random(),
        event_type: EventType::parse("bench.Appended").expect("valid literal"),
        schema_version: 1,
        payload: vec![7u8; PAYLOAD],
        metadata: Metadata {
            actor: Actor::System(ActorId::parse("bench").expect("valid literal")),
            correlation_id: EventId::random(),
            causation_id: None,
        },
    }
}

async fn log_appends(
    dir: PathBuf,
    duration: Duration,
    writers: usize,
    batch: usize,
) -> anyhow::Result<Sample> {
    let log = EventLog::open(Config::new(&dir)).context("opening the log")?;
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                let stream = StreamName::of("bench", &w.to_string()).expect("valid");
                let mut expected = ExpectedVersion::NoStream;
                let mut written = 0u64;
                while Instant::now() < deadline {
                    let events = (0..batch).map(|_| bench_event()).collect();
                    let done = log.append(&stream, expected, events).await?;
                    expected = ExpectedVersion::Exact(done.last_version);
                    written += done.last_position.0 - done.first_position.0 + 1;
                }
                anyhow::Ok(written)
            })
        })
        .collect();
    let mut written = 0u64;
    for t in tasks {
        written += t.await.context("writer task")??;
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = log.stats();
    Ok(Sample {
        events_per_sec: written as f64 / secs,
        events_per_commit: stats.events_committed as f64 / stats.group_commits.max(1) as f64,
    })
}

impl fmt::Display for AppendReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let medians: Vec<f64> = self
            .rows
            .iter()
            .map(|(_, s)| median(s.iter().map(|s| s.events_per_sec).collect()))
            .collect();
        let (raw, raw_sync) = (medians[0], medians[1]);
        let runs = self.rows.first().map_or(0, |r| r.1.len());
        writeln!(
            f,
            "durable appends, {PAYLOAD}-byte payloads, median of {runs} interleaved runs of {}s each",
            self.seconds
        )?;
        writeln!(
            f,
            "{:<45} {:>12} {:>12} {:>12} {:>10} {:>10}",
            "scenario", "events/s", "min", "max", "/raw", "/raw+sync"
        )?;
        for ((scenario, samples), m) in self.rows.iter().zip(&medians) {
            let label = scenario.label();
            let rates: Vec<f64> = samples.iter().map(|s| s.events_per_sec).collect();
            let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rates.iter().copied().fold(0.0, f64::max);
            writeln!(
                f,
                "{label:<45} {m:>12.0} {min:>12.0} {max:>12.0} {:>9.2}x {:>9.2}x",
                m / raw,
                m / raw_sync
            )?;
        }
        writeln!(f, "events per group commit (median):")?;
        for (scenario, samples) in &self.rows {
            let Scenario::Log { .. } = scenario else {
                continue;
            };
            let label = scenario.label();
            let per = median(samples.iter().map(|s| s.events_per_commit).collect());
            writeln!(f, "  {label:<43} {per:>8.1}")?;
        }
        Ok(())
    }
}
