//! The "For you" score, in one place and in the open (ARCHITECTURE.md shows the formula):
//!
//! `score = recency × (1 + engagement) × (1 + affinity) × novelty`
//!
//! - `recency = 0.5 ^ (age in hours / 24)`: a post loses half its weight a day.
//! - `engagement = ln(1 + smiles + 2·saves + 2·shares + 1.5·comments + 4·purchases)`: what
//!   everyone did with it.
//! - `affinity` (personalized only; 0 for visitors and in chronological mode):
//!   `2·followed(author) + 1.5·s(author) + max s(interest) + max s(product) +
//!   0.5·chosen(interest)`, where `s(w) = w / (w + 3)` saturates the member's affinity
//!   weight (smile 1, comment or share 1.5, save 2, purchase 3; taken back, subtracted).
//! - `novelty`: ×0.25 for a post the member already engaged with, ×0.6 for each author,
//!   product or interest it shares with a post they said they are not interested in.

use std::collections::{HashMap, HashSet};

use sparkfeed_domain::events::FeedTarget;
use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};

use super::rows::{Affinity, MemberSignals};
use crate::feeds::rows::{PostBody, PostStats};

/// Microseconds in an hour.
const HOUR: f64 = 3_600_000_000.0;
/// A post's weight halves every this many hours.
pub const HALF_LIFE_HOURS: f64 = 24.0;

/// `0.5 ^ (age / half-life)`; a post from the future counts as new.
pub fn recency(recorded_at: i64, now: i64) -> f64 {
    let hours = (now.saturating_sub(recorded_at)).max(0) as f64 / HOUR;
    0.5f64.powf(hours / HALF_LIFE_HOURS)
}

/// `ln(1 + smiles + 2·saves + 2·shares + 1.5·comments + 4·purchases)`.
pub fn engagement(stats: &PostStats) -> f64 {
    let raw = stats.smiles as f64
        + 2.0 * stats.saves as f64
        + 2.0 * stats.shares as f64
        + 1.5 * stats.comments as f64
        + 4.0 * stats.purchases as f64;
    raw.ln_1p()
}

/// `w / (w + 3)`: an affinity weight brought into [0, 1).
pub fn saturate(weight: f32) -> f64 {
    let w = f64::from(weight.max(0.0));
    w / (w + 3.0)
}

/// What a post the member hid is about: its kind ranks lower.
#[derive(Clone, Debug)]
pub struct HiddenPost {
    /// Its author.
    pub author: UserId,
    /// The products it tags.
    pub products: Vec<Asin>,
    /// Its interests.
    pub interests: Vec<InterestSlug>,
}

/// A member's signals, indexed for scoring.
#[derive(Default)]
pub struct Profile {
    follows: HashSet<UserId>,
    authors: HashMap<UserId, f32>,
    interests: HashMap<InterestSlug, f32>,
    products: HashMap<Asin, f32>,
    chosen: HashSet<InterestSlug>,
    engaged: HashSet<PostId>,
    hidden_posts: HashSet<PostId>,
    hidden_authors: HashSet<UserId>,
    hidden_products: HashSet<Asin>,
    hidden_interests: HashSet<InterestSlug>,
    /// Authors, products and interests of hidden posts: their kind ranks lower.
    dimmed_authors: HashSet<UserId>,
    dimmed_products: HashSet<Asin>,
    dimmed_interests: HashSet<InterestSlug>,
}

impl Profile {
    /// The profile of `signals`, with the member's `chosen` interests and what the posts
    /// they hid are about.
    pub fn new(
        signals: &MemberSignals,
        chosen: &[InterestSlug],
        hidden_posts: &[HiddenPost],
    ) -> Self {
        fn weights<K: Clone + Eq + std::hash::Hash>(a: &[Affinity<K>]) -> HashMap<K, f32> {
            a.iter().map(|a| (a.key.clone(), a.weight)).collect()
        }
        let mut profile = Profile {
            follows: signals.follows.iter().cloned().collect(),
            authors: weights(&signals.authors),
            interests: weights(&signals.interests),
            products: weights(&signals.products),
            chosen: chosen.iter().cloned().collect(),
            engaged: signals.engaged.iter().cloned().collect(),
            ..Profile::default()
        };
        for target in &signals.hidden {
            match target {
                FeedTarget::Post(p) => {
                    profile.hidden_posts.insert(p.clone());
                }
                FeedTarget::Author(u) => {
                    profile.hidden_authors.insert(u.clone());
                }
                FeedTarget::Product(a) => {
                    profile.hidden_products.insert(a.clone());
                }
                FeedTarget::Interest(i) => {
                    profile.hidden_interests.insert(i.clone());
                }
            }
        }
        for hidden in hidden_posts {
            profile.dimmed_authors.insert(hidden.author.clone());
            profile
                .dimmed_products
                .extend(hidden.products.iter().cloned());
            profile
                .dimmed_interests
                .extend(hidden.interests.iter().cloned());
        }
        profile
    }

    /// Whether the member follows `author`.
    pub fn follows(&self, author: &UserId) -> bool {
        self.follows.contains(author)
    }

    /// Whether the member said they are not interested in the post, its author, one of
    /// its products or one of its interests: it is not shown at all.
    pub fn hides(&self, body: &PostBody) -> bool {
        self.hidden_posts.contains(&body.post)
            || self.hidden_authors.contains(&body.author)
            || body
                .tags
                .iter()
                .any(|t| self.hidden_products.contains(&t.asin))
            || body
                .interests
                .iter()
                .any(|i| self.hidden_interests.contains(i))
    }

    /// The affinity term of the score.
    pub fn affinity(&self, body: &PostBody) -> f64 {
        let followed = if self.follows(&body.author) { 2.0 } else { 0.0 };
        let author = 1.5 * self.authors.get(&body.author).map_or(0.0, |w| saturate(*w));
        let interest = body
            .interests
            .iter()
            .map(|i| self.interests.get(i).map_or(0.0, |w| saturate(*w)))
            .fold(0.0, f64::max);
        let product = body
            .tags
            .iter()
            .map(|t| self.products.get(&t.asin).map_or(0.0, |w| saturate(*w)))
            .fold(0.0, f64::max);
        let chosen = if body.interests.iter().any(|i| self.chosen.contains(i)) {
            0.5
        } else {
            0.0
        };
        followed + author + interest + product + chosen
    }

    /// The novelty term of the score.
    pub fn novelty(&self, body: &PostBody) -> f64 {
        let mut novelty = if self.engaged.contains(&body.post) {
            0.25
        } else {
            1.0
        };
        if self.dimmed_authors.contains(&body.author) {
            novelty *= 0.6;
        }
        if body
            .tags
            .iter()
            .any(|t| self.dimmed_products.contains(&t.asin))
        {
            novelty *= 0.6;
        }
        if body
            .interests
            .iter()
            .any(|i| self.dimmed_interests.contains(i))
        {
            novelty *= 0.6;
        }
        novelty
    }
}

/// The score of a post with `stats` for a member with `profile` (`None`: no personal
/// signal, as for visitors) at `now`.
pub fn score(body: &PostBody, stats: &PostStats, profile: Option<&Profile>, now: i64) -> f64 {
    let base = recency(body.recorded_at, now) * (1.0 + engagement(stats));
    match profile {
        None => base,
        Some(p) => base * (1.0 + p.affinity(body)) * p.novelty(body),
    }
}
