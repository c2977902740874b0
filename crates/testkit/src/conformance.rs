//! The log's conformance suite: what every backend of [`Log`] must do, written once and run
//! unchanged against the embedded sled log (`crates/eventlog/tests/it/conformance.rs`) and
//! the NATS JetStream log on a real 3-server cluster (`crates/jetstream/tests/`).
//!
//! Each check takes `nodes`: handles on one shared log. For sled they are clones of one
//! `EventLog`; for JetStream, separate API nodes, each with its own local copy, so races
//! between handles are races between processes. Every wait is bounded.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use sparkfeed_eventlog::{
    AppendError, AppendRefused, Condition, ExpectedVersion, Log, SUBSCRIPTION_PAGE, SharedLog,
    StreamState,
};
use sparkfeed_events::{EventId, NewEvent, Position, RecordedEvent, StreamName, StreamVersion};

use crate::log::event;

/// The longest any one wait of the suite may take.
pub const WAIT: Duration = Duration::from_secs(60);

fn stream(name: &str) -> StreamName {
    StreamName::parse(name).expect("valid stream name")
}

fn node(nodes: &[SharedLog], i: usize) -> &SharedLog {
    nodes
        .get(i % nodes.len())
        .expect("the suite needs at least one node")
}

/// Waits until `log` holds at least `len` events: a subscription's wait, not a poll.
pub async fn wait_for_len(log: &dyn Log, len: u64) {
    if len == 0 || log.head().len >= len {
        return;
    }
    let mut subscription = log.subscribe(Position(len - 1));
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .unwrap_or_else(|_| panic!("the node reached {len} events within {WAIT:?}"))
        .expect("the log is open")
        .expect("reads");
}

/// Waits until every node holds `len` events, and checks that they agree on the head.
pub async fn converge(nodes: &[SharedLog], len: u64) {
    for log in nodes {
        wait_for_len(log.as_ref(), len).await;
    }
    let heads: Vec<_> = nodes.iter().map(|log| log.head()).collect();
    assert!(
        heads.windows(2).all(|pair| pair.first() == pair.last()),
        "every node has the same head (count and chain hash): {heads:?}"
    );
}

