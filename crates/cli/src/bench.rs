//! `sparkfeed bench append`: durable append throughput beside raw sled, in one run.
//!
//! Every scenario runs `runs` times, interleaved round by round so that a noisy neighbour
//! hurts all of them alike, each time on a fresh store in a fresh temp dir; the report
//! gives the median and the ratio to raw sled measured in the same rounds.

use std::fmt;
use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use sparkfeed_eventlog::events::{
    Actor, ActorId, EventId, EventType, Metadata, NewEvent, StreamName,
};
use sparkfeed_eventlog::{Config, EventLog, ExpectedVersion};

/// Payload bytes per event: about a smile or a save, sealed.
const PAYLOAD: usize = 200;

/// Settings of the append benchmark.
pub struct AppendBench {
    /// Seconds per measurement.
    pub seconds: f64,
    /// Measurements per scenario.
    pub runs: usize,
    /// Parent directory of the scratch stores.
    pub dir: PathBuf,
}

/// What is measured.
#[derive(Clone, Copy)]
enum Scenario {
    /// One thread: `insert` then `flush` per event, straight on sled.
    RawFlush,
    /// The same plus `fdatasync` of sled's data file: sled's own best durable single write.
    RawFlushSync,
    /// The log: `writers` concurrent tasks, each appending `batch` events per append.
    Log { writers: usize, batch: usize },
}

impl Scenario {
    fn label(self) -> String {
        match self {
            Scenario::RawFlush => "raw sled insert+flush, 1 thread".into(),
            Scenario::RawFlushSync => "raw sled insert+flush+fdatasync, 1 thread".into(),
            Scenario::Log { writers, batch: 1 } => {
                format!(
                    "log append, {writers} writer{}",
                    if writers == 1 { "" } else { "s" }
                )
            }
            Scenario::Log { writers, batch } => {
                format!("log append, {writers} writer, batches of {batch}")
            }
        }
    }
}

const SCENARIOS: [Scenario; 6] = [
    Scenario::RawFlush,
    Scenario::RawFlushSync,
    Scenario::Log {
        writers: 1,
        batch: 1,
    },
    Scenario::Log {
        writers: 8,
        batch: 1,
    },
    Scenario::Log {
        writers: 64,
        batch: 1,
    },
    Scenario::Log {
        writers: 1,
        batch: 100,
    },
];

/// One measurement.
#[derive(Clone, Copy)]
struct Sample {
    events_per_sec: f64,
    events_per_commit: f64,
}

/// The medians of every scenario.
pub struct AppendReport {
    seconds: f64,
    rows: Vec<(String, Vec<Sample>)>,
}

/// Runs the append benchmark.
pub fn append(config: &AppendBench) -> anyhow::Result<AppendReport> {
    anyhow::ensure!(config.runs >= 1, "--runs must be at least 1");
    anyhow::ensure!(config.seconds > 0.0, "--seconds must be positive");
    let duration = Duration::from_secs_f64(config.seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let mut rows: Vec<(String, Vec<Sample>)> =
        SCENARIOS.iter().map(|s| (s.label(), Vec::new())).collect();
    for round in 0..config.runs {
        for (i, scenario) in SCENARIOS.iter().enumerate() {
            let scratch = tempfile::tempdir_in(&config.dir)
                .with_context(|| format!("temp dir in {}", config.dir.display()))?;
            let sample = match *scenario {
                Scenario::RawFlush => raw_sled(scratch.path(), duration, false)?,
                Scenario::RawFlushSync => raw_sled(scratch.path(), duration, true)?,
                Scenario::Log { writers, batch } => runtime.block_on(log_appends(
                    scratch.path().into(),
                    duration,
                    writers,
                    batch,
                ))?,
            };
            eprintln!(
                "round {}/{}: {:<45} {:>10.0} events/s",
                round + 1,
                config.runs,
                scenario.label(),
                sample.events_per_sec
            );
            rows[i].1.push(sample);
        }
    }
    Ok(AppendReport {
        seconds: config.seconds,
        rows,
    })
}

fn raw_sled(dir: &std::path::Path, duration: Duration, fdatasync: bool) -> anyhow::Result<Sample> {
    let sled_dir = dir.join("sled");
    let db = sled::Config::new()
        .path(&sled_dir)
        .cache_capacity(64 * 1024 * 1024)
        .flush_every_ms(None)
        .open()
        .context("opening raw sled")?;
    let data = File::open(sled_dir.join("db")).context("opening sled's data file")?;
    let value = vec![7u8; PAYLOAD];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        db.insert(n.to_be_bytes(), value.as_slice())?;
        db.flush()?;
        if fdatasync {
            data.sync_data()?;
        }
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(Sample {
        events_per_sec: n as f64 / secs,
        events_per_commit: 1.0,
    })
}

fn bench_event() -> NewEvent {
    NewEvent {
        id: EventId::random(),
        event_type: EventType::parse("bench.Appended").expect("valid literal"),
        schema_version: 1,
        payload: vec![7u8; PAYLOAD],
        metadata: Metadata {
            actor: Actor::System(ActorId::parse("bench").expect("valid literal")),
            correlation_id: EventId::random(),
            causation_id: None,
        },
    }
}

async fn log_appends(
    dir: PathBuf,
    duration: Duration,
    writers: usize,
    batch: usize,
) -> anyhow::Result<Sample> {
    let log = EventLog::open(Config::new(&dir)).context("opening the log")?;
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let log = log.clone();
            tokio::spawn(async move {
                let stream = StreamName::of("bench", &w.to_string()).expect("valid");
                let mut expected = ExpectedVersion::NoStream;
                let mut written = 0u64;
                while Instant::now() < deadline {
                    let events = (0..batch).map(|_| bench_event()).collect();
                    let done = log.append(&stream, expected, events).await?;
                    expected = ExpectedVersion::Exact(done.last_version);
                    written += done.last_position.0 - done.first_position.0 + 1;
                }
                anyhow::Ok(written)
            })
        })
        .collect();
    let mut written = 0u64;
    for t in tasks {
        written += t.await.context("writer task")??;
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = log.stats();
    Ok(Sample {
        events_per_sec: written as f64 / secs,
        events_per_commit: stats.events_committed as f64 / stats.group_commits.max(1) as f64,
    })
}

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}

