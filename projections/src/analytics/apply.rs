//! How the analytics projection folds each event into its counters.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sparkfeed_domain::events::{self as ev, DomainEvent};
use sparkfeed_domain::{InterestSlug, PostId};
use sparkfeed_events::RecordedEvent;

use super::rows::{DayCounters, KindDay, PostFacts, Sales};
use super::{ANALYTICS, Analytics, day_of, keys};
use crate::heap::HeapSize;
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

impl Projection for Analytics {
    fn name(&self) -> &'static str {
        ANALYTICS
    }

    fn version(&self) -> u32 {
        // 2: comments counted; sales per product, per post and per kind of post by day.
        // 3: a post's interests and kind in one row (`post|post`).
        3
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        let day = day_of(stored.record.recorded_at.0);
        // Saturating throughout: a projection must apply every event the log holds.
        match event {
            DomainEvent::PostPublished(e) => published(rows, e, day),
            DomainEvent::Smiled(e) => counted(rows, &e.post, day, |c| {
                c.smiles = c.smiles.saturating_add(1)
            }),
            DomainEvent::Unsmiled(e) => counted(rows, &e.post, day, |c| {
                c.smiles = c.smiles.saturating_sub(1)
            }),
            DomainEvent::Saved(e) => {
                counted(rows, &e.post, day, |c| c.saves = c.saves.saturating_add(1))
            }
            DomainEvent::Unsaved(e) => {
                counted(rows, &e.post, day, |c| c.saves = c.saves.saturating_sub(1))
            }
            DomainEvent::Shared(e) => counted(rows, &e.post, day, |c| {
                c.shares = c.shares.saturating_add(1)
            }),
            DomainEvent::CommentPosted(e) => counted(rows, &e.post, day, |c| {
                c.comments = c.comments.saturating_add(1)
            }),
            DomainEvent::OrderPlaced(e) => ordered(rows, e, day),
            _ => Ok(()),
        }
    }
}

fn published(rows: &mut Rows<'_>, e: &ev::PostPublished, day: u64) -> Applied {
    let facts = PostFacts {
        sponsored: e.sponsorship.is_some(),
        interests: e.interests.clone(),
    };
    rows.put(keys::post(&e.post), &facts)?;
    change(
        rows,
        keys::kind_day(facts.sponsored, day),
        |k: &mut KindDay| k.posts = k.posts.saturating_add(1),
    )?;
    for interest in &e.interests {
        change(rows, keys::day(interest, day), |c: &mut DayCounters| {
            c.posts = c.posts.saturating_add(1)
        })?;
    }
    let mut seen = rows.take_memo::<PostsSeen>();
    seen.remember(e.post.clone(), &facts);
    rows.keep_memo(seen);
    Ok(())
}

fn ordered(rows: &mut Rows<'_>, e: &ev::OrderPlaced, day: u64) -> Applied {
    let (units, cents) = (u64::from(e.quantity), e.total.cents);
    let sponsored = by_interest(rows, &e.post, day, |c| {
        c.purchases = c.purchases.saturating_add(1);
        c.revenue_cents = c.revenue_cents.saturating_add(cents);
    })?;
    change(rows, keys::product_day(day, &e.asin), |s: &mut Sales| {
        s.add_order(units, cents)
    })?;
    change(rows, keys::post_day(day, &e.post), |s: &mut Sales| {
        s.add_order(units, cents)
    })?;
    change(rows, keys::kind_day(sponsored, day), |k: &mut KindDay| {
        k.sales.add_order(units, cents)
    })
}

/// Changes the day's counters of every interest of `post`.
fn counted(rows: &mut Rows<'_>, post: &PostId, day: u64, f: impl Fn(&mut DayCounters)) -> Applied {
    by_interest(rows, post, day, f).map(|_sponsored| ())
}

/// Changes the day's counters of every interest of `post`; answers whether the post is
/// sponsored. A post the projection never saw published counts nowhere and as organic.
fn by_interest(
    rows: &mut Rows<'_>,
    post: &PostId,
    day: u64,
    f: impl Fn(&mut DayCounters),
) -> Result<bool, ProjectionError> {
    let mut seen = rows.take_memo::<PostsSeen>();
    let counted = count_by_interest(rows, &mut seen, post, day, f);
    rows.keep_memo(seen);
    counted
}

fn count_by_interest(
    rows: &mut Rows<'_>,
    seen: &mut PostsSeen,
    post: &PostId,
    day: u64,
    f: impl Fn(&mut DayCounters),
) -> Result<bool, ProjectionError> {
    let Some(facts) = seen.facts(rows, post)? else {
        return Ok(false);
    };
    for &interest in facts.interests.iter() {
        change(rows, keys::day(&seen.slugs[interest], day), &f)?;
    }
    Ok(facts.sponsored)
}

/// At most this many posts are remembered ([`PostsSeen`]): about 30 MiB. Past it, the
/// memo starts over, and a post's facts are read from its row again the next time.
const POSTS_REMEMBERED: usize = 1 << 18;

