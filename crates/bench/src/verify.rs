//! `sparkfeed bench verify`: what `sparkfeed verify` costs over a seed world, now that it
//! never opens the data directory: copying the store under its lock, then verifying the
//! copy with no recovery (chain, indexes and Merkle tree), beside the same check run in
//! place on the open log (`verifyLog`, which a running server answers without a copy).

use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use sparkfeed_eventlog::offline::verify_dir;

use crate::projections::world;
use crate::stats::{median, median_bytes, mib};

/// What `bench verify` measures.
#[derive(Clone, Debug)]
pub struct VerifyBench {
    /// Events in the scratch log (about).
    pub events: u64,
    /// Posts among them.
    pub posts: u64,
    /// Runs of each scenario (medians are reported).
    pub runs: usize,
    /// Where the scratch log (and its copies) go.
    pub dir: PathBuf,
}

/// What `bench verify` measured, per run.
pub struct VerifyReport {
    events: u64,
    load_secs: f64,
    /// The check on the open log, seconds.
    in_place: Vec<f64>,
    /// The offline verify: copy seconds, check seconds, bytes copied.
    offline: Vec<(f64, f64, u64)>,
}

/// Runs the bench.
pub fn verify(config: &VerifyBench) -> anyhow::Result<VerifyReport> {
    anyhow::ensure!(config.runs >= 1, "--runs must be at least 1");
    let (_runtime, scratch, loaded) = world::scratch(&config.dir, config.events, config.posts)?;
    let (events, load_secs) = (loaded.log.head().len, loaded.load_secs);
    let (mut in_place, mut offline) = (Vec::new(), Vec::new());
    let log_dir = world::log_dir(scratch.path());
    let mut log = Some(loaded.log);
    for _ in 0..config.runs {
        let open = match log.take() {
            Some(open) => open,
            None => sparkfeed_eventlog::EventLog::open(sparkfeed_eventlog::Config::new(&log_dir))?,
        };
        let started = Instant::now();
        let report = open.verify(|_| {})?;
        anyhow::ensure!(
            report.is_intact(),
            "the scratch log does not verify: {report:?}"
        );
        in_place.push(started.elapsed().as_secs_f64());
        drop(open);
        let copies = tempfile::tempdir_in(&config.dir)?;
        let found = verify_dir(&log_dir, &copies.path().join("copy"), |_| {})?;
        anyhow::ensure!(
            found.is_intact(),
            "the copy does not verify: {:?}",
            found.report
        );
        offline.push((
            found.copy_time.as_secs_f64(),
            found.verify_time.as_secs_f64(),
            found.copied_bytes,
        ));
    }
    Ok(VerifyReport {
        events,
        load_secs,
        in_place,
        offline,
    })
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let in_place = median(self.in_place.clone());
        let copy = median(self.offline.iter().map(|o| o.0).collect());
        let check = median(self.offline.iter().map(|o| o.1).collect());
        let bytes = median_bytes(self.offline.iter().map(|o| o.2).collect());
        writeln!(
            f,
            "scratch log: {} events (the seed world, loaded through the domain in {:.1}s); medians of {} runs",
            self.events,
            self.load_secs,
            self.in_place.len()
        )?;
        writeln!(
            f,
            "verify on the open log (verifyLog): {in_place:.2}s ({:.0} events/s)",
            self.events as f64 / in_place.max(1e-9)
        )?;
        writeln!(
            f,
            "sparkfeed verify (a copy, no recovery): copy {} in {copy:.2}s, then the check in {check:.2}s; {:.2}x the time of the check in place",
            mib(bytes),
            (copy + check) / in_place.max(1e-9)
        )
    }
}
