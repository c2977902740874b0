//! `sparkfeed bench scale`: a feed page as the log grows, in process and over HTTP, and the
//! server's resident memory while it serves those pages.
//!
//! For each log size: a seed world of that many events (a post every ten) is loaded
//! through the domain, its projections are built in this process, feed pages are read
//! from them here, then `sparkfeed serve` starts over the same data directory (with the
//! page-cache budget asked for and no response cache) and N clients read feed pages over
//! loopback HTTP while its resident memory is sampled from `/proc`. Those are the first
//! page of each feed; then the clients walk every feed page by page, as members scrolling
//! do, so that the cards of a large part of the posts pass through the server's caches,
//! and its memory is sampled again.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;
use sparkfeed_testkit::client::Client;

use crate::api::{ApiBench, FEED_PAGE, Phase, graphiql_address, phase};
use crate::projections::{reads, world};
use crate::stats::percentile;
use crate::usage::Memory;

/// Settings of the scale benchmark.
pub struct ScaleBench {
    /// Log sizes, in events (about: each world is sized to it); a post every ten events.
    pub sizes: Vec<u64>,
    /// Feed pages read in process at each size.
    pub reads: usize,
    /// Concurrent HTTP clients.
    pub clients: usize,
    /// Seconds of HTTP reads at each size.
    pub seconds: f64,
    /// The server's page-cache budget for its projection stores, in MiB (`--cache-mb`).
    pub cache_mb: u64,
    /// Pages of each feed the walk reads at most (0: no walk).
    pub walk_pages: usize,
    /// Where the scratch worlds go (one at a time).
    pub dir: PathBuf,
}

/// One log size's figures.
pub struct AtSize {
    /// Events in the log.
    pub events: u64,
    /// Posts in it.
    pub posts: usize,
    /// In-process feed page latency, p50 and p99, microseconds.
    pub in_process: (f64, f64),
    /// Feed pages over HTTP.
    pub http: Phase,
    /// The server's resident memory once it was up, before any read, in bytes.
    pub rss_started: u64,
    /// The most resident the server was while it served the reads, in bytes.
    pub rss_peak: u64,
    /// Feed pages read by the walk through every feed.
    pub walked_pages: u64,
    /// The most resident the server was during the walk, in bytes (0: no walk).
    pub rss_walked: u64,
    /// A walked page's latency over HTTP, p50 and p99, microseconds (0: no walk): pages
    /// past the first read rows the caches may not hold.
    pub walk_latency: (f64, f64),
    /// The data directory's size on disk (log, keys and projections), in bytes.
    pub disk_bytes: u64,
    /// How long the projections, opened empty, took to catch up with the loaded log
    /// (`Projections::catch_up`, as `serve` does on a fresh data directory), in seconds.
    pub built_secs: f64,
}

/// What `bench scale` measured.
pub struct ScaleReport {
    cache_mb: u64,
    clients: usize,
    seconds: f64,
    walk_pages: usize,
    /// One entry per size, smallest first.
    pub sizes: Vec<AtSize>,
}

/// Runs the scale benchmark.
pub fn scale(config: &ScaleBench) -> anyhow::Result<ScaleReport> {
    anyhow::ensure!(
        !config.sizes.is_empty(),
        "--sizes must name at least one size"
    );
    anyhow::ensure!(
        config.reads >= 1 && config.clients >= 1,
        "--reads and --clients must be at least 1"
    );
    let mut sizes = config.sizes.clone();
    sizes.sort_unstable();
    for &events in &sizes {
        world::sized(events, posts_at(events))?;
    }
    let mut out = Vec::new();
    for events in sizes {
        out.push(at_size(config, events)?);
        let last = out.last().context("a size was measured")?;
        tell!(
            "{} events: in process p99 {:.0} us, HTTP p99 {:.0} us, server resident {} MiB at most, {} MiB walking the feeds",
            last.events,
            last.in_process.1,
            last.http.p99_us,
            last.rss_peak >> 20,
            last.rss_walked >> 20
        );
    }
    Ok(ScaleReport {
        cache_mb: config.cache_mb,
        clients: config.clients,
        seconds: config.seconds,
        walk_pages: config.walk_pages,
        sizes: out,
    })
}

/// The posts of the world of `events` events: a tenth of them.
fn posts_at(events: u64) -> u64 {
    (events / 10).max(10)
}

