//! The sparkfeed log on a NATS JetStream cluster: [`JetStreamLog`].
//!
//! One JetStream stream (R3 on a 3-server cluster) is the log every API node shares. Each
//! node keeps a local copy of it, an ordinary sled [`EventLog`] in its data directory, fed
//! in log order by one ordered consumer ([`follower`]); every read, subscription, Merkle
//! proof and verify is served from that copy, and the projections follow it as they follow
//! the embedded log.
//!
//! The mapping, and why (ARCHITECTURE.md, "The log on JetStream"):
//! - **One message per group of appends.** nats-server 2.9 cannot publish several messages
//!   atomically, so a node's [`writer`] folds the appends waiting for it into one message:
//!   each append (one stream, one or more events) commits or fails whole.
//! - **Expected versions through the stream's last sequence.** The per-subject header
//!   guards one subject per message, but a group writes many streams and a purchase is
//!   conditioned on a product stream it does not write. So the writer checks every expected
//!   version and [`Condition`](sparkfeed_eventlog::Condition) against its local copy at
//!   stream sequence `S`, and publishes with `Nats-Expected-Last-Sequence: S`: if any other
//!   message landed since, JetStream refuses it, the node catches up and checks again.
//! - **Positions and the chain fixed by the publisher.** Because the message can only land
//!   at `S + 1`, the writer knows where its records go: it seals them (positions, versions,
//!   recorded time, chain hashes) and the message carries the stored bytes. Every node
//!   copies them and checks that its own chain ends at the hash they carry; a difference
//!   stops the node ([`Replication::failure`](sparkfeed_eventlog::Replication)).
//! - **Idempotency twice.** Event ids are checked against the local copy (forever, as the
//!   embedded log does), and a message retried after a lost acknowledgement carries the
//!   same `Nats-Msg-Id` (a hash of its bytes), which JetStream answers as a duplicate
//!   within its window, before it checks the expected sequence.
//!
//! An append is answered once JetStream acknowledged it (a majority of the replicas has
//! it) and the node's local copy has applied it: a client reads its own writes on the node
//! that took them. Another node shows them once its follower applied them (its `/readyz`
//! lag).

mod follower;
pub mod keys;
pub mod message;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use sparkfeed_eventlog::{
    AppendError, AppendFuture, Condition, Direction, EventLog, ExpectedVersion, Log, LogError,
    LogHead, LogStats, Replication, StreamSlice, StreamState, Subscription, VerifyReport,
    check_append,
};
use sparkfeed_events::{
    EventId, Hash, NewEvent, Position, RecordedEvent, StreamName, StreamVersion,
};
use tokio::sync::{mpsc, oneshot, watch};

pub use crate::keys::JetStreamKeys;

use crate::follower::Applied;
use crate::writer::Request;

/// How to reach the cluster and where the local copy lives.
#[derive(Clone, Debug)]
pub struct Config {
    /// The servers, `nats://HOST:PORT` each; the client fails over between them.
    pub servers: Vec<String>,
    /// The JetStream stream that holds the log (created if missing).
    pub stream: String,
    /// Its one subject.
    pub subject: String,
    /// Its replicas when it is created: 3 on a 3-server cluster.
    pub replicas: usize,
    /// The local copy's data directory.
    pub dir: PathBuf,
    /// The local copy's page cache, in bytes.
    pub cache_capacity_bytes: u64,
    /// How long an append keeps trying through a leader election or a lost server before it
    /// is answered `LOG_UNAVAILABLE`; also how long opening waits for the cluster.
    pub timeout: Duration,
    /// The most events one message carries.
    pub max_group_events: usize,
}

impl Config {
    /// Defaults for `servers`, keeping the local copy in `dir`.
    pub fn new(servers: Vec<String>, dir: impl Into<PathBuf>) -> Self {
        Self {
            servers,
            stream: "SPARKFEED".into(),
            subject: "sparkfeed.log".into(),
            replicas: 3,
            dir: dir.into(),
            cache_capacity_bytes: 64 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            max_group_events: 1024,
        }
    }

    /// Parses `nats://HOST:PORT[,HOST:PORT…]` (the `--log` flag of `sparkfeed serve`).
    pub fn parse_servers(url: &str) -> Result<Vec<String>, JetStreamError> {
        let rest = url
            .strip_prefix("nats://")
            .ok_or_else(|| JetStreamError::BadUrl(format!("{url}: it must start with nats://")))?;
        let servers: Vec<String> = rest
            .split(',')
            .map(|s| s.trim().trim_start_matches("nats://").to_owned())
            .filter(|s| !s.is_empty())
            .map(|s| format!("nats://{s}"))
            .collect();
        if servers.is_empty() {
            return Err(JetStreamError::BadUrl(format!("{url}: no server named")));
        }
        for server in &servers {
            let host_port = server.trim_start_matches("nats://");
            let port_ok = host_port
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                return Err(JetStreamError::BadUrl(format!(
                    "{server}: expected nats://HOST:PORT"
                )));
            }
        }
        Ok(servers)
    }
}

