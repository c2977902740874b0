//! The subscriptions: a feed as it grows, a post's counts as they change, and the log as
//! it is written.

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription};
use futures_util::Stream;
use sparkfeed_domain::Role as DomainRole;
use sparkfeed_events::Position;
use sparkfeed_projections::read;

use crate::ctx::{Gql, api, feeds_tree, with_role};
use crate::error::ApiError;
use crate::live::{LiveFeed, Which};
use crate::objects::event::{Event, EventFilter};
use crate::objects::foryou::ForYouUpdate;
use crate::objects::merkle::TreeHead;
use crate::objects::nodes::Post;
use crate::objects::post_counts::{self, PostCounts};
use crate::paging::cursor;
use crate::query::known_interest;
use crate::sockets::{SubscriptionSlot, SubscriptionSlots};

/// A slot of the socket's subscriptions (none outside a WebSocket connection), or
/// `TOO_MANY_SUBSCRIPTIONS`.
fn subscription_slot(ctx: &Context<'_>) -> Result<Option<SubscriptionSlot>, ApiError> {
    ctx.data_opt::<SubscriptionSlots>()
        .map(SubscriptionSlots::take)
        .transpose()
}

/// Live updates.
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Posts published to an interest's feed, oldest first, as the feed projection applies
    /// them: those after the cursor `after` (a cursor of `feed`, to resume without a gap),
    /// or, without it, those published after the subscription started. The feed policy of
    /// `feed` holds: at most one sponsored post in any five (one over the cap comes once
    /// enough other posts have), and a signed-in subscriber's own purchases stay out.
    async fn feed_updates(
        &self,
        ctx: &Context<'_>,
        interest: String,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Post> + use<>, async_graphql::Error> {
        let slot = subscription_slot(ctx)?;
        let interest = known_interest(ctx, &interest)?;
        let after = cursor(after)?;
        let api = Arc::clone(api(ctx));
        // Subscribe before reading the head, so nothing applied in between is missed.
        let viewer = crate::ctx::viewer(ctx).cloned();
        let live = LiveFeed::new(api, viewer, Which::Interest(interest.clone()), slot)
            .map_err(ApiError::from)?;
        let since = match after {
            Some(cursor) => Some(cursor),
            None => read::feed_head(&feeds_tree(ctx)?, &interest)?,
        };
        Ok(futures_util::stream::unfold(
            live.after(since),
            |live| async move { live.next().await.map(|(d, live)| (d.post, live)) },
        ))
    }

    /// New posts in the signed-in member's home feed as they are published, oldest first,
    /// under the feed policy of `homeFeed` (a sponsored post over the cap is delivered
    /// once enough other posts have come; products they bought for themselves stay out).
    async fn home_feed_updates(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Post> + use<>, async_graphql::Error> {
        let member = crate::ctx::signed_in(ctx)?.clone();
        let slot = subscription_slot(ctx)?;
        let api = Arc::clone(api(ctx));
        let live = LiveFeed::new(api, Some(member), Which::Home, slot).map_err(ApiError::from)?;
        Ok(futures_util::stream::unfold(live, |live| async move {
            live.next().await.map(|(d, live)| (d.post, live))
        }))
    }

    /// New posts in the signed-in member's "For you" as they are published, oldest first:
    /// from the interests they chose and the creators they follow (every interest in
    /// chronological mode), without what they hid, under the feed policy, each with why.
    async fn for_you_updates(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = ForYouUpdate> + use<>, async_graphql::Error> {
        let member = crate::ctx::signed_in(ctx)?.clone();
        let slot = subscription_slot(ctx)?;
        let api = Arc::clone(api(ctx));
        let live = LiveFeed::new(api, Some(member), Which::ForYou, slot).map_err(ApiError::from)?;
        Ok(futures_util::stream::unfold(live, |live| async move {
            live.next().await.map(|(d, live)| {
                (
                    ForYouUpdate {
                        node: d.post,
                        reasons: d.reasons,
                    },
                    live,
                )
            })
        }))
    }

    /// A post's counts (smiles, saves, shares, comments, purchases) for an open post card:
    /// first as they are, then each time the feeds projection applies a change to them
    /// (changes applied together arrive as one message). Public. `NOT_FOUND` for an unknown
    /// or removed post; the stream completes when the post is removed.
    async fn post_updates(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = PostCounts> + use<>, async_graphql::Error> {
        let slot = subscription_slot(ctx)?;
        Ok(post_counts::updates(ctx, &id, slot)?)
    }

    /// The log's signed tree heads: the current one, then each one the server publishes
    /// (at least every publishing interval while the log grows, and whenever one is
    /// signed on demand). Public: a monitor keeps them and checks consistency between them.
    async fn tree_heads(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = TreeHead> + use<>, async_graphql::Error> {
        let slot = subscription_slot(ctx)?;
        let api = Arc::clone(api(ctx));
        let mut published = api.heads.subscribe();
        let first = api
            .heads
            .current(api.domain.log().as_ref())
            .map_err(ApiError::from)?;
        published.mark_unchanged();
        Ok(futures_util::stream::unfold(
            (Some(first), published, slot),
            |(first, mut published, slot)| async move {
                if let Some(head) = first {
                    return Some((TreeHead(head), (None, published, slot)));
                }
                loop {
                    published.changed().await.ok()?;
                    let next = published.borrow_and_update().clone();
                    if let Some(head) = next {
                        return Some((TreeHead(head), (None, published, slot)));
                    }
                }
            },
        ))
    }

    /// The log from after `after` (or from the start), then live as it is written, with
    /// no gap and no duplicate at the hand-over; only some `types`, or only one `stream`,
    /// as the `events` query filters. Needs the analyst role.
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        types: Option<Vec<String>>,
        stream: Option<String>,
    ) -> Result<impl Stream<Item = Gql<Event>> + use<>, async_graphql::Error> {
        with_role(ctx, &[DomainRole::Analyst, DomainRole::Admin])?;
        let filter = EventFilter::parse(types, stream)?;
        let slot = subscription_slot(ctx)?;
        let from = match after {
            Some(a) => Position(
                a.parse::<u64>()
                    .map_err(|_| ApiError::input("after", format!("{a:?} is not a position")))?
                    .saturating_add(1),
            ),
            None => Position(0),
        };
        let api = Arc::clone(api(ctx));
        let subscription = api.domain.log().subscribe(from);
        Ok(futures_util::stream::unfold(
            (api, subscription, filter, slot),
            |(api, mut subscription, filter, slot)| async move {
                let item = loop {
                    match subscription.next().await? {
                        Ok(event) if !filter.wants(&event) => continue,
                        Ok(event) => break Event::decode(&api, event).map_err(Into::into),
                        Err(e) => break Err(ApiError::from(e).into()),
                    }
                };
                Some((item, (api, subscription, filter, slot)))
            },
        ))
    }
}
