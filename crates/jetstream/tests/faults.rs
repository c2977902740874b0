//! Faults of the JetStream log on a real 3-server cluster (R3 stream): a NATS server killed
//! under write load, and an API node stopped and reopened on its local copy.
//!
//! Every wait is bounded, in count and in time; nothing sleeps: the test waits on the
//! writers' answers, on subscriptions (`conformance::converge`), or on bounded interval
//! ticks and timeouts. Run with `--nocapture` to see the figures each test prints.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{AckPolicy, pull};
use futures_util::StreamExt;
use sparkfeed_eventlog::{ExpectedVersion, Log, SharedLog};
use sparkfeed_events::{EventId, Position, StreamName};
use sparkfeed_jetstream::{Config, JetStreamError, JetStreamLog};
use sparkfeed_testkit::conformance;
use sparkfeed_testkit::log::event;
use sparkfeed_testkit::nats::NatsCluster;
use tokio::sync::watch;

/// How long an append keeps trying inside a node before it answers `LOG_UNAVAILABLE`.
const APPEND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a writer keeps retrying one event (same id) before the test gives up.
const GIVE_UP: Duration = Duration::from_secs(90);
/// The longest one append call may take before the test calls it hung: the node's own
/// timeout, plus one batch ahead of it in the node's queue, plus slack.
const ONE_CALL: Duration = Duration::from_secs(60);
/// More events than a writer can append in the test's few seconds: a bound, never reached.
const MAX_EVENTS_PER_WRITER: u64 = 1_000_000;
/// The pause between a `LOG_UNAVAILABLE` answer and the retry.
const RETRY_PACE: Duration = Duration::from_millis(100);

fn stream(name: &str) -> StreamName {
    StreamName::parse(name).expect("valid stream name")
}

fn config(cluster: &NatsCluster, dir: &std::path::Path) -> Config {
    let mut config = Config::new(cluster.urls(), dir);
    config.timeout = APPEND_TIMEOUT;
    config
}

/// Lets the writers run for `period`: one tick of an interval that starts after it.
async fn hold(period: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.tick().await;
}

/// The server name (`n1`…) of the log stream's leader, as JetStream reports it; `None`
/// when the cluster does not say within a few seconds.
async fn stream_leader(urls: Vec<String>, name: String) -> Option<String> {
    let asked = async {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(3))
            .connect(urls)
            .await
            .ok()?;
        let context = async_nats::jetstream::new(client);
        let info = context.get_stream(name).await.ok()?.get_info().await.ok()?;
        info.cluster.and_then(|c| c.leader)
    };
    tokio::time::timeout(Duration::from_secs(10), asked)
        .await
        .ok()
        .flatten()
}

/// How the restarted server `name` stands in the stream once it is a current replica (or
/// the leader) with no lag, asked every 200 ms for at most 60 s; `None` if it never is.
async fn replica_current(urls: Vec<String>, stream: String, name: String) -> Option<String> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(3))
        .connect(urls)
        .await
        .ok()?;
    let context = async_nats::jetstream::new(client);
    let asked = async {
        let mut pace = tokio::time::interval(Duration::from_millis(200));
        loop {
            pace.tick().await;
            let Ok(mut found) = context.get_stream(stream.clone()).await else {
                continue;
            };
            let Ok(info) = found.info().await else {
                continue;
            };
            let Some(cluster) = info.cluster.clone() else {
                continue;
            };
            if cluster.leader.as_deref() == Some(name.as_str()) {
                return format!("{name} is the leader");
            }
            if let Some(peer) = cluster.replicas.iter().find(|p| p.name == name)
                && peer.current
                && !peer.offline
                && peer.lag.unwrap_or(0) == 0
            {
                return format!("{name} is a current replica, lag 0");
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), asked)
        .await
        .ok()
}

/// Each node's head as `count@chain hash`, for the figures the tests print.
fn heads(nodes: &[SharedLog]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| {
            let head = n.head();
            format!("{}@{}", head.len, head.hash.to_hex())
        })
        .collect()
}

