//! The report of `bench all` as a table for people.

use std::fmt;

use super::report::{AllReport, Row};

/// A figure for the table: whole numbers for rates and sizes, one decimal for latencies.
fn figure(x: f64, unit: &str) -> String {
    match unit {
        "bytes" => format!("{:.1} MiB", x / f64::from(1u32 << 20)),
        "µs" => format!("{x:.1}"),
        _ => format!("{x:.0}"),
    }
}

/// A row's PostgreSQL median, or `-`.
fn postgres(row: &Row) -> String {
    row.postgres()
        .map_or_else(|| "-".to_owned(), |p| figure(p, row.unit))
}

/// A row's ratio as `1.23x`, or `-`.
fn ratio(row: &Row) -> String {
    row.ratio()
        .0
        .map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"))
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
            let is = if row.ratio().1 == "sparkfeed/postgres" {
                "sf/pg"
            } else {
                "pg/sf"
            };
            writeln!(
                f,
                "{:<48} {:>9} {:>12} {:>12} {:>8}  {is}",
                row.label,
                unit,
                figure(row.sparkfeed(), row.unit),
                postgres(row),
                ratio(row)
            )?;
        }
        for (label, xs) in &self.raw {
            writeln!(
                f,
                "{label:<48} {:>9} {:>12} {:>12} {:>8}",
                "events/s",
                figure(crate::stats::median(xs.clone()), ""),
                "-",
                "-"
            )?;
        }
        if !self.writers.is_empty() {
            writeln!(
                f,
                "by writers: durable single appends with the expected-version check (events/s):"
            )?;
            writeln!(
                f,
                "{:>12} {:>12} {:>12} {:>8}  sf/pg",
                "writers", "sparkfeed", "PostgreSQL", "ratio"
            )?;
            for (writers, row) in &self.writers {
                writeln!(
                    f,
                    "{writers:>12} {:>12} {:>12} {:>8}",
                    figure(row.sparkfeed(), row.unit),
                    postgres(row),
                    ratio(row)
                )?;
            }
        }
        if !self.sizes.is_empty() {
            writeln!(
                f,
                "by size: feed page p99 (µs, ratio pg/sf) and feed rebuild (events/s, ratio sf/pg):"
            )?;
            writeln!(
                f,
                "{:>12} {:>10} {:>12} {:>12} {:>8} {:>12} {:>12} {:>8}",
                "events", "posts", "sf p99", "pg p99", "ratio", "sf rebuild", "pg rebuild", "ratio"
            )?;
            for s in &self.sizes {
                writeln!(
                    f,
                    "{:>12} {:>10} {:>12} {:>12} {:>8} {:>12} {:>12} {:>8}",
                    s.events,
                    s.posts,
                    figure(s.p99.sparkfeed(), s.p99.unit),
                    postgres(&s.p99),
                    ratio(&s.p99),
                    figure(s.rebuild.sparkfeed(), s.rebuild.unit),
                    postgres(&s.rebuild),
                    ratio(&s.rebuild)
                )?;
            }
        }
        if let Some(db) = self.pg_database_bytes {
            writeln!(
                f,
                "PostgreSQL's whole world database (events, feed tables and their indexes): {}",
                figure(db as f64, "bytes")
            )?;
        }
        writeln!(f, "every sample: {}", self.json.display())
    }
}
