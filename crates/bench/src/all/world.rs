//! One world measured on both sides: the seed world loaded into a sparkfeed log with its
//! feeds projection built, and (with the peer) the same events copied into PostgreSQL.

use std::path::Path;

use anyhow::Context;
use sparkfeed_projections::Projections;
use tokio_postgres::Client;

use crate::postgres::{Peer, feed, workloads};
use crate::projections::reads;
use crate::projections::world::{self, Loaded};
use crate::stats::percentile;

/// The projections' page cache: PostgreSQL's shared_buffers.
const CACHE_BYTES: u64 = 128 << 20;

/// A world on both sides.
pub(crate) struct World {
    /// The sparkfeed world's runtime (the log's and the projections').
    runtime: tokio::runtime::Runtime,
    scratch: tempfile::TempDir,
    loaded: Loaded,
    projections: Projections,
    /// The peer's copy: its database's name and a connection to it.
    postgres: Option<(String, Client)>,
}

/// One feed-page measurement: p50 and p99 latency in microseconds.
#[derive(Clone, Copy)]
pub(crate) struct Pages {
    pub(crate) p50: f64,
    pub(crate) p99: f64,
}

impl Pages {
    fn of(mut micros: Vec<f64>) -> anyhow::Result<Self> {
        anyhow::ensure!(!micros.is_empty(), "no feed page was read");
        micros.sort_by(f64::total_cmp);
        Ok(Self {
            p50: percentile(&micros, 0.50),
            p99: percentile(&micros, 0.99),
        })
    }
}

impl World {
    /// Loads a seed world of about `events` events and `posts` posts into a sparkfeed log
    /// in a temp dir inside `dir` and builds its feeds; with `peer`, copies it into
    /// database `name` there too.
    pub(crate) fn build(
        dir: &Path,
        events: u64,
        posts: u64,
        peer: Option<(&Peer, &tokio::runtime::Runtime)>,
        name: &str,
    ) -> anyhow::Result<Self> {
        let (runtime, scratch, loaded) = world::scratch(dir, events, posts)?;
        let projections = Projections::open_with_cache(
            &scratch.path().join("projections"),
            loaded.log.clone(),
            CACHE_BYTES,
        )
        .context("opening projections")?;
        runtime
            .block_on(projections.rebuild("feeds", |_, _| {}))
            .context("building the feeds")?;
        let postgres = match peer {
            Some((peer, pg_runtime)) => {
                let started = std::time::Instant::now();
                let client = pg_runtime.block_on(peer.world(name, &loaded.log))?;
                tell!(
                    "copied {} events into PostgreSQL in {:.1}s",
                    loaded.shape.events,
                    started.elapsed().as_secs_f64()
                );
                Some((name.to_owned(), client))
            }
            None => None,
        };
        Ok(Self {
            runtime,
            scratch,
            loaded,
            projections,
            postgres,
        })
    }

    /// Events in the world.
    pub(crate) fn events(&self) -> u64 {
        self.loaded.shape.events
    }

    /// Posts in the world.
    pub(crate) fn posts(&self) -> usize {
        self.loaded.shape.posts
    }

    /// `reads` feed pages through sparkfeed's projections.
    pub(crate) fn sparkfeed_pages(&self, reads: usize) -> anyhow::Result<Pages> {
        Pages::of(reads::feed_pages(&self.projections, &self.loaded, reads)?)
    }

    /// `reads` feed pages from PostgreSQL's posts table (`None` without the peer).
    pub(crate) fn postgres_pages(
        &self,
        runtime: &tokio::runtime::Runtime,
        reads: usize,
    ) -> anyhow::Result<Option<Pages>> {
        let Some((_, client)) = &self.postgres else {
            return Ok(None);
        };
        let interests: Vec<String> = self
            .loaded
            .interests
            .iter()
            .map(|i| i.as_str().to_owned())
            .collect();
        let members: Vec<String> = self
            .loaded
            .members
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect();
        let micros =
            runtime.block_on(workloads::feed_pages(client, &interests, &members, reads))?;
        Pages::of(micros).map(Some)
    }

    /// sparkfeed's `feeds` projection rebuilt from the log, events/s.
    pub(crate) fn sparkfeed_rebuild(&self) -> anyhow::Result<f64> {
        let report = self
            .runtime
            .block_on(self.projections.rebuild("feeds", |_, _| {}))
            .context("rebuilding the feeds")?;
        Ok(report.events_per_sec())
    }

    /// PostgreSQL's feed tables rebuilt from the events table, events/s (`None` without
    /// the peer).
    pub(crate) fn postgres_rebuild(
        &mut self,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<Option<f64>> {
        let Some((_, client)) = &mut self.postgres else {
            return Ok(None);
        };
        runtime.block_on(feed::rebuild(client)).map(Some)
    }

    /// The whole sparkfeed log read in pages: (records only, decoded into domain
    /// events), events/s.
    pub(crate) fn sparkfeed_replay(&self) -> anyhow::Result<(f64, f64)> {
        let reads = reads::whole_log(&self.loaded.log, 1)?;
        reads.first().copied().context("no log read")
    }

    /// The whole events table read and decoded, events/s (`None` without the peer).
    pub(crate) fn postgres_replay(
        &self,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<Option<f64>> {
        let Some((_, client)) = &self.postgres else {
            return Ok(None);
        };
        runtime.block_on(workloads::replay(client)).map(Some)
    }

    /// Bytes of sparkfeed's log directory.
    pub(crate) fn sparkfeed_disk(&self) -> anyhow::Result<u64> {
        crate::dir_bytes(&world::log_dir(self.scratch.path()))
    }

    /// PostgreSQL's events table (with indexes) and whole database, in bytes.
    pub(crate) fn postgres_disk(
        &self,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<Option<(u64, u64)>> {
        let Some((_, client)) = &self.postgres else {
            return Ok(None);
        };
        runtime.block_on(workloads::disk(client)).map(Some)
    }

    /// Drops the peer's copy (the sparkfeed side goes with `self`).
    pub(crate) fn close(
        self,
        peer: Option<(&Peer, &tokio::runtime::Runtime)>,
    ) -> anyhow::Result<()> {
        let World {
            runtime,
            postgres,
            projections,
            loaded,
            scratch,
        } = self;
        drop((projections, loaded));
        runtime.shutdown_background();
        drop(scratch);
        if let (Some((name, client)), Some((peer, pg_runtime))) = (postgres, peer) {
            drop(client);
            pg_runtime.block_on(peer.drop_world(&name))?;
        }
        Ok(())
    }
}
