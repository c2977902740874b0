use std::fs::OpenOptions;

use sparkfeed_events::{Actor, ActorId, EventType, Metadata};

use crate::{Config, EventLog};

use super::*;

fn event() -> NewEvent {
    NewEvent {
        id: EventId::random(),
        event_type: EventType::parse("test.Happened").expect("valid"),
        schema_version: 1,
        payload: vec![1, 2, 3],
        metadata: Metadata {
            actor: Actor::System(ActorId::parse("test").expect("valid")),
            correlation_id: EventId::random(),
            causation_id: None,
        },
    }
}

/// A log whose durability barrier fails: its fdatasync goes to a FIFO (EINVAL).
fn log_with_a_failing_disk(dir: &std::path::Path) -> EventLog {
    let fifo = dir.join("not-a-disk");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let fifo = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .expect("opens the FIFO");
    EventLog::open_with(Config::new(dir.join("log")), |files| {
        files.replace_data_file(fifo)
    })
    .expect("opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failed_sync_nothing_is_acknowledged_not_even_groups_staged_behind_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = log_with_a_failing_disk(dir.path());
    let appends: Vec<_> = (0..64)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move {
                let stream = StreamName::parse(&format!("post-{n}")).expect("valid");
                log.append(&stream, ExpectedVersion::Any, vec![event()])
                    .await
            })
        })
        .collect();
    for append in appends {
        match append.await.expect("task") {
            Err(AppendError::Failed(e @ LogError::Stopped(_))) => {
                assert_eq!(e.code(), "LOG_FAILED");
                assert!(e.to_string().contains("fdatasync"), "{e}");
            }
            other => panic!("nothing may be acknowledged: {other:?}"),
        }
    }
    assert_eq!(log.head().len, 0, "the durable head never moved");
    assert_eq!(log.read_all(Position(0), 100).expect("reads"), vec![]);
    let later = log
        .append(
            &StreamName::parse("post-x").expect("valid"),
            ExpectedVersion::Any,
            vec![event()],
        )
        .await;
    assert!(
        matches!(later, Err(AppendError::Failed(LogError::Stopped(_)))),
        "the log stays stopped: {later:?}"
    );
    assert_eq!(log.stats().events_committed, 0);
    drop(log);

    // Reopened on a working disk, the log is whole; whatever of the refused appends
    // reached the disk is whole appends, chained.
    let log = EventLog::open(Config::new(dir.path().join("log"))).expect("reopens");
    let report = log.verify(|_| {}).expect("verifies");
    assert!(report.is_intact(), "{report:?}");
}
