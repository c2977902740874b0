use sparkfeed_eventlog::{
    AppendError, AppendRefused, Config, EventLog, ExpectedVersion, LogError, StreamState,
};
use sparkfeed_events::{Position, StreamVersion, codec};

use crate::{event, events, fresh, stream};

#[tokio::test]
async fn appends_get_gap_free_positions_and_contiguous_versions() {
    let (_dir, log) = fresh();
    let a = stream("post-a");
    let b = stream("post-b");
    let first = log
        .append(&a, ExpectedVersion::NoStream, events(0, 3))
        .await
        .expect("appends");
    let second = log
        .append(&b, ExpectedVersion::Any, events(3, 2))
        .await
        .expect("appends");
    let third = log
        .append(&a, ExpectedVersion::Exact(StreamVersion(2)), events(5, 1))
        .await
        .expect("appends");
    assert_eq!(
        (first.first_position, first.last_position),
        (Position(0), Position(2))
    );
    assert_eq!(
        (first.first_version, first.last_version),
        (StreamVersion(0), StreamVersion(2))
    );
    assert_eq!(
        (second.first_position, second.last_position),
        (Position(3), Position(4))
    );
    assert_eq!(
        (second.first_version, second.last_version),
        (StreamVersion(0), StreamVersion(1))
    );
    assert_eq!(
        (third.first_position, third.first_version),
        (Position(5), StreamVersion(3))
    );
    assert!(!third.deduplicated);
    assert_eq!(log.head().len, 6);
    assert_eq!(
        log.stream_state(&a).expect("reads"),
        StreamState::At(StreamVersion(3))
    );
    assert_eq!(
        log.stream_state(&stream("post-none")).expect("reads"),
        StreamState::NoStream
    );
    let all = log.read_all(Position(0), 100).expect("reads");
    let payloads: Vec<u64> = all
        .iter()
        .map(|e| u64::from_le_bytes(e.record.payload[..8].try_into().expect("8 bytes")))
        .collect();
    assert_eq!(payloads, vec![0, 1, 2, 3, 4, 5]);
    assert!(
        all.windows(2)
            .all(|w| w[0].record.recorded_at <= w[1].record.recorded_at)
    );
    assert_eq!(all.last().map(|e| e.hash), Some(log.head().hash));
}

#[tokio::test]
async fn every_expected_version_is_checked_and_a_mismatch_writes_nothing() {
    let (_dir, log) = fresh();
    let s = stream("user-1");
    let refused = |r: Result<_, AppendError>| match r {
        Err(AppendError::Refused(AppendRefused::WrongExpectedVersion {
            actual, expected, ..
        })) => (expected, actual),
        other => panic!("expected WrongExpectedVersion, got {other:?}"),
    };

    let head = log.head();
    let (e, a) = refused(
        log.append(&s, ExpectedVersion::StreamExists, events(0, 1))
            .await,
    );
    assert_eq!(
        (e, a),
        (ExpectedVersion::StreamExists, StreamState::NoStream)
    );
    let (_, a) = refused(
        log.append(&s, ExpectedVersion::Exact(StreamVersion(0)), events(0, 1))
            .await,
    );
    assert_eq!(a, StreamState::NoStream);
    assert_eq!(log.head(), head, "refusals write nothing");

    log.append(&s, ExpectedVersion::NoStream, events(0, 2))
        .await
        .expect("creates");
    let head = log.head();
    let (_, a) = refused(
        log.append(&s, ExpectedVersion::NoStream, events(2, 1))
            .await,
    );
    assert_eq!(a, StreamState::At(StreamVersion(1)));
    let (_, a) = refused(
        log.append(&s, ExpectedVersion::Exact(StreamVersion(0)), events(2, 1))
            .await,
    );
    assert_eq!(a, StreamState::At(StreamVersion(1)));
    let err = log
        .append(&s, ExpectedVersion::Exact(StreamVersion(7)), events(2, 1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "WRONG_EXPECTED_VERSION");
    assert_eq!(log.head(), head, "refusals write nothing");

    log.append(&s, ExpectedVersion::StreamExists, events(2, 1))
        .await
        .expect("exists");
    log.append(&s, ExpectedVersion::Exact(StreamVersion(2)), events(3, 1))
        .await
        .expect("exact");
    log.append(&s, ExpectedVersion::Any, events(4, 1))
        .await
        .expect("any");
    assert_eq!(
        log.stream_state(&s).expect("reads"),
        StreamState::At(StreamVersion(4))
    );
}

#[tokio::test]
async fn malformed_appends_are_refused_with_a_code_and_write_nothing() {
    let (_dir, log) = fresh();
    let s = stream("post-1");
    log.append(&s, ExpectedVersion::Any, events(0, 1))
        .await
        .expect("appends");
    let head = log.head();

    let empty = log
        .append(&s, ExpectedVersion::Any, vec![])
        .await
        .unwrap_err();
    assert_eq!(empty.code(), "VALIDATION");
    let too_many = log
        .append(&s, ExpectedVersion::Any, events(0, 1001))
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), "VALIDATION");
    let one = event(9);
    let twice = log
        .append(&s, ExpectedVersion::Any, vec![one.clone(), one])
        .await
        .unwrap_err();
    assert_eq!(twice.code(), "VALIDATION");
    let mut big = event(10);
    big.payload = vec![7; codec::MAX_RECORD_BYTES + 1];
    let err = log
        .append(&s, ExpectedVersion::Any, vec![big])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "RECORD_TOO_LARGE");
    // Under the payload cap but over the record cap once the envelope is added: refused by
    // the writer, and the good event before it in the same append is not written either.
    let mut nearly = event(11);
    nearly.payload = vec![7; codec::MAX_RECORD_BYTES - 8];
    let err = log
        .append(&s, ExpectedVersion::Any, vec![event(12), nearly])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "RECORD_TOO_LARGE");

    assert_eq!(log.head(), head);
    assert_eq!(log.read_all(Position(0), 10).expect("reads").len(), 1);
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
}