fn at_size(config: &ScaleBench, events: u64) -> anyhow::Result<AtSize> {
    let posts = posts_at(events);
    let (runtime, scratch, loaded) = world::scratch(&config.dir, events, posts)?;
    let data_dir = world::log_dir(scratch.path());
    let started = std::time::Instant::now();
    let (in_process, built_secs) = {
        let projections = world::built_projections(&runtime, &data_dir, &loaded, config.cache_mb)?;
        let built_secs = started.elapsed().as_secs_f64();
        let mut micros = reads::feed_pages(&projections, &loaded, config.reads)?;
        micros.sort_by(f64::total_cmp);
        (
            (percentile(&micros, 0.5), percentile(&micros, 0.99)),
            built_secs,
        )
    };
    let (shape_events, shape_posts, interests) = (
        loaded.shape.events,
        loaded.shape.posts,
        loaded.interests.clone(),
    );
    drop(loaded);
    let disk_bytes = dir_size(&data_dir);

    let server = Server::start(&data_dir, config.cache_mb)?;
    let rss_started = Memory::of(server.pid()).map_or(0, |m| m.rss);
    let sampler = Sampler::start(server.pid());
    let bench = ApiBench {
        addr: Some(server.addr),
        token: None,
        clients: config.clients,
        seconds: config.seconds,
        runs: 1,
        max_requests: 2_000_000,
        dir: config.dir.clone(),
    };
    let interests: Arc<Vec<String>> =
        Arc::new(interests.iter().map(|i| i.as_str().to_owned()).collect());
    // One page of each feed first: a server that cannot answer them is an error, not a
    // fast benchmark.
    runtime.block_on(async {
        let mut client = Client::new(server.addr);
        for interest in interests.iter() {
            match client
                .graphql(FEED_PAGE, json!({ "interest": interest }))
                .await
            {
                Ok(a) if a.status == 200 && a.body.get("errors").is_none() => {}
                Ok(a) => bail!("the server refused a feed page ({}): {}", a.status, a.text),
                Err(e) => bail!("the server did not answer a feed page: {e}"),
            }
        }
        anyhow::Ok(())
    })?;
    let http = runtime.block_on(phase(server.addr, &[None], &bench, {
        let interests = Arc::clone(&interests);
        move |c, i| {
            let interest = &interests[(c + i) % interests.len()];
            (FEED_PAGE, json!({ "interest": interest }))
        }
    }))?;
    let rss_peak = sampler.stop().max(rss_started);
    anyhow::ensure!(
        http.failures == 0,
        "{} of {} feed pages over HTTP failed, the first with {}",
        http.failures,
        http.requests,
        http.first_failure.as_deref().unwrap_or("?")
    );
    let (walked_pages, rss_walked, walk_latency) = if config.walk_pages == 0 {
        (0, 0, (0.0, 0.0))
    } else {
        let sampler = Sampler::start(server.pid());
        let mut micros = runtime.block_on(walk_feeds(
            server.addr,
            &interests,
            config.clients,
            config.walk_pages,
        ))?;
        micros.sort_by(f64::total_cmp);
        (
            micros.len() as u64,
            sampler.stop(),
            (percentile(&micros, 0.5), percentile(&micros, 0.99)),
        )
    };
    drop(server);
    Ok(AtSize {
        events: shape_events,
        posts: shape_posts,
        in_process,
        http,
        rss_started,
        rss_peak,
        walked_pages,
        rss_walked,
        walk_latency,
        disk_bytes,
        built_secs,
    })
}