impl fmt::Display for AppendReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let medians: Vec<f64> = self
            .rows
            .iter()
            .map(|(_, s)| median(s.iter().map(|s| s.events_per_sec).collect()))
            .collect();
        let (raw, raw_sync) = (medians[0], medians[1]);
        let runs = self.rows.first().map_or(0, |r| r.1.len());
        writeln!(
            f,
            "durable appends, {PAYLOAD}-byte payloads, median of {runs} interleaved runs of {}s each",
            self.seconds
        )?;
        writeln!(
            f,
            "{:<45} {:>12} {:>12} {:>12} {:>10} {:>10}",
            "scenario", "events/s", "min", "max", "/raw", "/raw+sync"
        )?;
        for ((label, samples), m) in self.rows.iter().zip(&medians) {
            let rates: Vec<f64> = samples.iter().map(|s| s.events_per_sec).collect();
            let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rates.iter().copied().fold(0.0, f64::max);
            writeln!(
                f,
                "{label:<45} {m:>12.0} {min:>12.0} {max:>12.0} {:>9.2}x {:>9.2}x",
                m / raw,
                m / raw_sync
            )?;
        }
        writeln!(f, "events per group commit (median):")?;
        for (label, samples) in self.rows.iter().skip(2) {
            let per = median(samples.iter().map(|s| s.events_per_commit).collect());
            writeln!(f, "  {label:<43} {per:>8.1}")?;
        }
        Ok(())
    }
}

/// Settings of the projections benchmark.
pub struct ProjectionsBench {
    /// Events in the scratch log (at least).
    pub events: u64,
    /// Posts among them.
    pub posts: u64,
    /// Rebuilds per projection; the median is reported.
    pub runs: usize,
    /// Feed pages read for the latency figures.
    pub reads: usize,
    /// Parent directory of the scratch store.
    pub dir: PathBuf,
    /// Each projection store's page cache, in MiB.
    pub cache_mb: u64,
    /// The rebuild's in-memory row buffers to compare, in MiB (each projection is rebuilt
    /// with each, interleaved).
    pub replay_buffer_mb: Vec<usize>,
    /// The projections to rebuild (all of them when empty).
    pub only: Vec<String>,
}

/// The projections benchmark's results.
pub struct ProjectionsReport {
    events: u64,
    posts: u64,
    load_secs: f64,
    /// Reading the whole log in pages: (records decoded, and domain events decoded too),
    /// events/s, once per run.
    log_reads: Vec<(f64, f64)>,
    rebuilds: Vec<(String, Vec<Rebuilt>)>,
    page_micros: Vec<f64>,
}

/// Events per `read_all` page when the bench reads the whole log (a rebuild's batch).
const LOG_READ_PAGE: usize = 8192;

