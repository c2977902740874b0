//! Stores of layout version 1 (one record per `p` key, or no layout key at all): read
//! offline without writing, migrated to chunks on open, and then read, verified and
//! appended to like any other; a crash in the migration leaves a store that opens.

use std::path::Path;

use sparkfeed_eventlog::offline::{open_dir, verify_dir};
use sparkfeed_eventlog::{Config, EventLog, ExpectedVersion, RecoveryReport, keys, records};
use sparkfeed_events::{Position, RecordedEvent};
use sparkfeed_testkit::log::{edit_closed_log, files_of};

use crate::{append_spread, events, stream};

/// A log of 12 single-event appends, one of 9 events and one of 30 in one group each,
/// closed; every event.
async fn written_log(dir: &Path) -> Vec<RecordedEvent> {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    append_spread(&log, 12, 3).await;
    log.append(&stream("post-9"), ExpectedVersion::NoStream, events(50, 9))
        .await
        .expect("appends");
    let big: Vec<_> = events(100, 30)
        .into_iter()
        .map(|mut e| {
            e.payload = vec![3; 700];
            e
        })
        .collect();
    log.append(&stream("post-10"), ExpectedVersion::NoStream, big)
        .await
        .expect("appends");
    log.read_all(Position(0), usize::MAX).expect("reads")
}

/// Rewrites the closed store in `dir` the way layout version 1 kept it: each record under
/// its own `p` key, no chunk; with the layout key at 1, or with none (older still).
fn to_layout_1(dir: &Path, layout_key: bool) {
    edit_closed_log(dir, |tree| {
        let mut p = Position(0);
        while let Some(stored) = records::stored(tree, p).expect("reads") {
            tree.insert(keys::legacy_record_key(p), stored.bytes())
                .expect("writes");
            p = p.next();
        }
        for key in tree.scan_prefix(keys::chunk_prefix()).keys() {
            tree.remove(key.expect("reads")).expect("removes");
        }
        if layout_key {
            tree.insert(keys::LAYOUT_KEY, &[keys::LEGACY_LAYOUT_VERSION])
                .expect("writes");
        } else {
            tree.remove(keys::LAYOUT_KEY).expect("removes");
        }
    });
}

/// What the store in `dir` holds: its layout key, and how many `p` keys and chunks.
fn layout_of(dir: &Path) -> (Option<Vec<u8>>, usize, usize) {
    edit_closed_log(dir, |tree| {
        let layout = tree
            .get(keys::LAYOUT_KEY)
            .expect("reads")
            .map(|v| v.to_vec());
        let legacy = tree.scan_prefix(keys::legacy_record_prefix()).count();
        let chunks = tree.scan_prefix(keys::chunk_prefix()).count();
        (layout, legacy, chunks)
    })
}

/// Opens the log in `dir` and checks that it holds exactly `before`, verifies, appends and
/// reopens cleanly.
async fn opens_whole(dir: &Path, before: &[RecordedEvent]) {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    assert_eq!(log.recovery(), RecoveryReport::default());
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        log.read_all(Position(0), usize::MAX).expect("reads"),
        before
    );
    let last = before.last().expect("not empty");
    assert_eq!(
        log.find_event(&last.record.id).expect("finds").as_ref(),
        Some(last)
    );
    let next = log
        .append(&stream("post-10"), ExpectedVersion::Any, events(500, 3))
        .await
        .expect("appends");
    assert_eq!(
        next.first_position.0,
        u64::try_from(before.len()).expect("fits")
    );
    drop(log);
    let log = EventLog::open(Config::new(dir)).expect("reopens");
    assert_eq!(log.recovery(), RecoveryReport::default());
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
    assert_eq!(log.head().len, next.last_position.0 + 1);
}

