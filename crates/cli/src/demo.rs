//! `sparkfeed fixtures` and `sparkfeed seed`: the demo world.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sparkfeed_domain::{Domain, KeyStore};
use sparkfeed_projections::{Projections, RebuildReport};
use sparkfeed_seed::{DEMO_SEED, SeedReport, Size};

/// Opens the domain over the data directory: the log in it, the key store beside the log.
pub fn open_domain(data_dir: &Path) -> anyhow::Result<Domain> {
    let log = crate::inspect::open(data_dir)?;
    let keys = KeyStore::open(&data_dir.join("keys"))
        .with_context(|| format!("opening the key store in {}", data_dir.display()))?;
    Ok(Domain::new(log, Arc::new(keys)))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// Rebuilds projection `name` (or `all`) of the data directory, with a progress bar.
pub fn rebuild(data_dir: &Path, name: &str) -> anyhow::Result<Vec<(String, RebuildReport)>> {
    let log = crate::inspect::open(data_dir)?;
    let projections = Projections::open(&data_dir.join("projections"), log)
        .with_context(|| format!("opening the projections in {}", data_dir.display()))?;
    let names: Vec<String> = if name == "all" {
        projections.names().into_iter().map(str::to_owned).collect()
    } else {
        vec![name.to_owned()]
    };
    let runtime = runtime()?;
    let mut reports = Vec::new();
    for name in names {
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "rebuilding {msg} {bar:40} {pos}/{len} events, {per_sec}, eta {eta}",
            )
            .context("progress template")?,
        );
        bar.set_message(name.clone());
        let report = runtime
            .block_on(projections.rebuild(&name, |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            }))
            .with_context(|| format!("rebuilding {name}"))?;
        bar.finish_and_clear();
        reports.push((name, report));
    }
    Ok(reports)
}

/// Writes the demo world's files into `dir`.
pub fn write_fixtures(dir: &Path) -> anyhow::Result<()> {
    sparkfeed_seed::generate(DEMO_SEED, Size::DEMO)
        .write(dir)
        .with_context(|| format!("writing the demo world to {}", dir.display()))
}

/// Loads the world in `world` into the (empty) data directory, with a progress bar.
pub fn seed(world: &Path, data_dir: &Path) -> anyhow::Result<SeedReport> {
    let runtime = runtime()?;
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
