use std::collections::HashSet;
use std::time::Duration;

use sparkfeed_eventlog::ExpectedVersion;
use sparkfeed_events::{EventId, Position};

use crate::{events, fresh, stream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_from_zero_sees_every_event_once_in_order_while_writers_append() {
    let (_dir, log) = fresh();
    // Some history first, so the subscriber has to catch up before it goes live.
    for n in 0..300 {
        log.append(&stream("history-1"), ExpectedVersion::Any, events(n, 1))
            .await
            .expect("appends");
    }
    let mut subscription = log.subscribe(Position(0));
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..250 {
                    let batch = events(n, 1 + n % 3);
                    ids.extend(batch.iter().map(|e| e.id));
                    log.append(&stream(&format!("writer-{w}")), ExpectedVersion::Any, batch)
                        .await
                        .expect("appends");
                }
                ids
            })
        })
        .collect();
    let mut written: HashSet<EventId> = HashSet::new();
    for w in writers {
        written.extend(w.await.expect("writer"));
    }
    let total = log.head().len;
    assert_eq!(total, 300 + written.len() as u64);

    let mut seen = Vec::new();
    while (seen.len() as u64) < total {
        let event = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await
            .expect("the subscriber keeps up")
            .expect("log open")
            .expect("reads");
        seen.push(event);
    }
    let positions: Vec<u64> = seen.iter().map(|e| e.record.position.0).collect();
    assert_eq!(
        positions,
        (0..total).collect::<Vec<_>>(),
        "every position once, in order"
    );
    let live: HashSet<EventId> = seen[300..].iter().map(|e| e.record.id).collect();
    assert_eq!(live, written);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_subscriber_is_woken_by_each_new_commit() {
    let (_dir, log) = fresh();
    log.append(&stream("post-1"), ExpectedVersion::Any, events(0, 3))
        .await
        .expect("appends");
    let mut subscription = log.subscribe(Position(2));
    let first = subscription.next().await.expect("open").expect("reads");
    assert_eq!(first.record.position, Position(2));
    for n in 0..20u64 {
        // Nothing is pending: the subscriber waits until the next append commits.
        let waiting = tokio::spawn(async move {
            let event = subscription.next().await.expect("open").expect("reads");
            (subscription, event)
        });
        let done = log
            .append(&stream("post-2"), ExpectedVersion::Any, events(n, 1))
            .await
            .expect("appends");
        let (back, event) = tokio::time::timeout(Duration::from_secs(30), waiting)
            .await
            .expect("woken")
            .expect("task");
        subscription = back;
        assert_eq!(event.record.position, done.first_position);
    }
}

#[tokio::test]
async fn a_slow_subscriber_holds_at_most_one_page() {
    let (_dir, log) = fresh();
    let mut subscription = log.subscribe(Position(0));
    for n in 0..20 {
        log.append(
            &stream("post-1"),
            ExpectedVersion::Any,
            events(n * 500, 500),
        )
        .await
        .expect("appends");
    }
    assert_eq!(
        subscription.buffered(),
        0,
        "nothing is pushed to a subscriber"
    );
    let first = subscription.next().await.expect("open").expect("reads");
    assert_eq!(first.record.position, Position(0));
    assert!(subscription.buffered() < sparkfeed_eventlog::SUBSCRIPTION_PAGE);
    assert_eq!(subscription.position(), Position(1));
}

#[tokio::test]
async fn a_subscription_ends_after_the_last_event_when_the_log_closes() {
    let (_dir, log) = fresh();
    log.append(&stream("post-1"), ExpectedVersion::Any, events(0, 2))
        .await
        .expect("appends");
    let mut subscription = log.subscribe(Position(0));
    drop(log);
    assert!(subscription.next().await.is_some());
    assert!(subscription.next().await.is_some());
    assert!(subscription.next().await.is_none());
}

#[tokio::test]
async fn next_batch_takes_what_is_durable_without_waiting_for_more() {
    let (_dir, log) = fresh();
    log.append(&stream("post-1"), ExpectedVersion::Any, events(0, 600))
        .await
        .expect("appends");
    let mut subscription = log.subscribe(Position(10));
    let batch = subscription
        .next_batch(1000)
        .await
        .expect("open")
        .expect("reads");
    let positions: Vec<u64> = batch.iter().map(|e| e.record.position.0).collect();
    assert_eq!(positions, (10..600).collect::<Vec<_>>());
    let small = log
        .subscribe(Position(0))
        .next_batch(5)
        .await
        .expect("open")
        .expect("reads");
    assert_eq!(small.len(), 5);
}