/// Every event of the log, read from `log`.
pub fn read_everything(log: &dyn Log) -> Vec<RecordedEvent> {
    let mut all = Vec::new();
    loop {
        let page = log
            .read_all(Position(all.len() as u64), 1000)
            .expect("reads");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Many writers on every node race for one stream with exact expected versions: each
/// version is won by exactly one append, the losers are told `WRONG_EXPECTED_VERSION` and
/// wrote nothing, and the stream ends gap-free with exactly the winners' events.
pub async fn expected_version_races(nodes: &[SharedLog]) {
    let contested = stream("race-1");
    let start = nodes.first().expect("a node").head().len;
    let tasks: Vec<_> = (0..8usize)
        .map(|w| {
            let log = node(nodes, w).clone();
            let contested = contested.clone();
            tokio::spawn(async move {
                let (mut won, mut lost) = (Vec::new(), 0u32);
                while won.len() < 5 {
                    let expected = match log.stream_state(&contested).expect("reads") {
                        StreamState::NoStream => ExpectedVersion::NoStream,
                        StreamState::At(v) => ExpectedVersion::Exact(v),
                    };
                    let mine = vec![event(w as u64)];
                    let id = mine.first().map(|e| e.id).expect("one event");
                    match log.append(&contested, expected, mine).await {
                        Ok(done) => won.push((done.first_version, id)),
                        Err(AppendError::Refused(AppendRefused::WrongExpectedVersion {
                            ..
                        })) => lost += 1,
                        Err(e) => panic!("an append failed: {e}"),
                    }
                }
                (won, lost)
            })
        })
        .collect();
    let mut won = Vec::new();
    for task in tasks {
        let (mine, _) = task.await.expect("writer");
        won.extend(mine);
    }
    converge(nodes, start + 40).await;
    won.sort();
    let versions: Vec<u64> = won.iter().map(|(v, _)| v.0).collect();
    assert_eq!(
        versions,
        (0..40).collect::<Vec<_>>(),
        "each version won once"
    );
    for log in nodes {
        let slice = log
            .read_stream(
                &contested,
                StreamVersion::FIRST,
                sparkfeed_eventlog::Direction::Forward,
                100,
            )
            .expect("reads");
        let stored: Vec<(StreamVersion, EventId)> = slice
            .events
            .iter()
            .map(|e| (e.record.version, e.record.id))
            .collect();
        assert_eq!(
            stored, won,
            "the stream holds exactly the winners, in order"
        );
    }
}

/// A writer reprices while buyers on every node order at the price they read, each order
/// conditioned on the price stream's version: no order lands after a price it did not see,
/// so every order carries the price in force at its position.
pub async fn conditions_hold_across_nodes(nodes: &[SharedLog]) {
    let price = stream("price-1");
    node(nodes, 0)
        .append(&price, ExpectedVersion::NoStream, vec![event(100)])
        .await
        .expect("first price");
    // Another node shows a write once its copy applied it: every buyer starts from a price.
    let first = node(nodes, 0).head().len;
    converge(nodes, first).await;
    let repricer = {
        let log = node(nodes, 0).clone();
        let price = price.clone();
        tokio::spawn(async move {
            for n in 101..141u64 {
                let at = log.stream_state(&price).expect("reads");
                let expected = match at {
                    StreamState::At(v) => ExpectedVersion::Exact(v),
                    StreamState::NoStream => ExpectedVersion::NoStream,
                };
                // A lost race only means a buyer's wait; try again on the new version.
                let _ = log.append(&price, expected, vec![event(n)]).await;
            }
        })
    };
    let buyers: Vec<_> = (0..4usize)
        .map(|b| {
            let log = node(nodes, b + 1).clone();
            let price = price.clone();
            tokio::spawn(async move {
                let mut orders = 0u32;
                let mut refused = 0u32;
                while orders < 15 {
                    let last = log
                        .read_stream(
                            &price,
                            StreamVersion(u64::MAX),
                            sparkfeed_eventlog::Direction::Backward,
                            1,
                        )
                        .expect("reads");
                    let seen = last.events.first().expect("a price").clone();
                    let mut order = event(0);
                    order.payload = seen.record.payload.clone();
                    let condition = Condition {
                        stream: price.clone(),
                        expected: ExpectedVersion::Exact(seen.record.version),
                    };
                    let order_stream = stream(&format!("order-{b}-{orders}"));
                    match log
                        .append_when(
                            &order_stream,
                            ExpectedVersion::NoStream,
                            vec![order],
                            vec![condition],
                        )
                        .await
                    {
                        Ok(_) => orders += 1,
                        Err(AppendError::Refused(AppendRefused::WrongExpectedVersion {
                            stream,
                            ..
                        })) => {
                            assert_eq!(stream, price, "the refusal names the condition's stream");
                            refused += 1;
                        }
                        Err(e) => panic!("an order failed: {e}"),
                    }
                }
                refused
            })
        })
        .collect();
    repricer.await.expect("repricer");
    for buyer in buyers {
        buyer.await.expect("buyer");
    }
    let longest = nodes.iter().map(|l| l.head().len).max().unwrap_or(0);
    converge(nodes, longest).await;
    let mut in_force: Option<Vec<u8>> = None;
    let mut orders = 0;
    for e in read_everything(node(nodes, 0).as_ref()) {
        if e.record.stream == price {
            in_force = Some(e.record.payload.clone());
        } else if e.record.stream.as_str().starts_with("order-") {
            orders += 1;
            assert_eq!(
                Some(&e.record.payload),
                in_force.as_ref(),
                "order at {} carries the price in force there",
                e.record.position
            );
        }
    }
    assert_eq!(orders, 60, "every order landed");
}

/// An append retried, on the same node or another, with the same event ids writes nothing
/// and answers the first placement; ids reused in another shape are refused; malformed
/// appends are refused before the log; none of them moves the head.
pub async fn idempotent_retries(nodes: &[SharedLog]) {
    let target = stream("retry-1");
    let batch: Vec<NewEvent> = (0..3).map(event).collect();
    let first = node(nodes, 0)
        .append(&target, ExpectedVersion::NoStream, batch.clone())
        .await
        .expect("appends");
    assert!(!first.deduplicated);
    let len = node(nodes, 0).head().len;
    converge(nodes, len).await;
    for log in nodes {
        // Even with an expected version that no longer holds: the ids answer first.
        let again = log
            .append(&target, ExpectedVersion::NoStream, batch.clone())
            .await
            .expect("a retry is answered");
        assert!(again.deduplicated, "nothing written the second time");
        assert_eq!(
            (again.first_position, again.last_position),
            (first.first_position, first.last_position)
        );
        assert_eq!(log.head().len, len);
    }
    let partial = vec![batch.first().cloned().expect("event"), event(9)];
    let conflict = node(nodes, 1)
        .append(&target, ExpectedVersion::Any, partial)
        .await
        .expect_err("a partial repeat is refused");
    assert_eq!(conflict.code(), "EVENT_ID_CONFLICT");
    let elsewhere = node(nodes, 1)
        .append(&stream("retry-2"), ExpectedVersion::Any, batch.clone())
        .await
        .expect_err("the same ids on another stream are refused");
    assert_eq!(elsewhere.code(), "EVENT_ID_CONFLICT");
    let empty = node(nodes, 0)
        .append(&target, ExpectedVersion::Any, Vec::new())
        .await
        .expect_err("empty");
    assert_eq!(empty.code(), "VALIDATION");
    let one = event(1);
    let twice = node(nodes, 0)
        .append(&target, ExpectedVersion::Any, vec![one.clone(), one])
        .await
        .expect_err("an id twice");
    assert_eq!(twice.code(), "VALIDATION");
    let mut big = event(2);
    big.payload = vec![0; sparkfeed_events::codec::MAX_RECORD_BYTES + 1];
    let too_large = node(nodes, 0)
        .append(&target, ExpectedVersion::Any, vec![big])
        .await
        .expect_err("too large");
    assert_eq!(too_large.code(), "RECORD_TOO_LARGE");
    for log in nodes {
        assert_eq!(log.head().len, len, "no refusal wrote anything");
    }
}

/// Writers on every node append at once: positions are gap-free from 0, each stream's
/// versions contiguous, every acknowledged append reads back where it was answered, and
/// every node ends with the same head and an intact chain.
pub async fn gap_free_order(nodes: &[SharedLog]) {
    let start = node(nodes, 0).head().len;
    let tasks: Vec<_> = (0..6usize)
        .map(|w| {
            let log = node(nodes, w).clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for n in 0..40u64 {
                    let batch: Vec<NewEvent> = (0..1 + n % 3).map(event).collect();
                    let ids: Vec<EventId> = batch.iter().map(|e| e.id).collect();
                    let done = log
                        .append(&stream(&format!("order-{w}")), ExpectedVersion::Any, batch)
                        .await
                        .expect("appends");
                    acked.push((done, ids));
                }
                acked
            })
        })
        .collect();
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.expect("writer"));
    }
    let written: u64 = acked.iter().map(|(_, ids)| ids.len() as u64).sum();
    converge(nodes, start + written).await;
    for log in nodes {
        let all = read_everything(log.as_ref());
        let positions: Vec<u64> = all.iter().map(|e| e.record.position.0).collect();
        assert_eq!(
            positions,
            (0..start + written).collect::<Vec<_>>(),
            "gap-free"
        );
        let mut versions: HashMap<&StreamName, u64> = HashMap::new();
        for e in &all {
            let next = versions.entry(&e.record.stream).or_default();
            assert_eq!(e.record.version.0, *next, "contiguous versions");
            *next += 1;
        }
        let by_id: HashMap<EventId, &RecordedEvent> =
            all.iter().map(|e| (e.record.id, e)).collect();
        for (done, ids) in &acked {
            for (position, id) in done.positions().zip(ids) {
                let stored = by_id.get(id).expect("every acknowledged event is stored");
                assert_eq!(stored.record.position, position, "where it was answered");
            }
        }
        let report = log.verify(&mut |_| {}).expect("verifies");
        assert!(report.is_intact(), "the chain and indexes check out");
    }
}

