//! The report of `bench all`: one table for people, every sample in JSON for machines.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use super::AllBench;
use crate::stats::median;

/// Which way a workload's figure is better.
#[derive(Clone, Copy, PartialEq)]
enum Better {
    Higher,
    Lower,
}

/// One workload measured on both sides, a sample per round.
pub(crate) struct Row {
    pub(crate) label: String,
    unit: &'static str,
    better: Better,
    sparkfeed: Vec<f64>,
    postgres: Vec<f64>,
}

impl Row {
    /// An append workload, events/s.
    pub(crate) fn append(writers: usize, batch: usize) -> Self {
        let label = match (writers, batch) {
            (1, 1) => "durable append, 1 writer".to_owned(),
            (w, 1) => format!("durable append, {w} writers"),
            (w, b) => format!("durable append, {w} writer, batches of {b}"),
        };
        Self::throughput(&label, "events/s")
    }

    /// A figure where more is better.
    pub(crate) fn throughput(label: &str, unit: &'static str) -> Self {
        Self::new(label.to_owned(), unit, Better::Higher)
    }

    /// A latency in microseconds (less is better).
    pub(crate) fn latency(label: &str) -> Self {
        Self::new(label.to_owned(), "µs", Better::Lower)
    }

    /// A size in bytes (less is better).
    pub(crate) fn size(label: String) -> Self {
        Self::new(label, "bytes", Better::Lower)
    }

    fn new(label: String, unit: &'static str, better: Better) -> Self {
        Self {
            label,
            unit,
            better,
            sparkfeed: Vec::new(),
            postgres: Vec::new(),
        }
    }

    /// One round's samples.
    pub(crate) fn push(&mut self, sparkfeed: f64, postgres: Option<f64>) {
        self.sparkfeed.push(sparkfeed);
        self.postgres.extend(postgres);
    }

    /// The ratio oriented so that above 1 means sparkfeed wins, and what it divides.
    fn ratio(&self) -> (Option<f64>, &'static str) {
        ratio(&self.sparkfeed, &self.postgres, self.better)
    }
}

/// The medians' ratio, above 1 when sparkfeed wins.
fn ratio(sparkfeed: &[f64], postgres: &[f64], better: Better) -> (Option<f64>, &'static str) {
    let (sf, pg) = (median(sparkfeed.to_vec()), median(postgres.to_vec()));
    let defined = !postgres.is_empty();
    match better {
        Better::Higher => (defined.then(|| sf / pg), "sparkfeed/postgres"),
        Better::Lower => (defined.then(|| pg / sf), "postgres/sparkfeed"),
    }
}

/// The feed page's p99 in a world of one size.
pub(crate) struct SizeRow {
    events: u64,
    posts: usize,
    sparkfeed: Vec<f64>,
    postgres: Vec<f64>,
}

impl SizeRow {
    /// A world of `events` events and `posts` posts, nothing measured yet.
    pub(crate) fn new(events: u64, posts: usize) -> Self {
        Self {
            events,
            posts,
            sparkfeed: Vec::new(),
            postgres: Vec::new(),
        }
    }

    /// One round's p99s.
    pub(crate) fn push(&mut self, sparkfeed: f64, postgres: Option<f64>) {
        self.sparkfeed.push(sparkfeed);
        self.postgres.extend(postgres);
    }
}

/// What the run was asked for, and the main world as loaded.
pub(crate) struct Settings {
    runs: usize,
    seconds: f64,
    reads: usize,
    events: u64,
    posts: usize,
}

impl Settings {
    /// `config`'s figures, with the main world's events and posts as loaded.
    pub(crate) fn of(config: &AllBench, events: u64, posts: usize) -> Self {
        Self {
            runs: config.runs,
            seconds: config.seconds,
            reads: config.reads,
            events,
            posts,
        }
    }
}

/// Every workload's samples, medians and ratios.
pub struct AllReport {
    pub(crate) config: Settings,
    /// The peer's version and settings, when it ran.
    pub(crate) postgres: Option<(String, Vec<(String, String)>)>,
    pub(crate) rows: Vec<Row>,
    /// The raw sled ceilings (and the undecoded log read): sparkfeed only.
    pub(crate) raw: Vec<(String, Vec<f64>)>,
    pub(crate) sizes: Vec<SizeRow>,
    pub(crate) pg_database_bytes: Option<u64>,
    pub(crate) json: PathBuf,
}

