//! The envelope: what a writer hands the log, and what a reader gets back.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Actor, EventId, EventType, Hash, Position, StreamName, StreamVersion};

/// Microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Now, by the system clock.
    pub fn now() -> Self {
        let micros = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_micros()).map_or(i64::MIN, |m| -m),
        };
        Self(micros)
    }
}

/// Who caused an event and in answer to what: the metadata every event carries.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Metadata {
    /// The user or system component that acted.
    pub actor: Actor,
    /// Shared by every event that one request caused, across streams.
    pub correlation_id: EventId,
    /// The event (or command id) that directly caused this one, if any.
    pub causation_id: Option<EventId>,
}

/// An event as a writer proposes it; the log assigns stream, version, position and time.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewEvent {
    /// Chosen by the client for idempotent retries, or [`EventId::random`].
    pub id: EventId,
    /// The event's type name.
    pub event_type: EventType,
    /// The payload's schema version for this type.
    pub schema_version: u16,
    /// The payload, already encoded (see [`crate::codec::encode_payload`]) and, where it
    /// holds personal data, already sealed.
    pub payload: Vec<u8>,
    /// Actor, correlation and causation.
    pub metadata: Metadata,
}

/// Everything the log stores about one event except its chain hash.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EventRecord {
    /// Global, gap-free position.
    pub position: Position,
    /// The stream it was appended to.
    pub stream: StreamName,
    /// Its version within that stream.
    pub version: StreamVersion,
    /// Its unique id.
    pub id: EventId,
    /// Its type name.
    pub event_type: EventType,
    /// Its payload schema version.
    pub schema_version: u16,
    /// When the log recorded it; never earlier than the event before it.
    pub recorded_at: Timestamp,
    /// Actor, correlation and causation.
    pub metadata: Metadata,
    /// The encoded payload.
    pub payload: Vec<u8>,
}

/// A stored event: its record and the chain hash that seals it to every event before it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct RecordedEvent {
    /// The record.
    pub record: EventRecord,
    /// `SHA-256(previous hash || record bytes)`, see [`crate::chain`].
    pub hash: Hash,
}
