//! Model-free properties of concurrent appends, checked against what the log answered.

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;
use sparkfeed_eventlog::{
    AppendError, AppendRefused, Appended, Config, Direction, EventLog, ExpectedVersion, StreamState,
};
use sparkfeed_events::{EventId, Position, StreamName, StreamVersion};
use tokio::sync::Barrier;

use crate::{events, stream};

#[derive(Clone, Copy, Debug)]
enum Mode {
    Any,
    NoStream,
    StreamExists,
    /// Expect the version the writer reads just before appending.
    ExactAsRead,
}

#[derive(Clone, Debug)]
struct Op {
    /// `None`: the writer's own stream; `Some(k)`: shared stream k.
    shared: Option<u8>,
    mode: Mode,
    events: u64,
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop::option::weighted(0.6, 0u8..3),
        prop_oneof![
            Just(Mode::Any),
            Just(Mode::NoStream),
            Just(Mode::StreamExists),
            Just(Mode::ExactAsRead),
            Just(Mode::ExactAsRead),
        ],
        1u64..4,
    )
        .prop_map(|(shared, mode, events)| Op {
            shared,
            mode,
            events,
        })
}

/// One attempted append and what the log answered.
struct Outcome {
    stream: StreamName,
    expected: ExpectedVersion,
    ids: Vec<EventId>,
    answer: Result<Appended, AppendError>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn run_writers(log: &EventLog, plans: Vec<Vec<Op>>) -> Vec<Outcome> {
    let tasks: Vec<_> = plans
        .into_iter()
        .enumerate()
        .map(|(w, plan)| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for (n, op) in plan.into_iter().enumerate() {
                    let s = match op.shared {
                        Some(k) => stream(&format!("shared-{k}")),
                        None => stream(&format!("own-{w}")),
                    };
                    let expected = match op.mode {
                        Mode::Any => ExpectedVersion::Any,
                        Mode::NoStream => ExpectedVersion::NoStream,
                        Mode::StreamExists => ExpectedVersion::StreamExists,
                        Mode::ExactAsRead => match log.stream_state(&s).expect("reads") {
                            StreamState::NoStream => ExpectedVersion::NoStream,
                            StreamState::At(v) => ExpectedVersion::Exact(v),
                        },
                    };
                    let batch = events(n as u64 * 10, op.events);
                    let ids = batch.iter().map(|e| e.id).collect();
                    let answer = log.append(&s, expected, batch).await;
                    outcomes.push(Outcome {
                        stream: s,
                        expected,
                        ids,
                        answer,
                    });
                }
                outcomes
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("writer task"));
    }
    all
}

