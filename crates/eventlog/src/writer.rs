//! The one writer: assigns positions, checks expected versions, group-commits.
//!
//! Two threads share the work:
//! - the **stager** takes every append queued since it last looked (up to
//!   `max_group_events` events), checks and encodes each one against the stream heads it
//!   holds in memory, writes the group to the tree and hands it over;
//! - the **syncer** makes groups durable with one sled flush and one fdatasync, publishes
//!   the new durable head and answers every append of them in order. Every group waiting
//!   when it starts is covered by the same sync, so while the disk is busy the stager
//!   keeps staging (at most [`STAGED_AHEAD`] groups ahead) and one sync answers them all.
//!
//! When nothing else is queued and no group is in flight, the stager makes its group
//! durable itself: a lone writer's append does not pay a hand-over between threads.
//!
//! A group is written as plain inserts in the order [`keys::TAIL_KEY`] describes (its
//! records as one chunk or a few, then index entries, then Merkle subtrees, then the tail
//! marker), not as one `sled::Batch`: sled forces its log out twice more for every batch. Recovery relies on that order to remove a group
//! that did not finish and to restore the index entries of groups still in flight.
//!
//! Invariant: positions are assigned by the stager and nowhere else, in a plain loop,
//! never inside a sled transaction (whose closure may run more than once).
//! Invariant: a refused append stages nothing: each append is encoded into a local list
//! first and joins the group only when all of it is accepted.
//! Invariant: nothing is answered as written before the syncer's flush and fdatasync
//! covering it returned; after any failure nothing more is acknowledged at all.
//! Invariant: a group is written only if the file system keeps the reserve free beyond it
//! ([`Space`]); otherwise none of it is written, its appends fail with `STORAGE_FULL`, and
//! the writer goes on (sled never saw an error, so nothing needs a reopen).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};

use sparkfeed_events::{EventId, NewEvent, Position, StreamName, StreamVersion, Timestamp, codec};
use tokio::sync::{mpsc, oneshot, watch};

use crate::chunk::Chunker;
use crate::merkle::{Frontier, Tails, leaf_of_stored};
use crate::space::{Full, Space};
use crate::staging::{self, Placed};
use crate::{AppendError, Appended, Condition, ExpectedVersion, LogError, LogHead, StreamState};
use crate::{keys, records};

/// How many sealed groups may wait for the syncer while it syncs; beyond that the stager
/// waits, and appends queue up behind it.
const STAGED_AHEAD: usize = 2;

/// Beyond this many cached stream heads the cache is dropped and refilled from the store.
const MAX_CACHED_HEADS: usize = 200_000;

/// One append waiting for the writer.
pub(crate) struct Request {
    pub(crate) stream: StreamName,
    pub(crate) expected: ExpectedVersion,
    pub(crate) events: Vec<NewEvent>,
    /// Streams the append reads but does not write, each checked like `expected`.
    pub(crate) conditions: Vec<Condition>,
    /// The time a source log recorded these events, for a byte-identical copy of it
    /// ([`crate::EventLog::copy_records`]); `None` for a new append, recorded now.
    pub(crate) recorded_at: Option<Timestamp>,
    pub(crate) reply: oneshot::Sender<Result<Appended, AppendError>>,
}

type Answer = (
    oneshot::Sender<Result<Appended, AppendError>>,
    Result<Appended, AppendError>,
);

/// Counters the writer keeps for benchmarks and metrics.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) syncs: AtomicU64,
    pub(crate) groups: AtomicU64,
    pub(crate) events: AtomicU64,
}

/// Set at the first failure; from then on nothing is acknowledged and every append fails.
#[derive(Default)]
pub(crate) struct Stop(Mutex<Option<String>>);

impl Stop {
    fn get(&self) -> Option<String> {
        self.0
            .lock()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    fn set(&self, why: String) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            tracing::error!(error = %why, "the log stops taking appends");
            *guard = Some(why);
        }
    }
}

/// What one group accumulates while it is staged.
#[derive(Default)]
struct Group {
    /// Stored records, in position order from the group's start.
    records: Vec<Vec<u8>>,
    /// Stream-index and event-id-index entries of those records.
    index: Vec<(Vec<u8>, [u8; 8])>,
    ids: HashMap<EventId, Placed>,
    heads: HashMap<StreamName, StreamState>,
    answers: Vec<Answer>,
}

