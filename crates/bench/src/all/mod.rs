//! `sparkfeed bench all [--vs-postgres]`: every workload of issue 17 on sparkfeed and,
//! with the peer, on a throwaway PostgreSQL 15, interleaved round by round, in one table
//! with the raw sled ceilings, and every sample in a JSON file.
//!
//! The workloads: durable single appends with the expected-version check (1, 4, 16 and
//! 64 writers, each its own stream and connection), batches of 100 in one transaction, a
//! feed page (the newest 20 posts of an interest with their cards, counters, badges and
//! the viewer's state), the full replay decoded into domain events, and disk use for the
//! same events; then, over worlds of `--sizes` events, the feed page's p99 and the feed's
//! rebuild from the log. With `--plot`, SVG plots of the three axes ([`plot`]).
//!
//! The rebuilds do not do the same work: sparkfeed's `feeds` projection keeps more than
//! the feed page reads (comments, members, products, orders, home feeds), PostgreSQL's
//! feed tables only what the page reads; both replay and decode every event, and both
//! end durable (PostgreSQL commits each page with synchronous_commit on).

pub mod plot;
mod report;
mod table;
mod world;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::append::Scenario;
use crate::postgres::{Peer, workloads};
pub use report::AllReport;
use report::{Row, SizeRow};
use world::World;

/// Settings of `bench all`.
pub struct AllBench {
    /// Run the PostgreSQL peer beside sparkfeed.
    pub vs_postgres: bool,
    /// Where `initdb`, `pg_ctl` and `postgres` are.
    pub pg_bin: PathBuf,
    /// Events in the world of the feed, replay and disk rows (about).
    pub events: u64,
    /// Posts among them.
    pub posts: u64,
    /// Rounds; each workload is measured once per round and the median is reported.
    pub runs: usize,
    /// Seconds per append measurement.
    pub seconds: f64,
    /// Feed pages read per feed measurement.
    pub reads: usize,
    /// World sizes (events) of the size axis (feed page p99, feed rebuild); posts are a
    /// tenth of them.
    pub sizes: Vec<u64>,
    /// Where the machine-readable report goes.
    pub json: PathBuf,
    /// Where the SVG plots go, when asked for.
    pub plot: Option<PathBuf>,
    /// Parent directory of the scratch stores and of the server's cluster.
    pub dir: PathBuf,
}

/// The writers axis: durable single appends, the same on both sides.
pub const WRITERS: [usize; 4] = [1, 4, 16, 64];

/// The append rows of the main table: (writers, events per append). Single appends are
/// measured on the writers axis and shown here too.
const APPENDS: [(usize, usize); 3] = [(1, 1), (64, 1), (1, 100)];

/// The raw sled ceilings printed beside them.
const RAW: [Scenario; 2] = [Scenario::RawFlushSync, Scenario::RawBatchSync];

