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

/// Runs `edit` on the `log` tree of the closed store in `dir` with raw sled (as an
/// attacker with the files, or an older version, would), flushes, and returns once sled
/// has let go of the directory: sled 0.34.7's IO threads can hold its lock for a moment
/// after the last handle is dropped, and a log opened right then is refused `LOG_LOCKED`.
/// Panics if the lock is still held after 10 s.
pub fn edit_closed_log<T>(dir: &Path, edit: impl FnOnce(&sled::Tree) -> T) -> T {
    let sled_dir = dir.join("sled");
    // A handle of this process dropped a moment ago (a refused open too) may still hold
    // sled's lock: the eventlog's open waits that out.
    let db = sparkfeed_eventlog::sled_lock::open(&sled::Config::new().path(&sled_dir), &sled_dir)
        .expect("raw sled opens");
    let tree = db.open_tree("log").expect("tree");
    let out = edit(&tree);
    db.flush().expect("flushes");
    drop(tree);
    drop(db);
    let file = std::fs::File::open(sled_dir.join("db")).expect("sled's data file");
    let (free_tx, free) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // A blocking flock: returns as soon as sled's last IO thread closes the file.
        if file.lock().is_ok() {
            let _ = file.unlock();
        }
        drop(file);
        let _ = free_tx.send(());
    });
    free.recv_timeout(std::time::Duration::from_secs(10))
        .expect("sled lets go of its directory within 10 s");
    out
}
