//! `sparkfeed bench cluster`: the log on a real 3-server NATS JetStream cluster beside the
//! embedded sled log, in one run (issue 18).
//!
//! - **Appends**: durable single-event appends (`ExpectedVersion::Any`, a stream per
//!   writer) through the [`Log`](sparkfeed_eventlog::Log) interface at each writer count,
//!   on (a) a fresh embedded sled log, (b) one JetStream node (a [`JetStreamLog`] holding
//!   every writer) and (c) two JetStream nodes sharing one stream (two [`JetStreamLog`]s
//!   with their own local copies, writer `w` on node `w % 2`). Rounds are interleaved,
//!   medians reported.
//! - **API**: `bench api`'s phases ([`crate::api::measure`]) against (a) `serve --demo` on
//!   the embedded log, (b) node A, `serve --demo --log nats://…`, and (c) nodes A and B
//!   (`serve --log nats://…`, its own data directory, the same token secret), the clients
//!   split half on each. Node A serves in (b) and (c): one JetStream stream holds the log
//!   every `serve` on the cluster shares, so a third node would only follow it.
//!
//! Everything is bounded: each append measurement by its length plus [`GRACE`], each
//! `serve` by its start-up limit, node B's catch-up by [`CATCH_UP`].

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sparkfeed_eventlog::{Config, EventLog, ExpectedVersion, SharedLog};
use sparkfeed_events::StreamName;
use sparkfeed_jetstream::JetStreamLog;
use sparkfeed_testkit::client::Client;
use sparkfeed_testkit::nats::NatsCluster;

use crate::api::{ApiBench, ApiReport, MIXED_WRITERS, Node, Phase, Setup, prepare, start_node};
use crate::stats::{median, percentile};

/// Settings of the cluster benchmark.
pub struct ClusterBench {
    /// Concurrent writers of each append measurement, one measurement per count.
    pub writers: Vec<usize>,
    /// Seconds per append measurement and per API phase.
    pub seconds: f64,
    /// Rounds (every append setup and writer count once a round; API runs); medians.
    pub runs: usize,
    /// Concurrent API clients (split over both nodes in the two-node setup).
    pub clients: usize,
    /// Parent directory of the scratch logs and data directories.
    pub dir: PathBuf,
}

/// Beyond its length, how long an append measurement may take before it is given up on
/// (an append in flight at the deadline, or a JetStream leader election, finishes in it).
const GRACE: Duration = Duration::from_secs(60);

/// How long node B may take to apply what node A wrote before the API is measured.
const CATCH_UP: Duration = Duration::from_secs(120);

/// Where the appends go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LogSetup {
    /// A fresh embedded sled log each measurement.
    Sled,
    /// One JetStream node.
    OneNode,
    /// Two JetStream nodes on one stream, the writers split between them.
    TwoNodes,
}

const SETUPS: [LogSetup; 3] = [LogSetup::Sled, LogSetup::OneNode, LogSetup::TwoNodes];

impl LogSetup {
    fn label(self) -> &'static str {
        match self {
            LogSetup::Sled => "embedded sled log",
            LogSetup::OneNode => "JetStream R3, 1 node",
            LogSetup::TwoNodes => "JetStream R3, 2 nodes",
        }
    }

    /// What one durable commit is: sled's group commit, or a JetStream message.
    fn commit(self) -> &'static str {
        match self {
            LogSetup::Sled => "events/group commit",
            LogSetup::OneNode | LogSetup::TwoNodes => "events/message",
        }
    }
}

/// One append measurement.
#[derive(Clone, Copy)]
struct AppendSample {
    events_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
    /// Events per durable commit (sled) or per JetStream message.
    per_commit: f64,
}

/// Every round's measurement of one setup at one writer count.
struct AppendRow {
    writers: usize,
    setup: LogSetup,
    samples: Vec<AppendSample>,
}

impl AppendRow {
    fn median(&self, pick: fn(&AppendSample) -> f64) -> f64 {
        median(self.samples.iter().map(pick).collect())
    }
}

/// What `bench cluster` measured.
pub struct ClusterReport {
    nats: String,
    seconds: f64,
    runs: usize,
    clients: usize,
    appends: Vec<AppendRow>,
    api: ApiReport,
}

