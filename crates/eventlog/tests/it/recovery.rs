//! Opening after a crash: the tails a crash can leave, built by hand in the store, and
//! what opening makes of them (see `keys::TAIL_KEY` for the write order relied on).

use std::path::Path;

use sparkfeed_eventlog::{
    Config, EventLog, ExpectedVersion, LogError, LogHead, RecoveryReport, StreamState, keys,
};
use sparkfeed_events::{EventRecord, Position, StreamVersion, Timestamp, codec};

use crate::{append_spread, event, events, stream};

/// A log of 12 single-event appends over three streams, closed cleanly; its head.
async fn closed_log(dir: &Path) -> LogHead {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    append_spread(&log, 12, 3).await;
    log.head()
}

fn with_store<T>(dir: &Path, edit: impl FnOnce(&sled::Tree) -> T) -> T {
    let db = sled::open(dir.join("sled")).expect("raw sled opens");
    let tree = db.open_tree("log").expect("tree");
    let out = edit(&tree);
    db.flush().expect("flushes");
    out
}

/// Writes what the writer writes first for a new event at the head: the record, chained
/// properly, and its stream-index entry; not its event-id entry, not the tail marker.
fn write_unfinished_group(tree: &sled::Tree, head: LogHead) {
    let new = event(99);
    let record = EventRecord {
        position: Position(head.len),
        stream: stream("post-0"),
        version: StreamVersion(4),
        id: new.id,
        event_type: new.event_type,
        schema_version: new.schema_version,
        recorded_at: Timestamp::now(),
        metadata: new.metadata,
        payload: new.payload,
    };
    let (stored, _) = codec::seal(&record, &head.hash).expect("seals");
    tree.insert(keys::record_key(record.position), stored)
        .expect("writes");
    tree.insert(
        keys::stream_key(&record.stream, record.version),
        &keys::position_value(record.position),
    )
    .expect("writes");
}

#[tokio::test]
async fn a_group_whose_writes_did_not_all_land_is_removed_on_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = closed_log(dir.path()).await;
    with_store(dir.path(), |tree| write_unfinished_group(tree, head));

    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert_eq!(
        log.recovery(),
        RecoveryReport {
            removed_records: 1,
            reindexed_entries: 0
        }
    );
    assert_eq!(
        log.head(),
        head,
        "the unfinished group is not part of the log"
    );
    assert_eq!(
        log.stream_state(&stream("post-0")).expect("reads"),
        StreamState::At(StreamVersion(3)),
        "its stream-index entry went with it"
    );
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact(), "{report:?}");

    // The position is free again, and the stream goes on from its last real version.
    let next = log
        .append(
            &stream("post-0"),
            ExpectedVersion::Exact(StreamVersion(3)),
            events(100, 1),
        )
        .await
        .expect("appends");
    assert_eq!(next.first_position, Position(head.len));
    assert_eq!(next.first_version, StreamVersion(4));
    drop(log);

    let log = EventLog::open(Config::new(dir.path())).expect("reopens cleanly");
    assert_eq!(log.recovery(), RecoveryReport::default());
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
}

#[tokio::test]
async fn index_entries_of_groups_in_flight_at_a_crash_are_written_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = closed_log(dir.path()).await;
    with_store(dir.path(), |tree| {
        // The last two events' index entries never landed; the marker says so much.
        for position in [head.len - 2, head.len - 1] {
            let stored = tree
                .get(keys::record_key(Position(position)))
                .expect("reads")
                .expect("present");
            let record = codec::open(&stored).expect("decodes").record;
            tree.remove(keys::stream_key(&record.stream, record.version))
                .expect("removes");
            tree.remove(keys::event_key(&record.id)).expect("removes");
        }
        tree.insert(keys::TAIL_KEY, &keys::tail_value(head.len - 2, head.len))
            .expect("writes");
    });

    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert_eq!(
        log.recovery(),
        RecoveryReport {
            removed_records: 0,
            reindexed_entries: 4
        }
    );
    assert_eq!(log.head(), head);
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact(), "{report:?}");
    let last = log
        .read_event(Position(head.len - 1))
        .expect("reads")
        .expect("present");
    assert_eq!(
        log.find_event(&last.record.id).expect("finds"),
        Some(last),
        "the event-id index answers again"
    );
}

#[tokio::test]
async fn a_tail_marker_past_the_last_record_is_reported_not_guessed_at() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = closed_log(dir.path()).await;
    with_store(dir.path(), |tree| {
        // Records the marker vouches for are gone: acknowledged events were lost.
        tree.remove(keys::record_key(Position(head.len - 1)))
            .expect("removes");
    });
    match EventLog::open(Config::new(dir.path())) {
        Err(e @ LogError::Corrupt { .. }) => {
            assert!(e.to_string().contains("tail marker"), "{e}");
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a log missing acknowledged records must not open"),
    }
}

#[tokio::test]
async fn a_broken_chain_in_the_tail_stops_the_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = closed_log(dir.path()).await;
    with_store(dir.path(), |tree| {
        let key = keys::record_key(Position(head.len - 1));
        let mut bytes = tree.get(key).expect("reads").expect("present").to_vec();
        bytes[3] ^= 0x01;
        tree.insert(key, bytes).expect("writes");
        tree.insert(keys::TAIL_KEY, &keys::tail_value(head.len - 1, head.len))
            .expect("writes");
    });
    match EventLog::open(Config::new(dir.path())) {
        Err(LogError::Corrupt { position, .. }) => {
            assert_eq!(position, Some(Position(head.len - 1)));
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(_) => panic!("a broken chain must not be repaired silently"),
    }
}