/// Every invariant the log promises, checked on a log (possibly reopened) and the answers.
fn check(log: &EventLog, outcomes: &[Outcome]) -> Result<(), TestCaseError> {
    let all = log.read_all(Position(0), usize::MAX).expect("reads");
    let positions: Vec<u64> = all.iter().map(|e| e.record.position.0).collect();
    prop_assert_eq!(
        &positions,
        &(0..all.len() as u64).collect::<Vec<_>>(),
        "gap-free"
    );

    let mut per_stream: HashMap<&StreamName, u64> = HashMap::new();
    for e in &all {
        let next = per_stream.entry(&e.record.stream).or_insert(0);
        prop_assert_eq!(
            e.record.version.0,
            *next,
            "contiguous versions in {}",
            e.record.stream
        );
        *next += 1;
    }
    for (s, len) in &per_stream {
        let slice = log
            .read_stream(s, StreamVersion(0), Direction::Forward, usize::MAX)
            .expect("reads");
        prop_assert_eq!(slice.events.len() as u64, *len);
    }

    let mut acknowledged = 0u64;
    let mut winners: HashMap<(StreamName, u64), usize> = HashMap::new();
    for o in outcomes {
        match &o.answer {
            Ok(done) => {
                prop_assert!(!done.deduplicated);
                acknowledged += o.ids.len() as u64;
                for ((id, p), v) in o
                    .ids
                    .iter()
                    .zip(done.positions())
                    .zip(done.first_version.0..)
                {
                    let stored = &all[usize::try_from(p.0).expect("fits")].record;
                    prop_assert_eq!(
                        &stored.id,
                        id,
                        "acknowledged event readable at its position"
                    );
                    prop_assert_eq!(&stored.stream, &o.stream);
                    prop_assert_eq!(stored.version.0, v);
                }
                match o.expected {
                    ExpectedVersion::Exact(v) => {
                        prop_assert_eq!(done.first_version.0, v.0 + 1);
                        *winners.entry((o.stream.clone(), v.0 + 1)).or_insert(0) += 1;
                    }
                    ExpectedVersion::NoStream => {
                        prop_assert_eq!(done.first_version.0, 0);
                        *winners.entry((o.stream.clone(), 0)).or_insert(0) += 1;
                    }
                    _ => {}
                }
            }
            Err(AppendError::Refused(AppendRefused::WrongExpectedVersion {
                actual,
                expected,
                ..
            })) => {
                prop_assert!(!actual.satisfies(*expected));
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
    prop_assert_eq!(
        acknowledged,
        all.len() as u64,
        "nothing but acknowledged appends is written"
    );
    for (key, n) in winners {
        prop_assert_eq!(n, 1, "one winner per expected version at {:?}", key);
    }
    let intact = log.verify(|_| {}).expect("verifies").is_intact();
    prop_assert!(intact, "the chain verifies");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn concurrent_appenders_keep_every_invariant(
        plans in prop::collection::vec(prop::collection::vec(op(), 1..25), 2..7)
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = runtime();
        let outcomes = rt.block_on(async {
            let log = EventLog::open(Config::new(dir.path())).expect("opens");
            run_writers(&log, plans).await
        });
        // Reopened from disk: what was acknowledged is still there.
        let log = EventLog::open(Config::new(dir.path())).expect("reopens");
        check(&log, &outcomes)?;
    }

    #[test]
    fn racing_exact_appends_have_exactly_one_winner(
        writers in 2usize..12,
        sizes in prop::collection::vec(1u64..4, 12),
        rounds in 1usize..6,
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = runtime();
        rt.block_on(async {
            let log = EventLog::open(Config::new(dir.path())).expect("opens");
            let s = stream("post-hot");
            log.append(&s, ExpectedVersion::NoStream, events(0, 1)).await.expect("creates");
            for round in 0..rounds {
                let StreamState::At(v) = log.stream_state(&s).expect("reads") else {
                    unreachable!("created above")
                };
                let barrier = Arc::new(Barrier::new(writers));
                let tasks: Vec<_> = (0..writers)
                    .map(|w| {
                        let (log, s, barrier) = (log.clone(), s.clone(), barrier.clone());
                        let n = sizes[w];
                        tokio::spawn(async move {
                            barrier.wait().await;
                            (n, log.append(&s, ExpectedVersion::Exact(v), events(round as u64, n)).await)
                        })
                    })
                    .collect();
                let mut won = Vec::new();
                let mut lost = Vec::new();
                for t in tasks {
                    match t.await.expect("task") {
                        (n, Ok(done)) => won.push((n, done)),
                        (_, Err(AppendError::Refused(AppendRefused::WrongExpectedVersion { actual, .. }))) => lost.push(actual),
                        (_, Err(other)) => panic!("unexpected {other}"),
                    }
                }
                assert_eq!(won.len(), 1, "exactly one winner for version {v}");
                let (n, done) = &won[0];
                assert_eq!(done.first_version, v.next());
                for actual in lost {
                    assert_eq!(actual, StreamState::At(StreamVersion(v.0 + n)));
                }
            }
            assert!(log.verify(|_| {}).expect("verifies").is_intact());
        });
    }
}
