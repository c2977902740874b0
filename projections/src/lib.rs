//! The read side of sparkfeed: every screen is a projection of the log.
//!
//! A [`Projection`] folds domain events into rows of its own sled tree. The runner
//! ([`Projections`]) feeds each projection the log from its checkpoint and commits the
//! rows of a batch of events together with the new checkpoint in one `sled::Batch`, then
//! fdatasyncs the store, so a crash or a power cut at any instant neither skips nor
//! double-applies an event. Projections follow the log live and report their lag;
//! [`Projections::wait_for`] lets a client read its own writes; [`Projections::rebuild`]
//! replays from zero into a fresh store and swaps it in while the old one keeps serving.
//!
//! Read models: [`feeds`] (per-interest feeds, post cards, members, products, orders,
//! saves, comments), [`audit`] (sponsorship audit trail), [`analytics`] (per interest and
//! day). Queries are in [`read`].
//!
//! Invariant: projections only read the log; nothing here writes to it.

pub mod analytics;
pub mod audit;
pub mod cache;
pub mod decoded;
pub mod feeds;
pub mod read;
pub mod rows;
pub mod store;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_eventlog::{EventLog, LogError};
use sparkfeed_events::{Position, RecordedEvent, Upcasters};
use tokio::sync::{Mutex, watch};

pub use crate::cache::{RowCache, Source, View};
use crate::store::{Generation, Rows, Slot, checkpoint};

/// A read model: folds events into rows.
pub trait Projection: Send + Sync + 'static {
    /// Its stable name (`feeds`, `audit`, `analytics`).
    fn name(&self) -> &'static str;

    /// The layout version of its rows. Bump it with any change that makes rows written by
    /// the old `apply` wrong for the new reads (a key renamed, a row reshaped, a rule
    /// changed). A store built by another version is never served: opening it starts a
    /// fresh generation that replays the log from zero.
    fn version(&self) -> u32;

    /// Folds one event into `rows`. Must be deterministic: a rebuild replays it.
    fn apply(
        &self,
        rows: &mut Rows<'_>,
        stored: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError>;
}

/// Why a projection could not advance or answer.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The projection store failed. Code `STORE`.
    #[error("projection store: {0}")]
    Store(#[from] sled::Error),
    /// The log failed. Code: the log's.
    #[error("log: {0}")]
    Log(#[from] LogError),
    /// A row or an event does not decode. Code `CORRUPT`.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// No projection has this name. Code `NOT_FOUND`.
    #[error("no projection named {0}")]
    Unknown(String),
    /// The projections did not reach the position in time. Code `TIMEOUT`.
    #[error("projections did not reach position {0} in time")]
    Timeout(u64),
}

impl ProjectionError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ProjectionError::Store(_) => "STORE",
            ProjectionError::Log(e) => e.code(),
            ProjectionError::Corrupt(_) => "CORRUPT",
            ProjectionError::Unknown(_) => "NOT_FOUND",
            ProjectionError::Timeout(_) => "TIMEOUT",
        }
    }
}

/// Each projection store's page cache unless configured: 1 GiB. Feed pages stay under a
/// millisecond at p99 only while cards and feeds fit in the cache: over a million events
/// and 100,000 posts, 256 MiB gave a p99 of 9 ms and 1 GiB one of 0.34 ms
/// (`sparkfeed bench projections --cache-mb N`). The cache fills only as rows are read and
/// written; analytics and audit stay small, and a rebuild's fresh generation has a cache
/// of its own until the old one is retired.
pub const DEFAULT_CACHE_BYTES: u64 = 1024 * 1024 * 1024;

/// The catalog's page cache: it holds a few keys.
const CATALOG_CACHE_BYTES: u64 = 1 << 20;

/// The most events one projection batch applies before committing.
const BATCH: usize = 8192;

