//! One feed policy for every feed list a reader pages through (`feed(interest)`,
//! `homeFeed`; `forYou` arranges a whole ranking with [`super::policy::arrange`], and the
//! live subscriptions keep the same state between posts): what [`super::policy`] leaves
//! out stays out, and a sponsored post that would come less than
//! [`SPONSORED_SPACING`] posts after the last one waits for the first slot it fits
//! instead of being dropped.
//!
//! The policy's state goes from one page to the next in the cursor ([`FeedCursor`]): the
//! scan position, how many posts were shown since the last sponsored one, and the
//! sponsored posts waiting for a slot. So the cap holds across pages, and a waiting post
//! is shown on a later page, once.

use std::collections::VecDeque;

use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};
use sparkfeed_events::Position;

use super::home::PurchaseReader;
use super::policy::SPONSORED_SPACING;
use super::{keys, read};
use crate::ProjectionError;
use crate::bucket::scan;
use crate::cache::Source;

/// The most sponsored posts one walk keeps waiting (a feed of nothing but sponsored posts
/// shows one in five of them; beyond this many waiting, the oldest waiting is shown no more).
pub const MAX_WAITING: usize = 8;

/// The policy's state between two pages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carry {
    /// Posts shown since the last sponsored one (`None`: no sponsored post yet).
    pub gap: Option<usize>,
    /// Sponsored posts waiting for a slot, oldest wait first.
    pub waiting: Vec<PostId>,
}

impl Carry {
    fn sponsored_fits(&self) -> bool {
        self.gap.is_none_or(|g| g + 1 >= SPONSORED_SPACING)
    }
}

/// Where a page of a feed starts: after `position`, with the policy's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedCursor {
    /// The last position the feed's scan passed.
    pub position: Position,
    /// The policy's state.
    pub carry: Carry,
}

impl FeedCursor {
    /// `<position>`, or `<position>~<gap>~<waiting,...>` (`-` for no gap) when the policy
    /// carries state.
    pub fn encode(&self) -> String {
        if self.carry == Carry::default() {
            return self.position.0.to_string();
        }
        let gap = self.carry.gap.map_or("-".to_string(), |g| g.to_string());
        let waiting: Vec<&str> = self.carry.waiting.iter().map(PostId::as_str).collect();
        format!("{}~{gap}~{}", self.position.0, waiting.join(","))
    }

    /// Reads [`Self::encode`]'s text; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let mut parts = text.split('~');
        let position = parts.next().filter(|p| digits(p))?.parse().ok()?;
        let (gap, waiting) = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => {
                return Some(Self {
                    position: Position(position),
                    carry: Carry::default(),
                });
            }
            (Some(gap), Some(waiting), None) => (gap, waiting),
            _ => return None,
        };
        let gap = match gap {
            "-" => None,
            g if digits(g) => Some(g.parse::<usize>().ok()?.min(SPONSORED_SPACING)),
            _ => return None,
        };
        let waiting = match waiting {
            "" => vec![],
            list => list
                .split(',')
                .map(|p| PostId::parse(p).ok())
                .collect::<Option<Vec<_>>>()?,
        };
        if waiting.len() > MAX_WAITING {
            return None;
        }
        Some(Self {
            position: Position(position),
            carry: Carry { gap, waiting },
        })
    }
}

/// A post a walk shows, with the cursor that resumes after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown<T> {
    /// Resumes the walk right after this post.
    pub cursor: FeedCursor,
    /// The post.
    pub post: PostId,
    /// Whether it is sponsored.
    pub sponsored: bool,
    /// What the list said of it (a waiting post carried over from a page before: the default).
    pub extra: T,
}

/// One page of a walk.
pub struct WalkPage<T> {
    /// The posts shown.
    pub shown: Vec<Shown<T>>,
    /// Whether more may follow.
    pub has_next: bool,
}

/// Walks `entries` (a feed's posts after `from`'s position, or from the newest, newest
/// first, each with what the list says of it) under the policy, for a reader whose purchases `purchases` reads
/// (`None`: a visitor), showing at most `first` and scanning at most `budget`.
pub(crate) fn walk<T: Clone + Default>(
    feeds: &impl Source,
    entries: impl Iterator<Item = Result<(Position, PostId, T), ProjectionError>>,
    from: Option<&FeedCursor>,
    mut purchases: Option<&mut PurchaseReader<'_, impl Source>>,
    first: usize,
    budget: usize,
    now: i64,
) -> Result<WalkPage<T>, ProjectionError> {
    let mut carry = from.map(|f| f.carry.clone()).unwrap_or_default();
    // Before the first entry only posts carried over are shown, and only with a `from`.
    let mut position = from.map_or(Position(u64::MAX), |f| f.position);
    let mut waiting: VecDeque<(PostId, T)> = VecDeque::new();
    for post in std::mem::take(&mut carry.waiting) {
        // Still wanted? (removed or bought since: it waits no more).
        if wanted(feeds, &post, purchases.as_deref_mut(), now)?.is_some() {
            waiting.push_back((post, T::default()));
        }
    }
    let mut shown: Vec<Shown<T>> = Vec::new();
    let cursor = |position: Position, carry: &Carry, waiting: &VecDeque<(PostId, T)>| FeedCursor {
        position,
        carry: Carry {
            gap: carry.gap,
            waiting: waiting.iter().map(|(p, _)| p.clone()).collect(),
        },
    };
    let mut scanned = 0usize;
    let mut entries = entries.peekable();
    loop {
        // A waiting sponsored post takes the first slot it fits.
        if shown.len() < first
            && carry.sponsored_fits()
            && let Some((post, extra)) = waiting.pop_front()
        {
            carry.gap = Some(0);
            shown.push(Shown {
                cursor: cursor(position, &carry, &waiting),
                post,
                sponsored: true,
                extra,
            });
            continue;
        }
        if shown.len() == first || scanned == budget {
            let more = entries.peek().is_some() || (!waiting.is_empty() && carry.sponsored_fits());
            // A budget spent with nothing shown leaves no cursor to resume from: the walk
            // ends there rather than answer the same empty page for ever.
            let has_next = more && !shown.is_empty();
            return Ok(WalkPage { shown, has_next });
        }
        let Some(entry) = entries.next() else {
            return Ok(WalkPage {
                shown,
                has_next: false,
            });
        };
        let (at, post, extra) = entry?;
        scanned += 1;
        position = at;
        let Some(sponsored) = wanted(feeds, &post, purchases.as_deref_mut(), now)? else {
            continue;
        };
        if sponsored {
            if waiting.len() == MAX_WAITING {
                waiting.pop_front();
            }
            waiting.push_back((post, extra));
            continue;
        }
        carry.gap = carry.gap.map(|g| g + 1);
        shown.push(Shown {
            cursor: cursor(position, &carry, &waiting),
            post,
            sponsored: false,
            extra,
        });
    }
}

