//! The one writer: assigns positions, checks expected versions, group-commits.
//!
//! Appends arrive on a bounded queue. The writer takes the first waiting append, then every
//! other one already queued (up to `max_group_events` events), checks and stages them one
//! after the other against the stream heads it holds in memory, and writes the whole group
//! with one `sled::Batch`, one flush and one fdatasync. Only then does it advance the
//! committed head and answer every append in the group.
//!
//! Invariant: positions are assigned here and nowhere else, in a plain loop, never inside a
//! sled transaction (whose closure may run more than once).
//! Invariant: a refused append stages nothing: each append is encoded into a local list
//! first and joins the batch only when all of it is accepted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sparkfeed_events::{
    EventId, EventRecord, NewEvent, Position, StreamName, StreamVersion, Timestamp, codec,
};
use tokio::sync::{mpsc, oneshot, watch};

use crate::durable::DataFiles;
use crate::keys;
use crate::{
    AppendError, AppendRefused, Appended, ExpectedVersion, LogError, LogHead, StreamState,
};

/// Beyond this many cached stream heads the cache is dropped and refilled from the store.
const MAX_CACHED_HEADS: usize = 200_000;

/// One append waiting for the writer.
pub(crate) struct Request {
    pub(crate) stream: StreamName,
    pub(crate) expected: ExpectedVersion,
    pub(crate) events: Vec<NewEvent>,
    pub(crate) reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// Counters the writer keeps for benchmarks and metrics.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) groups: AtomicU64,
    pub(crate) events: AtomicU64,
}

/// Where an event id already is.
struct Placed {
    position: Position,
    stream: StreamName,
    version: StreamVersion,
}

/// What one group commit accumulates.
#[derive(Default)]
struct Group {
    batch: sled::Batch,
    wrote: bool,
    ids: HashMap<EventId, Placed>,
    heads: HashMap<StreamName, StreamState>,
    answers: Vec<(
        oneshot::Sender<Result<Appended, AppendError>>,
        Result<Appended, AppendError>,
    )>,
}

pub(crate) struct Writer {
    pub(crate) db: sled::Db,
    pub(crate) tree: sled::Tree,
    pub(crate) files: DataFiles,
    pub(crate) head: LogHead,
    pub(crate) last_recorded_at: Timestamp,
    pub(crate) head_tx: watch::Sender<LogHead>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) max_group_events: usize,
    pub(crate) heads: HashMap<StreamName, StreamState>,
    pub(crate) stopped: Option<String>,
}