/// How many bytes of rows a replay holds in memory before it writes them out: the rows
/// of many batches coalesce (a post's counts are written once, not once per batch that
/// touched them) and go to the fresh tree in key order. Bounds a rebuild's extra memory.
pub const DEFAULT_REPLAY_BUFFER_BYTES: usize = 64 << 20;

/// Events per batch a replay reads and decodes. Small enough that a batch's vectors stay
/// ordinary allocations that the allocator recycles warm: at 8,192 events they were large
/// blocks, mapped fresh and zeroed by the kernel for every batch.
const REPLAY_BATCH: usize = 1024;

/// Batches a replay reads and decodes ahead of the one being applied.
const READ_AHEAD: usize = 16;

struct Entry {
    projection: Arc<dyn Projection>,
    slot: Slot,
    /// Held while a batch is applied, and by a rebuild while it swaps.
    writer: Arc<Mutex<()>>,
    checkpoint: watch::Sender<Position>,
}

/// What a rebuild did.
#[derive(Clone, Copy, Debug)]
pub struct RebuildReport {
    /// Events replayed.
    pub events: u64,
    /// How long it took.
    pub elapsed: Duration,
}

impl RebuildReport {
    /// Events replayed per second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Every projection of one data directory, and their runner.
#[derive(Clone)]
pub struct Projections {
    log: EventLog,
    /// Holds the catalog and one directory per projection generation.
    root: std::path::PathBuf,
    /// Each generation's page cache.
    cache_bytes: u64,
    catalog: sled::Db,
    /// The catalog's data file, for the `fdatasync` sled's flush does not do.
    catalog_data: Arc<File>,
    entries: Arc<HashMap<&'static str, Entry>>,
    upcasters: Arc<Upcasters>,
    /// See [`DEFAULT_REPLAY_BUFFER_BYTES`].
    replay_buffer_bytes: usize,
}

fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(feeds::Feeds),
        Arc::new(audit::Audit),
        Arc::new(analytics::Analytics),
    ]
}

/// The catalog key holding the layout version the active generation was built by.
fn version_key(name: &str) -> String {
    format!("{name}@version")
}

impl Projections {
    /// Opens the projection store in `dir` (a catalog and one sled store per projection
    /// generation), following `log`, with the default page cache ([`DEFAULT_CACHE_BYTES`]).
    pub fn open(dir: &Path, log: EventLog) -> Result<Self, ProjectionError> {
        Self::open_with_cache(dir, log, DEFAULT_CACHE_BYTES)
    }

    /// Opens the projection store with a page cache of `cache_bytes` for each projection.
    /// Feed reads stay under a millisecond only while the hot rows (cards, feeds) fit in it.
    ///
    /// A store from before generations had directories of their own (one sled store for
    /// every projection) is removed first: its rows are replayed from the log.
    pub fn open_with_cache(
        dir: &Path,
        log: EventLog,
        cache_bytes: u64,
    ) -> Result<Self, ProjectionError> {
        if dir.join("conf").is_file() && !dir.join("catalog").exists() {
            tracing::warn!(
                dir = %dir.display(),
                "projections stored in the old single-store layout: removing them, the log is replayed"
            );
            Generation::remove(dir)?;
        }
        sparkfeed_eventlog::durable::create_dir_all_durably(dir)
            .map_err(|e| ProjectionError::Store(sled::Error::Io(e)))?;
        let catalog = sled::Config::new()
            .path(dir.join("catalog"))
            .cache_capacity(CATALOG_CACHE_BYTES)
            .open()?;
        store::sync_names(&dir.join("catalog"))?;
        let catalog_data = File::open(dir.join("catalog").join("db"))
            .map_err(|e| ProjectionError::Store(e.into()))?;
        let mut entries = HashMap::new();
        let mut listed = Vec::new();
        for projection in all() {
            let name = projection.name();
            let (generation, unnamed) =
                Self::current_generation(dir, &catalog, projection.as_ref())?;
            listed.push((name, generation));
            let store = Generation::open(Generation::dir(dir, name, generation), cache_bytes)?;
            // Named only once its store is there for good: a power cut in between must not
            // leave the catalog naming a directory that is not (it did, at a first start).
            if unnamed {
                name_generation(&catalog, &catalog_data, projection.as_ref(), generation)?;
            }
            let view = View::of(store);
            let (checkpoint_tx, _) = watch::channel(checkpoint(view.tree())?);
            entries.insert(
                name,
                Entry {
                    projection,
                    slot: Slot::new(view),
                    writer: Arc::default(),
                    checkpoint: checkpoint_tx,
                },
            );
        }
        Generation::remove_unlisted(dir, &listed)?;
        Ok(Self {
            log,
            root: dir.to_owned(),
            cache_bytes,
            catalog,
            catalog_data: Arc::new(catalog_data),
            entries: Arc::new(entries),
            upcasters: Arc::new(upcasters()),
            replay_buffer_bytes: DEFAULT_REPLAY_BUFFER_BYTES,
        })
    }