#[tokio::test]
async fn a_layout_1_store_reads_offline_unwritten_then_migrates_on_open() {
    for layout_key in [true, false] {
        let data = tempfile::tempdir().expect("temp dir");
        let before = written_log(data.path()).await;
        to_layout_1(data.path(), layout_key);
        let (_, legacy, chunks) = layout_of(data.path());
        assert_eq!((legacy, chunks), (before.len(), 0));

        // Offline: read from a copy, the directory not written.
        let files = files_of(data.path());
        let scratch = tempfile::tempdir().expect("temp dir");
        let found = verify_dir(data.path(), &scratch.path().join("a"), |_| {}).expect("verifies");
        assert!(found.is_intact(), "{found:?}");
        assert_eq!(
            found.report.records,
            u64::try_from(before.len()).expect("fits")
        );
        let offline = open_dir(data.path(), &scratch.path().join("b")).expect("opens");
        assert_eq!(offline.read(Position(20)).expect("reads"), before[20]);
        assert_eq!(files_of(data.path()), files, "offline reads write nothing");

        // With write access: migrated on open, then a log like any other.
        opens_whole(data.path(), &before).await;
        let (layout, legacy, chunks) = layout_of(data.path());
        assert_eq!(layout, Some(vec![keys::LAYOUT_VERSION]));
        assert_eq!(legacy, 0);
        assert!(chunks > 0 && chunks < before.len(), "{chunks} chunks");
    }
}

#[tokio::test]
async fn records_past_the_tail_marker_of_a_layout_1_store_are_named_offline_and_removed_on_open() {
    let data = tempfile::tempdir().expect("temp dir");
    let before = written_log(data.path()).await;
    to_layout_1(data.path(), true);
    // The 30-event group never got its marker: it was not acknowledged.
    edit_closed_log(data.path(), |tree| {
        tree.insert(keys::TAIL_KEY, &keys::tail_value(21, 21))
            .expect("writes");
    });
    let scratch = tempfile::tempdir().expect("temp dir");
    let found = verify_dir(data.path(), &scratch.path().join("copy"), |_| {}).expect("verifies");
    assert_eq!(found.past_tail, Some(Position(21)..=Position(50)));
    assert!(found.report.is_intact(), "{:?}", found.report);

    let log = EventLog::open(Config::new(data.path())).expect("opens");
    assert_eq!(log.recovery().removed_records, 30);
    assert_eq!(
        log.read_all(Position(0), usize::MAX).expect("reads"),
        before.get(..21).expect("50 records were written")
    );
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
}

#[tokio::test]
async fn a_migration_a_crash_cut_short_is_finished_by_the_next_open() {
    // Cut before the flip: layout 1, some chunks of the migration (here one cut another
    // way) already written. The next open starts the migration over.
    let data = tempfile::tempdir().expect("temp dir");
    let before = written_log(data.path()).await;
    let chunks = edit_closed_log(data.path(), |tree| {
        tree.scan_prefix(keys::chunk_prefix())
            .collect::<Result<Vec<_>, _>>()
            .expect("reads")
    });
    to_layout_1(data.path(), true);
    edit_closed_log(data.path(), |tree| {
        let (key, value) = &chunks[chunks.len() / 2];
        tree.insert(key, value).expect("writes");
    });
    opens_whole(data.path(), &before).await;

    // Cut after the flip: every chunk and the layout key durable, some `p` keys not yet
    // removed. Nothing reads them; the next open removes them.
    let data = tempfile::tempdir().expect("temp dir");
    let before = written_log(data.path()).await;
    edit_closed_log(data.path(), |tree| {
        for event in before.iter().skip(7) {
            let p = event.record.position;
            let stored = records::stored(tree, p).expect("reads").expect("present");
            tree.insert(keys::legacy_record_key(p), stored.bytes())
                .expect("writes");
        }
    });
    let scratch = tempfile::tempdir().expect("temp dir");
    let found = verify_dir(data.path(), &scratch.path().join("copy"), |_| {}).expect("verifies");
    assert!(found.is_intact(), "{found:?}");
    opens_whole(data.path(), &before).await;
    assert_eq!(layout_of(data.path()).1, 0, "the p keys are gone");
}