/// One rebuild's figures.
struct Rebuilt {
    events_per_sec: f64,
    /// How far resident memory rose above where it stood when the rebuild began.
    peak_growth: Option<u64>,
    /// CPU seconds the whole process spent per million events replayed: steadier than
    /// events/s on a shared machine, where a neighbour's load stretches wall time.
    cpu_secs_per_million: Option<f64>,
}

/// CPU seconds (user and system, every thread) this process has used, from
/// `/proc/self/stat` (Linux only; its clock ticks are 1/100 s on every Linux ABI).
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The process's resident memory, from `/proc/self/status` (Linux only).
#[derive(Clone, Copy)]
struct Memory {
    rss: u64,
    peak: u64,
}

impl Memory {
    fn now() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            let kib: u64 = line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(kib * 1024)
        };
        Some(Self {
            rss: field("VmRSS:")?,
            peak: field("VmHWM:")?,
        })
    }

    /// Resets the peak to the current resident size (`clear_refs` 5) and answers that.
    fn reset_peak() -> Option<Self> {
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
        Self::now()
    }
}

/// The median of `bytes` (the mean of the middle two when there are an even number).
fn median_bytes(mut bytes: Vec<u64>) -> Option<u64> {
    bytes.sort_unstable();
    let n = bytes.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(bytes[n / 2]),
        _ => Some(bytes[n / 2 - 1] / 2 + bytes[n / 2] / 2),
    }
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "n/a".into(), |b| format!("{} MiB", b >> 20))
}