impl AllReport {
    /// The machine-readable report.
    pub fn to_json(&self) -> Value {
        let side = |xs: &[f64]| {
            (!xs.is_empty()).then(|| json!({ "samples": xs, "median": median(xs.to_vec()) }))
        };
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let (ratio, ratio_is) = r.ratio();
                json!({
                    "workload": r.label,
                    "unit": r.unit,
                    "better": if r.better == Better::Higher { "higher" } else { "lower" },
                    "sparkfeed": side(&r.sparkfeed),
                    "postgres": side(&r.postgres),
                    "ratio": ratio,
                    "ratio_is": ratio_is,
                })
            })
            .collect();
        let raw: Vec<Value> = self
            .raw
            .iter()
            .map(|(label, xs)| json!({ "scenario": label, "unit": "events/s", "sparkfeed": side(xs) }))
            .collect();
        let sizes: Vec<Value> = self
            .sizes
            .iter()
            .map(|s| {
                let (ratio, ratio_is) = ratio(&s.sparkfeed, &s.postgres, Better::Lower);
                json!({
                    "events": s.events,
                    "posts": s.posts,
                    "unit": "µs",
                    "sparkfeed_p99": side(&s.sparkfeed),
                    "postgres_p99": side(&s.postgres),
                    "ratio": ratio,
                    "ratio_is": ratio_is,
                })
            })
            .collect();
        let c = &self.config;
        json!({
            "machine": machine(),
            "config": {
                "runs": c.runs, "seconds": c.seconds, "reads": c.reads,
                "events": c.events, "posts": c.posts,
            },
            "postgres": self.postgres.as_ref().map(|(version, settings)| json!({
                "version": version,
                "settings": settings
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect::<serde_json::Map<_, _>>(),
                "database_bytes": self.pg_database_bytes,
            })),
            "rows": rows,
            "raw_sled": raw,
            "sizes": sizes,
        })
    }

    /// Writes [`AllReport::to_json`] to `path`.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(&self.to_json()).context("encoding the report")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// This machine: processors, kernel, CPU model and memory.
fn machine() -> Value {
    let nproc = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .ok();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        });
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .map(|m| m.trim().to_owned())
        });
    json!({ "nproc": nproc, "kernel": kernel, "cpu": cpu, "memory": memory })
}

/// A figure for the table: whole numbers for rates and sizes, one decimal for latencies.
fn figure(x: f64, unit: &str) -> String {
    match unit {
        "bytes" => format!("{:.1} MiB", x / f64::from(1u32 << 20)),
        "µs" => format!("{x:.1}"),
        _ => format!("{x:.0}"),
    }
}

impl fmt::Display for AllReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "sparkfeed{}, median of {} interleaved rounds; appends {}s each, 200-byte payloads; \
             feed: {} pages a round; world: {} events, {} posts",
            self.postgres
                .as_ref()
                .map_or_else(String::new, |(v, _)| format!(" vs PostgreSQL {v}")),
            c.runs,
            c.seconds,
            c.reads,
            c.events,
            c.posts
        )?;
        if let Some((_, settings)) = &self.postgres {
            let shown: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(f, "PostgreSQL settings: {}", shown.join(" "))?;
        }
        writeln!(
            f,
            "{:<48} {:>9} {:>12} {:>12} {:>8}  ratio (>1: sparkfeed wins)",
            "workload", "unit", "sparkfeed", "PostgreSQL", ""
        )?;
        for row in &self.rows {
            let unit = if row.unit == "bytes" {
                "size"
            } else {
                row.unit
            };
            let pg = if row.postgres.is_empty() {
                "-".to_owned()
            } else {
                figure(median(row.postgres.clone()), row.unit)
            };
            let (ratio, is) = row.ratio();
            let ratio = ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"));
            let is = if is == "sparkfeed/postgres" {
                "sf/pg"
            } else {
                "pg/sf"
            };
            writeln!(
                f,
                "{:<48} {:>9} {:>12} {:>12} {:>8}  {is}",
                row.label,
                unit,
                figure(median(row.sparkfeed.clone()), row.unit),
                pg,
                ratio
            )?;
        }
        for (label, xs) in &self.raw {
            writeln!(
                f,
                "{label:<48} {:>9} {:>12} {:>12} {:>8}",
                "events/s",
                figure(median(xs.clone()), ""),
                "-",
                "-"
            )?;
        }
        if !self.sizes.is_empty() {
            writeln!(f, "feed page p99 by world size (µs):")?;
            writeln!(
                f,
                "{:>12} {:>10} {:>12} {:>12} {:>8}  pg/sf",
                "events", "posts", "sparkfeed", "PostgreSQL", "ratio"
            )?;
            for s in &self.sizes {
                let (ratio, _) = ratio(&s.sparkfeed, &s.postgres, Better::Lower);
                let pg = (!s.postgres.is_empty()).then(|| median(s.postgres.clone()));
                writeln!(
                    f,
                    "{:>12} {:>10} {:>12.1} {:>12} {:>8}",
                    s.events,
                    s.posts,
                    median(s.sparkfeed.clone()),
                    pg.map_or_else(|| "-".to_owned(), |p| format!("{p:.1}")),
                    ratio.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"))
                )?;
            }
        }
        if let Some(db) = self.pg_database_bytes {
            writeln!(
                f,
                "PostgreSQL's whole world database (events, posts and their indexes): {}",
                figure(db as f64, "bytes")
            )?;
        }
        writeln!(f, "every sample: {}", self.json.display())
    }
}