/// Runs every workload; writes the JSON report to `config.json`.
pub fn all(config: &AllBench) -> anyhow::Result<AllReport> {
    anyhow::ensure!(config.runs >= 1, "--runs must be at least 1");
    anyhow::ensure!(config.reads >= 1, "--reads must be at least 1");
    anyhow::ensure!(
        config.seconds.is_finite() && config.seconds > 0.0,
        "--seconds must be positive"
    );
    // Every world is checked before PostgreSQL starts or anything is written.
    crate::projections::world::sized(config.events, config.posts)?;
    for &size in &config.sizes {
        crate::projections::world::sized(size, posts_at(size))?;
    }
    let duration = Duration::from_secs_f64(config.seconds);
    let runtime = crate::runtime()?;
    let peer = if config.vs_postgres {
        Some(Peer::start(&runtime, &config.pg_bin, &config.dir)?)
    } else {
        None
    };
    let pg = peer.as_ref().map(|p| (p, &runtime));

    let mut rows: Vec<Row> = APPENDS
        .iter()
        .map(|&(writers, batch)| Row::append(writers, batch))
        .collect();
    rows.push(Row::latency("feed page p50"));
    rows.push(Row::latency("feed page p99"));
    rows.push(Row::throughput("replay, decoded", "events/s"));
    let mut writers: Vec<(usize, Row)> = WRITERS.iter().map(|&w| (w, Row::append(w, 1))).collect();
    let mut raw: Vec<(String, Vec<f64>)> = RAW.iter().map(|s| (s.label(), Vec::new())).collect();
    raw.push(("sparkfeed log read, not decoded".into(), Vec::new()));

    let append = |writers: usize, batch: usize| -> anyhow::Result<(f64, Option<f64>)> {
        let scenario = Scenario::Log { writers, batch };
        let sf = fresh(config, |dir| scenario.measure(dir, duration, &runtime))?;
        let pg = match &peer {
            Some(peer) => Some(runtime.block_on(workloads::appends(
                &peer.appends(),
                duration,
                writers,
                batch,
            ))?),
            None => None,
        };
        Ok((sf.events_per_sec, pg))
    };
    let main = World::build(&config.dir, config.events, config.posts, pg, "world")?;
    for round in 0..config.runs {
        let say = |label: &str, sf: f64, pg: Option<f64>| {
            let pg = pg.map_or_else(String::new, |p| format!(", PostgreSQL {p:.1}"));
            tell!(
                "round {}/{}: {label:<40} sparkfeed {sf:.1}{pg}",
                round + 1,
                config.runs
            );
        };
        for (writers, row) in &mut writers {
            let (sf, pg) = append(*writers, 1)?;
            say(&row.label, sf, pg);
            row.push(sf, pg);
            if let Some(i) = APPENDS.iter().position(|&a| a == (*writers, 1)) {
                rows[i].push(sf, pg);
            }
        }
        for (i, &(writers, batch)) in APPENDS.iter().enumerate() {
            if batch > 1 {
                let (sf, pg) = append(writers, batch)?;
                say(&rows[i].label, sf, pg);
                rows[i].push(sf, pg);
            }
        }
        for (i, scenario) in RAW.iter().enumerate() {
            let sample = fresh(config, |dir| scenario.measure(dir, duration, &runtime))?;
            raw[i].1.push(sample.events_per_sec);
        }
        let sf = main.sparkfeed_pages(config.reads)?;
        let pg = main.postgres_pages(&runtime, config.reads)?;
        say("feed page p50 (µs)", sf.p50, pg.map(|p| p.p50));
        say("feed page p99 (µs)", sf.p99, pg.map(|p| p.p99));
        rows[3].push(sf.p50, pg.map(|p| p.p50));
        rows[4].push(sf.p99, pg.map(|p| p.p99));
        let (records, decoded) = main.sparkfeed_replay()?;
        let pg = main.postgres_replay(&runtime)?;
        say("replay, decoded (events/s)", decoded, pg);
        rows[5].push(decoded, pg);
        raw[2].1.push(records);
    }
    let sf_disk = main.sparkfeed_disk()?;
    let pg_disk = main.postgres_disk(&runtime)?;
    let mut disk = Row::size(format!(
        "disk, {} events (log vs events table)",
        main.events()
    ));
    disk.push(sf_disk as f64, pg_disk.map(|(events, _)| events as f64));
    rows.push(disk);
    let world_events = main.events();
    let world_posts = main.posts();
    main.close(pg)?;

    let mut sizes = Vec::with_capacity(config.sizes.len());
    for (n, &size) in config.sizes.iter().enumerate() {
        let mut world = World::build(&config.dir, size, posts_at(size), pg, &format!("size{n}"))?;
        let mut row = SizeRow::new(world.events(), world.posts());
        let events = world.events();
        for round in 0..config.runs {
            let say = |what: &str, unit: &str, sf: f64, pg: Option<f64>| {
                tell!(
                    "round {}/{}: {what} at {} events: sparkfeed {sf:.1} {unit}{}",
                    round + 1,
                    config.runs,
                    events,
                    pg.map_or_else(String::new, |p| format!(", PostgreSQL {p:.1} {unit}"))
                );
            };
            let sf = world.sparkfeed_pages(config.reads)?;
            let pg = world.postgres_pages(&runtime, config.reads)?;
            say("feed page p99", "µs", sf.p99, pg.map(|p| p.p99));
            row.p99.push(sf.p99, pg.map(|p| p.p99));
            let sf = world.sparkfeed_rebuild()?;
            let pg = world.postgres_rebuild(&runtime)?;
            say("feed rebuild", "events/s", sf, pg);
            row.rebuild.push(sf, pg);
        }
        sizes.push(row);
        world.close(pg)?;
    }

    let report = AllReport {
        config: report::Settings::of(config, world_events, world_posts),
        postgres: peer
            .as_ref()
            .map(|p| (p.version().to_owned(), p.settings.clone())),
        rows,
        raw,
        writers,
        sizes,
        pg_database_bytes: pg_disk.map(|(_, db)| db),
        json: config.json.clone(),
    };
    report.write_json(&config.json)?;
    drop(peer);
    if let Some(dir) = &config.plot {
        plot::write(&report.to_json(), dir)?;
    }
    Ok(report)
}

/// The posts of the size axis's world of `events` events: a tenth of them.
fn posts_at(events: u64) -> u64 {
    (events / 10).max(1)
}

/// Measures `f` in a fresh temp dir inside `config.dir`.
fn fresh<T>(
    config: &AllBench,
    f: impl FnOnce(&std::path::Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let scratch = tempfile::tempdir_in(&config.dir)
        .with_context(|| format!("temp dir in {}", config.dir.display()))?;
    f(scratch.path())
}
