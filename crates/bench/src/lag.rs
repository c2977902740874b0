//! `sparkfeed bench lag`: how far behind the log the live projections run while members
//! write at a steady rate.
//!
//! A seed world is loaded and its projections built; then every projection follows the
//! log live (as `serve` runs them) while shares of posts arrive through the domain at
//! `--rate` commands a second, spread over the members. For each share, the lag is the
//! time from its durable acknowledgement to the moment every projection has applied it.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sparkfeed_domain::events::ShareChannel;
use sparkfeed_domain::{Caller, Command, Context, Domain, KeyStore, PostId};
use sparkfeed_events::Position;
use sparkfeed_projections::read;
use tokio::sync::mpsc;

use crate::projections::world;
use crate::stats::percentile;

/// Settings of the lag benchmark.
pub struct LagBench {
    /// Events in the world before the measurement (about).
    pub events: u64,
    /// Commands a second during the measurement (a share is one event).
    pub rate: u64,
    /// Seconds of writing.
    pub seconds: f64,
    /// The projections' page-cache budget, in MiB.
    pub cache_mb: u64,
    /// Where the scratch world goes.
    pub dir: std::path::PathBuf,
}

/// What `bench lag` measured.
pub struct LagReport {
    rate: u64,
    seconds: f64,
    events: u64,
    /// Shares written per second, as achieved.
    pub written_per_sec: f64,
    /// Each share's lag, microseconds, sorted.
    pub lag_micros: Vec<f64>,
}

/// Shares in flight at most: beyond it the writer waits, and the rate achieved says so.
const IN_FLIGHT: usize = 256;

/// How long a share may take to reach every projection before the run fails.
const MAX_LAG: Duration = Duration::from_secs(30);

/// Runs the lag benchmark.
pub fn lag(config: &LagBench) -> anyhow::Result<LagReport> {
    anyhow::ensure!(config.rate >= 1, "--rate must be at least 1");
    let (runtime, scratch, loaded) =
        world::scratch(&config.dir, config.events, config.events / 10)?;
    let data_dir = world::log_dir(scratch.path());
    let keys = KeyStore::open(&data_dir.join("keys")).context("key store")?;
    let domain = Domain::new(loaded.log.clone(), Arc::new(keys));
    let projections = world::built_projections(&runtime, &data_dir, &loaded, config.cache_mb)?;
    let feeds = projections.tree("feeds")?;
    let mut posts: Vec<PostId> = Vec::new();
    for interest in &loaded.interests {
        let page = read::feed(&feeds, interest, 20, None)?;
        posts.extend(page.items.into_iter().map(|(_, p)| p));
    }
    anyhow::ensure!(
        !posts.is_empty() && !loaded.members.is_empty(),
        "the world has no post or no member"
    );
    let members = loaded.members.clone();
    let duration = Duration::from_secs_f64(config.seconds);
    let rate = config.rate;

    tell!(
        "{} events loaded and every projection caught up: sharing at {rate}/s for {} s",
        loaded.shape.events,
        config.seconds
    );
    let (written_per_sec, lag_micros) = runtime.block_on(async move {
        let live = projections.spawn();
        let (acked_tx, mut acked_rx) = mpsc::channel::<(Position, Instant)>(IN_FLIGHT * 4);
        let watcher = {
            let projections = projections.clone();
            tokio::spawn(async move {
                let mut lags = Vec::new();
                while let Some((position, acked)) = acked_rx.recv().await {
                    projections.wait_for(position, MAX_LAG).await?;
                    lags.push(acked.elapsed().as_secs_f64() * 1e6);
                }
                anyhow::Ok(lags)
            })
        };
        let domain = Arc::new(domain);
        let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let started = Instant::now();
        let mut sent = 0u64;
        let mut writes = Vec::new();
        // A tick a millisecond; each sends what is due by then at `rate` a second.
        let mut ticks = tokio::time::interval(Duration::from_millis(1));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while started.elapsed() < duration {
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let due = elapsed_ms.saturating_mul(rate) / 1000;
            if sent >= due {
                ticks.tick().await;
                continue;
            }
            let slot = slots
                .clone()
                .acquire_owned()
                .await
                .context("in-flight slots")?;
            let n = usize::try_from(sent).unwrap_or(usize::MAX);
            let member = members[n % members.len()].clone();
            let post = posts[n.wrapping_mul(31) % posts.len()].clone();
            let (domain, acked_tx) = (domain.clone(), acked_tx.clone());
            writes.push(tokio::spawn(async move {
                let command = Command::SharePost {
                    post,
                    channel: ShareChannel::Link,
                };
                let done = domain
                    .execute(&Context::new(Caller::User(member)), &command)
                    .await;
                drop(slot);
                if let Ok(done) = done {
                    let _ = acked_tx.send((done.position, Instant::now())).await;
                    return 1u64;
                }
                0
            }));
            sent += 1;
        }
        drop(acked_tx);
        let mut written = 0;
        for w in writes {
            written += w.await.context("a writer task")?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let mut lags = watcher.await.context("the watcher")??;
        for task in live {
            task.abort();
        }
        anyhow::ensure!(written > 0, "no share was written");
        lags.sort_by(f64::total_cmp);
        anyhow::Ok((written as f64 / elapsed, lags))
    })?;
    Ok(LagReport {
        rate: config.rate,
        seconds: config.seconds,
        events: loaded.shape.events,
        written_per_sec,
        lag_micros,
    })
}

impl fmt::Display for LagReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |p: f64| percentile(&self.lag_micros, p) / 1000.0;
        writeln!(
            f,
            "live projection lag over a {}-event world: shares asked at {}/s for {} s, written at {:.0}/s ({} measured)",
            self.events,
            self.rate,
            self.seconds,
            self.written_per_sec,
            self.lag_micros.len()
        )?;
        writeln!(
            f,
            "lag from the durable acknowledgement to every projection applied: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target: p99 at most 50 ms at 5,000 events/s)",
            at(0.5),
            at(0.99),
            at(1.0)
        )
    }
}
