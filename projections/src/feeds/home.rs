//! The member's home feed: their interests' feeds merged (`merge`), then
//! filtered by the feed policy ([`super::policy`]).

use std::collections::HashSet;

use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};
use sparkfeed_events::Position;

use super::merge::{Entries, Merge};
use super::policy::{Candidate, Policy, Purchase, Purchases, Verdict};
use super::{keys, read};
use crate::ProjectionError;
use crate::cache::Source;
use crate::list::{Page, scan};

/// A home-feed item: the post and the chosen interests that put it there.
#[derive(Clone, Debug, PartialEq)]
pub struct HomeItem {
    /// The post.
    pub post: PostId,
    /// Why it is in the feed.
    pub because: Vec<InterestSlug>,
    /// Whether it is sponsored.
    pub sponsored: bool,
}

/// How many posts a home-feed page may look at per item asked for, before it stops.
const HOME_SCAN_FACTOR: usize = 20;

/// The member's home feed: their interests' feeds merged, newest first, without
/// duplicates, and what [`super::policy`] lets through at `now`: no removed post, at
/// most one sponsored post in any five, no post whose tagged products the member already
/// bought for themselves (unless every such product is a consumable whose re-buy window,
/// its interests' shortest, has passed).
pub fn home_feed(
    feeds: &impl Source,
    viewer: &UserId,
    first: usize,
    after: Option<Position>,
    now: i64,
) -> Result<Page<HomeItem>, ProjectionError> {
    let Some(member) = read::member(feeds, viewer)? else {
        return Ok(Page {
            items: vec![],
            has_next: false,
        });
    };
    let mut merge = Merge::new(
        member
            .interests
            .iter()
            .map(|i| {
                let entries: Box<Entries> =
                    Box::new(scan(feeds.tree(), keys::feed_prefix(i), after));
                (i.clone(), entries)
            })
            .collect(),
    );
    let mut purchases = PurchaseReader::new(feeds, viewer);
    let mut policy = Policy::default();
    let mut items: Vec<(Position, HomeItem)> = Vec::new();
    let mut scanned = 0usize;
    let budget = first.saturating_mul(HOME_SCAN_FACTOR).max(200);
    loop {
        let Some(cursor) = merge.newest()? else {
            return Ok(Page {
                items,
                has_next: false,
            });
        };
        if items.len() == first || scanned == budget {
            return Ok(Page {
                items,
                has_next: true,
            });
        }
        scanned += 1;
        let Some((post, because)) = merge.take(cursor)? else {
            continue;
        };
        let Some(body) = read::post_body(feeds, &post)? else {
            continue;
        };
        let candidate = Candidate {
            post,
            removed: body.removed,
            sponsored: body.disclosure.is_some(),
            products: body.tags.iter().map(|t| t.asin.clone()).collect(),
        };
        if !candidate.removed {
            purchases.learn(&candidate.products)?;
        }
        if policy.judge(&candidate, &purchases.known, now) == Verdict::Shown {
            items.push((
                cursor,
                HomeItem {
                    post: candidate.post,
                    because,
                    sponsored: candidate.sponsored,
                },
            ));
        }
    }
}

/// Reads a member's own purchases of the products a page's candidates tag, each once.
pub(crate) struct PurchaseReader<'a, S> {
    feeds: &'a S,
    member: &'a UserId,
    looked_up: HashSet<Asin>,
    /// What was read so far.
    pub(crate) known: Purchases,
}

impl<'a, S: Source> PurchaseReader<'a, S> {
    pub(crate) fn new(feeds: &'a S, member: &'a UserId) -> Self {
        Self {
            feeds,
            member,
            looked_up: HashSet::new(),
            known: Purchases::default(),
        }
    }

    /// Reads what the member bought of `products` (those not read yet).
    pub(crate) fn learn(&mut self, products: &[Asin]) -> Result<(), ProjectionError> {
        for asin in products {
            if !self.looked_up.insert(asin.clone()) {
                continue;
            }
            if let Some(bought) = read::bought(self.feeds, self.member, asin)? {
                let purchase = Purchase {
                    last_at: bought.last_at,
                    rebuy_window: rebuy_window(self.feeds, asin)?,
                };
                self.known.insert(asin.clone(), purchase);
            }
        }
        Ok(())
    }
}

/// A consumable's re-buy window in microseconds (its interests' shortest), `None` for
/// durable goods.
fn rebuy_window(feeds: &impl Source, asin: &Asin) -> Result<Option<i64>, ProjectionError> {
    let Some(product) = read::product(feeds, asin)? else {
        return Ok(None);
    };
    if !product.consumable {
        return Ok(None);
    }
    let mut shortest: Option<u32> = None;
    for interest in &product.interests {
        if let Some(days) = read::interest(feeds, interest)?.and_then(|i| i.rebuy_window_days) {
            shortest = Some(shortest.map_or(days, |s| s.min(days)));
        }
    }
    // A window too long to count in microseconds never ends.
    Ok(shortest.map(|d| i64::from(d).checked_mul(86_400_000_000).unwrap_or(i64::MAX)))
}
