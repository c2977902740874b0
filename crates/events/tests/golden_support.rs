//! Fixture event types and the text rendering shared by the golden-log writer and its test.
//!
//! These types are the "released v1" of two fixture events, frozen with the golden log.

#![allow(dead_code, missing_docs)]

use std::fmt::Write;

use serde::{Deserialize, Serialize};
use sparkfeed_events::{EventPayload, RecordedEvent, Upcasters, codec};

/// `fixture.NoteWritten` as released at schema version 1.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct NoteWrittenV1 {
    pub text: String,
}

/// `fixture.NoteWritten` today: version 2 added `pinned`.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct NoteWritten {
    pub text: String,
    pub pinned: bool,
}

impl EventPayload for NoteWritten {
    const EVENT_TYPE: &'static str = "fixture.NoteWritten";
    const SCHEMA_VERSION: u16 = 2;
}

/// `fixture.NoteDeleted`, unchanged since version 1.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct NoteDeleted {
    pub reason: Option<String>,
}

impl EventPayload for NoteDeleted {
    const EVENT_TYPE: &'static str = "fixture.NoteDeleted";
    const SCHEMA_VERSION: u16 = 1;
}

/// The upcasters a reader of the golden log needs.
pub fn upcasters() -> Upcasters {
    let mut u = Upcasters::new();
    u.register::<NoteWritten, NoteWrittenV1, NoteWritten>(1, |v1| NoteWritten {
        pinned: v1.text.starts_with('!'),
        text: v1.text,
    });
    u
}

/// Splits a golden log file into stored records: each is a u32 little-endian length
/// followed by that many bytes.
pub fn frames(file: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    let mut rest = file;
    while !rest.is_empty() {
        let (len, tail) = rest.split_at(4);
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        let (frame, tail) = tail.split_at(len);
        frames.push(frame);
        rest = tail;
    }
    frames
}

/// One line per event, with its payload read through the current types.
pub fn render(events: &[RecordedEvent]) -> String {
    let upcasters = upcasters();
    let mut out = String::new();
    for e in events {
        let r = &e.record;
        let payload = match r.event_type.as_str() {
            "fixture.NoteWritten" => format!(
                "{:?}",
                upcasters
                    .decode_record::<NoteWritten>(r)
                    .expect("NoteWritten decodes")
            ),
            "fixture.NoteDeleted" => format!(
                "{:?}",
                upcasters
                    .decode_record::<NoteDeleted>(r)
                    .expect("NoteDeleted decodes")
            ),
            other => panic!("unexpected event type {other}"),
        };
        let causation = r
            .metadata
            .causation_id
            .map_or("-".to_owned(), |id| id.to_string());
        writeln!(
            out,
            "{} {}@{} {} v{} at={} id={} actor={} corr={} cause={} {} hash={}",
            r.position,
            r.stream,
            r.version,
            r.event_type,
            r.schema_version,
            r.recorded_at.0,
            r.id,
            r.metadata.actor,
            r.metadata.correlation_id,
            causation,
            payload,
            e.hash,
        )
        .expect("writes to a string");
    }
    out
}

/// Encodes a payload with the log codec.
pub fn payload<T: Serialize>(value: &T) -> Vec<u8> {
    codec::encode_payload(value).expect("encodes")
}