#[tokio::test]
async fn a_retried_append_is_written_once_and_answers_the_original_positions() {
    let (_dir, log) = fresh();
    let s = stream("order-1");
    log.append(&stream("other-1"), ExpectedVersion::Any, events(0, 2))
        .await
        .expect("appends");
    let batch = events(10, 3);
    let original = log
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .expect("appends");
    log.append(&s, ExpectedVersion::Any, events(20, 1))
        .await
        .expect("appends");
    let head = log.head();

    // The retry carries a stale expected version: idempotency is decided first.
    let retry = log
        .append(&s, ExpectedVersion::NoStream, batch.clone())
        .await
        .expect("retry succeeds");
    assert!(retry.deduplicated);
    assert_eq!(
        (
            retry.first_position,
            retry.last_position,
            retry.first_version,
            retry.last_version
        ),
        (
            original.first_position,
            original.last_position,
            original.first_version,
            original.last_version
        )
    );
    assert_eq!(log.head(), head, "a retry writes nothing");

    // Part of an earlier append is also the same events.
    let part = log
        .append(&s, ExpectedVersion::Any, batch[1..].to_vec())
        .await
        .expect("retry of a suffix");
    assert_eq!(part.first_position, original.first_position.next());

    let conflict = |r: Result<_, AppendError>| match r {
        Err(AppendError::Refused(AppendRefused::EventIdConflict { .. })) => {}
        other => panic!("expected EventIdConflict, got {other:?}"),
    };
    let mut mixed = batch.clone();
    mixed.push(event(99));
    conflict(log.append(&s, ExpectedVersion::Any, mixed).await);
    conflict(
        log.append(&stream("order-2"), ExpectedVersion::Any, batch.clone())
            .await,
    );
    let reversed: Vec<_> = batch.iter().rev().cloned().collect();
    conflict(log.append(&s, ExpectedVersion::Any, reversed).await);
    assert_eq!(log.head(), head, "conflicts write nothing");
}

#[tokio::test]
async fn a_retry_in_the_same_group_commit_is_still_one_write() {
    let (_dir, log) = fresh();
    let s = stream("order-1");
    let batch = events(0, 2);
    let (a, b) = tokio::join!(
        log.append(&s, ExpectedVersion::Any, batch.clone()),
        log.append(&s, ExpectedVersion::Any, batch.clone()),
    );
    let (a, b) = (a.expect("appends"), b.expect("appends"));
    assert_eq!(a.first_position, b.first_position);
    assert!(
        a.deduplicated != b.deduplicated,
        "exactly one of them wrote"
    );
    assert_eq!(log.head().len, 2);
}