/// Why the JetStream log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum JetStreamError {
    /// The `--log` URL is malformed. Code: `BAD_LOG_URL`.
    #[error("bad log URL {0}")]
    BadUrl(String),
    /// No server of the cluster answered. Code: `LOG_UNAVAILABLE`.
    #[error("connecting to NATS: {0}")]
    Connect(String),
    /// The stream could not be created or read. Code: `LOG_UNAVAILABLE`.
    #[error("the JetStream stream: {0}")]
    Stream(String),
    /// The local copy failed, or does not continue the shared log. Code: the log's.
    #[error(transparent)]
    Log(#[from] LogError),
}

impl JetStreamError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            JetStreamError::BadUrl(_) => "BAD_LOG_URL",
            JetStreamError::Connect(_) | JetStreamError::Stream(_) => "LOG_UNAVAILABLE",
            JetStreamError::Log(e) => e.code(),
        }
    }
}

/// Counters of what this node published.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) messages: AtomicU64,
    pub(crate) conflicts: AtomicU64,
    pub(crate) events: AtomicU64,
    /// Messages in the shared log after the last one the follower applied.
    pub(crate) lag: AtomicU64,
    /// Consumers the follower dropped because they applied nothing for `follower::STALL`
    /// while the shared log was ahead of the copy.
    pub(crate) stalls: AtomicU64,
    /// Why the follower last had to follow again, and when: told with a `LOG_UNAVAILABLE`
    /// that waited on the copy, so the answer says what the node was going through.
    pub(crate) last_retry: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

impl Counters {
    /// `what`, with the follower's last retry when it came within the last minute.
    pub(crate) fn explain(&self, what: &str) -> String {
        let last = self.last_retry.lock().ok().and_then(|last| last.clone());
        match last {
            Some((at, why)) if at.elapsed() < Duration::from_secs(60) => format!(
                "{what} (the follower, {:.1} s ago: {why})",
                at.elapsed().as_secs_f64()
            ),
            _ => what.to_owned(),
        }
    }
}

/// The log shared through a JetStream stream, with this node's local copy.
#[derive(Clone)]
pub struct JetStreamLog {
    inner: Arc<Inner>,
}

struct Inner {
    local: EventLog,
    client: async_nats::Client,
    requests: mpsc::Sender<Request>,
    applied: watch::Receiver<Applied>,
    counters: Arc<Counters>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl JetStreamLog {
    /// Connects to the cluster, creates the stream if it is missing, opens the local copy
    /// and starts following the shared log from where the copy ends.
    pub async fn open(config: Config) -> Result<Self, JetStreamError> {
        let local = EventLog::open(sparkfeed_eventlog::Config {
            cache_capacity_bytes: config.cache_capacity_bytes,
            ..sparkfeed_eventlog::Config::new(&config.dir)
        })?;
        let client = async_nats::ConnectOptions::new()
            .name("sparkfeed")
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(Duration::from_secs(5)))
            .connect(config.servers.clone())
            .await
            .map_err(|e| JetStreamError::Connect(e.to_string()))?;
        let context = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .build(client.clone());
        let shared = create_stream(&context, &config).await?;
        let counters = Arc::new(Counters::default());
        let (start, last) = follower::start_sequence(&shared, &local).await?;
        let (applied_tx, applied) = watch::channel(Applied {
            sequence: start.saturating_sub(1),
            len: local.head().len,
            failure: None,
        });
        let follow = tokio::spawn(follower::follow(
            shared,
            local.clone(),
            start,
            applied_tx,
            Arc::clone(&counters),
        ));
        let (requests, queue) = mpsc::channel(4096);
        let write = tokio::spawn(
            writer::Writer {
                context,
                subject: config.subject.clone(),
                local: local.clone(),
                applied: applied.clone(),
                counters: Arc::clone(&counters),
                timeout: config.timeout,
                max_group_events: config.max_group_events,
            }
            .run(queue),
        );
        let log = Self {
            inner: Arc::new(Inner {
                local,
                client,
                requests,
                applied,
                counters,
                tasks: vec![follow, write],
            }),
        };
        // A node answers nothing before it holds the log as it was when it joined: a
        // fresh node must not take an empty copy for an empty log.
        log.wait_for_sequence(last, config.timeout.max(Duration::from_secs(600)))
            .await?;
        Ok(log)
    }

    /// Waits until the local copy applied the shared log up to stream sequence `sequence`.
    async fn wait_for_sequence(&self, sequence: u64, timeout: Duration) -> Result<(), LogError> {
        let mut applied = self.inner.applied.clone();
        let reached = tokio::time::timeout(
            timeout,
            applied.wait_for(|a| a.sequence >= sequence || a.failure.is_some()),
        )
        .await;
        match reached {
            Ok(Ok(a)) => match &a.failure {
                Some(why) => Err(LogError::Stopped(why.clone())),
                None => Ok(()),
            },
            Ok(Err(_)) => Err(LogError::Closed),
            Err(_) => Err(LogError::Unavailable(format!(
                "the local copy did not catch up with the shared log within {timeout:?}"
            ))),
        }
    }

