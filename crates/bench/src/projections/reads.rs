//! Reads measured beside the rebuilds: the whole log, and feed pages as the API reads them.

use std::time::Instant;

use anyhow::Context;
use sparkfeed_domain::events::{DomainEvent, upcasters};
use sparkfeed_eventlog::EventLog;
use sparkfeed_events::Position;
use sparkfeed_projections::{Projections, read};

use super::world::Loaded;

/// Events per `read_all` page when the bench reads the whole log (a rebuild's batch).
pub(crate) const LOG_READ_PAGE: usize = 8192;

/// Posts a feed page holds.
const PAGE: usize = 20;

/// The log alone, read the way a rebuild reads it (the ceiling of any replay), `runs`
/// times: events/s as records, and as records decoded into domain events.
pub(crate) fn whole_log(log: &EventLog, runs: usize) -> anyhow::Result<Vec<(f64, f64)>> {
    let upcasters = upcasters();
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
    (0..runs).map(|_| Ok((read(false)?, read(true)?))).collect()
}

/// `reads` feed pages of 20 with their post cards, badges and viewer state, round the
/// interests, walking deeper into each feed and starting over now and then; each page's
/// latency in microseconds.
pub(crate) fn feed_pages(
    projections: &Projections,
    world: &Loaded,
    reads: usize,
) -> anyhow::Result<Vec<f64>> {
    let feeds = projections.tree("feeds")?;
    let interests = &world.interests;
    anyhow::ensure!(
        !interests.is_empty() && !world.members.is_empty(),
        "the world has no interest or no member"
    );
    let mut page_micros = Vec::with_capacity(reads);
    let mut cursors: Vec<Option<Position>> = vec![None; interests.len()];
    for n in 0..reads {
        let i = n % interests.len();
        // A different member each page, spread over them all.
        let viewer = &world.members[n.wrapping_mul(7_919) % world.members.len()];
        let start = Instant::now();
        let page = read::feed(&feeds, &interests[i], PAGE, cursors[i])?;
        for (_, p) in &page.items {
            let card = read::post_card(&feeds, p)?.context("card")?;
            let _badges = read::verified_purchaser(&feeds, &card)?;
            let _viewer = read::viewer_state(&feeds, p, viewer)?;
        }
        page_micros.push(start.elapsed().as_secs_f64() * 1e6);
        cursors[i] = if page.has_next && n % 50 != 0 {
            page.items.last().map(|(c, _)| *c)
        } else {
            None
        };
    }
    Ok(page_micros)
}

/// `reads` first pages of `forYou` (first: 20) for members spread over them all, as the
/// API makes them: the ranking (candidates, scores, arrangement), then the page's cards
/// and viewer state; each page's latency in microseconds.
pub(crate) fn for_you_pages(
    projections: &Projections,
    world: &Loaded,
    reads: usize,
) -> anyhow::Result<Vec<f64>> {
    use sparkfeed_projections::foryou::rank::{Viewer, for_you};
    let feeds = projections.tree("feeds")?;
    let foryou = projections.tree("foryou")?;
    anyhow::ensure!(!world.members.is_empty(), "the world has no member");
    let mut page_micros = Vec::with_capacity(reads);
    for n in 0..reads {
        let viewer = &world.members[n.wrapping_mul(7_919) % world.members.len()];
        let start = Instant::now();
        let who = Viewer::read(&foryou, Some(viewer))?;
        let now = sparkfeed_events::Timestamp::now().0;
        let ranked = for_you(&feeds, &who, now, |p| read::post_card(&feeds, p))?;
        for item in ranked.iter().take(PAGE) {
            let card = read::post_card(&feeds, &item.post)?.context("card")?;
            let _badges = read::verified_purchaser(&feeds, &card)?;
            let _viewer = read::viewer_state(&feeds, &item.post, viewer)?;
        }
        page_micros.push(start.elapsed().as_secs_f64() * 1e6);
    }
    Ok(page_micros)
}
