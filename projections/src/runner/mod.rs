//! The runner: every projection of one data directory, fed the log from its checkpoint,
//! one atomic batch at a time, live or caught up on demand. Rebuilds are in [`replay`].

mod replay;

use std::borrow::Borrow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_eventlog::SharedLog;
use sparkfeed_events::{Position, RecordedEvent, Upcasters};
use tokio::sync::{Mutex, watch};

pub use self::replay::RebuildReport;
use crate::cache::{Source, View};
use crate::catalog::Catalog;
use crate::store::{Generation, Rows, Slot, checkpoint};
use crate::warm::Warm;
use crate::{
    CacheBudget, DEFAULT_CACHE_BYTES, DEFAULT_REBUILD_FROM_EVENTS, DEFAULT_REPLAY_BUFFER_BYTES,
    Projection, ProjectionError, UNWRITTEN_AT_MOST,
};

/// The most events one projection batch applies before committing.
const BATCH: usize = 8192;

/// When a batch of events is committed to a projection's store.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Commit {
    /// Always: its rows and its checkpoint, synced. Catching up does this: its batches are
    /// large, and the crash tests count where each one ends.
    Always,
    /// Only when it changed a row, or when the checkpoint in the tree would otherwise
    /// fall [`UNWRITTEN_AT_MOST`] events behind. A live batch of events that concern the
    /// projection not at all (most of them, for most projections) then costs no write
    /// and no `fdatasync`: the position lives in the view ([`View::checkpoint`]). Each
    /// costed a commit and a sync of its own, about half a millisecond of a tokio worker,
    /// at every batch of every projection (the `bench lag` profile in BENCHMARKS.md).
    WhenChanged,
}

struct Entry {
    projection: Arc<dyn Projection>,
    slot: Slot,
    /// Held while a batch is applied, and by a rebuild while it swaps.
    writer: Arc<Mutex<()>>,
    checkpoint: watch::Sender<Position>,
    /// The rows its live batches changed in place, kept decoded for the next ones; taken
    /// by a batch and put back once it is committed (see [`Warm`]).
    warm: std::sync::Mutex<Option<Warm>>,
    /// The bytes `warm` may hold ([`CacheBudget::warm_share`]); 0: none kept.
    warm_bytes: usize,
}

/// Every projection of one data directory, and their runner.
#[derive(Clone)]
pub struct Projections {
    log: SharedLog,
    /// Holds the catalog and one directory per projection generation.
    root: PathBuf,
    /// The page-cache budget every generation's cache is a share of.
    cache: CacheBudget,
    catalog: Arc<Catalog>,
    entries: Arc<HashMap<&'static str, Entry>>,
    upcasters: Arc<Upcasters>,
    /// See [`DEFAULT_REPLAY_BUFFER_BYTES`].
    replay_buffer_bytes: usize,
    /// See [`DEFAULT_REBUILD_FROM_EVENTS`].
    rebuild_from_events: u64,
}

impl Projections {
    /// Opens the projection store in `dir` (a catalog and one sled store per projection
    /// generation), following `log`, with the default page cache ([`DEFAULT_CACHE_BYTES`]).
    pub fn open(dir: &Path, log: impl Into<SharedLog>) -> Result<Self, ProjectionError> {
        Self::open_with_cache(dir, log, DEFAULT_CACHE_BYTES)
    }

    /// Opens the projection store with a page-cache budget of `cache_bytes` for every
    /// projection store together, split by [`CacheBudget`] (a rebuild's fresh generation
    /// included). Feed reads stay fast only while the hot rows (cards, feeds) fit.
    ///
    /// A store from before generations had directories of their own (one sled store for
    /// every projection) is removed first: its rows are replayed from the log.
    pub fn open_with_cache(
        dir: &Path,
        log: impl Into<SharedLog>,
        cache_bytes: u64,
    ) -> Result<Self, ProjectionError> {
        let log = log.into();
        if dir.join("conf").is_file() && !dir.join("catalog").exists() {
            tracing::warn!(
                dir = %dir.display(),
                "projections stored in the old single-store layout: removing them, the log is replayed"
            );
            Generation::remove(dir)?;
        }
        sparkfeed_eventlog::durable::create_dir_all_durably(dir)
            .map_err(|e| ProjectionError::Store(sled::Error::Io(e)))?;
        let catalog = Catalog::open(dir)?;
        let mut entries = HashMap::new();
        let mut listed = Vec::new();
        let projections = crate::all();
        let cache = CacheBudget::split(cache_bytes, &projections);
        for projection in projections {
            let name = projection.name();
            let (generation, unnamed) = catalog.current_generation(dir, projection.as_ref())?;
            listed.push((name, generation));
            let share = cache.share(projection.as_ref());
            let warm_bytes =
                usize::try_from(cache.warm_share(projection.as_ref())).unwrap_or(usize::MAX);
            let store = Generation::open(Generation::dir(dir, name, generation), share)?;
            // Named only once its store is there for good: a power cut in between must not
            // leave the catalog naming a directory that is not (it did, at a first start).
            if unnamed {
                catalog.name(projection.as_ref(), generation)?;
            }
            let row_cache_bytes =
                usize::try_from(cache.row_cache_share(projection.as_ref())).unwrap_or(usize::MAX);
            let view = View::of(store).with_row_cache_bytes(row_cache_bytes);
            let (checkpoint_tx, _) = watch::channel(checkpoint(view.tree())?);
            entries.insert(
                name,
                Entry {
                    projection,
                    slot: Slot::new(view),
                    writer: Arc::default(),
                    checkpoint: checkpoint_tx,
                    warm: std::sync::Mutex::default(),
                    warm_bytes,
                },
            );
        }
        Generation::remove_unlisted(dir, &listed)?;
        Ok(Self {
            log,
            root: dir.to_owned(),
            cache,
            catalog: Arc::new(catalog),
            entries: Arc::new(entries),
            upcasters: Arc::new(upcasters()),
            replay_buffer_bytes: DEFAULT_REPLAY_BUFFER_BYTES,
            rebuild_from_events: DEFAULT_REBUILD_FROM_EVENTS,
        })
    }