    /// The local copy.
    pub fn local(&self) -> &EventLog {
        &self.inner.local
    }

    /// How many times the follower dropped a consumer that applied nothing while the shared
    /// log was ahead of the copy, and followed again on a new one.
    pub fn stalled_consumers(&self) -> u64 {
        self.inner.counters.stalls.load(Ordering::Relaxed)
    }

    async fn submit(
        &self,
        stream: &StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        conditions: Vec<Condition>,
    ) -> Result<sparkfeed_eventlog::Appended, AppendError> {
        check_append(&events)?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .requests
            .send(Request {
                stream: stream.clone(),
                expected,
                events,
                conditions,
                reply,
            })
            .await
            .map_err(|_| LogError::Closed)?;
        answer.await.map_err(|_| LogError::Closed)?
    }
}

/// Creates the log's stream, or finds it, retrying while the cluster elects its leaders.
async fn create_stream(
    context: &jetstream::Context,
    config: &Config,
) -> Result<stream::Stream, JetStreamError> {
    let wanted = stream::Config {
        name: config.stream.clone(),
        subjects: vec![config.subject.clone()],
        num_replicas: config.replicas,
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window: Duration::from_secs(120),
        allow_direct: true,
        ..Default::default()
    };
    let deadline = tokio::time::Instant::now() + config.timeout;
    let mut retry = tokio::time::interval(Duration::from_millis(250));
    loop {
        retry.tick().await;
        match context.get_or_create_stream(wanted.clone()).await {
            Ok(found) => return Ok(found),
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "the JetStream stream is not ready yet");
            }
            Err(e) => return Err(JetStreamError::Stream(e.to_string())),
        }
    }
}

impl Log for JetStreamLog {
    fn append_when<'a>(
        &'a self,
        stream: &'a StreamName,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        conditions: Vec<Condition>,
    ) -> AppendFuture<'a> {
        Box::pin(self.submit(stream, expected, events, conditions))
    }

    fn head(&self) -> LogHead {
        self.inner.local.head()
    }

    fn stats(&self) -> LogStats {
        let c = &self.inner.counters;
        LogStats {
            group_commits: c.messages.load(Ordering::Relaxed),
            groups: c.messages.load(Ordering::Relaxed),
            events_committed: c.events.load(Ordering::Relaxed),
        }
    }

    fn replication(&self) -> Replication {
        Replication {
            backend: "jetstream",
            lag_messages: self.inner.counters.lag.load(Ordering::Relaxed),
            connected: self.inner.client.connection_state()
                == async_nats::connection::State::Connected,
            failure: self.inner.applied.borrow().failure.clone(),
        }
    }

    fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, LogError> {
        self.inner.local.read_all(from, max)
    }

    fn find_event(&self, id: &EventId) -> Result<Option<RecordedEvent>, LogError> {
        self.inner.local.find_event(id)
    }

    fn read_stream(
        &self,
        stream: &StreamName,
        from: StreamVersion,
        direction: Direction,
        max: usize,
    ) -> Result<StreamSlice, LogError> {
        self.inner.local.read_stream(stream, from, direction, max)
    }

    fn stream_state(&self, stream: &StreamName) -> Result<StreamState, LogError> {
        self.inner.local.stream_state(stream)
    }

    fn subscribe(&self, from: Position) -> Subscription {
        self.inner.local.subscribe(from)
    }

    fn tree_root(&self, size: u64) -> Result<Hash, LogError> {
        self.inner.local.tree_root(size)
    }

    fn inclusion_proof(&self, position: Position, size: u64) -> Result<Vec<Hash>, LogError> {
        self.inner.local.inclusion_proof(position, size)
    }

    fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LogError> {
        self.inner.local.consistency_proof(from, to)
    }

    fn leaf_bytes(&self, position: Position) -> Result<Vec<u8>, LogError> {
        self.inner.local.leaf_bytes(position)
    }

    fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, LogError> {
        self.inner.local.verify(progress)
    }
}

impl From<JetStreamLog> for sparkfeed_eventlog::SharedLog {
    fn from(log: JetStreamLog) -> Self {
        Arc::new(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_url_names_one_or_more_servers() {
        assert_eq!(
            Config::parse_servers("nats://127.0.0.1:4222,10.0.0.2:4222").expect("parses"),
            vec!["nats://127.0.0.1:4222", "nats://10.0.0.2:4222"]
        );
        for bad in [
            "http://x:1",
            "nats://",
            "nats://host",
            "nats://host:port",
            "nats://:4222",
        ] {
            let e = Config::parse_servers(bad).expect_err(bad);
            assert_eq!(e.code(), "BAD_LOG_URL");
        }
    }
}
