//! `sparkfeed bench projections`: rebuild throughput of every projection and feed-page read
//! latency, over a world from the seed generator (`sparkfeed_seed::generate`, the demo
//! world's own, at the size asked for) loaded through the domain's rules.

pub(crate) mod reads;
mod rebuild;
mod report;
pub(crate) mod world;

use std::path::PathBuf;

use anyhow::Context;
use sparkfeed_projections::Projections;

use rebuild::{Rebuilds, Rebuilt};

/// Settings of the projections benchmark.
pub struct ProjectionsBench {
    /// Events in the scratch log (about: the world is sized to it).
    pub events: u64,
    /// Posts among them.
    pub posts: u64,
    /// Rebuilds per projection; the median is reported.
    pub runs: usize,
    /// Feed pages read for the latency figures.
    pub reads: usize,
    /// Parent directory of the scratch store.
    pub dir: PathBuf,
    /// The page-cache budget of every projection store together, in MiB.
    pub cache_mb: u64,
    /// The rebuild's in-memory row buffers to compare, in MiB (each projection is rebuilt
    /// with each, interleaved).
    pub replay_buffer_mb: Vec<usize>,
    /// The projections to rebuild (all of them when empty).
    pub only: Vec<String>,
    /// Each projection is also replayed with every row held in memory and none written
    /// ([`Projections::replay_in_memory`]): what its rebuild would be with a store that
    /// cost nothing.
    pub in_memory: bool,
}

/// The projections benchmark's results.
pub struct ProjectionsReport {
    world: world::Shape,
    load_secs: f64,
    /// Reading the whole log in pages: (records decoded, and domain events decoded too),
    /// events/s, once per run.
    log_reads: Vec<(f64, f64)>,
    rebuilds: Vec<(String, Vec<Rebuilt>)>,
    page_micros: Vec<f64>,
    /// Each `forYou` first page's latency (ranking included), in microseconds.
    for_you_micros: Vec<f64>,
}

/// Loads a seed world of about `events` events and `posts` posts into a scratch log, then
/// measures rebuild throughput and feed-page latency.
pub fn projections(config: &ProjectionsBench) -> anyhow::Result<ProjectionsReport> {
    anyhow::ensure!(
        config.runs >= 1 && config.reads >= 1,
        "--runs and --reads must be at least 1"
    );
    let (runtime, scratch, loaded) = world::scratch(&config.dir, config.events, config.posts)?;
    let log_reads = reads::whole_log(&loaded.log, config.runs)?;

    let projections = Projections::open_with_cache(
        &scratch.path().join("projections"),
        loaded.log.clone(),
        config.cache_mb << 20,
    )
    .context("opening projections")?;
    let mut rebuilds = Rebuilds::new(&projections, config)?;
    // One rebuild of each projection first: that builds them. Feed pages are read then, in
    // steady state; the further rebuild runs come after, because sled reclaims each dropped
    // generation in the background and reads racing that show a tail of several ms.
    rebuilds.round(&runtime, 0)?;
    let page_micros = if rebuilds.measures("feeds") {
        reads::feed_pages(&projections, &loaded, config.reads)?
    } else {
        Vec::new()
    };
    let for_you_micros = if rebuilds.measures("feeds") && rebuilds.measures("foryou") {
        reads::for_you_pages(&projections, &loaded, config.reads)?
    } else {
        Vec::new()
    };
    for run in 1..config.runs {
        rebuilds.round(&runtime, run)?;
    }
    Ok(ProjectionsReport {
        world: loaded.shape,
        load_secs: loaded.load_secs,
        log_reads,
        rebuilds: rebuilds.into_results(),
        page_micros,
        for_you_micros,
    })
}
