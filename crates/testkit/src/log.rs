//! Raw events and rows for tests of the log and the stores under the domain.

use sparkfeed_events::{Actor, ActorId, EventId, EventType, Metadata, NewEvent};

/// An event with a random id and a small payload naming `n`: type `test.Happened`, schema
/// version 1, by the system actor `test`.
pub fn event(n: u64) -> NewEvent {
    NewEvent {
        id: EventId::random(),
        event_type: EventType::parse("test.Happened").expect("valid"),
        schema_version: 1,
        payload: n.to_le_bytes().to_vec(),
        metadata: Metadata {
            actor: Actor::System(ActorId::parse("test").expect("valid")),
            correlation_id: EventId::random(),
            causation_id: None,
        },
    }
}

/// Every row of a sled tree (a projection's, say), in key order.
pub fn rows(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
    tree.iter()
        .map(|e| {
            let (k, v) = e.expect("reads");
            (k.to_vec(), v.to_vec())
        })
        .collect()
}
