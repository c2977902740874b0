//! The log's conformance suite (`sparkfeed_testkit::conformance`) on the embedded sled log:
//! the handles are clones of one `EventLog`. The same checks run on NATS JetStream in
//! `crates/jetstream/tests/conformance.rs`.

use sparkfeed_eventlog::SharedLog;
use sparkfeed_testkit::conformance;

use crate::fresh;

/// Three handles on one fresh log, and the directory that holds it.
fn nodes() -> (tempfile::TempDir, Vec<SharedLog>) {
    let (dir, log) = fresh();
    let shared: SharedLog = log.into();
    (dir, vec![shared.clone(), shared.clone(), shared])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expected_version_races_have_one_winner_per_version() {
    let (_dir, nodes) = nodes();
    conformance::expected_version_races(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_conditioned_on_another_stream_lands_only_while_it_holds() {
    let (_dir, nodes) = nodes();
    conformance::conditions_hold_across_nodes(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_with_the_same_ids_write_nothing() {
    let (_dir, nodes) = nodes();
    conformance::idempotent_retries(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_leave_a_gap_free_order() {
    let (_dir, nodes) = nodes();
    conformance::gap_free_order(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_hands_over_from_catch_up_to_live_with_no_gap_or_repeat() {
    let (_dir, nodes) = nodes();
    conformance::catch_up_then_live(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_subscriber_holds_one_page_and_holds_no_writer_back() {
    let (_dir, nodes) = nodes();
    conformance::subscription_backpressure(&nodes).await;
}
