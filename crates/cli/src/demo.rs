//! `sparkfeed fixtures` and `sparkfeed seed`: the demo world.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sparkfeed_domain::{Domain, KeyStore};
use sparkfeed_seed::{DEMO_SEED, SeedReport, Size};

/// Opens the domain over the data directory: the log in it, the key store beside the log.
pub fn open_domain(data_dir: &Path) -> anyhow::Result<Domain> {
    let log = crate::inspect::open(data_dir)?;
    let keys = KeyStore::open(&data_dir.join("keys"))
        .with_context(|| format!("opening the key store in {}", data_dir.display()))?;
    Ok(Domain::new(log, Arc::new(keys)))
}

/// Writes the demo world's files into `dir`.
pub fn write_fixtures(dir: &Path) -> anyhow::Result<()> {
    sparkfeed_seed::generate(DEMO_SEED, Size::DEMO)
        .write(dir)
        .with_context(|| format!("writing the demo world to {}", dir.display()))
}

/// Loads the world in `world` into the (empty) data directory, with a progress bar.
pub fn seed(world: &Path, data_dir: &Path) -> anyhow::Result<SeedReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let domain = open_domain(data_dir)?;
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("seeding {bar:40} {pos}/{len} commands, {per_sec}, eta {eta}")
            .context("progress template")?,
    );
    let report = runtime
        .block_on(sparkfeed_seed::load(world, &domain, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        }))
        .with_context(|| format!("seeding {}", world.display()))?;
    bar.finish_and_clear();
    Ok(report)
}
