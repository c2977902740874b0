//! The member's home feed: their interests' feeds merged (`merge`), then
//! filtered by the feed policy ([`super::policy`]).

use std::collections::HashSet;

use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};

use super::merge::{Entries, Merge};
use super::policy::{Candidate, Purchase, Purchases, already_bought};
use super::walk::{FeedCursor, SCAN_FACTOR, WalkPage, walk};
use super::{keys, read};
use crate::ProjectionError;
use crate::bucket::scan;
use crate::cache::Source;

/// The member's home feed: their interests' feeds merged, newest first, without
/// duplicates, under the feed policy ([`super::walk`]): no removed post, at most one
/// sponsored post in any five (one over the cap waits for a later slot), no post whose
/// tagged products the member already bought for themselves (unless every such product is
/// a consumable whose re-buy window, its interests' shortest, has passed). Each item says
/// which of the member's interests put it there.
pub fn home_feed(
    feeds: &impl Source,
    viewer: &UserId,
    first: usize,
    after: Option<&FeedCursor>,
    now: i64,
) -> Result<WalkPage<Vec<InterestSlug>>, ProjectionError> {
    let Some(member) = read::member(feeds, viewer)? else {
        return Ok(WalkPage {
            shown: vec![],
            has_next: false,
        });
    };
    let position = after.map(|a| a.position);
    let mut merge = Merge::new(
        member
            .interests
            .iter()
            .map(|i| {
                let entries: Box<Entries> =
                    Box::new(scan(feeds.tree(), keys::feed_prefix(i), position));
                (i.clone(), entries)
            })
            .collect(),
    );
    let entries = std::iter::from_fn(move || {
        loop {
            let cursor = match merge.newest() {
                Ok(Some(c)) => c,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            match merge.take(cursor) {
                Ok(Some((post, because))) => return Some(Ok((cursor, post, because))),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    });
    let mut purchases = PurchaseReader::new(feeds, viewer);
    let budget = first.saturating_mul(SCAN_FACTOR).max(200);
    let mut page = walk(
        feeds,
        entries,
        after,
        Some(&mut purchases),
        first,
        budget,
        now,
    )?;
    // A post carried over from an earlier page says again which interests hold it.
    for shown in page.shown.iter_mut().filter(|s| s.extra.is_empty()) {
        if let Some(body) = read::post_body(feeds, &shown.post)? {
            shown.extra = body
                .interests
                .iter()
                .filter(|i| member.interests.contains(i))
                .cloned()
                .collect();
        }
    }
    Ok(page)
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

    /// Whether the member bought every product a post tags for themselves, and it should
    /// not be pushed again at `now` (the feed policy's purchase rule).
    pub(crate) fn bought_all(
        &mut self,
        post: &PostId,
        products: Vec<Asin>,
        now: i64,
    ) -> Result<bool, ProjectionError> {
        self.learn(&products)?;
        let candidate = Candidate {
            post: post.clone(),
            removed: false,
            sponsored: false,
            products,
        };
        Ok(already_bought(&candidate, &self.known, now))
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
