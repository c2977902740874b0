//! The log's conformance suite (`sparkfeed_testkit::conformance`) on NATS JetStream: a real
//! cluster of 3 `nats-server` processes with an R3 stream, and three nodes (each its own
//! `JetStreamLog` with its own local copy) sharing it, so every race is a race between
//! nodes. The same checks run on the embedded sled log in the eventlog's tests.

use std::time::Duration;

use sparkfeed_eventlog::SharedLog;
use sparkfeed_jetstream::{Config, JetStreamLog};
use sparkfeed_testkit::conformance;
use sparkfeed_testkit::nats::NatsCluster;

/// A 3-server cluster and three nodes on a fresh stream, with their local copies.
async fn nodes() -> (NatsCluster, tempfile::TempDir, Vec<SharedLog>) {
    let cluster = NatsCluster::start(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut nodes = Vec::new();
    for i in 0..3 {
        let mut config = Config::new(cluster.urls(), dir.path().join(format!("node-{i}")));
        config.timeout = Duration::from_secs(30);
        let log = JetStreamLog::open(config).await.expect("the node opens");
        nodes.push(SharedLog::from(log));
    }
    (cluster, dir, nodes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expected_version_races_have_one_winner_per_version() {
    let (_cluster, _dir, nodes) = nodes().await;
    conformance::expected_version_races(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_conditioned_on_another_stream_lands_only_while_it_holds() {
    let (_cluster, _dir, nodes) = nodes().await;
    conformance::conditions_hold_across_nodes(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_with_the_same_ids_write_nothing() {
    let (_cluster, _dir, nodes) = nodes().await;
    conformance::idempotent_retries(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_leave_a_gap_free_order() {
    let (_cluster, _dir, nodes) = nodes().await;
    conformance::gap_free_order(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_hands_over_from_catch_up_to_live_with_no_gap_or_repeat() {
    let (_cluster, _dir, nodes) = nodes().await;
    conformance::catch_up_then_live(&nodes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_subscriber_holds_one_page_and_holds_no_writer_back() {
    let (_cluster, _dir, nodes) = nodes().await;
    conformance::subscription_backpressure(&nodes).await;
}
