//! The live feeds: `feedUpdates` (one interest, for anyone), and a signed-in member's
//! `homeFeedUpdates` and `forYouUpdates`. Each wakes when the feeds projection commits,
//! reads the posts published since it last looked in the feeds it follows, and lets the
//! feed policy ([`LivePolicy`]) decide what to deliver: the same rules as a page of the feed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use sparkfeed_domain::events::FeedMode;
use sparkfeed_domain::{InterestSlug, UserId};
use sparkfeed_events::{Position, Timestamp};
use sparkfeed_projections::feeds::FEEDS;
use sparkfeed_projections::foryou::rank::Reason;
use sparkfeed_projections::foryou::rows::MemberSignals;
use sparkfeed_projections::foryou::score::Profile;
use sparkfeed_projections::foryou::{FOR_YOU, read as foryou_read};
use sparkfeed_projections::read::{self, LivePolicy};
use tokio::sync::watch;

use crate::Api;
use crate::objects::foryou::FeedReason;
use crate::objects::nodes::Post;
use crate::sockets::SubscriptionSlot;

/// How many new posts of one source a wake-up reads at most.
const BATCH: usize = 64;

/// Which live feed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Which {
    /// One interest's feed (`feedUpdates`).
    Interest(InterestSlug),
    /// The home feed: the member's interests.
    Home,
    /// "For you": the member's interests and the creators they follow (every interest in
    /// chronological mode), without what they hid.
    ForYou,
}

/// A post a live feed delivers, with why.
pub(crate) struct Delivered {
    /// The post.
    pub post: Post,
    /// Why it is in the feed.
    pub reasons: Vec<FeedReason>,
}

/// One live feed.
pub(crate) struct LiveFeed {
    api: Arc<Api>,
    /// The subscriber, when signed in (`Home` and `ForYou` always are).
    member: Option<UserId>,
    which: Which,
    checkpoints: watch::Receiver<Position>,
    since: Option<Position>,
    policy: LivePolicy,
    ready: VecDeque<Delivered>,
    /// Held as long as the stream runs.
    _slot: Option<SubscriptionSlot>,
}

impl LiveFeed {
    /// The live feed `which` for `member` (`Home` and `ForYou` need one), from what the
    /// feeds projection has applied now on.
    pub(crate) fn new(
        api: Arc<Api>,
        member: Option<UserId>,
        which: Which,
        slot: Option<SubscriptionSlot>,
    ) -> Result<Self, sparkfeed_projections::ProjectionError> {
        let checkpoints = api.projections.checkpoints(FEEDS)?;
        // The checkpoint is the next position to apply: a post published at it is new.
        let since = checkpoints.borrow().0.checked_sub(1).map(Position);
        Ok(Self {
            api,
            member,
            which,
            checkpoints,
            since,
            policy: LivePolicy::default(),
            ready: VecDeque::new(),
            _slot: slot,
        })
    }

    /// The feed from after position `since` instead (a client resuming from a cursor), or
    /// from the start with `None`.
    pub(crate) fn after(mut self, since: Option<Position>) -> Self {
        self.since = since;
        self
    }

    /// The next post the feed delivers, waiting for the projection to apply one.
    pub(crate) async fn next(mut self) -> Option<(Delivered, Self)> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some((item, self));
            }
            if !self.read_new().ok()? {
                // Wake when the projection commits; a closed channel ends the stream.
                self.checkpoints.changed().await.ok()?;
            }
        }
    }

    /// Reads the posts published since the last look; whether there were any.
    fn read_new(&mut self) -> Result<bool, crate::error::ApiError> {
        let feeds = self.api.projections.tree(FEEDS)?;
        let signals = match (&self.which, &self.member) {
            (Which::ForYou, Some(member)) => {
                foryou_read::signals(&self.api.projections.tree(FOR_YOU)?, member)?
            }
            _ => MemberSignals::default(),
        };
        let chronological = self.which == Which::ForYou && signals.mode == FeedMode::Chronological;
        let interests: Vec<InterestSlug> = match (&self.which, &self.member) {
            (Which::Interest(slug), _) => vec![slug.clone()],
            _ if chronological => read::interests(&feeds)?
                .into_iter()
                .map(|i| i.interest)
                .collect(),
            (_, Some(member)) => read::member(&feeds, member)?
                .map(|m| m.interests)
                .unwrap_or_default(),
            (_, None) => vec![],
        };
        // New posts by position, each with its reasons. A source that returned a full batch
        // may hold more: this look covers positions up to the least of their last ones
        // (`upto`), and the next look reads on from there, so nothing is skipped.
        let mut fresh: BTreeMap<Position, (sparkfeed_domain::PostId, Vec<Reason>)> =
            BTreeMap::new();
        let mut upto: Option<Position> = None;
        let mut full = |batch: &[(Position, sparkfeed_domain::PostId)]| {
            if batch.len() == BATCH
                && let Some((last, _)) = batch.last()
            {
                upto = Some(upto.map_or(*last, |u: Position| u.min(*last)));
            }
        };
        for interest in &interests {
            let reason = if chronological {
                Reason::Newest
            } else {
                Reason::Interest(interest.clone())
            };
            let batch = read::feed_since(&feeds, interest, self.since, BATCH)?;
            full(&batch);
            for (at, post) in batch {
                fresh
                    .entry(at)
                    .or_insert_with(|| (post, vec![]))
                    .1
                    .push(reason.clone());
            }
        }
        if self.which == Which::ForYou && !chronological {
            for creator in &signals.follows {
                let batch = read::posts_by_since(&feeds, creator, self.since, BATCH)?;
                full(&batch);
                for (at, post) in batch {
                    let entry = fresh.entry(at).or_insert_with(|| (post, vec![]));
                    entry.1.insert(0, Reason::FollowedCreator(creator.clone()));
                }
            }
        }
        if let Some(upto) = upto {
            fresh.retain(|at, _| *at <= upto);
        }
        let Some(last) = fresh.keys().next_back().copied() else {
            return Ok(false);
        };
        self.since = Some(last);
        let hidden = Profile::new(&signals, &[], &[]);
        let now = Timestamp::now().0;
        // Chronological mode uses no signal of the member's: not their purchases either.
        let buyer = self.member.as_ref().filter(|_| !chronological);
        let mut reasons_of = BTreeMap::new();
        for (_, (post, reasons)) in fresh {
            // What the member hid never reaches the policy: it takes no slot.
            if self.which == Which::ForYou
                && let Ok(Some(body)) = read::post_body(&feeds, &post)
                && hidden.hides(&body)
            {
                continue;
            }
            reasons_of.insert(post.clone(), reasons);
            for deliver in self.policy.offer(&feeds, &post, buyer, now)? {
                let Ok(Some(card)) = read::post_card(&feeds, &deliver) else {
                    continue;
                };
                let mut reasons = reasons_of.get(&deliver).cloned().unwrap_or_default();
                if let Some(d) = &card.body.disclosure {
                    reasons.push(Reason::Sponsored {
                        brand_name: d.brand_name.clone(),
                        contract: d.contract.clone(),
                    });
                }
                self.ready.push_back(Delivered {
                    post: Post(Arc::new(card)),
                    reasons: reasons.into_iter().map(FeedReason).collect(),
                });
            }
        }
        Ok(true)
    }
}
