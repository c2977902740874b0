//! Raw events and rows for tests of the log and the stores under the domain, and the
//! files of a data directory (to show a reader wrote nothing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

/// Every file under `dir`, recursively, with its bytes: equal before and after, nothing
/// under `dir` was written.
pub fn files_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).expect("lists") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).expect("reads"));
            }
        }
    }
    files
}
