//! The decisions every backend's writer makes about one append, in one place: whether it
//! repeats an append already in the log, whether its expected version and conditions
//! hold, and the sealed records it becomes. The embedded writer ([`crate::writer`]) and
//! the JetStream writer (`sparkfeed-jetstream`) differ only in where stream states and
//! event ids are looked up and where the records go.

use sparkfeed_events::{
    CodecError, EventId, EventRecord, Hash, NewEvent, Position, StreamName, StreamVersion,
    Timestamp, codec,
};

use crate::{
    AppendError, AppendRefused, Appended, Condition, ExpectedVersion, LogError, StreamState,
};

/// Where an event id already is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// Its position.
    pub position: Position,
    /// Its stream.
    pub stream: StreamName,
    /// Its version in the stream.
    pub version: StreamVersion,
}

impl Placed {
    /// Where `record` is.
    pub fn of(record: &EventRecord) -> Self {
        Self {
            position: record.position,
            stream: record.stream.clone(),
            version: record.version,
        }
    }
}

/// The answer to an append of `events` to `stream` given where its ids already are
/// (`find`): the original placement when every id is in the log as exactly this append,
/// `None` when none is, `EVENT_ID_CONFLICT` for anything in between.
pub fn repeated(
    stream: &StreamName,
    events: &[NewEvent],
    mut find: impl FnMut(&EventId) -> Result<Option<Placed>, LogError>,
) -> Result<Option<Appended>, AppendError> {
    let mut found = Vec::new();
    for event in events {
        if let Some(placed) = find(&event.id)? {
            found.push((event.id, placed));
        }
    }
    let conflict = |event_id, reason| -> AppendError {
        AppendRefused::EventIdConflict { event_id, reason }.into()
    };
    let (Some((first_id, first)), Some((_, last))) = (found.first(), found.last()) else {
        return Ok(None);
    };
    if found.len() != events.len() {
        return Err(conflict(
            *first_id,
            "some of the append's event ids are in the log and some are not",
        ));
    }
    for (offset, (id, placed)) in (0u64..).zip(&found) {
        if placed.stream != *stream {
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
    Ok(Some(Appended {
        stream: stream.clone(),
        first_position: first.position,
        last_position: last.position,
        first_version: first.version,
        last_version: last.version,
        deduplicated: true,
    }))
}

/// Checks every condition, then `stream` against `expected`, with the states `state_of`
/// answers; the state of `stream` when all hold, else `WRONG_EXPECTED_VERSION` naming the
/// first stream that moved.
pub fn check_versions(
    stream: &StreamName,
    expected: ExpectedVersion,
    conditions: &[Condition],
    mut state_of: impl FnMut(&StreamName) -> Result<StreamState, LogError>,
) -> Result<StreamState, AppendError> {
    let checks = conditions
        .iter()
        .map(|c| (&c.stream, c.expected))
        .chain([(stream, expected)]);
    let mut own = StreamState::NoStream;
    for (checked, wanted) in checks {
        let actual = state_of(checked)?;
        if !actual.satisfies(wanted) {
            return Err(AppendRefused::WrongExpectedVersion {
                stream: checked.clone(),
                expected: wanted,
                actual,
            }
            .into());
        }
        own = actual;
    }
    Ok(own)
}

/// Records with their stored bytes, in log order, and the chain hash after the last.
pub type SealedRecords = (Vec<(EventRecord, Vec<u8>)>, Hash);

/// `events` as the records of `stream` from `first_position` and `first_version`, recorded
/// at `recorded_at`, each sealed onto the chain after `hash`; with the chain's new end.
pub fn seal(
    stream: &StreamName,
    first_position: Position,
    first_version: StreamVersion,
    recorded_at: Timestamp,
    events: Vec<NewEvent>,
    mut hash: Hash,
) -> Result<SealedRecords, AppendError> {
    let mut sealed = Vec::with_capacity(events.len());
    for (offset, event) in (0u64..).zip(events) {
        let record = EventRecord {
            position: Position(first_position.0 + offset),
            stream: stream.clone(),
            version: StreamVersion(first_version.0 + offset),
            id: event.id,
            event_type: event.event_type,
            schema_version: event.schema_version,
            recorded_at,
            metadata: event.metadata,
            payload: event.payload,
        };
        let (stored, next) = codec::seal(&record, &hash).map_err(|e| {
            let reason = format!("event {}: {e}", record.id);
            match e {
                CodecError::TooLarge { .. } => AppendRefused::TooLarge { reason },
                _ => AppendRefused::Invalid {
                    reason,
                    code: e.code(),
                },
            }
        })?;
        hash = next;
        sealed.push((record, stored));
    }
    Ok((sealed, hash))
}
