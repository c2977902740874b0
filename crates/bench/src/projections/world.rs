//! The benchmark's world: the seed generator's, sized to the events and posts asked for,
//! loaded through `Domain::execute` with many commands in flight.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use sparkfeed_domain::{Domain, InterestSlug, KeyStore, UserId};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_seed::{DEMO_SEED, Size};

/// Commands in flight while loading: enough to fill the log's group commits.
const LOADERS: usize = 64;

/// The world's numbers, as loaded.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    /// Events in the log.
    pub(crate) events: u64,
    /// Posts published.
    pub(crate) posts: usize,
    /// Accounts (members, visitors, enthusiasts, staff and brands).
    pub(crate) accounts: usize,
    /// Products in the catalog.
    pub(crate) products: usize,
    /// Activity lines (smiles, saves, shares, comments, buys, reprices, ...).
    pub(crate) activity: usize,
}

/// A loaded world: its log, and what the feed reads pick from.
pub(crate) struct Loaded {
    /// The log (the domain that wrote it is gone, and its caches with it).
    pub(crate) log: EventLog,
    /// Every interest.
    pub(crate) interests: Vec<InterestSlug>,
    /// Every member account, viewers of the feed pages.
    pub(crate) members: Vec<UserId>,
    /// Its numbers.
    pub(crate) shape: Shape,
    /// Seconds it took to generate and load.
    pub(crate) load_secs: f64,
}

/// Events a world of `size` holds besides its posts and activity, about: a registration
/// is two events (the account and its handle), Prime, a role and interests one each.
fn events_besides_activity(size: &Size) -> u64 {
    let interests = 14;
    let contracts = 12;
    let staff = 4;
    let brands = 6;
    let members = size.members + size.enthusiasts + staff;
    let accounts = 4 * members + 3 * size.visitors + 2 * brands;
    u64::try_from(interests + size.products + accounts + contracts + size.posts).unwrap_or(u64::MAX)
}

/// The seed world with `posts` posts and about `events` events: 3,000 products and 2,000
/// members at 100,000 posts (fewer for fewer posts), the demo's 12 enthusiasts and 10
/// visitors, and activity (about one event a line) for the rest.
pub(crate) fn size(events: u64, posts: u64) -> Size {
    let posts = usize::try_from(posts).unwrap_or(usize::MAX);
    let mut size = Size {
        products: (posts / 33).clamp(14, 3_000),
        members: (posts / 50).clamp(50, 2_000),
        visitors: 10,
        enthusiasts: 12,
        posts,
        activity: 0,
    };
    let rest = events.saturating_sub(events_besides_activity(&size));
    size.activity = usize::try_from(rest).unwrap_or(usize::MAX);
    size
}

/// Generates the world of `size`, writes its files under `dir` and loads it into a log in
/// `dir`, with a progress bar.
pub(crate) fn load(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    size: Size,
) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let world = sparkfeed_seed::generate(DEMO_SEED, size);
    let files = dir.join("world");
    world.write(&files).context("writing the world")?;
    let interests = world
        .interests
        .iter()
        .map(|i| InterestSlug::parse(&i.slug))
        .collect::<Result<Vec<_>, _>>()?;
    let members = world
        .users
        .iter()
        .filter(|u| u.kind == "member")
        .map(|u| UserId::parse(&u.id))
        .collect::<Result<Vec<_>, _>>()?;
    let (posts, accounts, activity) = (world.posts.len(), world.users.len(), world.activity.len());
    drop(world);

    let log = EventLog::open(Config::new(log_dir(dir))).context("opening the scratch log")?;
    // In the data directory's own place, so that a server over the world reads it whole.
    let keys = KeyStore::open(&log_dir(dir).join("keys")).context("key store")?;
    let domain = Domain::new(log.clone(), Arc::new(keys));
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "loading the seed world {bar:40} {pos}/{len} commands, {per_sec}",
        )
        .context("progress template")?,
    );
    let progress = bar.clone();
    let report = runtime
        .block_on(sparkfeed_seed::load_concurrently(
            &files,
            &domain,
            LOADERS,
            move |done, total| {
                progress.set_length(total);
                progress.set_position(done);
            },
        ))
        .context("loading the seed world")?;
    bar.finish_and_clear();
    Ok(Loaded {
        log,
        interests,
        members,
        shape: Shape {
            events: report.events,
            posts,
            accounts,
            products: size.products,
            activity,
        },
        load_secs: started.elapsed().as_secs_f64(),
    })
}

/// Where the log of the scratch world in `dir` lives: a data directory `serve` opens.
pub(crate) fn log_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("log")
}

/// The seed world's [`Size`] for about `events` events and `posts` posts; refused when
/// `events` cannot hold the world's catalog, cast and `posts` (such a world would be
/// loaded larger than asked, and its figures reported under the smaller size).
pub(crate) fn sized(events: u64, posts: u64) -> anyhow::Result<Size> {
    anyhow::ensure!(posts >= 1, "--posts must be at least 1");
    let size = size(events, posts);
    let smallest = events_besides_activity(&size);
    anyhow::ensure!(
        events >= smallest,
        "a world of {posts} posts has at least {smallest} events (its catalog, cast, \
         contracts and posts), more than the {events} asked for: ask for fewer posts or \
         more events"
    );
    Ok(size)
}

/// A seed world of about `events` events and `posts` posts ([`sized`]), loaded through
/// the domain into a scratch log in a temp dir inside `dir`, with the runtime that loaded
/// it.
pub(crate) fn scratch(
    dir: &Path,
    events: u64,
    posts: u64,
) -> anyhow::Result<(tokio::runtime::Runtime, tempfile::TempDir, Loaded)> {
    let size = sized(events, posts)?;
    let runtime = crate::runtime()?;
    let scratch =
        tempfile::tempdir_in(dir).with_context(|| format!("temp dir in {}", dir.display()))?;
    let loaded = load(&runtime, scratch.path(), size)?;
    Ok((runtime, scratch, loaded))
}

/// The projections of the world loaded into `data_dir` (a [`log_dir`]), with a page-cache
/// budget of `cache_mb`, brought up to its log.
pub(crate) fn built_projections(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
    loaded: &Loaded,
    cache_mb: u64,
) -> anyhow::Result<sparkfeed_projections::Projections> {
    let projections = sparkfeed_projections::Projections::open_with_cache(
        &data_dir.join("projections"),
        loaded.log.clone(),
        cache_mb << 20,
    )
    .context("opening projections")?;
    runtime
        .block_on(projections.catch_up())
        .context("building the projections")?;
    Ok(projections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_world_has_the_old_scratch_worlds_catalog_and_cast() {
        let size = size(1_000_000, 100_000);
        assert_eq!(
            (size.products, size.members, size.posts),
            (3_000, 2_000, 100_000)
        );
        let events = events_besides_activity(&size) + u64::try_from(size.activity).unwrap_or(0);
        assert_eq!(events, 1_000_000);
    }

    #[test]
    fn a_small_world_keeps_a_catalog_per_interest_and_the_demos_cast() {
        let size = size(100, 10);
        assert_eq!((size.products, size.members, size.activity), (14, 50, 0));
    }
}