/// A subscriber on one node catches up on history and goes live while writers append on
/// every node: every position once, in order, with no gap and no repeat at the hand-over.
pub async fn catch_up_then_live(nodes: &[SharedLog]) {
    let start = node(nodes, 0).head().len;
    for n in 0..200 {
        node(nodes, 0)
            .append(&stream("history-1"), ExpectedVersion::Any, vec![event(n)])
            .await
            .expect("appends");
    }
    let reader = node(nodes, nodes.len() - 1).clone();
    let mut subscription = reader.subscribe(Position(start));
    let writers: Vec<_> = (0..4usize)
        .map(|w| {
            let log = node(nodes, w).clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..60 {
                    let batch = vec![event(n)];
                    ids.extend(batch.iter().map(|e| e.id));
                    log.append(&stream(&format!("live-{w}")), ExpectedVersion::Any, batch)
                        .await
                        .expect("appends");
                }
                ids
            })
        })
        .collect();
    let mut written = HashSet::new();
    for w in writers {
        written.extend(w.await.expect("writer"));
    }
    let total = 200 + written.len() as u64;
    let mut seen = Vec::new();
    while (seen.len() as u64) < total {
        let e = tokio::time::timeout(WAIT, subscription.next())
            .await
            .expect("the subscriber keeps up")
            .expect("open")
            .expect("reads");
        seen.push(e);
    }
    let positions: Vec<u64> = seen.iter().map(|e| e.record.position.0).collect();
    assert_eq!(positions, (start..start + total).collect::<Vec<_>>());
    let live: HashSet<EventId> = seen.iter().skip(200).map(|e| e.record.id).collect();
    assert_eq!(live, written, "exactly the live events after the history");
}