/// Seconds from `origin` to `at`, negative when `at` came first.
fn since(origin: Instant, at: Instant) -> f64 {
    at.saturating_duration_since(origin).as_secs_f64()
        - origin.saturating_duration_since(at).as_secs_f64()
}

/// One event acknowledged to a writer.
struct Acked {
    id: EventId,
    position: Position,
    deduplicated: bool,
}

/// What one writer saw.
#[derive(Default)]
struct Written {
    acked: Vec<Acked>,
    /// `LOG_UNAVAILABLE` answers, each followed by a retry of the same event.
    unavailable: u64,
    /// The longest time from an event's first try to its acknowledgement.
    longest: Duration,
    /// When each `LOG_UNAVAILABLE` came, and why.
    reasons: Vec<(Instant, String)>,
    /// When each acknowledgement came.
    ack_times: Vec<Instant>,
}

/// Appends single events to `fault-{w}` on `log` until `stop` says so, retrying an event
/// answered `LOG_UNAVAILABLE` with the same id until it is acknowledged. An event started
/// is always seen through, so every event the writer made is acknowledged or the test fails.
async fn write_until_stopped(log: SharedLog, w: usize, stop: watch::Receiver<bool>) -> Written {
    let target = stream(&format!("fault-{w}"));
    let mut written = Written::default();
    let mut pace = tokio::time::interval(RETRY_PACE);
    for n in 0..MAX_EVENTS_PER_WRITER {
        if *stop.borrow() {
            break;
        }
        let events = vec![event(n)];
        let id = events.first().map(|e| e.id).expect("one event");
        let first_try = Instant::now();
        let done = loop {
            let answer = tokio::time::timeout(
                ONE_CALL,
                log.append(&target, ExpectedVersion::Any, events.clone()),
            )
            .await
            .unwrap_or_else(|_| {
                panic!("writer {w}: an append of event {id} answered nothing within {ONE_CALL:?}")
            });
            match answer {
                Ok(done) => break done,
                Err(e) if e.code() == "LOG_UNAVAILABLE" => {
                    written.unavailable += 1;
                    written.reasons.push((Instant::now(), e.to_string()));
                    assert!(
                        first_try.elapsed() < GIVE_UP,
                        "writer {w}: event {id} was not acknowledged within {GIVE_UP:?} of \
                         retries ({} LOG_UNAVAILABLE answers so far); last: {e}",
                        written.unavailable
                    );
                    pace.reset();
                    pace.tick().await;
                }
                Err(e) => panic!("writer {w}: appending event {id} failed: {} {e}", e.code()),
            }
        };
        assert_eq!(
            (done.first_position, done.stream.clone()),
            (done.last_position, target.clone()),
            "writer {w}: one event, on its stream"
        );
        written.longest = written.longest.max(first_try.elapsed());
        written.ack_times.push(Instant::now());
        written.acked.push(Acked {
            id,
            position: done.first_position,
            deduplicated: done.deduplicated,
        });
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_server_killed_under_write_load_loses_no_acknowledged_event() {
    let started = Instant::now();
    let cluster = NatsCluster::start(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut nodes: Vec<SharedLog> = Vec::new();
    let mut handles: Vec<JetStreamLog> = Vec::new();
    for i in 0..2 {
        let log = JetStreamLog::open(config(&cluster, &dir.path().join(format!("node-{i}"))))
            .await
            .expect("the node opens");
        handles.push(log.clone());
        nodes.push(log.into());
    }
    let stream_name = config(&cluster, dir.path()).stream;

    let (stop_tx, stop) = watch::channel(false);
    let writers: Vec<_> = (0..8usize)
        .map(|w| {
            let log = nodes.get(w % nodes.len()).expect("a node").clone();
            tokio::spawn(write_until_stopped(log, w, stop.clone()))
        })
        .collect();

    hold(Duration::from_secs(2)).await;
    let leader = stream_leader(cluster.urls(), stream_name.clone()).await;
    let victim = leader
        .as_deref()
        .and_then(|name| cluster.index_of(name))
        .unwrap_or(0);
    let before_kill = nodes.iter().map(|n| n.head().len).max().unwrap_or(0);
    let cluster = tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        cluster.kill(victim);
        cluster
    })
    .await
    .expect("kill");
    let killed_at = Instant::now();

    hold(Duration::from_secs(4)).await;
    let during_outage = nodes
        .iter()
        .map(|n| n.head().len)
        .max()
        .unwrap_or(0)
        .saturating_sub(before_kill);
    let cluster = tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        cluster.restart(victim);
        cluster
    })
    .await
    .expect("restart");
    let down_for = killed_at.elapsed();
    let new_leader = stream_leader(cluster.urls(), stream_name.clone()).await;

    hold(Duration::from_secs(2)).await;
    stop_tx.send(true).expect("the writers listen");
    let mut acked = Vec::new();
    let (mut unavailable, mut longest) = (0u64, Duration::ZERO);
    // Per node: when each ack came, and each LOG_UNAVAILABLE (why, and when after the kill).
    let mut ack_times: Vec<Vec<Instant>> = vec![Vec::new(); nodes.len()];
    let mut reasons: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for (w, writer) in writers.into_iter().enumerate() {
        let written = tokio::time::timeout(GIVE_UP + ONE_CALL, writer)
            .await
            .expect("the writer finishes its last event")
            .expect("writer");
        acked.extend(written.acked);
        unavailable += written.unavailable;
        longest = longest.max(written.longest);
        if let Some(times) = ack_times.get_mut(w % nodes.len()) {
            times.extend(written.ack_times);
        }
        for (at, why) in written.reasons {
            let seen = reasons.entry(why).or_insert((0, f64::MAX));
            seen.0 += 1;
            seen.1 = seen.1.min(since(killed_at, at));
        }
    }
    let total = acked.len() as u64;
    let duplicates = acked.iter().filter(|a| a.deduplicated).count();

    // Every event a writer made was acknowledged, once: the log holds exactly them.
    conformance::converge(&nodes, total).await;
    let rejoined = replica_current(
        cluster.urls(),
        stream_name.clone(),
        format!("n{}", victim + 1),
    )
    .await
    .unwrap_or_else(|| {
        panic!(
            "the restarted server n{} caught up with the stream",
            victim + 1
        )
    });
    let mut lost = 0usize;
    let mut misplaced = Vec::new();
    let mut repeated = Vec::new();
    let mut lens = Vec::new();
    for (n, log) in nodes.iter().enumerate() {
        let all = conformance::read_everything(log.as_ref());
        lens.push(all.len());
        let mut where_is: HashMap<EventId, Vec<Position>> = HashMap::new();
        for e in &all {
            where_is
                .entry(e.record.id)
                .or_default()
                .push(e.record.position);
        }
        for a in &acked {
            match where_is.get(&a.id).map(Vec::as_slice) {
                None | Some([]) => lost += 1,
                Some([at]) if *at == a.position => {}
                Some([at]) => misplaced.push((n, a.id, a.position, *at)),
                Some(many) => repeated.push((n, a.id, many.to_vec())),
            }
        }
    }
    let heads = heads(&nodes);
    println!(
        "faults/kill: killed n{} (stream leader {}; after restart {}), down {:.1} s, \
         log grew by {} events in the 4 s after the kill; acknowledged {total}, lost {lost}, retries after \
         LOG_UNAVAILABLE {unavailable}, duplicates answered {duplicates}, longest wait for an \
         ack {:.1} s; heads: node-0 {}, node-1 {}; rejoined: {rejoined}; test {:.1} s",
        victim + 1,
        leader.as_deref().unwrap_or("unknown"),
        new_leader.as_deref().unwrap_or("unknown"),
        down_for.as_secs_f64(),
        during_outage,
        longest.as_secs_f64(),
        heads.first().map_or("-", String::as_str),
        heads.get(1).map_or("-", String::as_str),
        started.elapsed().as_secs_f64(),
    );
    let stalls: Vec<String> = ack_times
        .iter_mut()
        .enumerate()
        .map(|(n, times)| {
            times.sort();
            let (gap, from) = times
                .windows(2)
                .filter_map(|pair| match pair {
                    [x, y] => Some((*y - *x, *x)),
                    _ => None,
                })
                .max()
                .unwrap_or((Duration::ZERO, killed_at));
            format!(
                "node-{n} {:.1} s from {:+.1} s",
                gap.as_secs_f64(),
                since(killed_at, from)
            )
        })
        .collect();
    let reasons: Vec<String> = reasons
        .iter()
        .map(|(why, (count, first))| format!("{count}x (first {first:+.1} s) {why}"))
        .collect();
    let stalled: Vec<String> = handles
        .iter()
        .enumerate()
        .map(|(n, h)| format!("node-{n} {}", h.stalled_consumers()))
        .collect();
    println!(
        "faults/kill: longest time with no ack (times from the kill): {}; stalled consumers \
         dropped: {}; LOG_UNAVAILABLE: {}",
        stalls.join(", "),
        stalled.join(", "),
        if reasons.is_empty() {
            "none".to_owned()
        } else {
            reasons.join("; ")
        }
    );
    assert_eq!(lost, 0, "no acknowledged event is missing from a node");
    assert!(
        misplaced.is_empty(),
        "every event is where its ack said: (node, id, acked, stored) {misplaced:?}"
    );
    assert!(
        repeated.is_empty(),
        "no event is stored twice: (node, id, positions) {repeated:?}"
    );
    assert!(
        lens.iter().all(|&len| len as u64 == total),
        "each node holds exactly the {total} acknowledged events: {lens:?}"
    );
    for log in &nodes {
        let report = log.verify(&mut |_| {}).expect("verifies");
        assert!(report.is_intact(), "the chain and indexes check out");
    }
}