/// `writers` tasks, each appending `each` single events to its own stream, all at once.
async fn append_concurrently(log: &EventLog, writers: u64, each: u64) {
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                let s = stream(&format!("writer-{w}"));
                for n in 0..each {
                    log.append(&s, ExpectedVersion::Any, events(n, 1))
                        .await
                        .expect("appends");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("writer task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_group_commits() {
    let (_dir, log) = fresh();
    append_concurrently(&log, 64, 8).await;
    let stats = log.stats();
    assert_eq!(stats.events_committed, 512);
    assert!(
        stats.group_commits * 2 <= stats.events_committed,
        "64 concurrent writers should share commits: {stats:?}"
    );
}

#[tokio::test]
async fn reopening_recovers_the_head_and_continues_the_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = stream("post-1");
    let head = {
        let log = EventLog::open(Config::new(dir.path())).expect("opens");
        log.append(&s, ExpectedVersion::Any, events(0, 5))
            .await
            .expect("appends");
        log.head()
    };
    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    assert_eq!(log.head(), head);
    assert_eq!(
        log.stream_state(&s).expect("reads"),
        StreamState::At(StreamVersion(4))
    );
    let more = log
        .append(&s, ExpectedVersion::Exact(StreamVersion(4)), events(5, 1))
        .await
        .expect("appends after reopen");
    assert_eq!(more.first_position, Position(5));
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 6);
}

#[tokio::test]
async fn a_directory_held_by_another_handle_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _held = EventLog::open(Config::new(dir.path())).expect("opens");
    match EventLog::open(Config::new(dir.path())) {
        Err(e @ LogError::Locked { .. }) => {
            assert_eq!(e.code(), "LOG_LOCKED");
            assert!(
                e.to_string()
                    .contains("in use by another sparkfeed process"),
                "{e}"
            );
        }
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("a held directory must not open twice"),
    }
}

#[test]
fn blocking_appends_work_outside_a_runtime() {
    let (_dir, log) = fresh();
    let done = log
        .append_blocking(&stream("post-1"), ExpectedVersion::NoStream, events(0, 2))
        .expect("appends");
    assert_eq!(done.last_position, Position(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_group_waits_for_the_disk_instead_of_growing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::new(dir.path());
    config.max_group_events = 4;
    let log = EventLog::open(config).expect("opens");
    append_concurrently(&log, 32, 5).await;
    let stats = log.stats();
    assert_eq!(stats.events_committed, 160);
    assert!(
        stats.groups >= 40,
        "groups hold at most 4 events: {stats:?}"
    );
    assert!(stats.group_commits <= stats.groups, "{stats:?}");
    assert!(log.verify(|_| {}).expect("verifies").is_intact());
}

#[tokio::test]
async fn retries_are_recognised_after_a_reopen_whatever_order_client_ids_come_in() {
    use sparkfeed_events::EventId;
    let dir = tempfile::tempdir().expect("temp dir");
    let s = stream("order-1");
    let with_id = |bytes: [u8; 16]| {
        let mut e = event(0);
        e.id = EventId::from_bytes(bytes);
        e
    };
    let high = with_id([0xff; 16]);
    let low = with_id([0x01; 16]);
    {
        let log = EventLog::open(Config::new(dir.path())).expect("opens");
        log.append(&s, ExpectedVersion::Any, vec![high.clone()])
            .await
            .expect("appends");
        // Below the largest id so far, and new: written.
        let done = log
            .append(&s, ExpectedVersion::Any, vec![low.clone()])
            .await
            .expect("appends");
        assert!(!done.deduplicated);
    }
    let log = EventLog::open(Config::new(dir.path())).expect("reopens");
    for retry in [high, low] {
        let again = log
            .append(&s, ExpectedVersion::Any, vec![retry])
            .await
            .expect("retry");
        assert!(again.deduplicated, "a retry after reopening writes nothing");
    }
    assert_eq!(log.head().len, 2);
    let fresh = log
        .append(&s, ExpectedVersion::Any, events(1, 1))
        .await
        .expect("appends");
    assert!(!fresh.deduplicated);
}
