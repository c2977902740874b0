//! Payloads as the domain reads them: the first byte picks a `DomainEvent` type (and, from
//! its top bits, a schema version around the current one), the rest is the payload. Any
//! payload decodes through the upcasters or is refused, never a panic; one that decodes
//! at the current version encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_events::{
    Actor, ActorId, EventId, EventRecord, EventType, Hash, Metadata, Position, RecordedEvent,
    StreamName, StreamVersion, Timestamp,
};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let types = DomainEvent::EVENT_TYPES;
    let event_type = types[usize::from(pick) % types.len()];
    // Versions 0 (never written), 1 (current) and 2 (from a future build).
    let schema_version = u16::from(pick >> 6) % 3;
    let event = RecordedEvent {
        record: EventRecord {
            position: Position(0),
            stream: StreamName::parse("fuzz-0").expect("stream"),
            version: StreamVersion(0),
            id: EventId::from_bytes([1; 16]),
            event_type: EventType::parse(event_type).expect("event type"),
            schema_version,
            recorded_at: Timestamp(0),
            metadata: Metadata {
                actor: Actor::System(ActorId::parse("fuzz").expect("actor")),
                correlation_id: EventId::from_bytes([2; 16]),
                causation_id: None,
            },
            payload: payload.to_vec(),
        },
        hash: Hash::GENESIS,
    };
    match DomainEvent::decode(&upcasters(), &event) {
        Ok(domain) => {
            assert_eq!(domain.event_type(), event_type);
            assert_eq!(
                domain.schema_version(),
                schema_version,
                "only current versions decode"
            );
            assert_eq!(
                domain.encode().expect("encodes"),
                payload,
                "one encoding per payload"
            );
        }
        Err(e) => {
            let _ = e.code();
        }
    }
});