    /// These projections with a rebuild holding up to about `bytes` of rows in memory (see
    /// [`DEFAULT_REPLAY_BUFFER_BYTES`]; 0 writes after every event).
    pub fn with_replay_buffer(mut self, bytes: usize) -> Self {
        self.replay_buffer_bytes = bytes;
        self
    }

    /// The generation of `projection` to serve, and whether the catalog has yet to name it
    /// ([`name_generation`], once its store is open): the catalog's, unless it names none
    /// (generation 0) or one built by another layout version, in which case a fresh, empty
    /// generation replaces it (the runners then replay the log into it from zero).
    /// Generations the catalog no longer names are removed by
    /// [`Generation::remove_unlisted`].
    fn current_generation(
        root: &Path,
        catalog: &sled::Db,
        projection: &dyn Projection,
    ) -> Result<(u64, bool), ProjectionError> {
        let name = projection.name();
        let version_key = version_key(name);
        let corrupt = || ProjectionError::Corrupt(format!("catalog entry of {name}"));
        let Some(generation) = catalog.get(name)? else {
            return Ok((0, true));
        };
        let generation = u64::from_be_bytes(generation.as_ref().try_into().map_err(|_| corrupt())?);
        // Stores from before versions were recorded hold version 1 layouts.
        let built_by = match catalog.get(version_key.as_bytes())? {
            Some(v) => u32::from_be_bytes(v.as_ref().try_into().map_err(|_| corrupt())?),
            None => 1,
        };
        if built_by == projection.version() {
            return Ok((generation, false));
        }
        tracing::warn!(
            projection = name,
            built_by,
            current = projection.version(),
            "the projection was built by another layout version: replaying the log into a fresh generation"
        );
        let fresh = generation + 1;
        Generation::remove(&Generation::dir(root, name, fresh))?;
        Ok((fresh, true))
    }

    /// The names of every projection.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.entries.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// The tree serving reads of projection `name`.
    pub fn tree(&self, name: &str) -> Result<sled::Tree, ProjectionError> {
        Ok(self.entry(name)?.slot.tree())
    }

    /// The tree serving reads of projection `name`, with its row cache.
    pub fn view(&self, name: &str) -> Result<View, ProjectionError> {
        Ok(self.entry(name)?.slot.view())
    }

    fn entry(&self, name: &str) -> Result<&Entry, ProjectionError> {
        self.entries
            .get(name)
            .ok_or_else(|| ProjectionError::Unknown(name.to_owned()))
    }

    /// Projection `name`'s checkpoint (the next position it will apply), as it moves.
    pub fn checkpoints(&self, name: &str) -> Result<watch::Receiver<Position>, ProjectionError> {
        Ok(self.entry(name)?.checkpoint.subscribe())
    }

    /// The position every projection has applied up to (the least checkpoint): a read
    /// that starts now sees every event before it.
    pub fn applied(&self) -> Position {
        self.entries
            .values()
            .map(|e| *e.checkpoint.borrow())
            .min()
            .unwrap_or(Position(0))
    }

