//! `PostCounts`: a post's counts, as `postUpdates(id)` delivers them to an open post card,
//! and the stream that follows them.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use futures_util::Stream;
use sparkfeed_domain::PostId;
use sparkfeed_events::Position;
use sparkfeed_projections::feeds::FEEDS;
use sparkfeed_projections::read;
use sparkfeed_projections::rows::PostStats;
use tokio::sync::watch;

use crate::Api;
use crate::ctx::api;
use crate::error::{ApiError, ApiResult};
use crate::scalars::Int64;
use crate::sockets::SubscriptionSlot;

/// A post's counts at one moment.
pub(crate) struct PostCounts {
    post: PostId,
    stats: PostStats,
}

/// A post's counts: what an open post card updates live.
#[Object(serial)]
impl PostCounts {
    /// The post.
    async fn post_id(&self) -> ID {
        ID(self.post.to_string())
    }
    /// Members smiling at it.
    async fn smile_count(&self) -> Int64 {
        Int64(self.stats.smiles)
    }
    /// Members who saved it.
    async fn save_count(&self) -> Int64 {
        Int64(self.stats.saves)
    }
    /// Times it was shared.
    async fn share_count(&self) -> Int64 {
        Int64(self.stats.shares)
    }
    /// Comments on it.
    async fn comment_count(&self) -> Int64 {
        Int64(self.stats.comments)
    }
    /// Orders placed through it.
    async fn purchase_count(&self) -> Int64 {
        Int64(self.stats.purchases)
    }
}

/// Follows one post's counts as the feeds projection applies the log.
struct CountsFollower {
    api: Arc<Api>,
    post: PostId,
    checkpoints: watch::Receiver<Position>,
    /// What was delivered last (nothing yet: `None`).
    sent: Option<PostStats>,
    /// Held as long as the stream runs.
    _slot: Option<SubscriptionSlot>,
}

impl CountsFollower {
    /// The post's counts now, or `None` once it is gone or removed.
    fn now(&self) -> Option<PostStats> {
        let feeds = self.api.projections.view(FEEDS).ok()?;
        let card = read::post_card(&feeds, &self.post).ok()??;
        (!card.body.removed).then_some(card.stats)
    }

    /// The next counts that differ from the last delivered, waiting for the projection to
    /// commit; the stream ends when the post is removed or the server stops.
    async fn next(mut self) -> Option<(PostCounts, Self)> {
        loop {
            let stats = self.now()?;
            if self.sent != Some(stats) {
                self.sent = Some(stats);
                let counts = PostCounts {
                    post: self.post.clone(),
                    stats,
                };
                return Some((counts, self));
            }
            self.checkpoints.changed().await.ok()?;
        }
    }
}

/// The counts of post `id`, first as they are, then each time the feeds projection
/// commits a change to them (changes committed together arrive as one). `NOT_FOUND` for
/// a post that does not exist or was removed; the stream ends when the post is removed.
pub(crate) fn updates(
    ctx: &Context<'_>,
    id: &ID,
    slot: Option<SubscriptionSlot>,
) -> ApiResult<impl Stream<Item = PostCounts> + use<>> {
    let post = PostId::parse(id).map_err(|e| ApiError::input("id", e.to_string()))?;
    let api = Arc::clone(api(ctx));
    // Subscribe before reading, so nothing applied in between is missed.
    let checkpoints = api.projections.checkpoints(FEEDS)?;
    let card = read::post_card(&api.projections.view(FEEDS)?, &post)?;
    if card.is_none_or(|c| c.body.removed) {
        return Err(ApiError::NotFound(format!("post {post}")));
    }
    let follower = CountsFollower {
        api,
        post,
        checkpoints,
        sent: None,
        _slot: slot,
    };
    Ok(futures_util::stream::unfold(follower, CountsFollower::next))
}
