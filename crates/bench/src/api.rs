//! `sparkfeed bench api`: drives a running server over loopback HTTP with N concurrent
//! clients (one keep-alive connection each) and reports feed-page and mutation throughput
//! and latency, as medians over several interleaved runs.
//!
//! Without `--addr` it starts `serve --demo` of the running binary (`sparkfeed`) as a
//! child process over a scratch data directory, so the server runs in its own process as
//! in production, and stops it at the end.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use sparkfeed_testkit::client::Client;

use crate::stats::{median, percentile};

/// What to measure.
pub struct ApiBench {
    /// A server to drive; `None` starts one with the demo world.
    pub addr: Option<SocketAddr>,
    /// A Prime member's token for the mutation phase (printed by `serve --demo`).
    pub token: Option<String>,
    /// Concurrent clients.
    pub clients: usize,
    /// Seconds per phase per run.
    pub seconds: f64,
    /// Runs; medians are reported.
    pub runs: usize,
    /// At most this many requests per phase per run (a bound besides time).
    pub max_requests: usize,
    /// Where the scratch data directory goes when a server is started.
    pub dir: PathBuf,
}

/// One phase of one run.
#[derive(Clone, Debug)]
pub struct Phase {
    /// Requests answered per second.
    pub per_sec: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// Requests answered.
    pub requests: usize,
    /// Answers that were not a success.
    pub failures: usize,
    /// The first of them (its status and the start of its body), to say why.
    pub first_failure: Option<String>,
}

/// One server configuration's measurements.
pub struct Setup {
    pub(crate) label: String,
    pub(crate) feed: Vec<Phase>,
    /// `forYou` first pages (a fresh ranking each, unless the response cache answers).
    pub(crate) for_you: Vec<Phase>,
    pub(crate) mutations: Vec<Phase>,
    /// Feed pages read while [`MIXED_WRITERS`] clients share posts, and those shares.
    pub(crate) mixed_feed: Vec<Phase>,
    pub(crate) mixed_writes: Vec<Phase>,
    /// Response-cache hits over lookups during the feed phases.
    pub(crate) hit_ratio: Option<f64>,
}

/// What `bench api` measured.
pub struct ApiReport {
    clients: usize,
    seconds: f64,
    pub(crate) setups: Vec<Setup>,
}

