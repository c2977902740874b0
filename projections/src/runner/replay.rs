//! Rebuilds: a projection replayed from zero into a fresh generation while the served one
//! keeps serving, then swapped in.

use std::time::{Duration, Instant};

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_events::RecordedEvent;

use super::{Projections, apply_to};
use crate::cache::{Source, View};
use crate::store::{Generation, Rows, checkpoint};
use crate::{Projection, ProjectionError};

/// Events per batch a replay reads and decodes. Small enough that a batch's vectors stay
/// ordinary allocations that the allocator recycles warm: at 8,192 events they were large
/// blocks, mapped fresh and zeroed by the kernel for every batch.
const REPLAY_BATCH: usize = 1024;

/// Batches a replay reads and decodes ahead of the one being applied.
const READ_AHEAD: usize = 16;

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

impl Projections {
    /// Replays projection `name` from zero into a fresh store and swaps it in; the old one
    /// serves reads until the swap. `progress` is told (done, total) now and then.
    pub async fn rebuild(
        &self,
        name: &str,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<RebuildReport, ProjectionError> {
        let entry = self.entry(name)?;
        let started = Instant::now();
        let generation =
            crate::catalog::next_generation(name, self.catalog.generation(name)?.unwrap_or(0))?;
        let fresh_dir = Generation::dir(&self.root, name, generation);
        Generation::remove(&fresh_dir)?;
        let share = self.cache.share(entry.projection.as_ref());
        let row_cache_bytes =
            usize::try_from(self.cache.row_cache_share(entry.projection.as_ref()))
                .unwrap_or(usize::MAX);
        let fresh =
            View::of(Generation::open(fresh_dir, share)?).with_row_cache_bytes(row_cache_bytes);
        // Replay without holding the writer: the live tree keeps serving and advancing.
        let mut replayed = self
            .replay(
                entry.projection.as_ref(),
                &fresh,
                Keep::Written,
                &mut progress,
            )?
            .events;
        // Then catch up the last few events and swap, with the live runner paused.
        let _writer = entry.writer.lock().await;
        replayed += self
            .replay(
                entry.projection.as_ref(),
                &fresh,
                Keep::Written,
                &mut |_, _| {},
            )?
            .events;
        // The fresh store was written without batches: durable in full before the catalog
        // names it, so a crash or a power cut after the swap never finds half of it.
        if let Some(g) = fresh.generation() {
            g.sync()?;
        }
        self.catalog.name(entry.projection.as_ref(), generation)?;
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

    /// Replays projection `name` from zero with every row held in memory, none written to a
    /// store and none read back from one, then drops them: what a rebuild would take if the
    /// store cost nothing. A measuring instrument (`sparkfeed bench projections
    /// --in-memory`), which tells a projection's own work from its store's. Nothing is
    /// swapped in: the served tree, its checkpoint and the catalog are untouched.
    ///
    /// It holds the projection's whole state in memory while it runs (about 560 MiB for
    /// `feeds` at 10^6 events). The time reported ends when the last event is applied,
    /// before the rows are freed.
    pub fn replay_in_memory(&self, name: &str) -> Result<RebuildReport, ProjectionError> {
        let entry = self.entry(name)?;
        let started = Instant::now();
        // An empty tree to stand behind the rows: every read misses it, as every row the
        // replay made is still in memory.
        let scratch = sled::Config::new()
            .temporary(true)
            .cache_capacity(1 << 20)
            .open()?;
        let view = View::new(sled::Tree::clone(&scratch));
        let replayed = self.replay(
            entry.projection.as_ref(),
            &view,
            Keep::InMemory,
            &mut |_, _| {},
        )?;
        Ok(RebuildReport {
            events: replayed.events,
            elapsed: replayed.applied_at.saturating_duration_since(started),
        })
    }

    /// Applies the log to `view` from its checkpoint to the head; answers how many events,
    /// and when the last was applied (and, for [`Keep::Written`], written). Only for a tree
    /// no reader sees yet (a rebuild's fresh generation): rows are written by
    /// [`Rows::write_unserved`].
    ///
    /// Two stages on two threads: one reads and decodes the next batches of the log (at
    /// most [`READ_AHEAD`] ahead) while this one applies and writes the current batch.
    /// Each batch applied goes back to the reader to be freed: freeing it was about a
    /// tenth of the applying thread's time (each free a cross-thread free, as the reader
    /// allocated it), and the applying thread is what bounds most rebuilds. The reader
    /// frees them before it reads the next batch, so no more than about [`READ_AHEAD`] of
    /// them ever wait.
    fn replay(
        &self,
        projection: &dyn Projection,
        view: &View,
        keep: Keep,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Replayed, ProjectionError> {
        let start = checkpoint(view.tree())?;
        std::thread::scope(|scope| {
            let (batches, ready) = std::sync::mpsc::sync_channel(READ_AHEAD);
            let (spend, spent) = std::sync::mpsc::channel::<Vec<(RecordedEvent, DomainEvent)>>();
            let reader = std::thread::Builder::new().name("sparkfeed-replay".into());
            reader
                .spawn_scoped(scope, move || {
                    let mut from = start;
                    loop {
                        spent.try_iter().for_each(drop);
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
            self.apply_batches(projection, view, ready, &spend, keep, progress)
        })
    }

    /// Applies the decoded batches of `ready` to `view`, an unserved tree: the rows are held
    /// in memory across batches (up to [`Projections::with_replay_buffer`]); a full buffer
    /// writes out the rows written whole and keeps those changed in place while they fit
    /// ([`Rows::make_room_unserved`]); after each batch the rows written whole go out in
    /// the background once there are enough of them ([`Rows::spill_unserved`]); at the end
    /// every row is written, in key order, with the checkpoint reached. With
    /// [`Keep::InMemory`] no row is ever written.
    fn apply_batches(
        &self,
        projection: &dyn Projection,
        view: &View,
        ready: std::sync::mpsc::Receiver<
            Result<Vec<(RecordedEvent, DomainEvent)>, ProjectionError>,
        >,
        spend: &std::sync::mpsc::Sender<Vec<(RecordedEvent, DomainEvent)>>,
        keep: Keep,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Replayed, ProjectionError> {
        let mut replayed = 0u64;
        let mut rows = match keep {
            Keep::Written => Rows::unserved(view),
            Keep::InMemory => Rows::new(view),
        };
        let mut next = checkpoint(view.tree())?;
        for events in ready {
            let events = events?;
            if events.is_empty() {
                break;
            }
            replayed += events.len() as u64;
            for event in &events {
                next = apply_to(projection, &mut rows, next, std::slice::from_ref(event))?;
                if keep == Keep::Written && rows.buffered_bytes() > self.replay_buffer_bytes {
                    rows.make_room_unserved(self.replay_buffer_bytes)?;
                }
            }
            // To the reader, to be freed there (here, if it has stopped).
            drop(spend.send(events));
            if keep == Keep::Written {
                rows.spill_unserved(self.replay_buffer_bytes)?;
            }
            progress(replayed, self.log.head().len);
        }
        if keep == Keep::Written {
            rows.write_unserved(next)?;
        }
        Ok(Replayed {
            events: replayed,
            applied_at: Instant::now(),
        })
    }
}

/// What a replay does with its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// Written to the unserved tree: the rows written whole when the buffer is full, every
    /// row at the end.
    Written,
    /// Held in memory to the end and never written ([`Projections::replay_in_memory`]).
    InMemory,
}

/// What one replay did.
struct Replayed {
    events: u64,
    /// When the last event was applied and, if they are written, its rows were.
    applied_at: Instant,
}