    /// Head position minus checkpoint, per projection.
    pub fn lag(&self) -> Result<Vec<(&'static str, u64)>, ProjectionError> {
        let head = self.log.head().len;
        self.names()
            .into_iter()
            .map(|name| {
                Ok((
                    name,
                    head.saturating_sub(self.entry(name)?.slot.checkpoint()?.0),
                ))
            })
            .collect()
    }

    /// Applies `events` to `view` in one batch ending at `next` (its cache forgets the rows
    /// written before this returns, so before the new checkpoint is published).
    fn apply(
        &self,
        projection: &dyn Projection,
        view: &View,
        events: &[RecordedEvent],
    ) -> Result<Position, ProjectionError> {
        let decoded = self.decode(events.iter())?;
        let mut rows = Rows::new(view);
        let next = apply_to(projection, &mut rows, checkpoint(view.tree())?, &decoded)?;
        rows.commit(next)?;
        Ok(next)
    }

    /// Decodes stored events into domain events (upcasting old schema versions).
    fn decode<R: Borrow<RecordedEvent>>(
        &self,
        events: impl IntoIterator<Item = R>,
    ) -> Result<Vec<(R, DomainEvent)>, ProjectionError> {
        events
            .into_iter()
            .map(|stored| {
                let event = DomainEvent::decode(&self.upcasters, stored.borrow())
                    .map_err(|e| ProjectionError::Corrupt(e.to_string()))?;
                Ok((stored, event))
            })
            .collect()
    }