impl Writer {
    /// Serves appends until every sender is gone.
    pub(crate) fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        while let Some(first) = requests.blocking_recv() {
            let mut size = first.events.len();
            let mut pending = vec![first];
            while size < self.max_group_events {
                match requests.try_recv() {
                    Ok(next) => {
                        size += next.events.len();
                        pending.push(next);
                    }
                    Err(_) => break,
                }
            }
            self.commit_group(pending);
        }
        tracing::debug!("log writer stopped: every handle was dropped");
    }

    fn commit_group(&mut self, pending: Vec<Request>) {
        let mut group = Group::default();
        let start = (self.head, self.last_recorded_at);
        for request in pending {
            let answer = match &self.stopped {
                Some(why) => Err(LogError::Stopped(why.clone()).into()),
                None => self.stage(&request, &mut group),
            };
            if let Err(AppendError::Failed(e)) = &answer {
                self.stop(e.to_string());
            }
            group.answers.push((request.reply, answer));
        }

        if group.wrote && self.stopped.is_none() {
            if let Err(e) = self.write(std::mem::take(&mut group.batch)) {
                tracing::error!(error = %e, "group commit failed; the log stops taking appends");
                self.stop(e.to_string());
            }
        }

        if let Some(why) = &self.stopped {
            // Nothing of this group is acknowledged: the caller cannot know what reached disk.
            for (_, answer) in &mut group.answers {
                if answer.is_ok() {
                    *answer = Err(LogError::Stopped(why.clone()).into());
                }
            }
            (self.head, self.last_recorded_at) = start;
        } else if group.wrote {
            let events = self.head.len - start.0.len;
            self.counters.groups.fetch_add(1, Ordering::Relaxed);
            self.counters.events.fetch_add(events, Ordering::Relaxed);
            if self.heads.len() + group.heads.len() > MAX_CACHED_HEADS {
                self.heads.clear();
            }
            self.heads.extend(group.heads.drain());
            self.head_tx.send_replace(self.head);
        }

        for (reply, answer) in group.answers {
            // The caller may have stopped waiting; the append stands either way.
            let _ = reply.send(answer);
        }
    }

    fn stop(&mut self, why: String) {
        if self.stopped.is_none() {
            self.stopped = Some(why);
        }
    }

    /// The durability barrier: apply, flush, fdatasync.
    fn write(&mut self, batch: sled::Batch) -> Result<(), LogError> {
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        self.files.sync()
    }

    /// Checks one append against the log and the group so far and stages its writes.
    fn stage(&mut self, request: &Request, group: &mut Group) -> Result<Appended, AppendError> {
        if let Some(done) = self.already_appended(request, group)? {
            return Ok(done);
        }
        let state = self.stream_state(&request.stream, group)?;
        if !state.satisfies(request.expected) {
            return Err(AppendRefused::WrongExpectedVersion {
                stream: request.stream.clone(),
                expected: request.expected,
                actual: state,
            }
            .into());
        }

        let recorded_at = Timestamp::now().max(self.last_recorded_at);
        let first_position = Position(self.head.len);
        let first_version = state.next_version();
        let mut hash = self.head.hash;
        let mut staged = Vec::with_capacity(request.events.len());
        for (offset, event) in (0u64..).zip(&request.events) {
            let record = EventRecord {
                position: Position(first_position.0 + offset),
                stream: request.stream.clone(),
                version: StreamVersion(first_version.0 + offset),
                id: event.id,
                event_type: event.event_type.clone(),
                schema_version: event.schema_version,
                recorded_at,
                metadata: event.metadata.clone(),
                payload: event.payload.clone(),
            };
            let (stored, next_hash) =
                codec::seal(&record, &hash).map_err(|e| AppendRefused::Invalid {
                    reason: format!("event {}: {e}", event.id),
                    code: e.code(),
                })?;
            hash = next_hash;
            staged.push((record, stored));
        }

        let count = u64::try_from(staged.len()).unwrap_or(u64::MAX);
        for (record, stored) in staged {
            let position = keys::position_value(record.position);
            group
                .batch
                .insert(&keys::record_key(record.position), stored);
            group
                .batch
                .insert(keys::stream_key(&record.stream, record.version), &position);
            group.batch.insert(&keys::event_key(&record.id), &position);
            group.ids.insert(
                record.id,
                Placed {
                    position: record.position,
                    stream: record.stream,
                    version: record.version,
                },
            );
        }
        group.wrote = true;
        let last_version = StreamVersion(first_version.0 + count - 1);
        group
            .heads
            .insert(request.stream.clone(), StreamState::At(last_version));
        self.head = LogHead {
            len: first_position.0 + count,
            hash,
        };
        self.last_recorded_at = recorded_at;
        Ok(Appended {
            stream: request.stream.clone(),
            first_position,
            last_position: Position(first_position.0 + count - 1),
            first_version,
            last_version,
            deduplicated: false,
        })
    }

    /// If every event id of `request` is already in the log as exactly this append, the
    /// original placement; if none is, `None`; anything in between is a conflict.
    fn already_appended(
        &self,
        request: &Request,
        group: &Group,
    ) -> Result<Option<Appended>, AppendError> {
        let mut found = Vec::new();
        for event in &request.events {
            if let Some(placed) = self.find(&event.id, group)? {
                found.push((event.id, placed));
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        let conflict = |event_id, reason| -> AppendError {
            AppendRefused::EventIdConflict { event_id, reason }.into()
        };
        if found.len() != request.events.len() {
            let first = found[0].0;
            return Err(conflict(
                first,
                "some of the append's event ids are in the log and some are not",
            ));
        }
        let (_, first) = &found[0];
        for (offset, (id, placed)) in (0u64..).zip(&found) {
            if placed.stream != request.stream {
                return Err(conflict(*id, "the id was appended to another stream"));
            }
            if placed.position.0 != first.position.0 + offset
                || placed.version.0 != first.version.0 + offset
            {
                return Err(conflict(
                    *id,
                    "the ids were appended in another order or split",
                ));
            }
        }
        let (_, last) = &found[found.len() - 1];
        Ok(Some(Appended {
            stream: request.stream.clone(),
            first_position: first.position,
            last_position: last.position,
            first_version: first.version,
            last_version: last.version,
            deduplicated: true,
        }))
    }

    fn find(&self, id: &EventId, group: &Group) -> Result<Option<Placed>, LogError> {
        if let Some(p) = group.ids.get(id) {
            return Ok(Some(Placed {
                position: p.position,
                stream: p.stream.clone(),
                version: p.version,
            }));
        }
        let Some(value) = self.tree.get(keys::event_key(id))? else {
            return Ok(None);
        };
        let position = keys::position_from_value(&value).ok_or_else(|| LogError::Corrupt {
            position: None,
            reason: format!("event index entry of {id} is not a position"),
        })?;
        let stored =
            self.tree
                .get(keys::record_key(position))?
                .ok_or_else(|| LogError::Corrupt {
                    position: Some(position),
                    reason: format!("event index points {id} at a missing record"),
                })?;
        let record = codec::open(&stored).map_err(|e| LogError::corrupt(position, e))?;
        Ok(Some(Placed {
            position,
            stream: record.record.stream,
            version: record.record.version,
        }))
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
