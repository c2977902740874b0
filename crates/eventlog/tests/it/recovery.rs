//! Opening after a crash: the tails a crash can leave, built by hand in the store, and
//! what opening makes of them (see `keys::TAIL_KEY` for the write order relied on).

use std::path::Path;

use sparkfeed_eventlog::{
    Config, EventLog, ExpectedVersion, LogError, LogHead, RecoveryReport, StreamState, chunk, keys,
    records,
};
use sparkfeed_events::{EventRecord, Position, StreamVersion, Timestamp, codec};

use crate::{append_spread, event, events, stream};
use sparkfeed_testkit::log::edit_closed_log;

/// A log of 12 single-event appends over three streams, closed cleanly; its head.
async fn closed_log(dir: &Path) -> LogHead {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    append_spread(&log, 12, 3).await;
    log.head()
}

/// Writes what the writer writes first for a new event at the head: the record's chunk,
/// chained properly, and its stream-index entry; not its event-id entry, not the tail
/// marker.
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
    tree.insert(
        keys::chunk_key(record.position),
        chunk::encode([stored.as_slice()]),
    )
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
    edit_closed_log(dir.path(), |tree| write_unfinished_group(tree, head));

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
    edit_closed_log(dir.path(), |tree| {
        // The last two events' index entries never landed; the marker says so much.
        for position in [head.len - 2, head.len - 1] {
            let stored = records::stored(tree, Position(position))
                .expect("reads")
                .expect("present");
            let record = codec::open(stored.bytes()).expect("decodes").record;
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
    edit_closed_log(dir.path(), |tree| {
        // Records the marker vouches for are gone: acknowledged events were lost.
        records::remove_stored(tree, Position(head.len - 1)).expect("removes");
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
    edit_closed_log(dir.path(), |tree| {
        let last = Position(head.len - 1);
        let stored = records::stored(tree, last)
            .expect("reads")
            .expect("present");
        let mut bytes = stored.bytes().to_vec();
        bytes[3] ^= 0x01;
        records::rewrite_stored(tree, last, &bytes).expect("writes");
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

/// The first positions of the chunks in `tree` from `from` on.
fn chunk_keys_from(tree: &sled::Tree, from: u64) -> Vec<Position> {
    tree.range(keys::chunk_key(Position(from))..=keys::chunk_key(Position(u64::MAX)))
        .keys()
        .map(|k| keys::position_of_chunk_key(&k.expect("reads")).expect("a chunk key"))
        .collect()
}

#[tokio::test]
async fn a_group_of_several_chunks_cut_short_after_its_first_chunk_is_removed_on_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = closed_log(dir.path()).await;
    {
        let log = EventLog::open(Config::new(dir.path())).expect("opens");
        let big: Vec<_> = (0..6)
            .map(|n| {
                let mut e = event(200 + n);
                e.payload = vec![1; 3000];
                e
            })
            .collect();
        log.append(&stream("post-7"), ExpectedVersion::NoStream, big)
            .await
            .expect("appends");
    }
    edit_closed_log(dir.path(), |tree| {
        let chunks = chunk_keys_from(tree, head.len);
        assert!(chunks.len() > 1, "a group past the byte cap: {chunks:?}");
        // A crash after the group's first chunk landed: nothing written after it did.
        for position in head.len..head.len + 6 {
            let stored = records::stored(tree, Position(position))
                .expect("reads")
                .expect("present");
            let record = codec::open(stored.bytes()).expect("decodes").record;
            for key in keys::index_keys(&record) {
                tree.remove(key).expect("removes");
            }
        }
        for first in chunks.iter().skip(1) {
            tree.remove(keys::chunk_key(*first)).expect("removes");
        }
        tree.insert(keys::TAIL_KEY, &keys::tail_value(head.len, head.len))
            .expect("writes");
    });

    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert!(log.recovery().removed_records > 0, "{:?}", log.recovery());
    assert_eq!(log.head(), head);
    assert_eq!(
        log.stream_state(&stream("post-7")).expect("reads"),
        StreamState::NoStream
    );
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact(), "{report:?}");
}

#[tokio::test]
async fn a_chunk_reaching_past_a_lowered_tail_marker_is_cut_short_on_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = closed_log(dir.path()).await;
    {
        let log = EventLog::open(Config::new(dir.path())).expect("opens");
        log.append(&stream("post-8"), ExpectedVersion::NoStream, events(300, 9))
            .await
            .expect("appends");
    }
    let end = head.len + 3;
    edit_closed_log(dir.path(), |tree| {
        assert_eq!(chunk_keys_from(tree, head.len), [Position(head.len)]);
        tree.insert(keys::TAIL_KEY, &keys::tail_value(end, end))
            .expect("writes");
    });

    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert_eq!(
        log.recovery(),
        RecoveryReport {
            removed_records: 6,
            reindexed_entries: 0
        }
    );
    assert_eq!(log.head().len, end);
    assert_eq!(
        log.stream_state(&stream("post-8")).expect("reads"),
        StreamState::At(StreamVersion(2))
    );
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
    let next = log
        .append(
            &stream("post-8"),
            ExpectedVersion::Exact(StreamVersion(2)),
            events(400, 2),
        )
        .await
        .expect("appends");
    assert_eq!(next.first_position, Position(end));
    drop(log);
    let log = EventLog::open(Config::new(dir.path())).expect("reopens cleanly");
    assert_eq!(log.recovery(), RecoveryReport::default());
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
    assert_eq!(log.read_all(Position(0), 100).expect("reads").len(), 17);
}

/// How many keys the store's tree holds (read through raw sled, the log closed).
fn stored_keys(dir: &Path) -> usize {
    edit_closed_log(dir, |tree| tree.len())
}

#[tokio::test]
async fn a_store_that_lost_its_contents_is_refused_not_set_up_again_as_an_empty_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    closed_log(dir.path()).await;
    assert!(
        dir.path()
            .join(sparkfeed_eventlog::INITIALIZED_MARKER)
            .is_file()
    );
    // What sled recovering to before the log began looks like: the tree is there, empty.
    edit_closed_log(dir.path(), |tree| tree.clear().expect("clears"));

    let Err(refused) = EventLog::open(Config::new(dir.path())) else {
        panic!("a vanished log is refused");
    };
    assert!(
        matches!(refused, LogError::Corrupt { position: None, .. }),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "CORRUPT");
    assert!(refused.to_string().contains("INITIALIZED"), "{refused}");
    assert_eq!(
        stored_keys(dir.path()),
        0,
        "the refused open wrote no new log (no tail marker, no layout key)"
    );
}

#[tokio::test]
async fn a_data_directory_whose_store_is_gone_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().expect("temp dir");
    closed_log(dir.path()).await;
    std::fs::remove_dir_all(dir.path().join("sled")).expect("removes the store");

    let Err(refused) = EventLog::open(Config::new(dir.path())) else {
        panic!("a vanished log is refused");
    };
    assert_eq!(refused.code(), "CORRUPT", "{refused:?}");
    assert!(
        !dir.path().join("sled").exists(),
        "no new store was created in its place"
    );
}

#[tokio::test]
async fn a_directory_from_before_the_marker_gets_it_on_open_and_keeps_its_events() {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = closed_log(dir.path()).await;
    let marker = dir.path().join(sparkfeed_eventlog::INITIALIZED_MARKER);
    std::fs::remove_file(&marker).expect("removes the marker");

    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert_eq!(log.head(), head);
    assert!(marker.is_file(), "the marker is written on open");
}

#[tokio::test]
async fn a_log_kept_only_until_a_power_cut_gets_no_marker() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        durability: sparkfeed_eventlog::Durability::FlushOnly,
        ..Config::new(dir.path())
    };
    drop(EventLog::open(config).expect("opens"));
    assert!(
        !dir.path()
            .join(sparkfeed_eventlog::INITIALIZED_MARKER)
            .exists(),
        "its layout key may not survive a cut, so nothing may claim it did"
    );
}
