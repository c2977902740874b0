//! A copy of a log's records into a fresh log is the same log, byte for byte.

use sparkfeed_events::Position;

use sparkfeed_eventlog::ExpectedVersion;

use crate::{append_spread, events, fresh, stream};

#[tokio::test]
async fn a_copy_of_every_record_has_the_same_chain_and_reads_the_same() {
    let (_a, source) = fresh();
    append_spread(&source, 300, 7).await;
    let records = source.read_all(Position(0), usize::MAX).expect("reads");

    let (_b, copy) = fresh();
    let head = copy.copy_records(records.clone()).await.expect("copies");
    assert_eq!(head, source.head(), "same length, same chain hash");
    assert_eq!(
        copy.read_all(Position(0), usize::MAX).expect("reads"),
        records
    );
    assert!(copy.verify(|_| {}).expect("verifies").is_intact());
}

#[tokio::test]
async fn a_copy_of_a_prefix_is_the_log_as_it_stood_at_that_position() {
    let (_a, source) = fresh();
    append_spread(&source, 100, 3).await;
    let prefix = source.read_all(Position(0), 40).expect("reads");

    let (_b, copy) = fresh();
    let head = copy.copy_records(prefix.clone()).await.expect("copies");
    assert_eq!(head.len, 40);
    assert_eq!(head.hash, prefix[39].hash);
}

#[tokio::test]
async fn records_that_do_not_continue_the_log_are_refused() {
    let (_a, source) = fresh();
    append_spread(&source, 20, 2).await;
    let records = source.read_all(Position(0), usize::MAX).expect("reads");

    // Skipping the first ten: the stream versions do not continue an empty log.
    let (_b, copy) = fresh();
    let refused = copy.copy_records(records[10..].to_vec()).await;
    assert!(refused.is_err(), "a gap is refused");

    // Into a log that already has other events: the positions do not match.
    let (_c, busy) = fresh();
    busy.append(&stream("other-1"), ExpectedVersion::Any, events(0, 1))
        .await
        .expect("appends");
    let refused = busy
        .copy_records(records.clone())
        .await
        .expect_err("a copy must land at the source's positions");
    assert_eq!(refused.code(), "CORRUPT");
}
