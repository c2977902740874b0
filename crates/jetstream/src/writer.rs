//! The writer: one task per node that folds waiting appends into one message and
//! publishes it to the shared log under an expected last stream sequence.
//!
//! Invariant: a group is checked against the local copy exactly as it was at stream
//! sequence `S` (the follower's applied sequence, read before any stream state), and
//! published with `Nats-Expected-Last-Sequence: S`. JetStream accepts it only as message
//! `S + 1`, so every expected version and condition checked still holds where it lands,
//! in every node. When another message got there first, the group is checked again once
//! the local copy has applied it: appends that no longer hold are refused, the rest go out
//! in a new message.
//! Invariant: nothing is answered as written before JetStream acknowledged the message and
//! the local copy applied it; an append that could not be published within the timeout is
//! answered `LOG_UNAVAILABLE` (retrying it with the same ids writes it once).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self};
use sha2::{Digest, Sha256};
use sparkfeed_eventlog::staging::{self, Placed};
use sparkfeed_eventlog::{
    AppendError, Appended, Condition, EventLog, ExpectedVersion, LogError, StreamState,
};
use sparkfeed_events::{EventId, Hash, NewEvent, Position, StreamName, StreamVersion, Timestamp};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::Counters;
use crate::follower::Applied;
use crate::message::Group;

/// The most bytes of records one message carries (nats-server's default maximum payload is
/// 1 MiB).
const MAX_MESSAGE_BYTES: usize = 768 * 1024;

/// One append waiting for the writer.
pub(crate) struct Request {
    pub(crate) stream: StreamName,
    pub(crate) expected: ExpectedVersion,
    pub(crate) events: Vec<NewEvent>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) reply: oneshot::Sender<Result<Appended, AppendError>>,
}

pub(crate) struct Writer {
    pub(crate) context: jetstream::Context,
    pub(crate) subject: String,
    pub(crate) local: EventLog,
    pub(crate) applied: watch::Receiver<Applied>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) timeout: Duration,
    pub(crate) max_group_events: usize,
}

/// A group being built on the local copy at one stream sequence.
struct Building {
    sequence: u64,
    first_position: u64,
    hash: Hash,
    recorded_at: Timestamp,
    heads: HashMap<StreamName, StreamState>,
    ids: HashMap<EventId, Placed>,
    appends: Vec<Vec<Vec<u8>>>,
    bytes: usize,
}

