//! The report of `bench all`: one table for people, every sample in JSON for machines.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{Value, json};

use super::AllBench;
use crate::stats::median;

/// Which way a workload's figure is better.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Better {
    Higher,
    Lower,
}

/// One workload measured on both sides, a sample per round.
pub(crate) struct Row {
    pub(crate) label: String,
    pub(crate) unit: &'static str,
    pub(crate) better: Better,
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
    pub(crate) fn ratio(&self) -> (Option<f64>, &'static str) {
        ratio(&self.sparkfeed, &self.postgres, self.better)
    }

    /// sparkfeed's median.
    pub(crate) fn sparkfeed(&self) -> f64 {
        median(self.sparkfeed.clone())
    }

    /// PostgreSQL's median, when it ran.
    pub(crate) fn postgres(&self) -> Option<f64> {
        (!self.postgres.is_empty()).then(|| median(self.postgres.clone()))
    }

    /// Its samples, medians and ratio.
    fn to_json(&self) -> Value {
        let side = |xs: &[f64]| {
            (!xs.is_empty()).then(|| json!({ "samples": xs, "median": median(xs.to_vec()) }))
        };
        let (ratio, ratio_is) = self.ratio();
        json!({
            "workload": self.label,
            "unit": self.unit,
            "better": if self.better == Better::Higher { "higher" } else { "lower" },
            "sparkfeed": side(&self.sparkfeed),
            "postgres": side(&self.postgres),
            "ratio": ratio,
            "ratio_is": ratio_is,
        })
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

/// The feed page's p99 and the feed's rebuild in a world of one size.
pub(crate) struct SizeRow {
    pub(crate) events: u64,
    pub(crate) posts: usize,
    /// Feed page p99, µs.
    pub(crate) p99: Row,
    /// Feed rebuild, events/s.
    pub(crate) rebuild: Row,
}

impl SizeRow {
    /// A world of `events` events and `posts` posts, nothing measured yet.
    pub(crate) fn new(events: u64, posts: usize) -> Self {
        Self {
            events,
            posts,
            p99: Row::latency(&format!("feed page p99, {events} events")),
            rebuild: Row::throughput(&format!("feed rebuild, {events} events"), "events/s"),
        }
    }
}

/// What the run was asked for, and the main world as loaded.
pub(crate) struct Settings {
    pub(crate) runs: usize,
    pub(crate) seconds: f64,
    pub(crate) reads: usize,
    pub(crate) events: u64,
    pub(crate) posts: usize,
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
    /// Durable single appends by writers: (writers, events/s).
    pub(crate) writers: Vec<(usize, Row)>,
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
        let rows: Vec<Value> = self.rows.iter().map(Row::to_json).collect();
        let raw: Vec<Value> = self
            .raw
            .iter()
            .map(|(label, xs)| json!({ "scenario": label, "unit": "events/s", "sparkfeed": side(xs) }))
            .collect();
        let writers: Vec<Value> = self
            .writers
            .iter()
            .map(|(writers, row)| {
                let mut value = row.to_json();
                value["writers"] = json!(writers);
                value
            })
            .collect();
        let sizes: Vec<Value> = self
            .sizes
            .iter()
            .map(|s| {
                json!({
                    "events": s.events,
                    "posts": s.posts,
                    "feed_p99": s.p99.to_json(),
                    "rebuild": s.rebuild.to_json(),
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
            "writers": writers,
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