impl Group {
    /// The bytes of keys and values the group writes.
    fn bytes(&self) -> u64 {
        // Each record's length prefix, and a chunk's key and header per record at worst.
        let records = self.records.iter().map(|v| v.len() + 4 + 14);
        let index = self.index.iter().map(|(k, v)| k.len() + v.len());
        // About two Merkle subtree hashes per record (a leaf, and on average one more), and
        // the last chunk of each level rewritten.
        let tree = self.records.len() * 2 * 32 + 64 * (10 + 16 * 32);
        u64::try_from(records.chain(index).sum::<usize>() + tree).unwrap_or(u64::MAX)
    }

    /// Drops the group's writes and fails with `full` every append that would have placed
    /// events at `from` or beyond: all of them but deduplicated ones pointing below it, at
    /// events already in the log.
    fn refuse(&mut self, from: u64, full: Full) {
        self.records.clear();
        self.index.clear();
        self.heads.clear();
        self.ids.clear();
        for (_, answer) in &mut self.answers {
            if matches!(answer, Ok(done) if done.last_position.0 >= from) {
                *answer = Err(LogError::from(full).into());
            }
        }
    }
}

/// The group the stager is filling: the appends and where the head was before them.
struct Open {
    group: Group,
    start: LogHead,
    start_recorded_at: Timestamp,
    events: usize,
}

/// A group applied to the tree, waiting to be made durable and answered.
struct Staged {
    answers: Vec<Answer>,
    /// The head once this group is durable.
    head: LogHead,
    events: u64,
}

/// The stager: owns positions, the chain hash and the stream heads.
pub(crate) struct Writer {
    pub(crate) tree: sled::Tree,
    pub(crate) head: LogHead,
    pub(crate) last_recorded_at: Timestamp,
    pub(crate) max_group_events: usize,
    pub(crate) heads: HashMap<StreamName, StreamState>,
    /// The largest event id in the log (bytewise). An id above it cannot be in the log, so
    /// its idempotency lookup is skipped: time-ordered ids (UUIDv7) almost always are.
    pub(crate) max_id: Option<EventId>,
    /// The durable head, as the syncer publishes it.
    pub(crate) durable: watch::Receiver<LogHead>,
    pub(crate) stop: Arc<Stop>,
    /// The free-space check made before each group is written.
    pub(crate) space: Space,
    /// The Merkle tree's right edge at `head` ([`crate::merkle`]).
    pub(crate) frontier: Frontier,
    /// The Merkle tree's last chunk of each level at `head`.
    pub(crate) tails: Tails,
}

impl Writer {
    /// Serves appends until every handle is gone, then waits for the syncer to finish.
    pub(crate) fn run(mut self, mut queue: mpsc::Receiver<Request>, syncer: Syncer) {
        let syncer = Arc::new(SharedSyncer {
            core: Mutex::new(syncer),
            in_flight: AtomicUsize::new(0),
        });
        let (staged_tx, staged_rx) = std_mpsc::sync_channel::<Staged>(STAGED_AHEAD);
        let thread = {
            let syncer = syncer.clone();
            std::thread::Builder::new()
                .name("sparkfeed-log-sync".into())
                .spawn(move || syncer.run(staged_rx))
        };
        let thread = match thread {
            Ok(handle) => handle,
            Err(e) => {
                self.stop
                    .set(format!("starting the log syncer thread: {e}"));
                while let Some(request) = queue.blocking_recv() {
                    let _ = request
                        .reply
                        .send(Err(LogError::Stopped(format!("no syncer: {e}")).into()));
                }
                return;
            }
        };
        // Take everything queued since the last group: one wake-up per group rather than
        // one per append.
        while let Some(first) = queue.blocking_recv() {
            let mut open = self.open_group();
            self.stage_request(first, &mut open);
            while open.events < self.max_group_events {
                match queue.try_recv() {
                    Ok(request) => self.stage_request(request, &mut open),
                    Err(_) => break,
                }
            }
            let staged = self.seal(open);
            // Nobody else waiting and nothing in flight: make the group durable here and
            // spare the hand-over to the syncer (a lone writer's latency).
            if queue.is_empty() && syncer.in_flight.load(Ordering::Acquire) == 0 {
                syncer.commit(vec![staged]);
                continue;
            }
            syncer.in_flight.fetch_add(1, Ordering::AcqRel);
            if staged_tx.send(staged).is_err() {
                break;
            }
        }
        drop(staged_tx);
        let _ = thread.join();
        if self.stop.get().is_none() {
            // A clean close leaves recovery nothing to look at.
            let closed = self
                .tree
                .insert(
                    keys::TAIL_KEY,
                    &keys::tail_value(self.head.len, self.head.len),
                )
                .map_err(LogError::from)
                .and_then(|_| syncer.sync());
            if let Err(e) = closed {
                tracing::warn!(error = %e, "marking the log closed");
            }
        }
        tracing::debug!("log writer stopped: every handle was dropped");
    }