impl Writer {
    pub(crate) async fn run(self, mut queue: mpsc::Receiver<Request>) {
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            let mut events = batch.iter().map(|r| r.events.len()).sum::<usize>();
            while events < self.max_group_events {
                match queue.try_recv() {
                    Ok(more) => {
                        events += more.events.len();
                        batch.push(more);
                    }
                    Err(_) => break,
                }
            }
            self.commit(batch).await;
        }
    }

    /// Publishes `batch` as one message (or more, should it not fit in one), answering
    /// every request.
    async fn commit(&self, mut batch: Vec<Request>) {
        let deadline = Instant::now() + self.timeout;
        while !batch.is_empty() {
            let applied = self.applied.borrow().clone();
            if let Some(why) = applied.failure {
                for request in batch {
                    let _ = request
                        .reply
                        .send(Err(LogError::Stopped(why.clone()).into()));
                }
                return;
            }
            if self.local.head().len != applied.len {
                // The follower is between copying and saying so: wait for its word.
                if !self.wait(deadline, |a| a.sequence > applied.sequence).await {
                    return unavailable(
                        batch,
                        &self.counters.explain("the local copy did not catch up"),
                    );
                }
                continue;
            }
            let (accepted, building, rest) = match self.build(batch, &applied) {
                Ok(built) => built,
                Err((batch, e)) => {
                    for request in batch {
                        let _ = request
                            .reply
                            .send(Err(LogError::Stopped(e.to_string()).into()));
                    }
                    return;
                }
            };
            batch = rest;
            if accepted.is_empty() {
                continue;
            }
            match self.publish(&building, deadline).await {
                Published::Landed(sequence) => {
                    if !self.wait(deadline, |a| a.sequence >= sequence).await {
                        // What did not fit in this group is answered too, never dropped.
                        let requests = accepted.into_iter().map(|(r, _)| r).chain(batch).collect();
                        return unavailable(
                            requests,
                            &self
                                .counters
                                .explain("the local copy did not apply the message"),
                        );
                    }
                    let events: usize = accepted.iter().map(|(r, _)| r.events.len()).sum();
                    self.counters.messages.fetch_add(1, Ordering::Relaxed);
                    self.counters
                        .events
                        .fetch_add(events as u64, Ordering::Relaxed);
                    for (request, done) in accepted {
                        let _ = request.reply.send(Ok(done));
                    }
                }
                Published::Overtaken => {
                    // Another node's message landed first: check again on top of it.
                    self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                    if !self
                        .wait(deadline, |a| a.sequence > building.sequence)
                        .await
                    {
                        // What did not fit in this group is answered too, never dropped.
                        let requests = accepted.into_iter().map(|(r, _)| r).chain(batch).collect();
                        return unavailable(
                            requests,
                            &self.counters.explain("the local copy did not catch up"),
                        );
                    }
                    let mut again: Vec<Request> = accepted.into_iter().map(|(r, _)| r).collect();
                    again.append(&mut batch);
                    batch = again;
                }
                Published::Unavailable(why) => {
                    // What did not fit in this group is answered too, never dropped.
                    let requests = accepted.into_iter().map(|(r, _)| r).chain(batch).collect();
                    return unavailable(requests, &why);
                }
            }
        }
    }

    /// Waits until the follower's state passes `reached`, up to `deadline`.
    async fn wait(&self, deadline: Instant, reached: impl Fn(&Applied) -> bool) -> bool {
        let mut applied = self.applied.clone();
        let waited = tokio::time::timeout_at(
            deadline,
            applied.wait_for(|a| reached(a) || a.failure.is_some()),
        )
        .await;
        matches!(waited, Ok(Ok(a)) if a.failure.is_none())
    }

    /// Checks each request against the local copy at `applied` and seals the accepted ones
    /// into a group. Refused and deduplicated requests are answered here; the requests
    /// that did not fit are handed back.
    #[allow(clippy::type_complexity)]
    fn build(
        &self,
        batch: Vec<Request>,
        applied: &Applied,
    ) -> Result<(Vec<(Request, Appended)>, Building, Vec<Request>), (Vec<Request>, LogError)> {
        let head = self.local.head();
        let last_recorded = match head.last_position() {
            Some(p) => match self.local.read_event(p) {
                Ok(e) => e.map(|e| e.record.recorded_at),
                Err(e) => return Err((batch, e)),
            },
            None => None,
        };
        let mut building = Building {
            sequence: applied.sequence,
            first_position: head.len,
            hash: head.hash,
            recorded_at: last_recorded.map_or_else(Timestamp::now, |t| Timestamp::now().max(t)),
            heads: HashMap::new(),
            ids: HashMap::new(),
            appends: Vec::new(),
            bytes: 0,
        };
        let mut accepted = Vec::new();
        let mut rest = Vec::new();
        let mut events = 0usize;
        for request in batch {
            let size: usize = request.events.iter().map(|e| e.payload.len() + 128).sum();
            if !accepted.is_empty()
                && (building.bytes + size > MAX_MESSAGE_BYTES
                    || events + request.events.len() > self.max_group_events)
            {
                rest.push(request);
                continue;
            }
            match self.stage(&request, &mut building) {
                Ok(Staged::Written(done)) => {
                    events += request.events.len();
                    accepted.push((request, done));
                }
                Ok(Staged::Answered(done)) => {
                    let _ = request.reply.send(Ok(done));
                }
                Err(e) => {
                    let _ = request.reply.send(Err(e));
                }
            }
        }
        Ok((accepted, building, rest))
    }

    fn stage(&self, request: &Request, building: &mut Building) -> Result<Staged, AppendError> {
        let repeated = staging::repeated(&request.stream, &request.events, |id| {
            match building.ids.get(id) {
                Some(placed) => Ok(Some(placed.clone())),
                None => Ok(self.local.find_event(id)?.map(|e| Placed::of(&e.record))),
            }
        })?;
        if let Some(done) = repeated {
            return Ok(Staged::Answered(done));
        }
        let state = staging::check_versions(
            &request.stream,
            request.expected,
            &request.conditions,
            |stream| match building.heads.get(stream) {
                Some(state) => Ok(*state),
                None => self.local.stream_state(stream),
            },
        )?;
        let first_position = Position(
            building.first_position + building.appends.iter().map(Vec::len).sum::<usize>() as u64,
        );
        let first_version = state.next_version();
        let (sealed, hash) = staging::seal(
            &request.stream,
            first_position,
            first_version,
            building.recorded_at,
            request.events.clone(),
            building.hash,
        )?;
        let count = sealed.len() as u64;
        let mut stored_records = Vec::with_capacity(sealed.len());
        for (record, stored) in sealed {
            building.bytes += stored.len() + 4;
            building.ids.insert(record.id, Placed::of(&record));
            stored_records.push(stored);
        }
        building.appends.push(stored_records);
        building.hash = hash;
        let last_version = StreamVersion(first_version.0 + count - 1);
        building
            .heads
            .insert(request.stream.clone(), StreamState::At(last_version));
        Ok(Staged::Written(Appended {
            stream: request.stream.clone(),
            first_position,
            last_position: Position(first_position.0 + count - 1),
            first_version,
            last_version,
            deduplicated: false,
        }))
    }

    /// Publishes the group under its expected sequence, retrying the same message (same
    /// id: JetStream answers a repeat as a duplicate) until it is answered or the deadline.
    async fn publish(&self, building: &Building, deadline: Instant) -> Published {
        let group = Group {
            first_position: Position(building.first_position),
            appends: building.appends.clone(),
        };
        let bytes = group.encode();
        let id = message_id(&bytes);
        let mut retry = tokio::time::interval(Duration::from_millis(100));
        loop {
            let publish = PublishMessage::build()
                .payload(bytes.clone().into())
                .message_id(id.clone())
                .expected_last_sequence(building.sequence);
            let answer = match self
                .context
                .send_publish(self.subject.clone(), publish)
                .await
            {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match answer {
                Ok(ack) => return Published::Landed(ack.sequence),
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    return Published::Overtaken;
                }
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "publishing a group: retrying");
                    retry.tick().await;
                }
                Err(e) => return Published::Unavailable(e.to_string()),
            }
        }
    }
}

enum Staged {
    /// Sealed into the group.
    Written(Appended),
    /// Already in the log as exactly this append.
    Answered(Appended),
}

enum Published {
    /// JetStream stored it as this message.
    Landed(u64),
    /// Another message landed at the expected sequence first.
    Overtaken,
    /// No answer before the deadline.
    Unavailable(String),
}

/// The message id: a hash of its bytes, so a retried message is a duplicate to JetStream.
fn message_id(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn unavailable(requests: Vec<Request>, why: &str) {
    for request in requests {
        let _ = request
            .reply
            .send(Err(LogError::Unavailable(why.to_owned()).into()));
    }
}