/// `clients` clients walk `interests`' feeds between them, each feed page by page from
/// its newest post (following `endCursor`), at most `pages` pages of each; answers each
/// page's latency in microseconds. A refused page is an error.
async fn walk_feeds(
    addr: SocketAddr,
    interests: &[String],
    clients: usize,
    pages: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut walkers = tokio::task::JoinSet::new();
    for first in 0..clients.min(interests.len()) {
        let feeds: Vec<String> = interests
            .iter()
            .skip(first)
            .step_by(clients)
            .cloned()
            .collect();
        walkers.spawn(async move {
            let mut client = Client::new(addr);
            let mut read = Vec::new();
            for interest in feeds {
                let mut after = serde_json::Value::Null;
                for _ in 0..pages {
                    let asked = std::time::Instant::now();
                    let answer = client
                        .graphql(FEED_PAGE, json!({ "interest": interest, "after": after }))
                        .await
                        .map_err(|e| {
                            anyhow::anyhow!("the server did not answer a feed page: {e}")
                        })?;
                    let feed = &answer.body["data"]["feed"];
                    if answer.status != 200 || answer.body.get("errors").is_some() || feed.is_null()
                    {
                        bail!(
                            "the server refused a feed page ({}): {}",
                            answer.status,
                            answer.text
                        );
                    }
                    read.push(asked.elapsed().as_secs_f64() * 1e6);
                    if feed["pageInfo"]["hasNextPage"] != true {
                        break;
                    }
                    after = feed["pageInfo"]["endCursor"].clone();
                }
            }
            anyhow::Ok(read)
        });
    }
    let mut read = Vec::new();
    while let Some(walker) = walkers.join_next().await {
        read.extend(walker.context("a client walking the feeds")??);
    }
    Ok(read)
}

/// The bytes of every file under `dir`.
pub(crate) fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// `sparkfeed serve` over a data directory, in a child process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts the server and waits until it prints its address. The directory is free:
    /// dropping the last handle of a log waits until sled has let go of it.
    fn start(data_dir: &Path, cache_mb: u64) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("this binary")?;
        let mut child = Command::new(exe)
            .args(["serve", "--addr", "127.0.0.1:0", "--response-cache-ms", "0"])
            .args([
                "--member-mutations-per-second",
                "0",
                "--address-mutations-per-second",
                "0",
            ])
            .arg("--cache-mb")
            .arg(cache_mb.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting sparkfeed serve")?;
        let stdout = child.stdout.take().context("server stdout")?;
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading the server's output")?;
            if let Some(addr) = graphiql_address(&line) {
                return Ok(Self { child, addr: addr? });
            }
        }
        let _ = child.kill();
        let status = child.wait().context("the server's exit")?;
        bail!("the server stopped before it printed its address ({status})")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Samples a process's resident memory every 50 ms on a thread of its own.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::Builder::new()
                .name("sparkfeed-rss".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if let Some(m) = Memory::of(pid) {
                            peak.fetch_max(m.rss, Ordering::Relaxed);
                        }
                        std::thread::park_timeout(Duration::from_millis(50));
                    }
                })
                .ok()
        };
        Self { stop, peak, thread }
    }

    /// Stops sampling; the largest resident size seen, in bytes.
    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

impl fmt::Display for ScaleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "feed page (first: 20, with cards) as the log grows; server --cache-mb {}, {} HTTP clients for {} s, no response cache; then every feed walked page by page (at most {} pages each)",
            self.cache_mb, self.clients, self.seconds, self.walk_pages
        )?;
        writeln!(
            f,
            "{:>10} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12} {:>8} {:>10} {:>10} {:>12} {:>10} {:>9}",
            "events",
            "posts",
            "proc p50",
            "proc p99",
            "http p50",
            "http p99",
            "req/s",
            "rss started",
            "rss peak",
            "walked",
            "walk p50",
            "walk p99",
            "rss walked",
            "disk",
            "built in"
        )?;
        for s in &self.sizes {
            writeln!(
                f,
                "{:>10} {:>8} {:>8.0}us {:>8.0}us {:>8.0}us {:>8.0}us {:>10.0} {:>8} MiB {:>8} MiB {:>8} {:>8.0}us {:>8.0}us {:>8} MiB {:>6} MiB {:>8.1}s",
                s.events,
                s.posts,
                s.in_process.0,
                s.in_process.1,
                s.http.p50_us,
                s.http.p99_us,
                s.http.per_sec,
                s.rss_started >> 20,
                s.rss_peak >> 20,
                s.walked_pages,
                s.walk_latency.0,
                s.walk_latency.1,
                s.rss_walked >> 20,
                s.disk_bytes >> 20,
                s.built_secs
            )?;
        }
        if let (Some(first), Some(last)) = (self.sizes.first(), self.sizes.last()) {
            writeln!(
                f,
                "p99 at {} events over p99 at {}: in process {:.2}x, over HTTP {:.2}x (target: at most 1.5x)",
                last.events,
                first.events,
                last.in_process.1 / first.in_process.1,
                last.http.p99_us / first.http.p99_us
            )?;
        }
        Ok(())
    }
}
