//! The one codec between records and stored bytes.
//!
//! A stored record is `[format byte][body][32-byte chain hash]`. Format 1's body is the
//! bincode 1.3 encoding (fixed-width little-endian integers, no trailing bytes) of
//! `RecordV1` below. A new format gets a new byte and a new body type; readers keep
//! decoding every older byte, so an old log never needs rewriting.
//!
//! Payloads are encoded with the same bincode options ([`encode_payload`]); bincode is not
//! self-describing, so a payload is only readable together with the event type and schema
//! version in its envelope (see [`crate::upcast`]).

use bincode::Options;
use serde::{Deserialize, Serialize};

use crate::{
    Actor, ActorId, CodecError, EventId, EventRecord, EventType, Hash, Metadata, Position,
    RecordedEvent, StreamName, StreamVersion, Timestamp,
};

/// The format byte of records written by this build.
pub const FORMAT_V1: u8 = 1;

/// The largest record body (format byte included) the log accepts: 64 KiB.
///
/// Far below sled's inline-value threshold (a quarter of a 512 KiB segment), so no record
/// is ever written to a separate blob file.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

const HASH_LEN: usize = 32;

/// The bincode options of every stored byte: fixed-width little-endian integers, trailing
/// bytes refused, and a size limit so corrupt length prefixes cannot allocate gigabytes.
fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_little_endian()
        .reject_trailing_bytes()
        .with_limit(u64::try_from(MAX_RECORD_BYTES).unwrap_or(u64::MAX))
}

/// Format 1's body. Field order and types are frozen: change them only in a new format.
#[derive(Serialize, Deserialize)]
struct RecordV1 {
    position: u64,
    stream: String,
    version: u64,
    event_id: [u8; 16],
    event_type: String,
    schema_version: u16,
    recorded_at_micros: i64,
    actor: ActorV1,
    correlation_id: [u8; 16],
    causation_id: Option<[u8; 16]>,
    payload: Vec<u8>,
}

/// Format 1's actor. Variant order is frozen.
#[derive(Serialize, Deserialize)]
enum ActorV1 {
    System(String),
    User(String),
}

/// The record bytes (format byte and body) of `record`, as they are hashed and stored.
pub fn encode_record(record: &EventRecord) -> Result<Vec<u8>, CodecError> {
    let body = RecordV1 {
        position: record.position.0,
        stream: record.stream.as_str().to_owned(),
        version: record.version.0,
        event_id: *record.id.as_bytes(),
        event_type: record.event_type.as_str().to_owned(),
        schema_version: record.schema_version,
        recorded_at_micros: record.recorded_at.0,
        actor: match &record.metadata.actor {
            Actor::System(id) => ActorV1::System(id.as_str().to_owned()),
            Actor::User(id) => ActorV1::User(id.as_str().to_owned()),
        },
        correlation_id: *record.metadata.correlation_id.as_bytes(),
        causation_id: record.metadata.causation_id.map(|id| *id.as_bytes()),
        payload: record.payload.clone(),
    };
    let mut bytes = Vec::with_capacity(64 + record.payload.len());
    bytes.push(FORMAT_V1);
    options()
        .serialize_into(&mut bytes, &body)
        .map_err(|e| match *e {
            bincode::ErrorKind::SizeLimit => too_large(&body, 1),
            _ => CodecError::Malformed(e.to_string()),
        })?;
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            max: MAX_RECORD_BYTES,
        });
    }
    Ok(bytes)
}

/// Decodes record bytes (format byte and body) into a record.
pub fn decode_record(bytes: &[u8]) -> Result<EventRecord, CodecError> {
    let (&format, body) = bytes
        .split_first()
        .ok_or(CodecError::Truncated { len: 0 })?;
    match format {
        FORMAT_V1 => {
            let v1: RecordV1 = options().deserialize(body)?;
            Ok(EventRecord {
                position: Position(v1.position),
                stream: StreamName::parse(&v1.stream)?,
                version: StreamVersion(v1.version),
                id: EventId::from_bytes(v1.event_id),
                event_type: EventType::parse(&v1.event_type)?,
                schema_version: v1.schema_version,
                recorded_at: Timestamp(v1.recorded_at_micros),
                metadata: Metadata {
                    actor: match v1.actor {
                        ActorV1::System(id) => Actor::System(ActorId::parse(&id)?),
                        ActorV1::User(id) => Actor::User(ActorId::parse(&id)?),
                    },
                    correlation_id: EventId::from_bytes(v1.correlation_id),
                    causation_id: v1.causation_id.map(EventId::from_bytes),
                },
                payload: v1.payload,
            })
        }
        other => Err(CodecError::UnknownFormat(other)),
    }
}

/// Encodes `record`, chains it after `prev`, and returns the stored bytes and its hash.
pub fn seal(record: &EventRecord, prev: &Hash) -> Result<(Vec<u8>, Hash), CodecError> {
    let mut bytes = encode_record(record)?;
    let hash = prev.link(&bytes);
    bytes.extend_from_slice(&hash.0);
    Ok((bytes, hash))
}

