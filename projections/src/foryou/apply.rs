//! How each event changes the `foryou` rows.

use std::collections::HashMap;
use std::sync::Arc;

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{PostId, UserId};
use sparkfeed_events::RecordedEvent;

use super::rows::{
    EngagedWith, Engagement, FOLD_AT, MAX_FOLLOWS, MemberSignals, PostFacts, Unfolded,
};
use super::{FOR_YOU, ForYou, keys};
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

impl Projection for ForYou {
    fn name(&self) -> &'static str {
        FOR_YOU
    }

    /// 2: engagements wait in a row of their own ([`Unfolded`]) and are folded in by
    /// [`FOLD_AT`].
    fn version(&self) -> u32 {
        2
    }

    /// A first page ranks from a member's signals and every candidate's facts.
    fn cache_weight(&self) -> u64 {
        2
    }

    /// A quarter, not an eighth: every engagement changes its member's signals (a few
    /// hundred ids, about 14 KB decoded). With an eighth, the 200 members sharing in
    /// `bench lag` did not fit: decoding their rows again after each eviction, and
    /// dropping the evicted ones, took half of this projection's live CPU. With a quarter
    /// they fit, and its live samples fell from 1,276 to 543 (BENCHMARKS.md).
    fn warm_part(&self) -> u64 {
        4
    }

    fn apply(&self, rows: &mut Rows<'_>, _stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        match event {
            DomainEvent::PostPublished(e) => {
                let facts = PostFacts {
                    author: e.author.clone(),
                    interests: e.interests.clone(),
                    products: e.tags.iter().map(|t| t.asin.clone()).collect(),
                };
                rows.put(keys::facts(&e.post), &facts)?;
                let mut seen = rows.take_memo::<FactsSeen>();
                seen.remember(e.post.clone(), facts);
                rows.keep_memo(seen);
                Ok(())
            }
            DomainEvent::ProductTagged(e) => change_facts(rows, &e.post, |f| {
                f.products.push(e.tag.asin.clone());
            }),
            DomainEvent::ProductUntagged(e) => change_facts(rows, &e.post, |f| {
                if let Some(i) = f.products.iter().position(|a| *a == e.asin) {
                    f.products.remove(i);
                }
            }),
            DomainEvent::Smiled(e) => engaged(rows, &e.member, &e.post, Engagement::Smiled, false),
            DomainEvent::Unsmiled(e) => engaged(rows, &e.member, &e.post, Engagement::Smiled, true),
            DomainEvent::Saved(e) => engaged(rows, &e.member, &e.post, Engagement::Saved, false),
            DomainEvent::Unsaved(e) => engaged(rows, &e.member, &e.post, Engagement::Saved, true),
            DomainEvent::Shared(e) => engaged(rows, &e.member, &e.post, Engagement::Shared, false),
            DomainEvent::CommentPosted(e) => {
                engaged(rows, &e.author, &e.post, Engagement::Commented, false)
            }
            // A gift says nothing of the buyer's own taste.
            DomainEvent::OrderPlaced(e) if !e.gift => {
                engaged(rows, &e.buyer, &e.post, Engagement::Bought, false)
            }
            DomainEvent::Followed(e) => change_signals(rows, &e.member, |s| {
                s.follows.remove_key(&e.creator);
                s.follows.push(e.creator.clone());
                s.follows.keep_last(MAX_FOLLOWS);
            }),
            DomainEvent::Unfollowed(e) => {
                change_signals(rows, &e.member, |s| s.follows.remove_key(&e.creator))
            }
            DomainEvent::MarkedNotInterested(e) => change_signals(rows, &e.member, |s| {
                if !s.hidden.contains(&e.target) {
                    s.hidden.push(e.target.clone());
                }
            }),
            DomainEvent::NotInterestedUndone(e) => {
                change_signals(rows, &e.member, |s| s.hidden.retain(|t| *t != e.target))
            }
            DomainEvent::FeedModeSet(e) => change_signals(rows, &e.member, |s| s.mode = e.mode),
            DomainEvent::MemberForgotten(e) => {
                rows.delete(keys::signals(&e.user));
                rows.delete(keys::unfolded(&e.user));
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn change_facts(
    rows: &mut Rows<'_>,
    post: &PostId,
    change: impl FnOnce(&mut PostFacts),
) -> Result<(), ProjectionError> {
    // Forgotten first: the memo never holds facts the row no longer has.
    let mut seen = rows.take_memo::<FactsSeen>();
    seen.posts.remove(post);
    rows.keep_memo(seen);
    rows.change(keys::facts(post), |facts: &mut Option<PostFacts>| {
        facts.as_mut().map(change);
    })
}

/// A post's facts: remembered ([`FactsSeen`]), or read from its row and remembered.
fn facts_of(rows: &mut Rows<'_>, post: &PostId) -> Result<Option<Arc<PostFacts>>, ProjectionError> {
    let mut seen = rows.take_memo::<FactsSeen>();
    let found = match seen.posts.get(post) {
        Some(facts) => Ok(Some(Arc::clone(facts))),
        // Read, not changed: a row changed in place is written out again.
        None => rows
            .get::<PostFacts>(&keys::facts(post))
            .map(|read| read.map(|facts| seen.remember(post.clone(), facts))),
    };
    rows.keep_memo(seen);
    found
}

/// At most this many posts' facts are remembered ([`FactsSeen`]); past it, the memo starts
/// over.
const POSTS_REMEMBERED: usize = 1 << 18;

/// The facts of the posts published or looked up while these rows are written (a
/// [`Rows::take_memo`] memo): a replay credits each engagement without reading and
/// decoding the post's row again (about a ninth of the foryou rebuild's applying thread).
///
/// Invariant: only a cache of the `facts` rows. A post is remembered with what its row
/// holds when the row is written or read, and forgotten before its row changes.
#[derive(Default)]
struct FactsSeen {
    posts: HashMap<PostId, Arc<PostFacts>, foldhash::fast::RandomState>,
}

impl FactsSeen {
    fn remember(&mut self, post: PostId, facts: PostFacts) -> Arc<PostFacts> {
        if self.posts.len() >= POSTS_REMEMBERED {
            self.posts.clear();
        }
        let facts = Arc::new(facts);
        self.posts.insert(post, Arc::clone(&facts));
        facts
    }
}

fn change_signals(
    rows: &mut Rows<'_>,
    member: &UserId,
    change: impl FnOnce(&mut MemberSignals),
) -> Result<(), ProjectionError> {
    rows.change(
        keys::signals(member),
        |signals: &mut Option<MemberSignals>| {
            change(signals.get_or_insert_with(MemberSignals::default));
        },
    )
}

/// Adds an engagement of `member` with `post` (`taken_back`: an unsmile, an unsave) to
/// their unfolded engagements, and folds them into their signals once [`FOLD_AT`] wait
/// ([`Unfolded`]). Members never build affinity to themselves.
fn engaged(
    rows: &mut Rows<'_>,
    member: &UserId,
    post: &PostId,
    how: Engagement,
    taken_back: bool,
) -> Result<(), ProjectionError> {
    let Some(facts) = facts_of(rows, post)? else {
        return Ok(());
    };
    if facts.author == *member {
        return Ok(());
    }
    let engagement = EngagedWith {
        post: post.clone(),
        how,
        taken_back,
        facts,
    };
    // Taken out of the row in the same batch as they are folded (see [`Unfolded`]).
    let full = rows.change(keys::unfolded(member), |unfolded: &mut Option<Unfolded>| {
        let unfolded = unfolded.get_or_insert_with(Unfolded::default);
        unfolded.engagements.push(engagement);
        (unfolded.engagements.len() >= FOLD_AT).then(|| unfolded.take())
    })?;
    match full {
        Some(taken) => change_signals(rows, member, |s| s.fold(&taken)),
        None => Ok(()),
    }
}