    fn open_group(&self) -> Open {
        Open {
            group: Group::default(),
            start: self.head,
            start_recorded_at: self.last_recorded_at,
            events: 0,
        }
    }

    fn stage_request(&mut self, request: Request, open: &mut Open) {
        let Request {
            stream,
            expected,
            events,
            conditions,
            recorded_at,
            reply,
        } = request;
        open.events += events.len();
        let answer = match self.stop.get() {
            Some(why) => Err(LogError::Stopped(why).into()),
            None => self.stage(
                stream,
                expected,
                &conditions,
                events,
                recorded_at,
                &mut open.group,
            ),
        };
        if let Err(AppendError::Failed(e)) = &answer {
            self.stop.set(e.to_string());
        }
        open.group.answers.push((reply, answer));
    }

    /// Writes the open group to the tree and hands it over for syncing.
    fn seal(&mut self, open: Open) -> Staged {
        let Open {
            mut group,
            start,
            start_recorded_at,
            ..
        } = open;
        let mut wrote = !group.records.is_empty();
        if wrote && self.stop.get().is_none() {
            match self.space.check(group.bytes()) {
                Ok(()) => {
                    if let Err(e) = self.write(&mut group, start) {
                        self.stop.set(e.to_string());
                    }
                }
                Err(full) => {
                    // Nothing of the group is written; the log stays healthy.
                    group.refuse(start.len, full);
                    wrote = false;
                }
            }
        }
        if self.stop.get().is_some() || !wrote {
            // Nothing of this group is answered as written (stopped, refused, or it had
            // nothing to write).
            self.head = start;
            self.last_recorded_at = start_recorded_at;
        } else {
            if self.heads.len() + group.heads.len() > MAX_CACHED_HEADS {
                self.heads.clear();
            }
            self.heads.extend(group.heads.drain());
        }
        Staged {
            answers: group.answers,
            head: self.head,
            events: self.head.len - start.len,
        }
    }

    /// Writes a group in the order recovery relies on (see [`keys::TAIL_KEY`]): its records
    /// as chunks starting at the group's first position ([`crate::chunk`]), one insert each,
    /// then their index entries, then the Merkle subtrees they complete
    /// ([`crate::merkle`]), then the tail marker. Plain inserts: a sled batch would force
    /// sled's log out twice more per group.
    fn write(&mut self, group: &mut Group, start: LogHead) -> Result<(), LogError> {
        let mut subtrees = Vec::new();
        let mut chunker = Chunker::default();
        let mut chunks = Vec::new();
        for (position, stored) in (start.len..).zip(group.records.drain(..)) {
            let leaf = leaf_of_stored(Position(position), &stored)?;
            let tails = &mut self.tails;
            self.frontier.push(position, leaf, |level, index, hash| {
                tails.add(level, index, hash, &mut subtrees);
            })?;
            chunks.extend(chunker.push(Position(position), &stored));
        }
        chunks.extend(chunker.take());
        for (key, chunk) in chunks {
            self.tree.insert(key, chunk)?;
        }
        self.tails.flush(&mut subtrees);
        for (key, position) in group.index.drain(..) {
            self.tree.insert(key, &position)?;
        }
        for (key, subtree) in subtrees {
            self.tree.insert(key, subtree)?;
        }
        // Everything below the durable head was flushed whole before this group began.
        let checked_from = self.durable.borrow().len.min(start.len);
        self.tree.insert(
            keys::TAIL_KEY,
            &keys::tail_value(checked_from, self.head.len),
        )?;
        Ok(())
    }