/// Runs the cluster benchmark.
pub fn cluster(config: &ClusterBench) -> anyhow::Result<ClusterReport> {
    anyhow::ensure!(config.runs >= 1, "--runs must be at least 1");
    anyhow::ensure!(
        config.seconds.is_finite() && config.seconds > 0.0,
        "--seconds must be positive"
    );
    anyhow::ensure!(
        !config.writers.is_empty() && config.writers.iter().all(|w| *w >= 1),
        "--writers must name one or more counts of at least 1"
    );
    anyhow::ensure!(
        config.clients >= 2,
        "--clients must be at least 2 (half of them on each of two nodes)"
    );
    let nats = nats_version()?;
    tell!("starting a 3-server JetStream cluster ({nats})");
    let cluster = std::panic::catch_unwind(|| NatsCluster::start(3))
        .map_err(|_| anyhow::anyhow!("the 3-server NATS cluster did not start (see above)"))?;
    let runtime = crate::runtime()?;
    let appends = runtime.block_on(appends(config, &cluster.urls()))?;
    let api = runtime.block_on(api(config, &cluster.log_url()))?;
    Ok(ClusterReport {
        nats,
        seconds: config.seconds,
        runs: config.runs,
        clients: config.clients,
        appends,
        api,
    })
}

/// The `nats-server` the cluster runs (as `NatsCluster` finds it), with its version; an
/// error, not a panic, when it is missing.
fn nats_version() -> anyhow::Result<String> {
    let path = std::env::var_os("NATS_SERVER").map_or_else(
        || PathBuf::from(sparkfeed_testkit::nats::NATS_SERVER),
        PathBuf::from,
    );
    if !path.is_file() {
        bail!(
            "nats-server is not installed at {} (set NATS_SERVER, or `apt-get install -y \
             nats-server`): bench cluster runs a real 3-server JetStream cluster",
            path.display()
        );
    }
    let out = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", path.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Ok(if version.is_empty() {
        path.display().to_string()
    } else {
        version
    })
}

/// Every append measurement, round by round.
async fn appends(config: &ClusterBench, urls: &[String]) -> anyhow::Result<Vec<AppendRow>> {
    let duration = Duration::from_secs_f64(config.seconds);
    let scratch = tempfile::tempdir_in(&config.dir)
        .with_context(|| format!("temp dir in {}", config.dir.display()))?;
    // The JetStream nodes stay open through every round, each on a stream of its setup's.
    let node = |name: &str, stream: &str| {
        let dir = scratch.path().join(name);
        let config = sparkfeed_jetstream::Config {
            stream: stream.to_uppercase(),
            subject: format!("bench.{stream}"),
            ..sparkfeed_jetstream::Config::new(urls.to_vec(), dir)
        };
        async move {
            let log = JetStreamLog::open(config)
                .await
                .context("opening a JetStream node")?;
            anyhow::Ok(SharedLog::from(log))
        }
    };
    let one = vec![node("one", "bench_one").await?];
    let two = vec![
        node("two-a", "bench_two").await?,
        node("two-b", "bench_two").await?,
    ];
    let mut rows: Vec<AppendRow> = config
        .writers
        .iter()
        .flat_map(|&writers| {
            SETUPS.iter().map(move |&setup| AppendRow {
                writers,
                setup,
                samples: Vec::new(),
            })
        })
        .collect();
    for round in 0..config.runs {
        for row in &mut rows {
            let sample = match row.setup {
                LogSetup::Sled => {
                    let dir = tempfile::tempdir_in(scratch.path()).context("a sled scratch dir")?;
                    let log = EventLog::open(Config::new(dir.path())).context("opening sled")?;
                    let logs: Vec<SharedLog> = vec![Arc::new(log)];
                    measure_appends(&logs, row.writers, duration).await?
                }
                LogSetup::OneNode => measure_appends(&one, row.writers, duration).await?,
                LogSetup::TwoNodes => measure_appends(&two, row.writers, duration).await?,
            };
            tell!(
                "round {}/{}: append, {:>3} writer(s), {:<24} {:>9.0} events/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
                round + 1,
                config.runs,
                row.writers,
                row.setup.label(),
                sample.events_per_sec,
                sample.p50_us / 1000.0,
                sample.p99_us / 1000.0,
            );
            row.samples.push(sample);
        }
    }
    Ok(rows)
}

