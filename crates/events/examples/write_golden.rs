//! Writes the golden log of record format 1 (`fixtures/golden/log-v1.bin` and `.txt`).
//!
//! Run once, when a record format or event schema version is released:
//! `cargo run -p sparkfeed-events --example write_golden -- fixtures/golden`.
//! It refuses to overwrite: a golden log is evidence of what old builds wrote, and
//! regenerating it would hide exactly the incompatibility it exists to catch.

#![allow(missing_docs)]

#[path = "../tests/golden_support.rs"]
mod golden_support;

use std::path::PathBuf;

use golden_support::{NoteDeleted, NoteWrittenV1, payload, render};
use sparkfeed_events::{
    Actor, ActorId, EventId, EventRecord, EventType, Hash, Metadata, Position, RecordedEvent,
    StreamName, StreamVersion, Timestamp, codec,
};

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: write_golden DIR"));
    let bin = dir.join("log-v1.bin");
    let txt = dir.join("log-v1.txt");
    assert!(
        !bin.exists() && !txt.exists(),
        "{} exists: golden logs are never regenerated",
        bin.display()
    );

    let mut file = Vec::new();
    let mut events = Vec::new();
    let mut prev = Hash::GENESIS;
    let mut versions = [0u64; 20];
    for n in 0u64..300 {
        let note = usize::try_from(n * 7 % 20).expect("small");
        let stream = StreamName::of("note", &format!("{note:02}")).expect("valid");
        let deleting = n % 10 == 9;
        let (event_type, body) = if deleting {
            let reason = (n % 20 == 19).then(|| format!("reason {n}"));
            ("fixture.NoteDeleted", payload(&NoteDeleted { reason }))
        } else {
            let text = if n % 3 == 0 {
                format!("!pinned note {n}")
            } else {
                format!("note {n} ünïcödé")
            };
            ("fixture.NoteWritten", payload(&NoteWrittenV1 { text }))
        };
        let actor = if n % 4 == 0 {
            Actor::System(ActorId::parse("seed").expect("valid"))
        } else {
            Actor::User(ActorId::parse(&format!("u_{}", n % 13)).expect("valid"))
        };
        let record = EventRecord {
            position: Position(n),
            stream,
            version: StreamVersion(versions[note]),
            id: EventId::from_bytes(u128::from(n + 1).to_be_bytes()),
            event_type: EventType::parse(event_type).expect("valid"),
            schema_version: 1,
            recorded_at: Timestamp(
                1_767_225_600_000_000 + i64::try_from(n).expect("small") * 1_500,
            ),
            metadata: Metadata {
                actor,
                correlation_id: EventId::from_bytes(u128::from(1_000 + n / 3).to_be_bytes()),
                causation_id: (n % 3 != 0)
                    .then(|| EventId::from_bytes(u128::from(n).to_be_bytes())),
            },
            payload: body,
        };
        versions[note] += 1;
        let (stored, hash) = codec::seal(&record, &prev).expect("seals");
        prev = hash;
        file.extend_from_slice(&u32::try_from(stored.len()).expect("small").to_le_bytes());
        file.extend_from_slice(&stored);
        events.push(RecordedEvent { record, hash });
    }
    std::fs::write(&bin, file).expect("writes the log");
    std::fs::write(&txt, render(&events)).expect("writes the rendering");
    println!("wrote {} and {}", bin.display(), txt.display());
}
