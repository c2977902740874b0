//! The one interface the domain, the projections and the API hold a log by: [`Log`].
//!
//! Two backends implement it: [`EventLog`], the embedded sled log (the default), and the
//! NATS JetStream log of `sparkfeed-jetstream`, which replicates one shared log to every API
//! node and serves reads from a local copy of it. Whatever the backend, the contract is the
//! one this crate documents for [`EventLog`]:
//! - an append is all or nothing, checked against its stream's expected version and every
//!   [`Condition`] at the position it lands, and acknowledged only once durable;
//! - event ids are idempotent: an append whose ids are all in the log as exactly this
//!   append writes nothing and answers the original placement;
//! - positions are global and gap-free, versions contiguous per stream, and every record is
//!   hash-chained to the one before it in log order;
//! - reads and subscriptions see only durable events, and an append answered on a node is
//!   visible to every read on that node from then on (read your writes);
//! - a subscription delivers every event from its position on, in order, exactly once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sparkfeed_events::{
    EventId, Hash, NewEvent, Position, RecordedEvent, StreamName, StreamVersion,
};

use crate::{
    AppendError, Appended, Direction, EventLog, ExpectedVersion, LogError, LogHead, LogStats,
    StreamSlice, StreamState, Subscription, VerifyReport,
};

/// What an append's future answers.
pub type AppendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Appended, AppendError>> + Send + 'a>>;

/// A log shared by every part of a process.
pub type SharedLog = Arc<dyn Log>;

/// A stream an append reads but does not write. The append lands only if the stream is
/// still as the command saw it; otherwise it is refused as a wrong expected version of that
/// stream, and nothing is written.
///
/// This is how a rule that spans two streams holds across processes: a purchase is
/// conditioned on the product's version it priced, a sponsored post on its contract's.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Condition {
    /// The stream read.
    pub stream: StreamName,
    /// Where it must still be.
    pub expected: ExpectedVersion,
}

/// Which backend holds the log, and how far this process is behind it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Replication {
    /// `sled` (embedded, this process is the log) or `jetstream`.
    pub backend: &'static str,
    /// Messages in the shared log that this process has not applied yet (0 for sled).
    pub lag_messages: u64,
    /// Whether the shared log answered recently (always true for sled).
    pub connected: bool,
    /// Why this process stopped following the shared log, if it did.
    pub failure: Option<String>,
}

/// The operations every backend offers. See the module documentation for the contract.
pub trait Log: Send + Sync + 'static {
    /// Appends `events` to `stream` if it is at `expected` and every condition holds;
    /// answers once they are durable.
    fn append_when<'a>(
        &'a self,
        stream: &'a StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        conditions: Vec<Condition>,
    ) -> AppendFuture<'a>;

    /// Appends `events` to `stream` if it is at `expected`; answers once they are durable.
    fn append<'a>(
        &'a self,
        stream: &'a StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> AppendFuture<'a> {
        self.append_when(stream, expected, events, Vec::new())
    }

    /// The durable head: event count and the chain hash of the last event.
    fn head(&self) -> LogHead;

    /// What the writer has done since opening.
    fn stats(&self) -> LogStats;

    /// The backend and how far behind it this process is.
    fn replication(&self) -> Replication;

    /// Up to `max` events of the whole log from position `from` on.
    fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, LogError>;

    /// The durable event at `position`, if there is one.
    fn read_event(&self, position: Position) -> Result<Option<RecordedEvent>, LogError> {
        Ok(self.read_all(position, 1)?.pop())
    }

    /// The durable event with id `id`, if there is one.
    fn find_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, LogError>;

    /// Up to `max` events of `stream` from version `from`, in `direction`.
    fn read_stream(
        &self,
        stream: &StreamName,
        from: StreamVersion,
        direction: Direction,
        max: usize,
    ) -> Result<StreamSlice, LogError>;

    /// Where `stream` is now.
    fn stream_state(&self, stream: &StreamName) -> Result<StreamState, LogError>;

    /// Every event from `from` on, caught up and then followed live.
    fn subscribe(&self, from: Position) -> Subscription;

    /// The Merkle root (RFC 9162) of the first `size` durable records.
    fn tree_root(&self, size: u64) -> Result<Hash, LogError>;

    /// The inclusion proof of the record at `position` in the tree of the first `size`.
    fn inclusion_proof(&self, position: Position, size: u64) -> Result<Vec<Hash>, LogError>;

    /// The consistency proof from the tree of the first `from` records to that of `to`.
    fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LogError>;

    /// The bytes a durable record's Merkle leaf hashes.
    fn leaf_bytes(&self, position: Position) -> Result<Vec<u8>, LogError>;

    /// Walks the chain and the indexes of every durable event.
    fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError>;
}

impl From<EventLog> for SharedLog {
    fn from(log: EventLog) -> Self {
        Arc::new(log)
    }
}

impl Log for EventLog {
    fn append_when<'a>(
        &'a self,
        stream: &'a StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        conditions: Vec<Condition>,
    ) -> AppendFuture<'a> {
        Box::pin(EventLog::append_when(
            self, stream, expected, events, conditions,
        ))
    }

    fn head(&self) -> LogHead {
        EventLog::head(self)
    }

    fn stats(&self) -> LogStats {
        EventLog::stats(self)
    }

    fn replication(&self) -> Replication {
        Replication {
            backend: "sled",
            lag_messages: 0,
            connected: true,
            failure: None,
        }
    }

    fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, LogError> {
        EventLog::read_all(self, from, max)
    }

    fn find_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, LogError> {
        EventLog::find_event(self, id)
    }

    fn read_stream(
        &self,
        stream: &StreamName,
        from: StreamVersion,
        direction: Direction,
        max: usize,
    ) -> Result<StreamSlice, LogError> {
        EventLog::read_stream(self, stream, from, direction, max)
    }

    fn stream_state(&self, stream: &StreamName) -> Result<StreamState, LogError> {
        EventLog::stream_state(self, stream)
    }

    fn subscribe(&self, from: Position) -> Subscription {
        EventLog::subscribe(self, from)
    }

    fn tree_root(&self, size: u64) -> Result<Hash, LogError> {
        EventLog::tree_root(self, size)
    }

    fn inclusion_proof(&self, position: Position, size: u64) -> Result<Vec<Hash>, LogError> {
        EventLog::inclusion_proof(self, position, size)
    }

    fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LogError> {
        EventLog::consistency_proof(self, from, to)
    }

    fn leaf_bytes(&self, position: Position) -> Result<Vec<u8>, LogError> {
        EventLog::leaf_bytes(self, position)
    }

    fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError> {
        EventLog::verify(self, progress)
    }
}