/// `writers` tasks appending one event at a time for `duration`, writer `w` on
/// `logs[w % len]` to its own stream.
async fn measure_appends(
    logs: &[SharedLog],
    writers: usize,
    duration: Duration,
) -> anyhow::Result<AppendSample> {
    let counted = |logs: &[SharedLog]| {
        logs.iter().fold((0u64, 0u64), |(events, commits), log| {
            let stats = log.stats();
            (
                events + stats.events_committed,
                commits + stats.group_commits,
            )
        })
    };
    let before = counted(logs);
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let Some(log) = logs.get(w % logs.len().max(1)).cloned() else {
            bail!("no log to append to");
        };
        let stream = StreamName::of("bench", &w.to_string())
            .map_err(|e| anyhow::anyhow!("stream name: {e}"))?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut n = 0u64;
            while Instant::now() < deadline {
                let event = sparkfeed_testkit::log::event(n);
                let sent = Instant::now();
                log.append(&stream, ExpectedVersion::Any, vec![event])
                    .await
                    .context("a durable append")?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e6);
                n += 1;
            }
            anyhow::Ok(latencies)
        }));
    }
    let joined = tokio::time::timeout(duration + GRACE, async {
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.context("a writer task")??);
        }
        anyhow::Ok(all)
    })
    .await;
    let mut latencies = match joined {
        Ok(all) => all?,
        Err(_) => bail!("the appends did not finish within {GRACE:?} of their deadline"),
    };
    let secs = start.elapsed().as_secs_f64();
    let after = counted(logs);
    latencies.sort_by(f64::total_cmp);
    if latencies.is_empty() {
        bail!("no append was answered");
    }
    let events = after.0.saturating_sub(before.0);
    let commits = after.1.saturating_sub(before.1);
    Ok(AppendSample {
        events_per_sec: latencies.len() as f64 / secs,
        p50_us: percentile(&latencies, 0.50),
        p99_us: percentile(&latencies, 0.99),
        per_commit: events as f64 / commits.max(1) as f64,
    })
}

/// The API on the embedded log, on node A, and on nodes A and B.
async fn api(config: &ClusterBench, log_url: &str) -> anyhow::Result<ApiReport> {
    let secret = format!(
        "sparkfeed-bench-cluster-{}-{}",
        std::process::id(),
        sparkfeed_events::EventId::random()
    );
    let shared = vec![
        "--log".to_owned(),
        log_url.to_owned(),
        "--secret".to_owned(),
        secret,
    ];
    let node = |demo: bool, extra: &[String]| Node {
        response_cache_ms: 500,
        rate_limits: false,
        demo,
        extra: extra.to_vec(),
    };
    tell!("starting serve --demo on the embedded log");
    let (sled, sled_addr, sled_token) = start_node(&config.dir, &node(true, &[]))?;
    tell!("starting node A: serve --demo --log {log_url}");
    let (a, a_addr, a_token) = start_node(&config.dir, &node(true, &shared))?;
    tell!("starting node B: serve --log {log_url}");
    let (b, b_addr, _) = start_node(&config.dir, &node(false, &shared))?;
    if sled_token.is_none() || a_token.is_none() {
        bail!("a `serve --demo` did not print the demo member's token");
    }
    let clients = config.clients;
    let targets = vec![
        prepare(
            format!("{}, 1 node", LogSetup::Sled.label()),
            vec![sled_addr],
            sled_token,
            Some(sled),
            clients,
        )
        .await?,
        prepare(
            LogSetup::OneNode.label().into(),
            vec![a_addr],
            a_token.clone(),
            None,
            clients,
        )
        .await?,
        prepare(
            format!("{} (clients split)", LogSetup::TwoNodes.label()),
            vec![a_addr, b_addr],
            a_token,
            None,
            clients,
        )
        .await?,
    ];
    caught_up(a_addr, b_addr).await?;
    let bench = ApiBench {
        addr: None,
        token: None,
        clients,
        seconds: config.seconds,
        runs: config.runs,
        max_requests: 1_000_000,
        dir: config.dir.clone(),
    };
    let report = crate::api::measure(&bench, &targets).await;
    drop((targets, a, b));
    report
}

/// Waits until node B holds every event node A holds and its projections applied them.
async fn caught_up(a: SocketAddr, b: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + CATCH_UP;
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    loop {
        pace.tick().await;
        let (a_head, _) = head_and_lag(a).await;
        let (b_head, b_lag) = head_and_lag(b).await;
        if let (Some(a_head), Some(b_head)) = (a_head, b_head)
            && b_head >= a_head
            && b_lag == 0
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("node B did not catch up with node A within {CATCH_UP:?}");
        }
    }
}

/// A server's log head and its projections' summed lag, from `/metrics`.
async fn head_and_lag(addr: SocketAddr) -> (Option<u64>, u64) {
    let Ok(answer) = Client::new(addr).get("/metrics").await else {
        return (None, 0);
    };
    let value = |line: &str| line.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok());
    let head = answer
        .text
        .lines()
        .find(|l| l.starts_with("sparkfeed_log_head "))
        .and_then(value);
    let lag = answer
        .text
        .lines()
        .filter(|l| l.starts_with("sparkfeed_projection_lag{"))
        .filter_map(value)
        .sum();
    (head, lag)
}

/// `x` over `base`, or `n/a`.
fn ratio(x: f64, base: f64) -> String {
    if base > 0.0 && x.is_finite() {
        format!("{:.2}x", x / base)
    } else {
        "n/a".into()
    }
}

