//! The migration from one record per key to chunks, on raw trees: every record moves
//! unchanged, and a crash anywhere in it leaves a store the next open migrates whole.

use sparkfeed_events::{EventRecord, Hash, Position, StreamName, StreamVersion, Timestamp, codec};

use super::*;
use crate::records;

fn tree() -> sled::Tree {
    let db = sled::Config::new().temporary(true).open().expect("opens");
    db.open_tree("log").expect("tree")
}

/// Writes `positions` as a layout version 1 store would hold them, chained in order;
/// answers each record's stored bytes.
fn legacy(tree: &sled::Tree, positions: impl IntoIterator<Item = u64>) -> Vec<(u64, Vec<u8>)> {
    let stream = StreamName::parse("post-1").expect("valid");
    let mut hash = Hash::GENESIS;
    let mut written = Vec::new();
    for (version, p) in (0u64..).zip(positions) {
        let new = sparkfeed_testkit::log::event(p);
        let record = EventRecord {
            position: Position(p),
            stream: stream.clone(),
            version: StreamVersion(version),
            id: new.id,
            event_type: new.event_type,
            schema_version: new.schema_version,
            recorded_at: Timestamp(1),
            metadata: new.metadata,
            // Some records large enough to fill chunks at the byte cap.
            payload: vec![7; usize::try_from(p % 5).expect("small") * 900],
        };
        let (stored, next) = codec::seal(&record, &hash).expect("seals");
        hash = next;
        written.push((p, stored));
    }
    write_legacy(tree, &written);
    written
}

/// Writes `records` as a layout version 1 store holds them.
fn write_legacy(tree: &sled::Tree, records: &[(u64, Vec<u8>)]) {
    for (p, stored) in records {
        tree.insert(keys::legacy_record_key(Position(*p)), stored.as_slice())
            .expect("writes");
    }
    tree.insert(keys::LAYOUT_KEY, &[keys::LEGACY_LAYOUT_VERSION])
        .expect("writes");
}

/// Every record is readable in chunks with its bytes unchanged, and nothing else is stored
/// in the positions around them; no `p` key is left.
fn assert_migrated(tree: &sled::Tree, written: &[(u64, Vec<u8>)]) {
    assert_eq!(layout(tree).expect("reads"), Layout::Chunks);
    assert!(
        tree.scan_prefix(keys::legacy_record_prefix())
            .next()
            .is_none()
    );
    for (p, bytes) in written {
        let stored = records::stored(tree, Position(*p))
            .expect("reads")
            .expect("present");
        assert_eq!(stored.bytes(), bytes.as_slice(), "record {p}");
    }
    let last = written.last().map(|(p, _)| *p);
    let walked: Vec<_> = records::walk(tree, Position(0), Position(u64::MAX))
        .expect("walks")
        .map(|r| r.expect("reads").position().0)
        .collect();
    assert_eq!(walked, written.iter().map(|(p, _)| *p).collect::<Vec<_>>());
    assert_eq!(
        records::last_position(tree).expect("reads"),
        last.map(Position)
    );
}

#[test]
fn a_legacy_store_moves_into_chunks_gaps_and_all() {
    let tree = tree();
    let written = legacy(&tree, (0..50).chain(52..60));
    let (found, done) = upgrade(&tree, || Ok(())).expect("migrates");
    assert_eq!(found, Layout::Chunks);
    assert_eq!((done.records, done.removed), (58, 58));
    assert!(done.chunks > 2 && done.chunks < 58, "{done:?}");
    assert_migrated(&tree, &written);
    assert!(
        records::stored(&tree, Position(50))
            .expect("reads")
            .is_none()
    );

    // A second open finds nothing to do.
    let again = upgrade(&tree, || Ok(())).expect("opens");
    assert_eq!(again, (Layout::Chunks, Upgraded::default()));
}

#[test]
fn a_store_without_a_layout_key_is_read_as_layout_1() {
    let tree = tree();
    let written = legacy(&tree, 0..10);
    tree.remove(keys::LAYOUT_KEY).expect("removes");
    assert_eq!(layout(&tree).expect("reads"), Layout::Legacy);
    upgrade(&tree, || Ok(())).expect("migrates");
    assert_migrated(&tree, &written);
}

#[test]
fn a_migration_stopped_at_any_barrier_is_finished_by_the_next_open() {
    for stop_at in 0..3 {
        let tree = tree();
        let written = legacy(&tree, 0..40);
        let mut barriers = 0;
        let stopped = upgrade(&tree, || {
            barriers += 1;
            if barriers > stop_at {
                Err(LogError::Stopped("the power went".into()))
            } else {
                Ok(())
            }
        });
        assert!(stopped.is_err(), "stopped at barrier {stop_at}");
        upgrade(&tree, || Ok(())).expect("migrates");
        assert_migrated(&tree, &written);
    }
}

/// A crash leaves a prefix of the migration's inserts: any number of its chunks (and, from
/// a migration before, chunks cut differently), or after the flip any number of `p` keys.
#[test]
fn any_prefix_of_a_migration_left_by_a_crash_is_finished_by_the_next_open() {
    let clean = tree();
    let written = legacy(&clean, 0..40);
    upgrade(&clean, || Ok(())).expect("migrates");
    let chunks: Vec<_> = clean
        .scan_prefix(keys::chunk_prefix())
        .collect::<Result<_, _>>()
        .expect("reads");
    assert!(chunks.len() > 2);

    for landed in 0..=chunks.len() {
        let tree = tree();
        write_legacy(&tree, &written);
        // A chunk cut another way, by a migration before this one.
        let stray = crate::chunk::encode([written[3].1.as_slice()]);
        tree.insert(keys::chunk_key(Position(3)), stray)
            .expect("writes");
        for (key, value) in chunks.iter().take(landed) {
            tree.insert(key, value).expect("writes");
        }
        upgrade(&tree, || Ok(())).expect("migrates");
        assert_migrated(&tree, &written);
    }

    for left in [1, 17, 40] {
        let tree = tree();
        for (key, value) in &chunks {
            tree.insert(key, value).expect("writes");
        }
        for (p, bytes) in written.iter().take(left) {
            tree.insert(keys::legacy_record_key(Position(*p)), bytes.as_slice())
                .expect("writes");
        }
        tree.insert(keys::LAYOUT_KEY, &[keys::LAYOUT_VERSION])
            .expect("writes");
        let (_, done) = upgrade(&tree, || Ok(())).expect("opens");
        assert_eq!(done.removed, u64::try_from(left).expect("small"));
        assert_migrated(&tree, &written);
    }
}

#[test]
fn an_unknown_layout_or_chunks_without_a_layout_key_are_refused() {
    let tree = tree();
    tree.insert(keys::LAYOUT_KEY, &[9]).expect("writes");
    assert!(matches!(
        upgrade(&tree, || Ok(())),
        Err(LogError::UnknownLayout { found: 9, known: 2 })
    ));
    let tree = self::tree();
    tree.insert(
        keys::chunk_key(Position(0)),
        crate::chunk::encode([b"x".as_slice()]),
    )
    .expect("writes");
    assert!(matches!(layout(&tree), Err(LogError::Corrupt { .. })));
}
