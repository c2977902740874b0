//! The event log's specification, as tests against real sled directories in temp dirs.

mod append;
mod conformance;
mod copy;
mod disk_full;
mod layout;
mod merkle;
mod offline;
mod props;
mod reads;
mod recovery;
mod subscribe;
mod tamper;

use sparkfeed_eventlog::{Config, EventLog, ExpectedVersion};
use sparkfeed_events::{NewEvent, StreamName};
pub use sparkfeed_testkit::log::event;

/// A fresh log in a fresh temp dir (kept alive by the returned guard).
pub fn fresh() -> (tempfile::TempDir, EventLog) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EventLog::open(Config::new(dir.path())).expect("opens");
    (dir, log)
}

/// `n` events, numbered from `from`.
pub fn events(from: u64, n: u64) -> Vec<NewEvent> {
    (from..from + n).map(event).collect()
}

/// The stream `name`.
pub fn stream(name: &str) -> StreamName {
    StreamName::parse(name).expect("valid stream name")
}

/// `count` single-event appends, the n-th to stream `post-{n % streams}`.
pub async fn append_spread(log: &EventLog, count: u64, streams: u64) {
    for n in 0..count {
        log.append(
            &stream(&format!("post-{}", n % streams)),
            ExpectedVersion::Any,
            events(n, 1),
        )
        .await
        .expect("appends");
    }
}