/// The lowest and highest of `rates`, `min-max`.
fn spread(rates: impl Iterator<Item = f64>) -> String {
    let (min, max) = rates.fold((f64::INFINITY, 0.0f64), |(lo, hi), r| {
        (lo.min(r), hi.max(r))
    });
    format!("{min:.0}-{max:.0}")
}

/// The API phases the table shows: the label and where a setup keeps its runs.
type PhaseOf = fn(&Setup) -> &[Phase];

fn api_phases() -> [(String, PhaseOf); 5] {
    [
        ("feed page (first: 20)".into(), |s| &s.feed),
        ("forYou page (first: 20)".into(), |s| &s.for_you),
        ("mutation (sharePost)".into(), |s| &s.mutations),
        (format!("feed page, {MIXED_WRITERS} sharing too"), |s| {
            &s.mixed_feed
        }),
        ("... and their shares".into(), |s| &s.mixed_writes),
    ]
}

impl fmt::Display for ClusterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the log on a 3-server NATS JetStream cluster ({}, R3 streams, loopback) beside \
             the embedded sled log, in one run; medians of {} interleaved rounds of {}s",
            self.nats, self.runs, self.seconds
        )?;
        writeln!(
            f,
            "appends: durable single-event appends, ExpectedVersion::Any, a stream per writer; \
             2 nodes: writer w on node w % 2, one shared stream"
        )?;
        writeln!(
            f,
            "API: {} clients over loopback HTTP/1.1 keep-alive (bench api's phases, response \
             cache 500 ms, rate limits off); 2 nodes: node A (also the 1-node setup) and node \
             B, clients half on each",
            self.clients
        )?;
        writeln!(
            f,
            "{:<30} {:<38} {:>9} {:>13} {:>8} {:>8} {:>7}  note",
            "workload", "setup", "per s", "runs min-max", "p50 ms", "p99 ms", "/sled"
        )?;
        let mut counts: Vec<usize> = Vec::new();
        for row in &self.appends {
            if !counts.contains(&row.writers) {
                counts.push(row.writers);
            }
        }
        for writers in counts {
            let rows: Vec<&AppendRow> = self
                .appends
                .iter()
                .filter(|r| r.writers == writers)
                .collect();
            let sled = rows
                .iter()
                .find(|r| r.setup == LogSetup::Sled)
                .map_or(f64::NAN, |r| r.median(|s| s.events_per_sec));
            let workload = format!(
                "append, {writers} writer{}",
                if writers == 1 { "" } else { "s" }
            );
            for row in rows {
                let rate = row.median(|s| s.events_per_sec);
                let mut note =
                    format!("{:.1} {}", row.median(|s| s.per_commit), row.setup.commit());
                if row.setup == LogSetup::TwoNodes {
                    note.push_str(&format!(
                        "; {}+{} writers on A+B",
                        writers.div_ceil(2),
                        writers / 2
                    ));
                }
                writeln!(
                    f,
                    "{workload:<30} {:<38} {rate:>9.0} {:>13} {:>8.2} {:>8.2} {:>7}  {note}",
                    row.setup.label(),
                    spread(row.samples.iter().map(|s| s.events_per_sec)),
                    row.median(|s| s.p50_us) / 1000.0,
                    row.median(|s| s.p99_us) / 1000.0,
                    ratio(rate, sled),
                )?;
            }
        }
        let setups = &self.api.setups;
        let mut failures = Vec::new();
        for (name, runs_of) in api_phases() {
            let sled = setups.first().map_or(f64::NAN, |s| {
                median(runs_of(s).iter().map(|p| p.per_sec).collect())
            });
            for setup in setups {
                let runs = runs_of(setup);
                let pick = |g: fn(&Phase) -> f64| median(runs.iter().map(g).collect());
                let rate = pick(|p| p.per_sec);
                let failed: usize = runs.iter().map(|p| p.failures).sum();
                let mut note = format!("{failed} failed");
                if name.starts_with("feed page (")
                    && let Some(hits) = setup.hit_ratio
                {
                    note.push_str(&format!("; {:.1}% cache hits", hits * 100.0));
                }
                if let Some(first) = runs.iter().find_map(|p| p.first_failure.clone()) {
                    failures.push(format!("{} / {name}: {first}", setup.label));
                }
                writeln!(
                    f,
                    "{:<30} {:<38} {rate:>9.0} {:>13} {:>8.2} {:>8.2} {:>7}  {note}",
                    format!("API {name}"),
                    setup.label,
                    spread(runs.iter().map(|p| p.per_sec)),
                    pick(|p| p.p50_us) / 1000.0,
                    pick(|p| p.p99_us) / 1000.0,
                    ratio(rate, sled),
                )?;
            }
        }
        for failure in failures {
            writeln!(f, "first failed answer: {failure}")?;
        }
        Ok(())
    }
}