/// The facts of the posts published or looked up while these rows are written (a
/// [`Rows::take_memo`] memo), so that a replay counts each engagement and order without
/// reading the post's row back through the batch's pending rows or sled: that lookup, a
/// random key among hundreds of thousands, and the decoding of its interests were about
/// a fifth of the analytics rebuild's applying thread (`BENCHMARKS.md`).
///
/// Invariant: only a cache of the `post|post` rows. A post is remembered when its row is
/// written or read, with what the row holds, and the rows never change after.
struct PostsSeen {
    posts: HashMap<PostId, Seen, foldhash::fast::RandomState>,
    /// Interests by index: a post remembers the indices of its own.
    slugs: Vec<InterestSlug>,
    slug_index: HashMap<InterestSlug, usize, foldhash::fast::RandomState>,
    /// How many posts (or interests) it holds before it starts over.
    capacity: usize,
}

impl Default for PostsSeen {
    fn default() -> Self {
        Self::with_capacity(POSTS_REMEMBERED)
    }
}

/// One post's [`PostFacts`], its interests interned (shared: handing them out copies no
/// list).
#[derive(Clone)]
struct Seen {
    sponsored: bool,
    interests: Arc<[usize]>,
}

impl PostsSeen {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            posts: HashMap::default(),
            slugs: Vec::new(),
            slug_index: HashMap::default(),
            capacity,
        }
    }

    /// The facts of `post`: remembered, or read from its row and remembered.
    fn facts(&mut self, rows: &Rows<'_>, post: &PostId) -> Result<Option<Seen>, ProjectionError> {
        if let Some(seen) = self.posts.get(post) {
            return Ok(Some(seen.clone()));
        }
        let Some(facts) = rows.get::<PostFacts>(&keys::post(post))? else {
            return Ok(None);
        };
        Ok(Some(self.remember(post.clone(), &facts)))
    }

    /// Remembers `facts` as `post`'s.
    fn remember(&mut self, post: PostId, facts: &PostFacts) -> Seen {
        if self.posts.len() >= self.capacity || self.slugs.len() >= self.capacity {
            *self = PostsSeen::with_capacity(self.capacity);
        }
        let interests = facts
            .interests
            .iter()
            .map(|slug| match self.slug_index.get(slug) {
                Some(&index) => index,
                None => {
                    self.slugs.push(slug.clone());
                    self.slug_index.insert(slug.clone(), self.slugs.len() - 1);
                    self.slugs.len() - 1
                }
            })
            .collect();
        let seen = Seen {
            sponsored: facts.sponsored,
            interests,
        };
        self.posts.insert(post, seen.clone());
        seen
    }
}

/// Reads the row at `key` (its default when absent), changes it and writes it back.
fn change<T: Serialize + DeserializeOwned + HeapSize + Default + Send + 'static>(
    rows: &mut Rows<'_>,
    key: Vec<u8>,
    f: impl FnOnce(&mut T),
) -> Result<(), ProjectionError> {
    rows.change(key, |row: &mut Option<T>| {
        f(row.get_or_insert_with(T::default))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::View;
    use crate::store::tests::generation;

    fn facts(sponsored: bool, interests: &[&str]) -> PostFacts {
        PostFacts {
            sponsored,
            interests: interests
                .iter()
                .map(|i| InterestSlug::parse(i).expect("a slug"))
                .collect(),
        }
    }

    /// What `seen` answers for `post`, its interests spelled out.
    fn recalled(seen: &mut PostsSeen, rows: &Rows<'_>, post: &PostId) -> Option<PostFacts> {
        let found = seen.facts(rows, post).expect("reads")?;
        Some(PostFacts {
            sponsored: found.sponsored,
            interests: found
                .interests
                .iter()
                .map(|&i| seen.slugs[i].clone())
                .collect(),
        })
    }

    #[test]
    fn a_post_forgotten_when_the_memo_starts_over_is_read_back_from_its_row() {
        let dir = tempfile::tempdir().expect("temp dir");
        let view = View::of(generation(dir.path(), 1));
        let mut rows = Rows::new(&view);
        let mut seen = PostsSeen::with_capacity(2);
        let posts: Vec<PostId> = ["p1", "p2", "p3"]
            .iter()
            .map(|p| PostId::parse(p).expect("an id"))
            .collect();
        let written = [
            facts(false, &["fitness", "outdoors"]),
            facts(true, &["outdoors"]),
            facts(false, &["home-diy"]),
        ];
        for (post, facts) in posts.iter().zip(&written) {
            rows.put(keys::post(post), facts).expect("puts");
            seen.remember(post.clone(), facts);
        }
        // The second post's interests made three, past the capacity: it started over.
        assert!(
            !seen.posts.contains_key(&posts[0]),
            "the first post forgotten"
        );
        assert_eq!(seen.posts.len(), 2);

        for (post, facts) in posts.iter().zip(&written) {
            assert_eq!(recalled(&mut seen, &rows, post).as_ref(), Some(facts));
        }
        let unknown = PostId::parse("nevermade").expect("an id");
        assert_eq!(recalled(&mut seen, &rows, &unknown), None);
        assert!(
            !seen.posts.contains_key(&unknown),
            "an absence is not remembered"
        );
    }
}