/// An interest's feed for `viewer` (a visitor: `None`), newest first, under the policy.
pub fn interest_feed(
    feeds: &impl Source,
    interest: &InterestSlug,
    viewer: Option<&UserId>,
    first: usize,
    after: Option<&FeedCursor>,
    now: i64,
) -> Result<WalkPage<()>, ProjectionError> {
    let entries = scan::<PostId>(
        feeds.tree(),
        keys::feed_prefix(interest),
        after.map(|a| a.position),
    )
    .map(|e| e.map(|(at, post)| (at, post, ())));
    let mut purchases = viewer.map(|v| PurchaseReader::new(feeds, v));
    let budget = first.saturating_mul(SCAN_FACTOR).max(200);
    walk(
        feeds,
        entries,
        after,
        purchases.as_mut(),
        first,
        budget,
        now,
    )
}

/// How many posts a page may look at per item asked for, before it stops.
pub(crate) const SCAN_FACTOR: usize = 20;

/// The policy over a live feed (a subscription): the same rules as a page, over posts
/// as they arrive, oldest first. A sponsored post over the cap waits for the first slot it
/// fits: after enough other posts have arrived.
#[derive(Debug, Default)]
pub struct LivePolicy {
    carry: Carry,
    waiting: VecDeque<PostId>,
}

impl LivePolicy {
    /// Offers the next post to arrive; answers the posts to deliver now, in order (none,
    /// it, or it and a sponsored one whose slot came).
    pub fn offer(
        &mut self,
        feeds: &impl Source,
        post: &PostId,
        viewer: Option<&UserId>,
        now: i64,
    ) -> Result<Vec<PostId>, ProjectionError> {
        let mut purchases = viewer.map(|v| PurchaseReader::new(feeds, v));
        let Some(sponsored) = wanted(feeds, post, purchases.as_mut(), now)? else {
            return Ok(vec![]);
        };
        let mut deliver = Vec::new();
        if sponsored {
            if self.waiting.len() == MAX_WAITING {
                self.waiting.pop_front();
            }
            self.waiting.push_back(post.clone());
        } else {
            self.carry.gap = self.carry.gap.map(|g| g + 1);
            deliver.push(post.clone());
        }
        if self.carry.sponsored_fits()
            && let Some(next) = self.waiting.pop_front()
        {
            self.carry.gap = Some(0);
            deliver.push(next);
        }
        Ok(deliver)
    }
}

/// Whether the policy lets `post` through for this reader: `None` when it is left out
/// (removed, or every product it tags bought for themselves), else whether it is sponsored.
fn wanted(
    feeds: &impl Source,
    post: &PostId,
    purchases: Option<&mut PurchaseReader<'_, impl Source>>,
    now: i64,
) -> Result<Option<bool>, ProjectionError> {
    let Some(body) = read::post_body(feeds, post)? else {
        return Ok(None);
    };
    if body.removed {
        return Ok(None);
    }
    if let Some(reader) = purchases {
        let products: Vec<Asin> = body.tags.iter().map(|t| t.asin.clone()).collect();
        if reader.bought_all(post, products, now)? {
            return Ok(None);
        }
    }
    Ok(Some(body.disclosure.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_and_old_plain_positions_still_read() {
        let plain = FeedCursor {
            position: Position(42),
            carry: Carry::default(),
        };
        assert_eq!(plain.encode(), "42");
        assert_eq!(FeedCursor::parse("42"), Some(plain));
        let carried = FeedCursor {
            position: Position(7),
            carry: Carry {
                gap: Some(2),
                waiting: vec![
                    PostId::parse("p1").expect("valid"),
                    PostId::parse("p2").expect("valid"),
                ],
            },
        };
        assert_eq!(carried.encode(), "7~2~p1,p2");
        assert_eq!(FeedCursor::parse(&carried.encode()), Some(carried));
        let none = FeedCursor {
            position: Position(7),
            carry: Carry {
                gap: None,
                waiting: vec![PostId::parse("p1").expect("valid")],
            },
        };
        assert_eq!(FeedCursor::parse(&none.encode()), Some(none));
        for bad in [
            "",
            "x",
            "7~",
            "7~2",
            "7~x~",
            "7~2~p 1",
            "7~2~p1~",
            "-1",
            "7~2~a,b,c,d,e,f,g,h,i",
        ] {
            assert_eq!(FeedCursor::parse(bad), None, "{bad:?}");
        }
    }
}
