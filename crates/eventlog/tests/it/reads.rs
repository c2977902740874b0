use sparkfeed_eventlog::{Direction, ExpectedVersion};
use sparkfeed_events::{Position, StreamVersion};

use crate::{append_spread, events, fresh, stream};

fn versions(slice: &sparkfeed_eventlog::StreamSlice) -> Vec<u64> {
    slice.events.iter().map(|e| e.record.version.0).collect()
}

#[tokio::test]
async fn a_stream_reads_forwards_and_backwards_in_pages() {
    let (_dir, log) = fresh();
    let s = stream("post-1");
    for n in 0..10 {
        log.append(&s, ExpectedVersion::Any, events(n, 1))
            .await
            .expect("appends");
        log.append(&stream("post-2"), ExpectedVersion::Any, events(n, 1))
            .await
            .expect("appends");
    }
    let page = log
        .read_stream(&s, StreamVersion(0), Direction::Forward, 4)
        .expect("reads");
    assert_eq!(versions(&page), vec![0, 1, 2, 3]);
    assert_eq!(page.next, Some(StreamVersion(4)));
    let page = log
        .read_stream(&s, StreamVersion(8), Direction::Forward, 4)
        .expect("reads");
    assert_eq!(versions(&page), vec![8, 9]);
    assert_eq!(page.next, None);

    let page = log
        .read_stream(&s, StreamVersion(u64::MAX), Direction::Backward, 3)
        .expect("reads");
    assert_eq!(versions(&page), vec![9, 8, 7]);
    assert_eq!(page.next, Some(StreamVersion(6)));
    let page = log
        .read_stream(&s, StreamVersion(1), Direction::Backward, 3)
        .expect("reads");
    assert_eq!(versions(&page), vec![1, 0]);
    assert_eq!(page.next, None);
    assert!(page.events.iter().all(|e| e.record.stream == s));

    let none = log
        .read_stream(&stream("post-3"), StreamVersion(0), Direction::Forward, 10)
        .expect("reads");
    assert!(none.events.is_empty() && none.next.is_none());
}

#[tokio::test]
async fn the_whole_log_reads_in_pages_from_any_position() {
    let (_dir, log) = fresh();
    append_spread(&log, 25, 3).await;
    let mut seen = Vec::new();
    let mut from = Position(0);
    loop {
        let page = log.read_all(from, 7).expect("reads");
        if page.is_empty() {
            break;
        }
        from = page.last().expect("non-empty").record.position.next();
        seen.extend(page.into_iter().map(|e| e.record.position.0));
    }
    assert_eq!(seen, (0..25).collect::<Vec<_>>());
    assert!(log.read_all(Position(25), 10).expect("reads").is_empty());
    assert!(
        log.read_all(Position(u64::MAX), 10)
            .expect("reads")
            .is_empty()
    );

    let fifth = log.read_event(Position(5)).expect("reads").expect("exists");
    let found = log
        .find_event(&fifth.record.id)
        .expect("reads")
        .expect("indexed");
    assert_eq!(found, fifth);
}