    /// Checks one append against the log and the group so far and stages its writes.
    fn stage(
        &mut self,
        stream: StreamName,
        expected: ExpectedVersion,
        conditions: &[Condition],
        events: Vec<NewEvent>,
        recorded_at: Option<Timestamp>,
        group: &mut Group,
    ) -> Result<Appended, AppendError> {
        if let Some(done) = staging::repeated(&stream, &events, |id| self.find(id, group))? {
            return Ok(done);
        }
        let state = staging::check_versions(&stream, expected, conditions, |s| {
            self.stream_state(s, group)
        })?;
        let recorded_at =
            recorded_at.unwrap_or_else(|| Timestamp::now().max(self.last_recorded_at));
        let first_position = Position(self.head.len);
        let first_version = state.next_version();
        let (staged, hash) = staging::seal(
            &stream,
            first_position,
            first_version,
            recorded_at,
            events,
            self.head.hash,
        )?;

        let count = u64::try_from(staged.len()).unwrap_or(u64::MAX);
        for (record, stored) in staged {
            let position = keys::position_value(record.position);
            group.records.push(stored);
            for key in keys::index_keys(&record) {
                group.index.push((key, position));
            }
            self.max_id = Some(self.max_id.map_or(record.id, |max| max.max(record.id)));
            group.ids.insert(record.id, Placed::of(&record));
        }
        let last_version = StreamVersion(first_version.0 + count - 1);
        group
            .heads
            .insert(stream.clone(), StreamState::At(last_version));
        self.head = LogHead {
            len: first_position.0 + count,
            hash,
        };
        self.last_recorded_at = recorded_at;
        Ok(Appended {
            stream,
            first_position,
            last_position: Position(first_position.0 + count - 1),
            first_version,
            last_version,
            deduplicated: false,
        })
    }

    fn find(&self, id: &EventId, group: &Group) -> Result<Option<Placed>, LogError> {
        if let Some(placed) = group.ids.get(id) {
            return Ok(Some(placed.clone()));
        }
        if self.max_id.is_none_or(|max| *id > max) {
            return Ok(None);
        }
        let Some(value) = self.tree.get(keys::event_key(id))? else {
            return Ok(None);
        };
        let position = keys::position_from_value(&value).ok_or_else(|| LogError::Corrupt {
            position: None,
            reason: format!("event index entry of {id} is not a position"),
        })?;
        let stored = records::stored(&self.tree, position)?.ok_or_else(|| LogError::Corrupt {
            position: Some(position),
            reason: format!("event index points {id} at a missing record"),
        })?;
        let record = codec::open(stored.bytes()).map_err(|e| LogError::corrupt(position, e))?;
        Ok(Some(Placed::of(&record.record)))
    }

    fn stream_state(&self, stream: &StreamName, group: &Group) -> Result<StreamState, LogError> {
        if let Some(state) = group.heads.get(stream).or_else(|| self.heads.get(stream)) {
            return Ok(*state);
        }
        stored_stream_state(&self.tree, stream, u64::MAX)
    }
}

/// A stream's state as stored, counting only events at positions below `len`.
pub(crate) fn stored_stream_state(
    tree: &sled::Tree,
    stream: &StreamName,
    len: u64,
) -> Result<StreamState, LogError> {
    for entry in tree.scan_prefix(keys::stream_prefix(stream)).rev() {
        let (key, value) = entry?;
        let position = keys::position_from_value(&value);
        let version = keys::version_of_stream_key(&key);
        match (position, version) {
            (Some(p), Some(v)) if p.0 < len => return Ok(StreamState::At(v)),
            (Some(_), Some(_)) => continue,
            _ => {
                return Err(LogError::Corrupt {
                    position: None,
                    reason: format!("malformed stream index entry for {stream}"),
                });
            }
        }
    }
    Ok(StreamState::NoStream)
}

mod syncer;
#[cfg(test)]
mod tests;

use syncer::SharedSyncer;
pub(crate) use syncer::Syncer;
