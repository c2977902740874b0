//! The member's feed controls: "not interested", taken back, and the feed mode. Each is an
//! event, so it is replayable and auditable; `forYou` honours it from the next page on.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use sparkfeed_domain::events::FeedTarget;
use sparkfeed_domain::{Command, InterestSlug, PostId};

use super::args;
use super::sender::{Sender, run};
use crate::ctx::{Gql, signed_in};
use crate::error::{ApiError, ApiResult};
use crate::objects::foryou::{FeedControls, FeedMode, feed_controls};
use crate::scalars::Int64;

/// What a member is not interested in: exactly one of the four.
#[derive(InputObject)]
pub(crate) struct FeedTargetInput {
    /// One post.
    pub post_id: Option<ID>,
    /// Everything by one author (a user id).
    pub author_id: Option<ID>,
    /// Every post tagging one product.
    pub asin: Option<String>,
    /// One interest (its slug).
    pub interest: Option<String>,
}

impl FeedTargetInput {
    fn parse(&self) -> ApiResult<FeedTarget> {
        let given = [
            self.post_id.is_some(),
            self.author_id.is_some(),
            self.asin.is_some(),
            self.interest.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(ApiError::input(
                "target",
                "give exactly one of postId, authorId, asin and interest".to_string(),
            ));
        }
        Ok(
            match (&self.post_id, &self.author_id, &self.asin, &self.interest) {
                (Some(p), ..) => FeedTarget::Post(
                    PostId::parse(p).map_err(|e| ApiError::input("postId", e.to_string()))?,
                ),
                (_, Some(u), ..) => FeedTarget::Author(args::user_id(u)?),
                (_, _, Some(a), _) => FeedTarget::Product(args::asin(a)?),
                (.., Some(i)) => FeedTarget::Interest(
                    InterestSlug::parse(i)
                        .map_err(|e| ApiError::input("interest", e.to_string()))?,
                ),
                (None, None, None, None) => {
                    return Err(ApiError::input("target", "nothing given".to_string()));
                }
            },
        )
    }
}

/// What a feed control did.
#[derive(SimpleObject)]
pub(super) struct FeedControlsPayload {
    /// The member's feed controls as they are now.
    pub controls: FeedControls,
    /// The log position written (the last one of the member's controls when nothing was).
    pub position: Int64,
}

/// The member's feed controls.
#[derive(Default)]
pub(crate) struct ControlsMutations;

/// The member's feed controls.
#[Object]
impl ControlsMutations {
    /// Not interested in a post, an author, a product or an interest: it leaves `forYou`
    /// at once (and every later ranking), and posts like it rank lower. Unknown targets are
    /// refused by kind (`UNKNOWN_POST`, `UNKNOWN_USER`, `UNKNOWN_PRODUCT`,
    /// `UNKNOWN_INTEREST`); twice, `ALREADY_HIDDEN`; past 1,000, `TOO_MANY_HIDDEN`.
    async fn not_interested(
        &self,
        ctx: &Context<'_>,
        target: FeedTargetInput,
        idempotency_key: Option<String>,
    ) -> Gql<FeedControlsPayload> {
        let sender = Sender::member(ctx, "notInterested", idempotency_key.as_deref())?;
        let target = target.parse()?;
        controls(ctx, sender, Command::NotInterested { target }).await
    }

    /// Takes a "not interested" back (`NOT_HIDDEN` when there is none).
    async fn undo_not_interested(
        &self,
        ctx: &Context<'_>,
        target: FeedTargetInput,
        idempotency_key: Option<String>,
    ) -> Gql<FeedControlsPayload> {
        let sender = Sender::member(ctx, "undoNotInterested", idempotency_key.as_deref())?;
        let target = target.parse()?;
        controls(ctx, sender, Command::UndoNotInterested { target }).await
    }

    /// Chooses how `forYou` is ordered: `PERSONALIZED`, or `CHRONOLOGICAL` (newest first,
    /// no profiling signal at all). Setting the mode it has writes nothing.
    async fn set_feed_mode(
        &self,
        ctx: &Context<'_>,
        mode: FeedMode,
        idempotency_key: Option<String>,
    ) -> Gql<FeedControlsPayload> {
        let sender = Sender::member(ctx, "setFeedMode", idempotency_key.as_deref())?;
        let mode = mode.into();
        controls(ctx, sender, Command::SetFeedMode { mode }).await
    }
}

async fn controls(ctx: &Context<'_>, sender: Sender, command: Command) -> Gql<FeedControlsPayload> {
    let done = run(ctx, sender, command).await?;
    Ok(FeedControlsPayload {
        controls: feed_controls(ctx, signed_in(ctx)?)?,
        position: Int64(done.position.0),
    })
}