/// The feed page the benchmark reads: 20 post cards with author, media, tags and products.
pub const FEED_PAGE: &str = "query($interest: String!, $after: String) {
  feed(interest: $interest, first: 20, after: $after) {
    edges { cursor node {
      id caption publishedAt sponsored smileCount saveCount shareCount commentCount purchaseCount viewerHasSmiled
      disclosure { label }
      author { id handle displayName }
      media { kind url width height alt }
      tags { asin x y verifiedPurchaser product { title imageUrl price { formatted } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// The `forYou` page the benchmark reads: the same cards as [`FEED_PAGE`], with reasons.
pub const FOR_YOU_PAGE: &str = "query {
  forYou(first: 20) {
    edges { cursor reasons { kind text } node {
      id caption publishedAt sponsored smileCount saveCount shareCount commentCount purchaseCount viewerHasSmiled
      disclosure { label }
      author { id handle displayName }
      media { kind url width height alt }
      tags { asin x y verifiedPurchaser product { title imageUrl price { formatted } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// Writers in the mixed phase: they share the posts the readers' feeds show, so every
/// share invalidates rows the feed pages read.
pub(crate) const MIXED_WRITERS: usize = 4;

const SHARE: &str =
    "mutation($p: ID!) { sharePost(postId: $p, channel: LINK) { position post { shareCount } } }";

/// A `sparkfeed serve` child process and its scratch data directory: killed when dropped.
pub(crate) struct ServerProcess {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `sparkfeed serve --demo` on a free loopback port; answers its address and the
/// demo member's token.
/// `rate_limits`: the mutation limits are checked on every mutation at a rate no client
/// reaches (so their cost is measured, not their refusals), or turned off.
fn start_server(
    dir: &std::path::Path,
    response_cache_ms: u64,
    rate_limits: bool,
) -> anyhow::Result<(ServerProcess, SocketAddr, String)> {
    let node = Node {
        response_cache_ms,
        rate_limits,
        demo: true,
        extra: Vec::new(),
    };
    match start_node(dir, &node)? {
        (server, addr, Some(token)) => Ok((server, addr, token)),
        _ => bail!("the server did not print its address and demo tokens"),
    }
}

/// How to start a `sparkfeed serve` child ([`start_node`]).
pub(crate) struct Node {
    /// `--response-cache-ms`.
    pub(crate) response_cache_ms: u64,
    /// The mutation limits checked at a rate no client reaches, or turned off.
    pub(crate) rate_limits: bool,
    /// `--demo`: seed the demo world if the log is empty, and print the demo tokens.
    pub(crate) demo: bool,
    /// More flags (`--log nats://…`, `--secret …`).
    pub(crate) extra: Vec<String>,
}

/// How long a child `serve` may take to print its address (and with `--demo` its tokens):
/// seeding the demo world, or catching up with a shared log, included.
const STARTUP: Duration = Duration::from_secs(300);

/// Starts `sparkfeed serve` as `node` says on a free loopback port over a scratch data
/// directory in `dir`; answers its address and, with `--demo`, the demo member's token.
pub(crate) fn start_node(
    dir: &std::path::Path,
    node: &Node,
) -> anyhow::Result<(ServerProcess, SocketAddr, Option<String>)> {
    let rate = if node.rate_limits { "1000000000" } else { "0" };
    let data = tempfile::tempdir_in(dir).context("scratch data directory")?;
    let exe = std::env::current_exe().context("this binary")?;
    let mut command = Command::new(exe);
    command.arg("serve");
    if node.demo {
        command.arg("--demo");
    }
    let mut child = command
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .arg("--response-cache-ms")
        .arg(node.response_cache_ms.to_string())
        .args(["--member-mutations-per-second", rate])
        .args(["--address-mutations-per-second", rate])
        .args(&node.extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting sparkfeed serve")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let server = ServerProcess { child, _dir: data };
    // The lines are read on a thread of their own so that a server that never prints them
    // is given up on after STARTUP (and killed as `server` drops).
    let (lines, read) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + STARTUP;
    let mut addr = None;
    let mut token = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match read.recv_timeout(left) {
            Ok(line) => line.context("reading the server's output")?,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                bail!("the server did not print its address within {STARTUP:?}")
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        if let Some(found) = graphiql_address(&line) {
            addr = Some(found?);
            if !node.demo {
                break;
            }
        }
        if let Some(rest) = line.trim().strip_prefix("member") {
            token = rest.split_whitespace().nth(1).map(str::to_owned);
            break;
        }
    }
    match addr {
        Some(addr) => Ok((server, addr, token)),
        None => bail!("the server did not print its address"),
    }
}

/// The address in the `GraphiQL   http://ADDR/` line `serve` prints, if `line` is it.
pub(crate) fn graphiql_address(line: &str) -> Option<anyhow::Result<SocketAddr>> {
    let url = line.trim().strip_prefix("GraphiQL")?;
    let url = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    Some(url.parse::<SocketAddr>().context("the server's address"))
}

/// One phase: `config.clients` clients, client `c` signed in with `tokens[c % len]`.
pub(crate) async fn phase<F>(
    addr: SocketAddr,
    tokens: &[Option<String>],
    config: &ApiBench,
    request: F,
) -> anyhow::Result<Phase>
where
    F: Fn(usize, usize) -> (&'static str, Value) + Send + Sync + Clone + 'static,
{
    phase_on(&[addr], tokens, config, request).await
}

/// [`phase`] with the clients spread over several servers: client `c` on `addrs[c % len]`.
pub(crate) async fn phase_on<F>(
    addrs: &[SocketAddr],
    tokens: &[Option<String>],
    config: &ApiBench,
    request: F,
) -> anyhow::Result<Phase>
where
    F: Fn(usize, usize) -> (&'static str, Value) + Send + Sync + Clone + 'static,
{
    let Some(&first) = addrs.first() else {
        bail!("no server to drive");
    };
    let deadline = Instant::now() + Duration::from_secs_f64(config.seconds);
    let per_client = config.max_requests.div_ceil(config.clients.max(1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..config.clients {
        let request = request.clone();
        let addr = addrs.get(c % addrs.len()).copied().unwrap_or(first);
        let mut client = Client::new(addr);
        client.set_token(tokens.get(c % tokens.len().max(1)).cloned().flatten());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut failures = 0usize;
            let mut first_failure = None;
            let mut i = 0usize;
            while Instant::now() < deadline && latencies.len() < per_client {
                let (query, variables) = request(c, i);
                let body = json!({ "query": query, "variables": variables }).to_string();
                let sent = Instant::now();
                match client.graphql_raw(body.into_bytes()).await {
                    // A success has no top-level "errors" (the answers are the server's own
                    // JSON; a substring check spares parsing every answer).
                    Ok((200, bytes)) if !contains(&bytes, b"\"errors\":") => {}
                    answer => {
                        failures += 1;
                        if first_failure.is_none() {
                            first_failure = Some(match answer {
                                Ok((status, bytes)) => format!(
                                    "{status}: {}",
                                    String::from_utf8_lossy(&bytes)
                                        .chars()
                                        .take(300)
                                        .collect::<String>()
                                ),
                                Err(e) => e.to_string(),
                            });
                        }
                    }
                }
                latencies.push(sent.elapsed().as_secs_f64() * 1e6);
                i += 1;
            }
            (latencies, failures, first_failure)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    let mut first_failure = None;
    for task in tasks {
        let (latencies, failed, first) = task.await.context("a client task")?;
        all.extend(latencies);
        failures += failed;
        first_failure = first_failure.or(first);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    if all.is_empty() {
        bail!("no request was answered");
    }
    Ok(Phase {
        per_sec: all.len() as f64 / elapsed,
        p50_us: percentile(&all, 0.50),
        p99_us: percentile(&all, 0.99),
        requests: all.len(),
        failures,
        first_failure,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The response cache's (hits, misses) from `/metrics`, summed over `addrs`.
async fn cache_counts_of(addrs: &[SocketAddr]) -> (u64, u64) {
    let mut sum = (0, 0);
    for addr in addrs {
        let (hits, misses) = cache_counts(*addr).await;
        sum = (sum.0 + hits, sum.1 + misses);
    }
    sum
}

/// The response cache's (hits, misses) from `/metrics`.
async fn cache_counts(addr: SocketAddr) -> (u64, u64) {
    let Ok(answer) = Client::new(addr).get("/metrics").await else {
        return (0, 0);
    };
    let count = |result: &str| {
        let prefix = format!("sparkfeed_response_cache_total{{result=\"{result}\"}} ");
        answer
            .text
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    (count("hit"), count("miss"))
}

/// A server under test (or several sharing one log) and what it needs.
pub(crate) struct Target {
    label: String,
    /// The servers the clients are spread over; the first registered the readers.
    addrs: Vec<SocketAddr>,
    token: Option<String>,
    interests: Vec<String>,
    posts: Vec<String>,
    /// One reader per client: distinct members, so no two clients share cached answers.
    readers: Vec<Option<String>>,
    _process: Option<ServerProcess>,
}

/// Targets prepared so far in this process: servers sharing one log must not register
/// the same reader handles twice.
static PREPARED: AtomicUsize = AtomicUsize::new(0);

/// Registers one reader per client on `addrs[0]` and lists the interests and posts there.
pub(crate) async fn prepare(
    label: String,
    addrs: Vec<SocketAddr>,
    token: Option<String>,
    process: Option<ServerProcess>,
    clients: usize,
) -> anyhow::Result<Target> {
    let Some(&addr) = addrs.first() else {
        bail!("no server to prepare");
    };
    let mut probe = Client::new(addr);
    let mut readers = Vec::with_capacity(clients);
    let run = std::process::id();
    let target = PREPARED.fetch_add(1, Ordering::Relaxed);
    for c in 0..clients {
        let handle = format!("bench_{run}_{target}_{c}");
        let answer = probe
            .graphql(
                "mutation($h: String!) { registerUser(handle: $h, displayName: \"Bench reader\") { token } }",
                json!({ "h": handle }),
            )
            .await
            .context("registering a reader")?;
        readers.push(
            answer.body["data"]["registerUser"]["token"]
                .as_str()
                .map(str::to_owned),
        );
    }
    let interests: Vec<String> = probe
        .graphql(
            "{ interests(first: 50) { edges { node { slug } } } }",
            json!({}),
        )
        .await
        .context("listing interests")?
        .body["data"]["interests"]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["slug"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if interests.is_empty() {
        bail!("the server has no interests: seed it first (serve --demo)");
    }
    let mut posts = Vec::new();
    for interest in &interests {
        let page = probe
            .graphql(FEED_PAGE, json!({ "interest": interest }))
            .await
            .context("reading a feed")?;
        if let Some(edges) = page.body["data"]["feed"]["edges"].as_array() {
            posts.extend(
                edges
                    .iter()
                    .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned)),
            );
        }
    }
    Ok(Target {
        label,
        addrs,
        token,
        interests,
        posts,
        readers,
        _process: process,
    })
}

/// The servers to measure: the one at `--addr`, or three started here (response cache on,
/// off, and off with the rate limits checked).
async fn targets(config: &ApiBench) -> anyhow::Result<Vec<Target>> {
    let mut targets = Vec::new();
    match config.addr {
        Some(addr) => {
            let label = "server at --addr".into();
            let token = config.token.clone();
            targets.push(prepare(label, vec![addr], token, None, config.clients).await?);
        }
        None => {
            for (label, ms, rate_limits) in [
                ("response cache 500 ms, rate limits off", 500, false),
                ("no response cache, rate limits off", 0, false),
                ("no response cache, rate limits checked", 0, true),
            ] {
                let (process, addr, token) = start_server(&config.dir, ms, rate_limits)?;
                let process = Some(process);
                let target = prepare(
                    label.into(),
                    vec![addr],
                    Some(token),
                    process,
                    config.clients,
                );
                targets.push(target.await?);
            }
        }
    }
    Ok(targets)
}

/// Runs the benchmark: the server at `--addr`, or three servers started here (see
/// [`targets`]), all running, measured in interleaved runs.
pub fn api(config: &ApiBench) -> anyhow::Result<ApiReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let targets = targets(config).await?;
        measure(config, &targets).await
    })
}

/// Measures `targets`, all running, in interleaved runs (the first a warm-up, not reported).
pub(crate) async fn measure(config: &ApiBench, targets: &[Target]) -> anyhow::Result<ApiReport> {
    let warm = ApiBench {
        seconds: 1.0,
        addr: None,
        token: None,
        dir: PathBuf::new(),
        ..*config
    };
    let mut setups: Vec<Setup> = targets
        .iter()
        .map(|t| Setup {
            label: t.label.clone(),
            feed: Vec::new(),
            for_you: Vec::new(),
            mutations: Vec::new(),
            mixed_feed: Vec::new(),
            mixed_writes: Vec::new(),
            hit_ratio: None,
        })
        .collect();
    let mut lookups = vec![(0u64, 0u64); targets.len()];
    for run in 0..=config.runs.max(1) {
        for (i, target) in targets.iter().enumerate() {
            let interests = target.interests.clone();
            let feed_request = move |c: usize, i: usize| {
                let interest = &interests[(c * 7 + i) % interests.len()];
                (FEED_PAGE, json!({ "interest": interest }))
            };
            let posts = target.posts.clone();
            let share_request = move |c: usize, i: usize| {
                let post = &posts[(c * 13 + i * 7) % posts.len().max(1)];
                (SHARE, json!({ "p": post }))
            };
            let writer = [target.token.clone()];
            if run == 0 {
                // Warm the caches and connections; not reported.
                phase_on(&target.addrs, &target.readers, &warm, feed_request.clone()).await?;
                continue;
            }
            let before = cache_counts_of(&target.addrs).await;
            setups[i].feed.push(
                phase_on(&target.addrs, &target.readers, config, feed_request.clone()).await?,
            );
            let after = cache_counts_of(&target.addrs).await;
            lookups[i].0 += after.0 - before.0.min(after.0);
            lookups[i].1 += after.1 - before.1.min(after.1);
            let for_you_request = |_: usize, _: usize| (FOR_YOU_PAGE, json!({}));
            setups[i]
                .for_you
                .push(phase_on(&target.addrs, &target.readers, config, for_you_request).await?);
            if target.token.is_some() && !target.posts.is_empty() {
                setups[i]
                    .mutations
                    .push(phase_on(&target.addrs, &writer, config, share_request.clone()).await?);
                let writers = ApiBench {
                    clients: MIXED_WRITERS,
                    addr: None,
                    token: None,
                    dir: PathBuf::new(),
                    ..*config
                };
                let (reads, writes) = tokio::join!(
                    phase_on(&target.addrs, &target.readers, config, feed_request),
                    phase_on(&target.addrs, &writer, &writers, share_request),
                );
                setups[i].mixed_feed.push(reads?);
                setups[i].mixed_writes.push(writes?);
            }
        }
    }
    for (setup, (hits, misses)) in setups.iter_mut().zip(lookups) {
        if hits + misses > 0 {
            setup.hit_ratio = Some(hits as f64 / (hits + misses) as f64);
        }
    }
    Ok(ApiReport {
        clients: config.clients,
        seconds: config.seconds,
        setups,
    })
}

fn summary(f: &mut fmt::Formatter<'_>, name: &str, runs: &[Phase]) -> fmt::Result {
    if runs.is_empty() {
        return writeln!(f, "{name:<34} not measured (no member token: pass --token)");
    }
    let pick = |g: fn(&Phase) -> f64| median(runs.iter().map(g).collect());
    writeln!(
        f,
        "{name:<34} {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} runs: {} req/s; {} failed answers)",
        pick(|p| p.per_sec),
        pick(|p| p.p50_us) / 1000.0,
        pick(|p| p.p99_us) / 1000.0,
        runs.len(),
        runs.iter()
            .map(|p| format!("{:.0}", p.per_sec))
            .collect::<Vec<_>>()
            .join(" "),
        runs.iter().map(|p| p.failures).sum::<usize>(),
    )
}

impl fmt::Display for ApiReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} concurrent clients over loopback HTTP/1.1 keep-alive, {:.0}s per phase; feed reads \
             by {} distinct signed-in members (one per client), mutations by one Prime member; \
             servers started as child processes (`serve --demo`) unless --addr",
            self.clients, self.seconds, self.clients
        )?;
        for setup in &self.setups {
            writeln!(f, "{}:", setup.label)?;
            summary(f, "  feed page (first: 20, post cards)", &setup.feed)?;
            summary(f, "  forYou page (first: 20, ranked)", &setup.for_you)?;
            summary(f, "  mutation (sharePost, read back)", &setup.mutations)?;
            summary(
                f,
                &format!("  feed page, {MIXED_WRITERS} clients sharing too"),
                &setup.mixed_feed,
            )?;
            summary(f, "  ... and their shares", &setup.mixed_writes)?;
            if let Some(ratio) = setup.hit_ratio {
                writeln!(
                    f,
                    "  response cache hits during feed phases: {:.1}%",
                    ratio * 100.0
                )?;
            }
        }
        writeln!(
            f,
            "targets: feed page >= 5,000 req/s with p99 <= 20 ms at 32 clients"
        )
    }
}
