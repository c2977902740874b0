//! The demo world's golden log and the digest of the projections replayed from it, shared
//! by the golden test (`golden_demo.rs`) and the example that writes the fixtures
//! (`examples/write_demo_golden.rs`).

use sha2::{Digest, Sha256};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::{Hash, RecordedEvent, codec};
use sparkfeed_projections::Projections;

/// Each record as a u32 little-endian length, then its stored bytes. little-endian length, then its stored bytes.
pub fn frame(records: &[RecordedEvent]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = Hash::GENESIS;
    for r in records {
        let (stored, hash) = codec::seal(&r.record, &prev).expect("seals");
        assert_eq!(hash, r.hash, "the log's chain");
        prev = hash;
        out.extend_from_slice(&u32::try_from(stored.len()).expect("small").to_le_bytes());
        out.extend_from_slice(&stored);
    }
    out
}

/// The records of a framed log.
pub fn read_world(mut bytes: &[u8]) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    while let Some((len, rest)) = bytes.split_first_chunk::<4>() {
        let (stored, rest) =
            rest.split_at(usize::try_from(u32::from_le_bytes(*len)).expect("fits"));
        out.push(codec::open(stored).expect("a golden record"));
        bytes = rest;
    }
    out
}

/// Copies `records` into a fresh log, replays every projection live from it, and answers one
/// line per projection: its name, its row count and the SHA-256 of its rows in key order.
pub async fn project(records: &[RecordedEvent]) -> String {
    let (_dir, projections) = replayed(records).await;
    let mut text = String::new();
    for name in projections.names() {
        let tree = projections.tree(name).expect("tree");
        let mut sha = Sha256::new();
        let mut rows = 0u64;
        for row in tree.iter() {
            let (k, v) = row.expect("reads");
            sha.update((k.len() as u64).to_le_bytes());
            sha.update(&k);
            sha.update((v.len() as u64).to_le_bytes());
            sha.update(&v);
            rows += 1;
        }
        let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
        text.push_str(&format!("{name} {rows} {hex}\n"));
    }
    text
}

/// `records` copied into a fresh log in a temp dir (kept alive by the answer), with every
/// projection caught up on it.
pub async fn replayed(records: &[RecordedEvent]) -> (tempfile::TempDir, Projections) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log");
    log.copy_records(records.iter().cloned())
        .await
        .expect("copies");
    let projections = Projections::open(&dir.path().join("projections"), log).expect("opens");
    projections.catch_up().await.expect("catches up");
    (dir, projections)
}