/// Builds a scratch log of `events` rule-consistent domain events (`posts` posts, the rest
/// engagement and purchases), then measures rebuild throughput and feed-page latency.
///
/// The scratch log is written by 64 concurrent appenders directly, not through the command
/// handlers: seeding a million events command by command would take minutes of fsyncs and
/// measure the domain, not the projections.
pub fn projections(config: &ProjectionsBench) -> anyhow::Result<ProjectionsReport> {
    use sparkfeed_domain::events::*;
    use sparkfeed_domain::{Asin, Currency, InterestSlug, KeyStore, Money, PostId, UserId};
    use sparkfeed_eventlog::events::Position;
    use sparkfeed_projections::{Projections, read};

    anyhow::ensure!(
        config.runs >= 1 && config.reads >= 1,
        "--runs and --reads must be at least 1"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let scratch = tempfile::tempdir_in(&config.dir)
        .with_context(|| format!("temp dir in {}", config.dir.display()))?;
    let log = EventLog::open(Config::new(scratch.path().join("log")))
        .context("opening the scratch log")?;
    let keys = KeyStore::temporary().context("key store")?;

    const INTERESTS: usize = 14;
    const MEMBERS: u64 = 2_000;
    const PRODUCTS: u64 = 3_000;
    let interest = |i: u64| {
        InterestSlug::parse(&format!("interest{}", i % INTERESTS as u64)).expect("valid slug")
    };
    let member = |m: u64| UserId::parse(&format!("u{}", m % MEMBERS)).expect("valid id");
    let post = |p: u64| PostId::parse(&format!("p{p}")).expect("valid id");
    let asin = |a: u64| Asin::parse(&format!("B{:09}", a % PRODUCTS)).expect("valid asin");
    let usd = |c: u64| Money::new(c, Currency::USD);

    // (stream, event) in log order, generated lazily in the order a real world grows.
    let mut plan: Vec<(StreamName, DomainEvent)> = Vec::new();
    for i in 0..INTERESTS as u64 {
        plan.push((
            StreamName::of("interest", interest(i).as_str())?,
            InterestAdded {
                interest: interest(i),
                name: format!("Interest {i}"),
                rebuy_window_days: (i % 3 == 0).then_some(30),
            }
            .into(),
        ));
    }
    for a in 0..PRODUCTS {
        plan.push((
            StreamName::of("product", &asin(a).as_str().to_ascii_lowercase())?,
            ProductListed {
                asin: asin(a),
                title: format!("Product {a}"),
                price: usd(500 + a % 200 * 100),
                image_url: format!("https://img.example/{a}.jpg"),
                interests: vec![interest(a)],
                consumable: a % 4 == 0,
            }
            .into(),
        ));
    }
    for m in 0..MEMBERS {
        let user = member(m);
        let stream = StreamName::of("user", user.as_str())?;
        plan.push((
            stream.clone(),
            UserRegistered {
                user: user.clone(),
                kind: AccountKind::Member,
                handle: keys.seal(&user, &format!("member{m}"))?,
                display_name: keys.seal(&user, &format!("Member {m}"))?,
                brand_name: None,
            }
            .into(),
        ));
        plan.push((stream.clone(), PrimeStarted { user: user.clone() }.into()));
        plan.push((
            stream,
            InterestsChosen {
                user: user.clone(),
                interests: (0..1 + m % 5).map(|k| interest(m + k * 3)).collect(),
            }
            .into(),
        ));
    }
    let engagement = config
        .events
        .saturating_sub((plan.len() as u64).saturating_add(config.posts));
    // Rounded up: the log holds at least the events asked for.
    let per_post = engagement.div_ceil(config.posts.max(1));
    let mut rng = 0x5eed_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for p in 0..config.posts {
        let author = member(next());
        let tags: Vec<Tag> = (0..next() % 4)
            .map(|t| Tag {
                asin: asin(p * 7 + t),
                media_index: 0,
                x: 0.5,
                y: 0.5,
            })
            .collect();
        plan.push((
            StreamName::of("post", post(p).as_str())?,
            PostPublished {
                post: post(p),
                author: author.clone(),
                caption: keys.seal(
                    &author,
                    "a caption of a typical length, with a few words about the product",
                )?,
                media: vec![Media {
                    kind: MediaKind::Image,
                    url: keys.seal(&author, "https://media.example/p.jpg")?,
                    width: 1080,
                    height: 1350,
                    alt: keys.seal(&author, "photo")?,
                }],
                interests: vec![interest(p), interest(p / 3 + 1)],
                tags: tags.clone(),
                sponsorship: None,
            }
            .into(),
        ));
        for k in 0..per_post {
            // Distinct members per post, so no one smiles or saves twice.
            let m = member(p * 7 + k * 13);
            let stream = StreamName::of("engagement", &format!("{}.{}", post(p), m))?;
            let event: DomainEvent = match (k + p) % 10 {
                0..=5 => Smiled {
                    post: post(p),
                    member: m,
                }
                .into(),
                6 | 7 => Saved {
                    post: post(p),
                    member: m,
                }
                .into(),
                8 => Shared {
                    post: post(p),
                    member: m,
                    channel: ShareChannel::Link,
                }
                .into(),
                _ => match tags.first() {
                    Some(tag) => OrderPlaced {
                        order: format!("o{p}x{k}"),
                        buyer: m,
                        post: post(p),
                        author: author.clone(),
                        asin: tag.asin.clone(),
                        quantity: 1,
                        unit_price: usd(900),
                        total: usd(900),
                        gift: k % 7 == 0,
                        commission: None,
                    }
                    .into(),
                    None => Shared {
                        post: post(p),
                        member: m,
                        channel: ShareChannel::Email,
                    }
                    .into(),
                },
            };
            plan.push((stream, event));
        }
    }

    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(plan.len() as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "writing the scratch log {bar:40} {pos}/{len} events, {per_sec}",
        )
        .context("progress template")?,
    );
    let total = plan.len() as u64;
    runtime.block_on(async {
        let plan = std::sync::Arc::new(plan);
        let cursor = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let writers: Vec<_> = (0..64)
            .map(|_| {
                let (log, plan, cursor, bar) =
                    (log.clone(), plan.clone(), cursor.clone(), bar.clone());
                tokio::spawn(async move {
                    loop {
                        let n = cursor.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((stream, event)) = plan.get(n) else {
                            return anyhow::Ok(());
                        };
                        let new = NewEvent {
                            id: EventId::random(),
                            event_type: EventType::parse(event.event_type())?,
                            schema_version: 1,
                            payload: event.encode()?,
                            metadata: Metadata {
                                actor: Actor::System(ActorId::parse("bench")?),
                                correlation_id: EventId::random(),
                                causation_id: None,
                            },
                        };
                        log.append(stream, ExpectedVersion::Any, vec![new]).await?;
                        bar.inc(1);
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.context("writer")??;
        }
        anyhow::Ok(())
    })?;
    bar.finish_and_clear();
    let load_secs = started.elapsed().as_secs_f64();

    // The log alone, read the way a rebuild reads it: the ceiling of any replay.
    let upcasters = sparkfeed_domain::events::upcasters();
    let mut log_reads = Vec::with_capacity(config.runs);
    for _ in 0..config.runs {
        let read = |decode: bool| -> anyhow::Result<f64> {
            let started = Instant::now();
            let mut from = Position(0);
            let mut read = 0u64;
            loop {
                let events = log.read_all(from, LOG_READ_PAGE)?;
                let Some(last) = events.last() else { break };
                from = last.record.position.next();
                read += events.len() as u64;
                if decode {
                    for event in &events {
                        DomainEvent::decode(&upcasters, event)?;
                    }
                }
            }
            Ok(read as f64 / started.elapsed().as_secs_f64())
        };
        log_reads.push((read(false)?, read(true)?));
    }

    let projections = Projections::open_with_cache(
        &scratch.path().join("projections"),
        log.clone(),
        config.cache_mb << 20,
    )
    .context("opening projections")?;
    let buffers = if config.replay_buffer_mb.is_empty() {
        vec![sparkfeed_projections::DEFAULT_REPLAY_BUFFER_BYTES >> 20]
    } else {
        config.replay_buffer_mb.clone()
    };
    let label = |name: &str, mb: usize| {
        if buffers.len() == 1 {
            name.to_owned()
        } else {
            format!("{name} ({mb} MiB)")
        }
    };
    // One rebuild of each projection first: that builds them. Feed pages are read then, in
    // steady state; the further rebuild runs come after, because sled reclaims each dropped
    // generation in the background and reads racing that show a tail of several ms.
    for name in &config.only {
        anyhow::ensure!(
            projections.names().contains(&name.as_str()),
            "no projection named {name} (there are {})",
            projections.names().join(", ")
        );
    }
    let measured = |name: &str| config.only.is_empty() || config.only.iter().any(|o| o == name);
    let mut rebuilds: Vec<(String, &str, usize, Vec<Rebuilt>)> = projections
        .names()
        .into_iter()
        .filter(|n| measured(n))
        .flat_map(|n| buffers.iter().map(move |mb| (n, *mb)))
        .map(|(n, mb)| (label(n, mb), n, mb, Vec::new()))
        .collect();
    let rebuild_round = |rebuilds: &mut Vec<(String, &str, usize, Vec<Rebuilt>)>,
                         run: usize|
     -> anyhow::Result<()> {
        // Odd rounds run a projection's variants in reverse order: a rebuild runs slower
        // right after a big tree was dropped (sled reclaims it in the background), which
        // would favour whichever variant always ran first. (Use an even --runs.)
        let order: Vec<usize> = (0..rebuilds.len())
            .map(|i| {
                let (group, within) = (i / buffers.len(), i % buffers.len());
                let within = if run % 2 == 1 {
                    buffers.len() - 1 - within
                } else {
                    within
                };
                group * buffers.len() + within
            })
            .collect();
        for i in order {
            let (label, name, mb, rates) = &mut rebuilds[i];
            let projections = projections.clone().with_replay_buffer(*mb << 20);
            let before = Memory::reset_peak();
            let cpu_before = process_cpu_secs();
            let report = runtime.block_on(projections.rebuild(name, |_, _| {}))?;
            let cpu = cpu_before
                .zip(process_cpu_secs())
                .map(|(before, after)| (after - before) * 1e6 / report.events.max(1) as f64);
            let grew = before.and_then(|b| Some(Memory::now()?.peak.saturating_sub(b.rss)));
            eprintln!(
                "rebuild {label} {}/{}: {:.0} events/s, {} CPU s per million events, peak resident memory +{}",
                run + 1,
                config.runs,
                report.events_per_sec(),
                cpu.map_or_else(|| "n/a".into(), |c| format!("{c:.2}")),
                mib(grew)
            );
            rates.push(Rebuilt {
                events_per_sec: report.events_per_sec(),
                peak_growth: grew,
                cpu_secs_per_million: cpu,
            });
        }
        Ok(())
    };
    rebuild_round(&mut rebuilds, 0)?;
    let feeds = projections.tree("feeds")?;
    let mut page_micros = Vec::with_capacity(config.reads);
    let mut cursors: Vec<Option<Position>> = vec![None; INTERESTS];
    let reads = if measured("feeds") { config.reads } else { 0 };
    for n in 0..reads {
        let i = n % INTERESTS;
        let slug = interest(i as u64);
        let viewer = member(next());
        let start = Instant::now();
        let page = read::feed(&feeds, &slug, 20, cursors[i])?;
        for (_, p) in &page.items {
            let card = read::post_card(&feeds, p)?.context("card")?;
            let _badges = read::verified_purchaser(&feeds, &card)?;
            let _viewer = read::viewer_state(&feeds, p, &viewer)?;
        }
        page_micros.push(start.elapsed().as_secs_f64() * 1e6);
        // Walk deeper into each feed, and start over now and then.
        cursors[i] = if page.has_next && n % 50 != 0 {
            page.items.last().map(|(c, _)| *c)
        } else {
            None
        };
    }
    for run in 1..config.runs {
        rebuild_round(&mut rebuilds, run)?;
    }
    Ok(ProjectionsReport {
        events: total,
        posts: config.posts,
        load_secs,
        log_reads,
        rebuilds: rebuilds
            .into_iter()
            .map(|(label, _, _, rates)| (label, rates))
            .collect(),
        page_micros,
    })
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    let n = sorted.len();
    let rank = (1..=n).find(|r| *r as f64 >= p * n as f64).unwrap_or(n);
    sorted[rank.saturating_sub(1)]
}

impl fmt::Display for ProjectionsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "scratch log: {} events, {} posts, written in {:.1}s by 64 concurrent appenders",
            self.events, self.posts, self.load_secs
        )?;
        writeln!(
            f,
            "reading the whole log, {LOG_READ_PAGE} events a page (median of {}): {:.0} events/s as records, {:.0} events/s decoded as domain events",
            self.log_reads.len(),
            median(self.log_reads.iter().map(|r| r.0).collect()),
            median(self.log_reads.iter().map(|r| r.1).collect())
        )?;
        writeln!(
            f,
            "{:<22} {:>16} {:>12} {:>12} {:>16} {:>16}",
            "rebuild", "median events/s", "min", "max", "CPU s/M events", "peak memory +"
        )?;
        for (name, runs) in &self.rebuilds {
            let rates: Vec<f64> = runs.iter().map(|r| r.events_per_sec).collect();
            let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rates.iter().copied().fold(0.0, f64::max);
            let growth = runs
                .iter()
                .map(|r| r.peak_growth)
                .collect::<Option<Vec<u64>>>()
                .and_then(median_bytes);
            let cpu = runs
                .iter()
                .map(|r| r.cpu_secs_per_million)
                .collect::<Option<Vec<f64>>>()
                .map_or_else(|| "n/a".into(), |c| format!("{:.2}", median(c)));
            writeln!(
                f,
                "{name:<22} {:>16.0} {min:>12.0} {max:>12.0} {cpu:>16} {:>16}",
                median(rates),
                mib(growth)
            )?;
        }
        writeln!(
            f,
            "(CPU s/M events: median CPU seconds of the whole process, every thread, per million events replayed;"
        )?;
        writeln!(
            f,
            " peak memory +: median rise of resident memory above where it stood when the rebuild began)"
        )?;
        let mut sorted = self.page_micros.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return writeln!(f, "feed page: not measured (feeds was not rebuilt)");
        }
        writeln!(
            f,
            "feed page (first: 20, with post cards, badges and viewer state), {} reads: p50 {:.0} us, p99 {:.0} us, max {:.0} us",
            sorted.len(),
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.99),
            sorted.last().copied().unwrap_or(0.0)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_byte_counts_is_the_middle_one_or_the_mean_of_the_middle_two() {
        assert_eq!(median_bytes(vec![]), None);
        assert_eq!(median_bytes(vec![7]), Some(7));
        assert_eq!(median_bytes(vec![9, 1, 5]), Some(5));
        assert_eq!(median_bytes(vec![10, 2, 4, 100]), Some(7));
        assert_eq!(median_bytes(vec![u64::MAX, u64::MAX]), Some(u64::MAX - 1));
    }

    #[test]
    fn process_cpu_time_is_read_and_grows_with_work_on_linux() {
        let Some(before) = process_cpu_secs() else {
            // Not Linux, or /proc is not mounted: the bench prints n/a.
            return;
        };
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < std::time::Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = process_cpu_secs().expect("read again");
        assert!(after - before >= 0.05, "{before} -> {after}");
    }

    #[test]
    fn resident_memory_is_read_and_its_peak_reset_on_linux() {
        let Some(now) = Memory::reset_peak() else {
            // Not Linux, or /proc is not mounted: the bench prints n/a.
            return;
        };
        assert!(
            now.rss > 0 && now.peak >= now.rss / 2,
            "{}/{}",
            now.rss,
            now.peak
        );
        let big = std::hint::black_box(vec![1u8; 64 << 20]);
        let after = Memory::now().expect("readable once read");
        assert!(
            after.peak >= now.rss + (32 << 20),
            "a 64 MiB allocation touched shows in the peak: {} -> {}",
            now.rss,
            after.peak
        );
        drop(big);
    }
}
