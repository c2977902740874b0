//! Verifying a data directory offline: from a copy, never writing the directory, naming
//! the records past the tail marker instead of removing them.

use std::path::Path;

use sparkfeed_eventlog::offline::verify_dir;
use sparkfeed_eventlog::{Config, EventLog, LogError, TamperKind, keys};
use sparkfeed_events::Position;
use sparkfeed_testkit::log::{edit_closed_log, files_of};

use crate::append_spread;

/// A log of 12 events, closed cleanly, in `dir`.
async fn closed_log(dir: &Path) {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    append_spread(&log, 12, 3).await;
}

/// Sets the tail marker of the closed store in `dir` to `(from, end)` with raw sled.
fn set_tail_marker(dir: &Path, from: u64, end: u64) {
    edit_closed_log(dir, |tree| {
        tree.insert(keys::TAIL_KEY, &keys::tail_value(from, end))
            .expect("writes");
    });
}

#[tokio::test]
async fn verify_names_the_records_past_a_lowered_tail_marker_and_writes_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    closed_log(data.path()).await;
    set_tail_marker(data.path(), 8, 8);
    let before = files_of(data.path());

    let scratch = tempfile::tempdir().expect("temp dir");
    let found = verify_dir(data.path(), &scratch.path().join("copy"), |_| {}).expect("verifies");
    assert_eq!(
        found.past_tail,
        Some(Position(8)..=Position(11)),
        "the four records above the marker are named"
    );
    assert!(found.report.is_intact(), "{:?}", found.report);
    assert_eq!(found.report.records, 8, "the records below it verify");
    assert!(
        !found.is_intact(),
        "records past the marker are not a clean log"
    );
    assert!(found.copied_bytes > 0);
    assert_eq!(
        files_of(data.path()),
        before,
        "the directory's bytes are unchanged"
    );

    // Opening the log (as a server would) is what removes them: still there until then.
    let log = EventLog::open(Config::new(data.path())).expect("opens");
    assert_eq!(log.recovery().removed_records, 4);
}

#[tokio::test]
async fn a_clean_directory_verifies_whole_and_stays_as_it_was() {
    let data = tempfile::tempdir().expect("temp dir");
    closed_log(data.path()).await;
    let before = files_of(data.path());
    let scratch = tempfile::tempdir().expect("temp dir");
    let found = verify_dir(data.path(), &scratch.path().join("copy"), |_| {}).expect("verifies");
    assert!(found.is_intact(), "{found:?}");
    assert_eq!((found.report.records, found.past_tail), (12, None));
    assert_eq!(files_of(data.path()), before);
}

#[tokio::test]
async fn a_marker_past_the_last_record_is_reported_as_a_missing_record() {
    let data = tempfile::tempdir().expect("temp dir");
    closed_log(data.path()).await;
    set_tail_marker(data.path(), 14, 14);
    let scratch = tempfile::tempdir().expect("temp dir");
    let found = verify_dir(data.path(), &scratch.path().join("copy"), |_| {}).expect("verifies");
    let tamper = found.report.tamper.expect("not intact");
    assert_eq!(
        (tamper.position, tamper.kind),
        (Position(12), TamperKind::Missing)
    );
}

#[tokio::test]
async fn a_directory_held_by_a_log_is_refused_and_one_with_no_log_too() {
    let data = tempfile::tempdir().expect("temp dir");
    let held = EventLog::open(Config::new(data.path())).expect("opens");
    let scratch = tempfile::tempdir().expect("temp dir");
    let refused = verify_dir(data.path(), &scratch.path().join("copy"), |_| {});
    assert!(
        matches!(refused, Err(LogError::Locked { .. })),
        "{refused:?}"
    );
    drop(held);
    let empty = tempfile::tempdir().expect("temp dir");
    let refused = verify_dir(empty.path(), &scratch.path().join("copy2"), |_| {});
    assert!(refused.is_err(), "no log here: {refused:?}");
    assert!(
        std::fs::read_dir(empty.path())
            .expect("lists")
            .next()
            .is_none()
    );
}

#[tokio::test]
async fn a_store_that_lost_its_events_is_reported_corrupt_not_verified_as_an_empty_log() {
    let data = tempfile::tempdir().expect("temp dir");
    closed_log(data.path()).await;
    edit_closed_log(data.path(), |tree| tree.clear().expect("clears"));
    let before = files_of(data.path());

    let scratch = tempfile::tempdir().expect("temp dir");
    let Err(refused) = verify_dir(data.path(), &scratch.path().join("copy"), |_| {}) else {
        panic!("an emptied store does not verify");
    };
    assert_eq!(refused.code(), "CORRUPT", "{refused:?}");
    assert_eq!(files_of(data.path()), before, "verify wrote nothing");

    // A reading tool's copy carries the marker, so opening it is refused the same way.
    let copy = scratch.path().join("replay");
    sparkfeed_eventlog::snapshot::copy_quiescent(data.path(), &copy, &[]).expect("copies");
    let Err(refused) = EventLog::open(Config::new(&copy)) else {
        panic!("the copy of an emptied store does not open as an empty log");
    };
    assert_eq!(refused.code(), "CORRUPT", "{refused:?}");
}
