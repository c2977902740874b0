//! `sparkfeed bench disk`: where the log's disk goes. The seed world is loaded into a
//! scratch log, which is then closed, and three figures are taken:
//!
//! - **physical**: the bytes of the log directory, as the log left it;
//! - **logical**: the bytes of its keys and values, by family (record chunks, the stream
//!   index, the event-id index, the Merkle tree), read back with raw sled;
//! - **sled's floor**: the same keys and values imported into a fresh sled store
//!   (`export`/`import`, written once in key order), at the log's segment size and at
//!   smaller ones: what sled 0.34.7 takes for these bytes at best.
//!
//! With `--vs-postgres`, the same events in PostgreSQL 15's events table (with its
//! indexes), and the bytes of its rows (`pg_column_size`), after a `CHECKPOINT`.
//!
//! Invariant: it measures a copy of nothing but its own scratch world, and writes nothing
//! anywhere else.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context;

use crate::dir_bytes;
use crate::postgres::{Peer, workloads};
use crate::projections::world;

/// The log's sled segment size (sled's default, which the log keeps).
const LOG_SEGMENT: usize = 512 * 1024;
/// The smaller segment sizes sled's floor is also measured at.
const SMALLER_SEGMENTS: [usize; 2] = [128 * 1024, 64 * 1024];

/// What to measure.
pub struct DiskBench {
    /// Events in the world (about).
    pub events: u64,
    /// Posts among them.
    pub posts: u64,
    /// Where the scratch stores go.
    pub dir: PathBuf,
    /// Also PostgreSQL's events table.
    pub vs_postgres: bool,
    /// Where PostgreSQL's binaries are.
    pub pg_bin: PathBuf,
}

/// The bytes of one family of the log's keys.
pub struct Family {
    /// What it is.
    pub name: &'static str,
    /// Its keys.
    pub rows: u64,
    /// Its key bytes.
    pub key_bytes: u64,
    /// Its value bytes.
    pub value_bytes: u64,
}

/// Where the disk went.
pub struct DiskReport {
    /// Events in the log.
    pub events: u64,
    /// The log directory while the log was open, right after the world was written.
    pub physical_open: u64,
    /// The same once the log was closed.
    pub physical_closed: u64,
    /// The keys and values, by family.
    pub families: Vec<Family>,
    /// sled's floor for them: (segment size, bytes on disk), the log's first.
    pub floors: Vec<(usize, u64)>,
    /// PostgreSQL's events table with its indexes, and the bytes of its rows.
    pub postgres: Option<(u64, u64)>,
}

impl DiskReport {
    /// Every key and value byte.
    pub fn logical(&self) -> u64 {
        self.families
            .iter()
            .map(|f| f.key_bytes + f.value_bytes)
            .sum()
    }
}

/// The family of a key of the log's tree, by its first byte (`sparkfeed_eventlog::keys`).
fn family_of(key: &[u8]) -> &'static str {
    use sparkfeed_eventlog::keys;
    let starts = |prefix: &[u8]| key.starts_with(prefix);
    if starts(keys::chunk_prefix()) {
        "record chunks"
    } else if starts(keys::stream_index_prefix()) {
        "stream index"
    } else if starts(keys::event_index_prefix()) {
        "event-id index"
    } else if starts(keys::tree_prefix()) {
        "Merkle tree"
    } else {
        "other (layout, tail marker)"
    }
}

/// Loads the world, closes the log and measures.
pub fn disk(config: &DiskBench) -> anyhow::Result<DiskReport> {
    let (runtime, scratch, loaded) = world::scratch(&config.dir, config.events, config.posts)?;
    let log_dir = world::log_dir(scratch.path());
    let events = loaded.shape.events;
    let postgres = if config.vs_postgres {
        let peer = Peer::start(&runtime, &config.pg_bin, &config.dir)?;
        let sizes = runtime.block_on(async {
            let client = peer.world("disk", &loaded.log).await?;
            let (table, _) = workloads::disk(&client).await?;
            let rows = workloads::row_bytes(&client).await?;
            anyhow::Ok((table, rows))
        })?;
        drop(peer);
        Some(sizes)
    } else {
        None
    };
    let physical_open = dir_bytes(&log_dir)?;
    drop(loaded);
    runtime.shutdown_background();
    let physical_closed = dir_bytes(&log_dir)?;

    let db = sled::Config::new()
        .path(log_dir.join("sled"))
        .cache_capacity(64 << 20)
        .open()
        .context("opening the closed log with raw sled")?;
    let tree = db.open_tree("log")?;
    let mut families: Vec<Family> = Vec::new();
    for entry in tree.iter() {
        let (key, value) = entry?;
        let name = family_of(&key);
        let family = match families.iter().position(|f| f.name == name) {
            Some(i) => &mut families[i],
            None => {
                families.push(Family {
                    name,
                    rows: 0,
                    key_bytes: 0,
                    value_bytes: 0,
                });
                families.last_mut().context("just pushed")?
            }
        };
        family.rows += 1;
        family.key_bytes += key.len() as u64;
        family.value_bytes += value.len() as u64;
    }
    families.sort_by_key(|f| std::cmp::Reverse(f.key_bytes + f.value_bytes));

    let mut floors = Vec::new();
    for segment in std::iter::once(LOG_SEGMENT).chain(SMALLER_SEGMENTS) {
        let fresh = scratch.path().join(format!("floor-{segment}"));
        let copy = sled::Config::new()
            .path(&fresh)
            .segment_size(segment)
            .cache_capacity(64 << 20)
            .open()
            .context("a fresh sled store")?;
        copy.import(db.export());
        copy.flush()?;
        floors.push((segment, dir_bytes(&fresh)?));
    }
    Ok(DiskReport {
        events,
        physical_open,
        physical_closed,
        families,
        floors,
        postgres,
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

impl fmt::Display for DiskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = self.events.max(1) as f64;
        let per_event = |bytes: u64| bytes as f64 / events;
        let logical = self.logical();
        writeln!(f, "the log of {} events:", self.events)?;
        writeln!(
            f,
            "{:<34} {:>10} {:>12} {:>10}",
            "", "MiB", "bytes/event", "x logical"
        )?;
        let line = |f: &mut fmt::Formatter<'_>, label: &str, bytes: u64| {
            writeln!(
                f,
                "{label:<34} {:>10.1} {:>12.0} {:>9.2}x",
                mib(bytes),
                per_event(bytes),
                bytes as f64 / logical.max(1) as f64
            )
        };
        line(f, "physical, open after writing", self.physical_open)?;
        line(f, "physical, closed", self.physical_closed)?;
        line(f, "logical: keys and values", logical)?;
        for family in &self.families {
            line(
                f,
                &format!("  {} ({} keys)", family.name, family.rows),
                family.key_bytes + family.value_bytes,
            )?;
        }
        for (segment, bytes) in &self.floors {
            line(
                f,
                &format!("sled's floor, {} KiB segments", segment / 1024),
                *bytes,
            )?;
        }
        if let Some((table, rows)) = self.postgres {
            line(f, "PostgreSQL events table + indexes", table)?;
            line(f, "PostgreSQL events rows", rows)?;
            writeln!(
                f,
                "the log closed / the events table: {:.2}x; logical / rows: {:.2}x",
                self.physical_closed as f64 / table.max(1) as f64,
                logical as f64 / rows.max(1) as f64
            )?;
        }
        Ok(())
    }
}
