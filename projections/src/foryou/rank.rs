//! The "For you" ranking: candidates from where a member's taste points, scored
//! ([`super::score`]), filtered and arranged by the feed policy
//! ([`crate::feeds::policy`]), each with the reasons it is shown.
//!
//! Candidates, for a member in personalized mode: the newest posts of the interests they
//! chose, of the creators they follow, of the authors and products they engaged with
//! ("like a post you saved"), and what is popular now in every interest. For a visitor:
//! what is popular now. In chronological mode: every post, newest first, with no signal
//! of the member's at all (not their purchases, not their engagement), only what they
//! explicitly hid.
//!
//! The ranking is bounded ([`RANKING_SIZE`] items from at most a few hundred candidates),
//! so its cost does not grow with the number of posts.

use std::collections::HashMap;

use sparkfeed_domain::events::{FeedMode, FeedTarget};
use sparkfeed_domain::{Asin, ContractId, InterestSlug, PostId, UserId};

use super::read as foryou_read;
use super::rows::{Engagement, MemberSignals};
use super::score::{HiddenPost, Profile, score};
use crate::ProjectionError;
use crate::cache::Source;
use crate::feeds::home::PurchaseReader;
use crate::feeds::policy;
use crate::feeds::read;
use crate::feeds::rows::PostCardRow;

/// The most items one ranking holds (pages walk it; its end is the feed's end).
pub const RANKING_SIZE: usize = 200;
/// Newest posts read per chosen interest.
const PER_CHOSEN_INTEREST: usize = 40;
/// Newest posts read per followed creator, and the most creators read.
const PER_CREATOR: usize = 5;
const CREATORS: usize = 20;
/// Products and authors engaged with whose newest posts are read, and how many each.
const SIMILAR_KEYS: usize = 5;
const PER_SIMILAR: usize = 8;
/// Newest posts read per interest for "popular now".
const PER_POPULAR_INTEREST: usize = 25;
/// Newest posts read per interest in chronological mode.
const PER_INTEREST_NEWEST: usize = RANKING_SIZE;

/// Why a post is in a member's "For you" (EU DSA Art. 27), strongest first.
#[derive(Clone, PartialEq, Debug)]
pub enum Reason {
    /// A creator the member follows posted it.
    FollowedCreator(UserId),
    /// It is like a post the member engaged with (by its author or a product it tags).
    LikeOneYou {
        /// How they engaged with that post.
        via: Engagement,
        /// That post.
        post: PostId,
    },
    /// It is in an interest the member chose.
    Interest(InterestSlug),
    /// It is popular now in an interest.
    PopularIn(InterestSlug),
    /// The newest posts first (chronological mode: no profiling).
    Newest,
    /// A brand paid for it (shown with any other reason).
    Sponsored {
        /// The brand's name as the disclosure shows it.
        brand_name: String,
        /// The contract.
        contract: ContractId,
    },
}

impl Reason {
    fn rank(&self) -> u8 {
        match self {
            Reason::FollowedCreator(_) => 0,
            Reason::LikeOneYou { .. } => 1,
            Reason::Interest(_) => 2,
            Reason::PopularIn(_) => 3,
            Reason::Newest => 4,
            Reason::Sponsored { .. } => 5,
        }
    }
}

/// One ranked post.
#[derive(Clone, PartialEq, Debug)]
pub struct Ranked {
    /// The post.
    pub post: PostId,
    /// Its author.
    pub author: UserId,
    /// Its score (0 in chronological mode).
    pub score: f64,
    /// Why it is shown, strongest first.
    pub reasons: Vec<Reason>,
    /// Whether it carries a paid-partnership disclosure.
    pub sponsored: bool,
}

/// Who the ranking is for.
pub struct Viewer<'a> {
    /// The member, or `None` for a visitor.
    pub member: Option<&'a UserId>,
    /// Their signals (empty for a visitor).
    pub signals: MemberSignals,
}

impl<'a> Viewer<'a> {
    /// The viewer `member` (a visitor when `None`), with their signals read from `foryou`.
    pub fn read(foryou: &impl Source, member: Option<&'a UserId>) -> Result<Self, ProjectionError> {
        let signals = match member {
            Some(m) => foryou_read::signals(foryou, m)?,
            None => MemberSignals::default(),
        };
        Ok(Self { member, signals })
    }

    /// The feed mode (a visitor's is personalized, with no personal signal).
    pub fn mode(&self) -> FeedMode {
        self.signals.mode
    }
}