/// Opens a node on `dir`, waiting out the lock a node just dropped on it may still hold
/// (`LOG_LOCKED` for a moment): at most 50 tries, 100 ms apart. Answers the node and the
/// tries it took.
async fn reopen(cluster: &NatsCluster, dir: &std::path::Path) -> (JetStreamLog, u32) {
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    let mut last = None;
    for attempt in 1..=50u32 {
        pace.tick().await;
        match JetStreamLog::open(config(cluster, dir)).await {
            Ok(log) => return (log, attempt),
            Err(e @ JetStreamError::Log(_)) if e.code() == "LOG_LOCKED" => last = Some(e),
            Err(e) => panic!("reopening the node: {} {e}", e.code()),
        }
    }
    panic!("the node's directory was still locked after 50 tries: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_and_reopened_catches_up() {
    let started = Instant::now();
    let cluster = NatsCluster::start(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_dir, b_dir) = (dir.path().join("node-a"), dir.path().join("node-b"));
    let a: SharedLog = JetStreamLog::open(config(&cluster, &a_dir))
        .await
        .expect("node A opens")
        .into();
    let b = JetStreamLog::open(config(&cluster, &b_dir))
        .await
        .expect("node B opens");

    // Both nodes write, so B's copy holds its own writes and A's.
    for n in 0..10 {
        a.append(&stream("before-a"), ExpectedVersion::Any, vec![event(n)])
            .await
            .expect("A appends");
        b.append(&stream("before-b"), ExpectedVersion::Any, vec![event(n)])
            .await
            .expect("B appends");
    }
    let both: Vec<SharedLog> = vec![a.clone(), b.clone().into()];
    conformance::converge(&both, 20).await;
    drop(both);

    // B goes away as a killed API node would: nothing of it runs any more.
    let stopped_at = b.head();
    drop(b);
    for n in 0..30 {
        let batch = (0..1 + n % 3).map(event).collect();
        a.append(&stream("while-b-is-down"), ExpectedVersion::Any, batch)
            .await
            .expect("A appends while B is down");
    }
    let a_head = a.head();
    assert_eq!(a_head.len, 20 + (0..30u64).map(|n| 1 + n % 3).sum::<u64>());

    // Opening catches the copy up with the shared log as it is then, before it answers.
    let reopening = Instant::now();
    let (b, tries) = reopen(&cluster, &b_dir).await;
    let reopen_took = reopening.elapsed();
    assert_eq!(
        b.head(),
        a_head,
        "B reopened caught up to A's head (count and chain hash)"
    );
    let nodes: Vec<SharedLog> = vec![a.clone(), b.clone().into()];
    assert_eq!(
        conformance::read_everything(&b),
        conformance::read_everything(a.as_ref()),
        "B's copy is A's, event for event"
    );

    // B writes again, and A sees it where B was told it landed.
    let mine = vec![event(99)];
    let id = mine.first().map(|e| e.id).expect("one event");
    let done = b
        .append(&stream("after-b"), ExpectedVersion::NoStream, mine)
        .await
        .expect("B appends after its reopen");
    assert!(!done.deduplicated);
    assert_eq!(done.first_position, Position(a_head.len));
    conformance::converge(&nodes, a_head.len + 1).await;
    let seen = a
        .find_event(&id)
        .expect("reads")
        .expect("A has B's new event");
    assert_eq!(seen.record.position, done.first_position);
    for log in &nodes {
        let report = log.verify(&mut |_| {}).expect("verifies");
        assert!(report.is_intact(), "the chain and indexes check out");
    }
    let heads = heads(&nodes);
    println!(
        "faults/reopen: B stopped at {} events, A went on to {}; B reopened in {tries} \
         tries and {:.3} s, caught up; heads after B's append: A {}, B {}; test {:.1} s",
        stopped_at.len,
        a_head.len,
        reopen_took.as_secs_f64(),
        heads.first().map_or("-", String::as_str),
        heads.get(1).map_or("-", String::as_str),
        started.elapsed().as_secs_f64(),
    );
}

/// The client library's ordered consumer (async-nats 0.51), once its server-side consumer
/// is gone, recreates it under the name `{first name}_1` and retries that forever without
/// a word to the follower. Taking that name first, with a consumer of another shape, makes
/// the stall certain: the node must notice on its own that the shared log is ahead of its
/// copy and follow again, well within one append's timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_whose_consumer_stalls_follows_again_and_appends_go_on() {
    let started = Instant::now();
    let cluster = NatsCluster::start(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut one_server = config(&cluster, &dir.path().join("node"));
    one_server.replicas = 1;
    let stream_name = one_server.stream.clone();
    let node = JetStreamLog::open(one_server)
        .await
        .expect("the node opens");
    let log: SharedLog = node.clone().into();
    log.append(
        &stream("stall-before"),
        ExpectedVersion::Any,
        vec![event(0)],
    )
    .await
    .expect("appends before the stall");

    // The node's follower holds the stream's only consumer.
    let client = async_nats::connect(cluster.urls())
        .await
        .expect("a client connects");
    let shared = async_nats::jetstream::new(client)
        .get_stream(stream_name)
        .await
        .expect("the log's stream");
    let names: Vec<String> = shared
        .consumer_names()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("the stream's consumers");
    let [name] = names.as_slice() else {
        panic!("the follower's consumer is the only one: {names:?}");
    };
    let blocker = format!("{name}_1");
    shared
        .create_consumer(pull::Config {
            durable_name: Some(blocker.clone()),
            ack_policy: AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .expect("a consumer under the name the library would recreate it with");
    shared
        .delete_consumer(name)
        .await
        .expect("the follower's consumer is deleted");
    let lost_at = Instant::now();

    for n in 1..=3 {
        log.append(&stream("stall-after"), ExpectedVersion::Any, vec![event(n)])
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "append {n} after the consumer was lost ({:.1} s ago): {} {e}",
                    lost_at.elapsed().as_secs_f64(),
                    e.code()
                )
            });
    }
    let recovered_in = lost_at.elapsed();
    assert!(
        node.stalled_consumers() >= 1,
        "the follower dropped its stalled consumer"
    );
    assert_eq!(log.head().len, 4, "the copy holds every acknowledged event");
    let report = log.verify(&mut |_| {}).expect("verifies");
    assert!(report.is_intact(), "the chain and indexes check out");
    println!(
        "faults/stall: the follower's consumer {name} deleted, {blocker} taken; 3 appends \
         acknowledged {:.1} s after; stalled consumers dropped: {}; test {:.1} s",
        recovered_in.as_secs_f64(),
        node.stalled_consumers(),
        started.elapsed().as_secs_f64()
    );
}