    /// These projections with a rebuild holding up to about `bytes` of rows in memory (see
    /// [`DEFAULT_REPLAY_BUFFER_BYTES`]; 0 writes after every event).
    pub fn with_replay_buffer(mut self, bytes: usize) -> Self {
        self.replay_buffer_bytes = bytes;
        self
    }

    /// These projections catching up by a rebuild when they have applied nothing and the
    /// log holds at least `events` (see [`DEFAULT_REBUILD_FROM_EVENTS`]; `u64::MAX`: never).
    pub fn with_rebuild_from(mut self, events: u64) -> Self {
        self.rebuild_from_events = events;
        self
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

    /// Applies `events` to `view` in one batch from its checkpoint, committed as `commit`
    /// says (its cache forgets the rows written before this returns, so before the new
    /// checkpoint is published), with the rows `entry` kept decoded from its last batches
    /// on this generation. Answers the position after the batch.
    fn apply(
        &self,
        entry: &Entry,
        view: &View,
        events: &[RecordedEvent],
        commit: Commit,
    ) -> Result<Position, ProjectionError> {
        let decoded = self.decode(events.iter())?;
        let kept = lock(&entry.warm).take();
        let warm = match view.generation() {
            Some(generation) if entry.warm_bytes > 0 => Some(
                kept.filter(|warm| warm.is_for(generation.path()))
                    .unwrap_or_else(|| Warm::new(generation.path(), entry.warm_bytes)),
            ),
            _ => None,
        };
        let (written, from) = view.checkpoints()?;
        let mut rows = Rows::live(view, warm);
        let next = apply_to(entry.projection.as_ref(), &mut rows, from, &decoded)?;
        if commit == Commit::WhenChanged
            && rows.unchanged()
            && next.0.saturating_sub(written.0) < UNWRITTEN_AT_MOST
        {
            *lock(&entry.warm) = rows.into_warm();
            view.applied_unwritten(next);
            return Ok(next);
        }
        *lock(&entry.warm) = rows.commit(next)?;
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

    /// Brings every projection up to the log's head now, then returns the names of those
    /// it rebuilt.
    ///
    /// A projection that has applied nothing, over a log of at least
    /// [`Projections::with_rebuild_from`] events, is rebuilt first (the replay's reader
    /// thread and key-ordered write-out, [`Projections::rebuild`]); the rows are the same
    /// either way (`tests/read_side/rebuild.rs`).
    pub async fn catch_up(&self) -> Result<Vec<&'static str>, ProjectionError> {
        self.catch_up_in_batches(BATCH, |_, _| {}).await
    }

    /// [`Projections::catch_up`] in batches of `batch` events; `committed` is told each
    /// projection's checkpoint after every batch it commits (and after a rebuild).
    pub async fn catch_up_in_batches(
        &self,
        batch: usize,
        mut committed: impl FnMut(&str, Position),
    ) -> Result<Vec<&'static str>, ProjectionError> {
        let mut rebuilt = Vec::new();
        for name in self.names() {
            let entry = self.entry(name)?;
            if entry.slot.checkpoint()? == Position::START
                && self.log.head().len >= self.rebuild_from_events
            {
                self.rebuild(name, |_, _| {}).await?;
                committed(name, entry.slot.checkpoint()?);
                rebuilt.push(name);
            }
            loop {
                let _writer = entry.writer.lock().await;
                let view = entry.slot.view();
                let from = view.checkpoint()?;
                let events = self.log.read_all(from, batch.max(1))?;
                if events.is_empty() {
                    break;
                }
                let next = self.apply(entry, &view, &events, Commit::Always)?;
                entry.checkpoint.send_replace(next);
                committed(name, next);
            }
        }
        Ok(rebuilt)
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
            let at = view.checkpoint()?;
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
            from = self.apply(entry, &view, fresh, Commit::WhenChanged)?;
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

    /// The log the projections follow.
    pub fn log(&self) -> &SharedLog {
        &self.log
    }

    /// The budget their caches share ([`CacheBudget::decoded_rows_share`] is the API's).
    pub fn cache_budget(&self) -> CacheBudget {
        self.cache
    }
}

/// The warm rows of a projection, whoever held them last (a batch that panicked leaves
/// them taken: nothing to recover).
fn lock(warm: &std::sync::Mutex<Option<Warm>>) -> std::sync::MutexGuard<'_, Option<Warm>> {
    warm.lock().unwrap_or_else(|p| p.into_inner())
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