/// The "For you" ranking of `viewer` at `now`: at most [`RANKING_SIZE`] posts, arranged
/// so that no author appears twice in a row and at most one sponsored post is in any
/// [`policy::SPONSORED_SPACING`] (a sponsored post over the cap moves down, never out).
/// `card` reads a post's card (the API's decoded-row cache, or `feeds` itself).
pub fn for_you<E: From<ProjectionError>>(
    feeds: &impl Source,
    viewer: &Viewer<'_>,
    now: i64,
    card: impl Fn(&PostId) -> Result<Option<PostCardRow>, E>,
) -> Result<Vec<Ranked>, E> {
    let hidden_facts = hidden_post_facts(&viewer.signals, &card)?;
    let chosen = match viewer.member {
        Some(m) => read::member(feeds, m)?
            .map(|r| r.interests)
            .unwrap_or_default(),
        None => vec![],
    };
    let profile = Profile::new(&viewer.signals, &chosen, &hidden_facts);
    let chronological = viewer.mode() == FeedMode::Chronological;
    let candidates = if chronological {
        newest(feeds)?
    } else {
        gather(feeds, viewer, &chosen)?
    };
    let mut purchases = viewer.member.map(|m| PurchaseReader::new(feeds, m));
    let mut scored = Vec::with_capacity(candidates.len());
    for (post, (position, mut reasons)) in candidates {
        let Some(card) = card(&post)? else {
            continue;
        };
        let body = &card.body;
        if body.removed || profile.hides(body) {
            continue;
        }
        // Purchase-aware only where the member's own signals may be used.
        if !chronological && let Some(reader) = purchases.as_mut() {
            let products: Vec<Asin> = body.tags.iter().map(|t| t.asin.clone()).collect();
            if reader.bought_all(&post, products, now)? {
                continue;
            }
        }
        if let Some(d) = &body.disclosure {
            reasons.push(Reason::Sponsored {
                brand_name: d.brand_name.clone(),
                contract: d.contract.clone(),
            });
        }
        reasons.sort_by_key(Reason::rank);
        reasons.dedup();
        // "In coffee, one of your interests" says more than "popular in coffee".
        let chosen_here: Vec<InterestSlug> = reasons
            .iter()
            .filter_map(|r| match r {
                Reason::Interest(i) => Some(i.clone()),
                _ => None,
            })
            .collect();
        reasons.retain(|r| !matches!(r, Reason::PopularIn(i) if chosen_here.contains(i)));
        let score = if chronological {
            0.0
        } else {
            score(body, &card.stats, viewer.member.map(|_| &profile), now)
        };
        scored.push((
            position,
            Ranked {
                post,
                author: body.author.clone(),
                score,
                reasons,
                sponsored: body.disclosure.is_some(),
            },
        ));
    }
    // Highest score first; ties (and chronological mode) newest first.
    scored.sort_by(|(pa, a), (pb, b)| b.score.total_cmp(&a.score).then(pb.cmp(pa)));
    let ordered: Vec<Ranked> = scored.into_iter().map(|(_, r)| r).collect();
    Ok(policy::arrange(ordered, RANKING_SIZE, |r| {
        (&r.author, r.sponsored)
    }))
}

/// Candidates with their publication position and reasons, by post.
type Candidates = HashMap<PostId, (sparkfeed_events::Position, Vec<Reason>)>;

fn add(candidates: &mut Candidates, page: crate::list::Page<PostId>, reason: &Reason) {
    for (position, post) in page.items {
        let entry = candidates.entry(post).or_insert_with(|| (position, vec![]));
        entry.1.push(reason.clone());
    }
}

/// Where a personalized ranking looks (a visitor's: popular now only).
fn gather(
    feeds: &impl Source,
    viewer: &Viewer<'_>,
    chosen: &[InterestSlug],
) -> Result<Candidates, ProjectionError> {
    let mut candidates = Candidates::new();
    let signals = &viewer.signals;
    for interest in chosen {
        let page = read::feed(feeds, interest, PER_CHOSEN_INTEREST, None)?;
        add(&mut candidates, page, &Reason::Interest(interest.clone()));
    }
    for creator in signals.follows.iter().rev().take(CREATORS) {
        let page = read::posts_by(feeds, creator, PER_CREATOR, None)?;
        add(
            &mut candidates,
            page,
            &Reason::FollowedCreator(creator.clone()),
        );
    }
    let mut products: Vec<_> = signals.products.iter().collect();
    products.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    for affinity in products.into_iter().take(SIMILAR_KEYS) {
        let page = read::product_posts(feeds, &affinity.key, PER_SIMILAR, None)?;
        let reason = Reason::LikeOneYou {
            via: affinity.via,
            post: affinity.post.clone(),
        };
        add(&mut candidates, page, &reason);
    }
    let mut authors: Vec<_> = signals.authors.iter().collect();
    authors.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    for affinity in authors.into_iter().take(SIMILAR_KEYS) {
        let page = read::posts_by(feeds, &affinity.key, PER_SIMILAR, None)?;
        let reason = Reason::LikeOneYou {
            via: affinity.via,
            post: affinity.post.clone(),
        };
        add(&mut candidates, page, &reason);
    }
    for interest in read::interests(feeds)? {
        let page = read::feed(feeds, &interest.interest, PER_POPULAR_INTEREST, None)?;
        add(
            &mut candidates,
            page,
            &Reason::PopularIn(interest.interest.clone()),
        );
    }
    Ok(candidates)
}

/// Every interest's newest posts: the chronological mode's candidates.
fn newest(feeds: &impl Source) -> Result<Candidates, ProjectionError> {
    let mut candidates = Candidates::new();
    for interest in read::interests(feeds)? {
        let page = read::feed(feeds, &interest.interest, PER_INTEREST_NEWEST, None)?;
        add(&mut candidates, page, &Reason::Newest);
    }
    Ok(candidates)
}

/// The author, products and interests of each post the member hid.
fn hidden_post_facts<E>(
    signals: &MemberSignals,
    card: &impl Fn(&PostId) -> Result<Option<PostCardRow>, E>,
) -> Result<Vec<HiddenPost>, E> {
    let mut facts = Vec::new();
    for target in &signals.hidden {
        if let FeedTarget::Post(post) = target
            && let Some(card) = card(post)?
        {
            let b = &card.body;
            facts.push(HiddenPost {
                author: b.author.clone(),
                products: b.tags.iter().map(|t| t.asin.clone()).collect(),
                interests: b.interests.clone(),
            });
        }
    }
    Ok(facts)
}