    /// Applies the log to `view` from its checkpoint to the head; answers how many events.
    /// Only for a tree no reader sees yet (a rebuild's fresh generation): rows are written
    /// [`Commit::Unserved`].
    ///
    /// Two stages on two threads: one reads and decodes the next batches of the log (at
    /// most [`READ_AHEAD`] ahead) while this one applies and writes the current batch.
    fn replay(
        &self,
        projection: &dyn Projection,
        view: &View,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, ProjectionError> {
        let start = checkpoint(view.tree())?;
        std::thread::scope(|scope| {
            let (batches, ready) = std::sync::mpsc::sync_channel(READ_AHEAD);
            let reader = std::thread::Builder::new().name("sparkfeed-replay".into());
            reader
                .spawn_scoped(scope, move || {
                    let mut from = start;
                    loop {
                        let read = self
                            .log
                            .read_all(from, REPLAY_BATCH)
                            .map_err(ProjectionError::from)
                            .and_then(|events| {
                                from = events.last().map_or(from, |e| e.record.position.next());
                                self.decode(events)
                            });
                        let done = read.as_ref().map_or(true, Vec::is_empty);
                        // The applier hung up (it failed): nothing more to read for it.
                        if batches.send(read).is_err() || done {
                            return;
                        }
                    }
                })
                .map_err(|e| ProjectionError::Store(sled::Error::Io(e)))?;
            self.apply_batches(projection, view, ready, progress)
        })
    }

    /// Applies the decoded batches of `ready` to `view`, an unserved tree: the rows are held
    /// in memory across batches (up to [`Projections::with_replay_buffer`]) and written out in key
    /// order, each time with the checkpoint they reach.
    fn apply_batches(
        &self,
        projection: &dyn Projection,
        view: &View,
        ready: std::sync::mpsc::Receiver<
            Result<Vec<(RecordedEvent, DomainEvent)>, ProjectionError>,
        >,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, ProjectionError> {
        let mut replayed = 0u64;
        let mut rows = Rows::new(view);
        let mut next = checkpoint(view.tree())?;
        for events in ready {
            let events = events?;
            if events.is_empty() {
                break;
            }
            replayed += events.len() as u64;
            for event in &events {
                next = apply_to(projection, &mut rows, next, std::slice::from_ref(event))?;
                if rows.buffered_bytes() > self.replay_buffer_bytes {
                    rows.write_unserved(next)?;
                }
            }
            progress(replayed, self.log.head().len);
        }
        rows.write_unserved(next)?;
        Ok(replayed)
    }

    /// Brings every projection up to the log's head now, then returns.
    pub async fn catch_up(&self) -> Result<(), ProjectionError> {
        self.catch_up_in_batches(BATCH, |_, _| {}).await
    }

    /// [`Projections::catch_up`] in batches of `batch` events; `committed` is told each
    /// projection's checkpoint after every batch it commits.
    pub async fn catch_up_in_batches(
        &self,
        batch: usize,
        mut committed: impl FnMut(&str, Position),
    ) -> Result<(), ProjectionError> {
        for name in self.names() {
            let entry = self.entry(name)?;
            loop {
                let _writer = entry.writer.lock().await;
                let view = entry.slot.view();
                let from = checkpoint(view.tree())?;
                let events = self.log.read_all(from, batch.max(1))?;
                if events.is_empty() {
                    break;
                }
                let next = self.apply(entry.projection.as_ref(), &view, &events)?;
                entry.checkpoint.send_replace(next);
                committed(name, next);
            }
        }
        Ok(())
    }

    /// Runs projection `name` live: from its checkpoint, then every event as it becomes
    /// durable, until the log closes.
    pub async fn run(&self, name: &str) -> Result<(), ProjectionError> {
        let entry = self.entry(name)?;
        let mut from = entry.slot.checkpoint()?;
        let mut subscription = self.log.subscribe(from);
        while let Some(events) = subscription.next_batch(BATCH).await {
            let events = events?;
            let _writer = entry.writer.lock().await;
            let view = entry.slot.view();
            let at = checkpoint(view.tree())?;
            if at != from {
                // A rebuild swapped the tree in: continue from its checkpoint.
                subscription = self.log.subscribe(at);
                from = at;
                continue;
            }
            let first = events.first().map_or(from, |e| e.record.position);
            let skip = usize::try_from(from.0.saturating_sub(first.0)).unwrap_or(usize::MAX);
            let fresh = events.get(skip..).unwrap_or_default();
            if fresh.is_empty() {
                continue;
            }
            from = self.apply(entry.projection.as_ref(), &view, fresh)?;
            entry.checkpoint.send_replace(from);
        }
        Ok(())
    }

    /// Starts every projection live on the current tokio runtime.
    pub fn spawn(&self) -> Vec<tokio::task::JoinHandle<Result<(), ProjectionError>>> {
        self.names()
            .into_iter()
            .map(|name| {
                let me = self.clone();
                tokio::spawn(async move {
                    let result = me.run(name).await;
                    if let Err(e) = &result {
                        tracing::error!(projection = name, error = %e, "projection stopped");
                    }
                    result
                })
            })
            .collect()
    }

    /// Waits until every projection has applied the event at `position`, at most `timeout`.
    pub async fn wait_for(
        &self,
        position: Position,
        timeout: Duration,
    ) -> Result<(), ProjectionError> {
        let deadline = tokio::time::Instant::now() + timeout;
        for name in self.names() {
            let mut rx = self.entry(name)?.checkpoint.subscribe();
            let reached =
                tokio::time::timeout_at(deadline, rx.wait_for(|next| next.0 > position.0)).await;
            match reached {
                Ok(Ok(_)) => {}
                _ => return Err(ProjectionError::Timeout(position.0)),
            }
        }
        Ok(())
    }

    /// Replays projection `name` from zero into a fresh store and swaps it in; the old one
    /// serves reads until the swap. `progress` is told (done, total) now and then.
    pub async fn rebuild(
        &self,
        name: &str,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<RebuildReport, ProjectionError> {
        let entry = self.entry(name)?;
        let started = Instant::now();
        let current = match self.catalog.get(name)? {
            Some(g) => u64::from_be_bytes(
                g.as_ref()
                    .try_into()
                    .map_err(|_| ProjectionError::Corrupt("catalog".into()))?,
            ),
            None => 0,
        };
        let generation = current + 1;
        let fresh_dir = Generation::dir(&self.root, name, generation);
        Generation::remove(&fresh_dir)?;
        let fresh = View::of(Generation::open(fresh_dir, self.cache_bytes)?);
        // Replay without holding the writer: the live tree keeps serving and advancing.
        let mut replayed = self.replay(entry.projection.as_ref(), &fresh, &mut progress)?;
        // Then catch up the last few events and swap, with the live runner paused.
        let _writer = entry.writer.lock().await;
        replayed += self.replay(entry.projection.as_ref(), &fresh, &mut |_, _| {})?;
        // The fresh store was written without batches: durable in full before the catalog
        // names it, so a crash or a power cut after the swap never finds half of it.
        if let Some(g) = fresh.generation() {
            g.sync()?;
        }
        name_generation(
            &self.catalog,
            &self.catalog_data,
            entry.projection.as_ref(),
            generation,
        )?;
        let old = entry.slot.swap(fresh);
        entry.checkpoint.send_replace(entry.slot.checkpoint()?);
        // Removed once the last reader of the old generation lets go of it.
        if let Some(g) = old.generation() {
            g.retire();
        }
        drop(old);
        progress(replayed, replayed);
        Ok(RebuildReport {
            events: replayed,
            elapsed: started.elapsed(),
        })
    }

    /// The log the projections follow.
    pub fn log(&self) -> &EventLog {
        &self.log
    }
}

/// Makes `catalog` name `generation` as `projection`'s, with its layout version, durably:
/// sled's flush and an `fdatasync` of the catalog's data file (`data`), so that nothing
/// after it (a rebuild retiring the old generation) can become durable without it.
fn name_generation(
    catalog: &sled::Db,
    data: &File,
    projection: &dyn Projection,
    generation: u64,
) -> Result<(), ProjectionError> {
    let name = projection.name();
    let mut batch = sled::Batch::default();
    batch.insert(name, &generation.to_be_bytes());
    batch.insert(
        version_key(name).as_bytes(),
        &projection.version().to_be_bytes(),
    );
    catalog.apply_batch(batch)?;
    catalog.flush()?;
    data.sync_data()
        .map_err(|e| ProjectionError::Store(e.into()))
}

/// Applies `events`, which must start at `next`, to `rows`; answers the position after them.
fn apply_to<R: Borrow<RecordedEvent>>(
    projection: &dyn Projection,
    rows: &mut Rows<'_>,
    mut next: Position,
    events: &[(R, DomainEvent)],
) -> Result<Position, ProjectionError> {
    for (stored, event) in events {
        let stored = stored.borrow();
        if stored.record.position != next {
            return Err(ProjectionError::Corrupt(format!(
                "{} expected position {next}, got {}",
                projection.name(),
                stored.record.position
            )));
        }
        projection.apply(rows, stored, event)?;
        next = next.next();
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A projection that writes nothing, at a chosen layout version.
    struct Layout(u32);

    impl Projection for Layout {
        fn name(&self) -> &'static str {
            "layout"
        }

        fn version(&self) -> u32 {
            self.0
        }

        fn apply(
            &self,
            _rows: &mut Rows<'_>,
            _stored: &RecordedEvent,
            _event: &DomainEvent,
        ) -> Result<(), ProjectionError> {
            Ok(())
        }
    }

    /// A projections root with its catalog.
    fn store() -> (tempfile::TempDir, sled::Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let catalog = sled::Config::new()
            .path(dir.path().join("catalog"))
            .open()
            .expect("catalog");
        (dir, catalog)
    }

    /// The `layout` projection's generation `generation`, opened.
    fn generation(root: &Path, generation: u64) -> Arc<Generation> {
        Generation::open(Generation::dir(root, "layout", generation), 1 << 20).expect("opens")
    }

    /// The generation to serve, named in the catalog as `open` does.
    fn current(root: &Path, catalog: &sled::Db, version: u32) -> u64 {
        let (generation, unnamed) =
            Projections::current_generation(root, catalog, &Layout(version)).expect("opens");
        if unnamed {
            let data = File::open(root.join("catalog").join("db")).expect("its data file");
            name_generation(catalog, &data, &Layout(version), generation).expect("names");
        }
        generation
    }

    #[test]
    fn a_store_of_the_same_layout_version_is_served_as_it_is() {
        let (dir, catalog) = store();
        let first = current(dir.path(), &catalog, 3);
        generation(dir.path(), first)
            .tree()
            .insert("row", "kept")
            .expect("insert");
        let again = current(dir.path(), &catalog, 3);
        assert_eq!(first, again);
        assert!(
            generation(dir.path(), again)
                .tree()
                .contains_key("row")
                .expect("read")
        );
    }

    #[test]
    fn a_store_built_by_another_layout_version_is_replaced_by_a_fresh_generation() {
        let (dir, catalog) = store();
        let old = current(dir.path(), &catalog, 1);
        generation(dir.path(), old)
            .tree()
            .insert("row", "old layout")
            .expect("insert");

        let fresh = current(dir.path(), &catalog, 2);
        assert_eq!(fresh, old + 1);
        let tree = generation(dir.path(), fresh).tree();
        assert!(tree.is_empty(), "the fresh generation replays from zero");
        assert_eq!(checkpoint(&tree).expect("checkpoint"), Position(0));
        Generation::remove_unlisted(dir.path(), &[("layout", fresh)]).expect("removes");
        assert!(
            !Generation::dir(dir.path(), "layout", old).exists(),
            "the old layout's store is removed"
        );
        assert_eq!(
            current(dir.path(), &catalog, 2),
            fresh,
            "the new version is recorded"
        );
    }

    #[test]
    fn a_retired_generation_is_removed_once_its_last_reader_lets_go() {
        let (dir, _catalog) = store();
        let old = generation(dir.path(), 4);
        old.tree().insert("row", "served").expect("insert");
        let reader = View::of(Arc::clone(&old));
        old.retire();
        drop(old);
        let path = Generation::dir(dir.path(), "layout", 4);
        assert!(path.exists(), "a reader still holds it");
        assert_eq!(
            reader.row(b"row").expect("reads"),
            Some(sled::IVec::from("served"))
        );
        drop(reader);
        assert!(!path.exists(), "gone with its last reader");

        let kept = generation(dir.path(), 5);
        drop(kept);
        assert!(
            Generation::dir(dir.path(), "layout", 5).exists(),
            "a generation never retired stays"
        );
    }

    #[test]
    fn generations_the_catalog_does_not_name_are_removed_and_nothing_else() {
        let (dir, _catalog) = store();
        for g in [1, 2, 3] {
            drop(generation(dir.path(), g));
        }
        std::fs::create_dir(dir.path().join("notes-1")).expect("mkdir");
        Generation::remove_unlisted(dir.path(), &[("layout", 2)]).expect("removes");
        let left: Vec<bool> = [1, 2, 3]
            .iter()
            .map(|g| Generation::dir(dir.path(), "layout", *g).exists())
            .collect();
        assert_eq!(left, [false, true, false]);
        assert!(dir.path().join("catalog").exists());
        assert!(
            dir.path().join("notes-1").exists(),
            "not a projection we know"
        );
    }

    #[test]
    fn a_store_from_before_versions_were_recorded_counts_as_version_one() {
        let (dir, catalog) = store();
        catalog
            .insert("layout", &7u64.to_be_bytes())
            .expect("an unversioned catalog entry");
        assert_eq!(current(dir.path(), &catalog, 1), 7);
        assert_eq!(current(dir.path(), &catalog, 2), 8);
    }
}
