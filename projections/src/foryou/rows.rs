//! The rows of the `foryou` projection.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sparkfeed_domain::events::{FeedMode, FeedTarget};
use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};

use super::keyed::KeyedList;
use crate::heap::HeapSize;

/// The most authors, interests and products a member's affinities keep each (the
/// weakest go first).
pub const MAX_AFFINITIES: usize = 64;
/// The most posts a member's recent engagement keeps.
pub const MAX_ENGAGED: usize = 100;
/// The most follows a member's signals keep (the oldest go first from the ranking's
/// candidates, never from the follow itself, which the log holds).
pub const MAX_FOLLOWS: usize = 500;
/// A member's engagements are folded into their signals once this many wait
/// ([`Unfolded`]).
pub const FOLD_AT: usize = 16;

/// How a member engaged with a post, weakest first (the order is the strength).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub enum Engagement {
    /// Smiled at it.
    Smiled,
    /// Commented on it.
    Commented,
    /// Shared it.
    Shared,
    /// Saved it.
    Saved,
    /// Bought through it, for themselves.
    Bought,
}

impl Engagement {
    /// What it adds to the member's affinity to the post's author, interests and products.
    pub fn weight(self) -> f32 {
        match self {
            Engagement::Smiled => 1.0,
            Engagement::Commented | Engagement::Shared => 1.5,
            Engagement::Saved => 2.0,
            Engagement::Bought => 3.0,
        }
    }
}

/// An affinity: a weight, and the strongest engagement and latest post that built it (a
/// reason the ranking can show).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Affinity<K> {
    /// The author, interest or product.
    pub key: K,
    /// Its weight (engagements taken back subtract theirs).
    pub weight: f32,
    /// The strongest engagement that added to it.
    pub via: Engagement,
    /// The last post engaged with through it.
    pub post: PostId,
}

/// A member's signals.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct MemberSignals {
    /// Creators followed, oldest first.
    pub follows: KeyedList<UserId>,
    /// Affinity to authors.
    pub authors: KeyedList<Affinity<UserId>>,
    /// Affinity to interests.
    pub interests: KeyedList<Affinity<InterestSlug>>,
    /// Affinity to products.
    pub products: KeyedList<Affinity<Asin>>,
    /// Posts engaged with lately, oldest first (a post seen to be liked is not news).
    pub engaged: KeyedList<PostId>,
    /// What the member said they are not interested in.
    pub hidden: Vec<FeedTarget>,
    /// How `forYou` is ordered.
    pub mode: FeedMode,
    /// How many of the member's engagements are folded in (the sequence number of the
    /// next one to fold: see [`Unfolded`]).
    pub folded: u64,
}

/// A member's engagements not yet folded into their [`MemberSignals`], oldest first.
///
/// Every engagement changes its member's affinities, and rewriting the whole signals row
/// (a few hundred ids) at each was most of the live `foryou` projection's work and bytes
/// written (BENCHMARKS.md). An engagement is added to this small row instead, and
/// [`FOLD_AT`] of them are folded into the signals at once, in log order: the signals a
/// read folds together are the ones folding each engagement at once would give.
///
/// Invariant: `first` is the sequence number of `engagements[0]`. Both rows change in
/// the same batch when engagements are folded, and there `first` becomes the signals'
/// `folded`; a read that sees signals folded further than `first` (written after this
/// row was read) skips the engagements they already hold.
#[derive(Clone, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct Unfolded {
    /// The sequence number of the first engagement here.
    pub first: u64,
    /// The engagements, oldest first.
    pub engagements: Vec<EngagedWith>,
}

/// An engagement waiting in [`Unfolded`]: what it credits, as it was when it happened.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct EngagedWith {
    /// The post engaged with.
    pub post: PostId,
    /// How.
    pub how: Engagement,
    /// Taken back (an unsmile, an unsave), not given.
    pub taken_back: bool,
    /// The post's author, interests and products then: shared with the memo of facts
    /// the engagement was credited from, not copied (serde's `rc` writes and reads it as
    /// the `PostFacts` it holds, so the stored row is the same bytes).
    pub facts: Arc<PostFacts>,
}

/// What an engagement with a post credits: its author, interests and products.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct PostFacts {
    /// The author.
    pub author: UserId,
    /// Its interests.
    pub interests: Vec<InterestSlug>,
    /// The products it tags now.
    pub products: Vec<Asin>,
}

crate::heap::heap_free!(Engagement);

impl<K: HeapSize> HeapSize for Affinity<K> {
    fn heap_size(&self) -> usize {
        self.key.heap_size() + self.post.heap_size()
    }
}

impl HeapSize for MemberSignals {
    fn heap_size(&self) -> usize {
        self.follows.heap_size()
            + self.authors.heap_size()
            + self.interests.heap_size()
            + self.products.heap_size()
            + self.engaged.heap_size()
            + self.hidden.heap_size()
    }
}

impl HeapSize for Unfolded {
    fn heap_size(&self) -> usize {
        self.engagements.heap_size()
    }
}

impl HeapSize for EngagedWith {
    /// The post's id, not its facts: those are shared with every other engagement with
    /// the post and with the replay's memo of the posts' facts, which holds them anyway.
    fn heap_size(&self) -> usize {
        self.post.heap_size()
    }
}

impl HeapSize for PostFacts {
    fn heap_size(&self) -> usize {
        self.author.heap_size() + self.interests.heap_size() + self.products.heap_size()
    }
}
