//! Writes a golden log of domain events (`fixtures/golden/domain-vN.bin` and `.txt`):
//! every event of `tests/rules/golden/vN.rs`, stored as the service stores it.
//!
//! Run once per release of event schema versions or new events:
//! `cargo run -p sparkfeed-domain --example write_golden_events -- fixtures/golden [N]`
//! (N is 1 to 4; 1 by default).
//! It refuses to overwrite: a golden log is evidence of what old builds wrote, and
//! regenerating it would hide exactly the incompatibility it exists to catch.

#![allow(missing_docs)]

#[path = "../tests/rules/golden/v1.rs"]
mod v1;
#[path = "../tests/rules/golden/v2.rs"]
mod v2;
#[path = "../tests/rules/golden/v3.rs"]
mod v3;
#[path = "../tests/rules/golden/v4.rs"]
mod v4;

use std::fmt::Write;
use std::path::PathBuf;

use sparkfeed_events::{
    Actor, ActorId, EventId, EventRecord, EventType, Hash, Metadata, Position, StreamVersion,
    Timestamp, codec,
};

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: write_golden_events DIR"),
    );
    let release = std::env::args().nth(2).unwrap_or_else(|| "1".into());
    let events = match release.as_str() {
        "1" => v1::events(),
        "2" => v2::events(),
        "3" => v3::events(),
        "4" => v4::events(),
        other => panic!("no golden events for release {other}"),
    };
    let bin = dir.join(format!("domain-v{release}.bin"));
    let txt = dir.join(format!("domain-v{release}.txt"));
    assert!(
        !bin.exists() && !txt.exists(),
        "{} exists: golden logs are never regenerated",
        bin.display()
    );

    let mut file = Vec::new();
    let mut text = String::new();
    let mut prev = Hash::GENESIS;
    let mut versions = std::collections::HashMap::new();
    for (n, (stream, event)) in (0u64..).zip(events) {
        let version = versions.entry(stream.clone()).or_insert(0u64);
        // The envelope fields `Domain::write` sets: type, schema version and payload from
        // the event itself; the log assigns position, stream version and time.
        let record = EventRecord {
            position: Position(n),
            stream,
            version: StreamVersion(*version),
            id: EventId::from_bytes(u128::from(n + 1).to_be_bytes()),
            event_type: EventType::parse(event.event_type()).expect("valid"),
            schema_version: event.schema_version(),
            recorded_at: Timestamp(
                1_767_225_600_000_000 + i64::try_from(n).expect("small") * 1_000,
            ),
            metadata: Metadata {
                actor: Actor::System(ActorId::parse("golden").expect("valid")),
                correlation_id: EventId::from_bytes(u128::from(1_000 + n).to_be_bytes()),
                causation_id: None,
            },
            payload: event.encode().expect("encodes"),
        };
        *version += 1;
        let (stored, hash) = codec::seal(&record, &prev).expect("seals");
        prev = hash;
        file.extend_from_slice(&u32::try_from(stored.len()).expect("small").to_le_bytes());
        file.extend_from_slice(&stored);
        writeln!(
            text,
            "{} {}@{} {} v{} {:?} hash={}",
            record.position,
            record.stream,
            record.version,
            record.event_type,
            record.schema_version,
            event,
            hash,
        )
        .expect("writes to a string");
    }
    std::fs::write(&bin, file).expect("writes the log");
    std::fs::write(&txt, text).expect("writes the rendering");
    println!("wrote {} and {}", bin.display(), txt.display());
}