/// Stored bytes split into the record bytes and the hash stored after them, undecoded.
pub struct Stored<'a> {
    /// Format byte and body: what the chain hash covers.
    pub record_bytes: &'a [u8],
    /// The hash stored with the record.
    pub hash: Hash,
}

/// Splits stored bytes without decoding the body.
pub fn split(stored: &[u8]) -> Result<Stored<'_>, CodecError> {
    if stored.len() <= HASH_LEN {
        return Err(CodecError::Truncated { len: stored.len() });
    }
    let (record_bytes, hash) = stored.split_at(stored.len() - HASH_LEN);
    let mut h = [0u8; HASH_LEN];
    h.copy_from_slice(hash);
    Ok(Stored {
        record_bytes,
        hash: Hash(h),
    })
}

/// Decodes stored bytes into the event they hold (the hash is read, not checked).
pub fn open(stored: &[u8]) -> Result<RecordedEvent, CodecError> {
    let Stored { record_bytes, hash } = split(stored)?;
    Ok(RecordedEvent {
        record: decode_record(record_bytes)?,
        hash,
    })
}

/// Encodes an event payload with the log's bincode options.
pub fn encode_payload<T: Serialize>(payload: &T) -> Result<Vec<u8>, CodecError> {
    options().serialize(payload).map_err(|e| match *e {
        bincode::ErrorKind::SizeLimit => too_large(payload, 0),
        _ => CodecError::Malformed(e.to_string()),
    })
}

/// The refusal of `value`, over the limit once encoded after `before` bytes: its encoded
/// size, measured again without the limit (an encoding stopped at the limit does not say
/// how far over it the value is, and the message goes back to whoever sent it).
fn too_large<T: Serialize + ?Sized>(value: &T, before: usize) -> CodecError {
    let len = options()
        .with_no_limit()
        .serialized_size(value)
        .ok()
        .and_then(|len| usize::try_from(len).ok())
        .map_or(usize::MAX, |len| len.saturating_add(before));
    CodecError::TooLarge {
        len,
        max: MAX_RECORD_BYTES,
    }
}

/// Decodes an event payload written by [`encode_payload`] for the same type and version
/// (or a type laid out the same that borrows its strings from `bytes`).
pub fn decode_payload<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, CodecError> {
    Ok(options().deserialize(bytes)?)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn record(payload: Vec<u8>, causation: Option<EventId>) -> EventRecord {
        EventRecord {
            position: Position(7),
            stream: StreamName::parse("post-42").expect("valid"),
            version: StreamVersion(3),
            id: EventId::from_bytes([1; 16]),
            event_type: EventType::parse("PostPublished").expect("valid"),
            schema_version: 2,
            recorded_at: Timestamp(1_700_000_000_000_000),
            metadata: Metadata {
                actor: Actor::User(ActorId::parse("u_1").expect("valid")),
                correlation_id: EventId::from_bytes([2; 16]),
                causation_id: causation,
            },
            payload,
        }
    }

    proptest! {
        #[test]
        fn sealed_records_open_to_themselves(
            payload in proptest::collection::vec(any::<u8>(), 0..2048),
            causation in proptest::option::of(any::<[u8; 16]>()),
            prev in any::<[u8; 32]>(),
        ) {
            let r = record(payload, causation.map(EventId::from_bytes));
            let (stored, hash) = seal(&r, &Hash(prev)).expect("seals");
            prop_assert_eq!(stored[0], FORMAT_V1);
            let opened = open(&stored).expect("opens");
            prop_assert_eq!(&opened.record, &r);
            prop_assert_eq!(opened.hash, hash);
            prop_assert_eq!(Hash(prev).link(split(&stored).expect("splits").record_bytes), hash);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = open(&bytes);
        }
    }

    #[test]
    fn unknown_formats_and_short_records_are_refused() {
        let (mut stored, _) = seal(&record(vec![1, 2, 3], None), &Hash::GENESIS).expect("seals");
        stored[0] = 99;
        assert!(matches!(open(&stored), Err(CodecError::UnknownFormat(99))));
        assert!(matches!(
            open(&[1; 32]),
            Err(CodecError::Truncated { len: 32 })
        ));
    }

    #[test]
    fn oversized_records_are_refused_saying_how_large_they_are() {
        let err = seal(&record(vec![0; MAX_RECORD_BYTES], None), &Hash::GENESIS).unwrap_err();
        assert_eq!(err.code(), "RECORD_TOO_LARGE");
        let CodecError::TooLarge { len, max } = err else {
            panic!("{err:?}")
        };
        assert_eq!(max, MAX_RECORD_BYTES);
        // The payload, its 8-byte length, and the format byte and the envelope.
        assert!(
            len > MAX_RECORD_BYTES + 8 && len < MAX_RECORD_BYTES + 200,
            "{len}"
        );

        let err = encode_payload(&vec![7u8; 100_000]).unwrap_err();
        assert!(
            matches!(err, CodecError::TooLarge { len: 100_008, max } if max == MAX_RECORD_BYTES),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("record is 100008 bytes, more than the maximum of {MAX_RECORD_BYTES}")
        );
    }
}