/// A subscriber that stops reading holds at most one page, and writers are not held back by
/// it: they finish, and the subscriber then reads everything in order.
pub async fn subscription_backpressure(nodes: &[SharedLog]) {
    let start = node(nodes, 0).head().len;
    let mut idle = node(nodes, nodes.len() - 1).subscribe(Position(start));
    let first = tokio::time::timeout(WAIT, async {
        node(nodes, 0)
            .append(&stream("flood-0"), ExpectedVersion::Any, vec![event(0)])
            .await
            .expect("appends");
        idle.next().await
    })
    .await
    .expect("the first event arrives")
    .expect("open")
    .expect("reads");
    assert_eq!(first.record.position, Position(start));
    let batches = (3 * SUBSCRIPTION_PAGE as u64).div_ceil(50);
    let flood = batches * 50;
    tokio::time::timeout(WAIT, async {
        for (writer, n) in (0..batches).enumerate() {
            let batch: Vec<NewEvent> = (0..50).map(|i| event(n * 50 + i)).collect();
            node(nodes, writer)
                .append(&stream("flood-1"), ExpectedVersion::Any, batch)
                .await
                .expect("appends");
        }
    })
    .await
    .expect("writers are not held back by a subscriber that does not read");
    assert!(
        idle.buffered() <= SUBSCRIPTION_PAGE,
        "an idle subscriber holds at most one page, not {}",
        idle.buffered()
    );
    let mut next = start + 1;
    let mut by_stream: BTreeMap<String, u64> = BTreeMap::new();
    while next < start + 1 + flood {
        let e = tokio::time::timeout(WAIT, idle.next())
            .await
            .expect("catches up")
            .expect("open")
            .expect("reads");
        assert_eq!(e.record.position.0, next, "in order, none skipped");
        *by_stream.entry(e.record.stream.to_string()).or_default() += 1;
        next += 1;
    }
    assert_eq!(by_stream.get("flood-1"), Some(&flood));
}
