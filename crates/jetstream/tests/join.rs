//! A node joins only a log its copy continues: a directory holding another log (the
//! embedded log of a single server, or another cluster's copy) is refused, and nothing is
//! published or copied.

use std::time::Duration;

use sparkfeed_eventlog::{Config as LogConfig, EventLog, ExpectedVersion, SharedLog};
use sparkfeed_events::StreamName;
use sparkfeed_jetstream::{Config, JetStreamLog};
use sparkfeed_testkit::log::event;
use sparkfeed_testkit::nats::NatsCluster;

fn stream(name: &str) -> StreamName {
    StreamName::parse(name).expect("valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_holding_another_log_is_refused() {
    let cluster = NatsCluster::start(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = |name: &str| {
        let mut config = Config::new(cluster.urls(), dir.path().join(name));
        config.timeout = Duration::from_secs(30);
        config
    };
    // The cluster's log has 3 events.
    let node: SharedLog = JetStreamLog::open(config("node"))
        .await
        .expect("opens")
        .into();
    for n in 0..3 {
        node.append(&stream("post-1"), ExpectedVersion::Any, vec![event(n)])
            .await
            .expect("appends");
    }
    // Another log, embedded, with 5 events of its own.
    {
        let other = EventLog::open(LogConfig::new(dir.path().join("other"))).expect("opens");
        for n in 0..5 {
            other
                .append(&stream("post-9"), ExpectedVersion::Any, vec![event(n)])
                .await
                .expect("appends");
        }
    }
    let refused = match JetStreamLog::open(config("other")).await {
        Ok(_) => panic!("a node over another log's directory must not join"),
        Err(e) => e,
    };
    assert_eq!(refused.code(), "CORRUPT", "{refused}");
    // Same length as the cluster's log, different events: refused too (the chain differs).
    {
        let twin = EventLog::open(LogConfig::new(dir.path().join("twin"))).expect("opens");
        twin.append(
            &stream("post-1"),
            ExpectedVersion::Any,
            (0..3).map(event).collect(),
        )
        .await
        .expect("appends");
    }
    let refused = match JetStreamLog::open(config("twin")).await {
        Ok(_) => panic!("a copy with another chain must not join"),
        Err(e) => e,
    };
    assert_eq!(refused.code(), "CORRUPT", "{refused}");
    assert_eq!(node.head().len, 3, "nothing was published");
}
