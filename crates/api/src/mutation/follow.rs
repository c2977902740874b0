//! Follows: a member follows or unfollows a creator.

use async_graphql::{Context, ID, Object, SimpleObject};
use sparkfeed_domain::{Command, UserId};

use super::payloads::{fresh_user, written};
use super::sender::{Sender, run};
use crate::ctx::Gql;
use crate::error::ApiError;
use crate::objects::nodes::User;
use crate::scalars::Int64;

/// Follows.
#[derive(Default)]
pub(crate) struct FollowMutations;

/// A follow or an unfollow.
#[derive(SimpleObject)]
pub(super) struct FollowPayload {
    /// The creator as they are now (`followerCount`, `viewerFollows`).
    pub creator: Option<User>,
    /// The log position written.
    pub position: Int64,
}

/// Follows.
#[Object]
impl FollowMutations {
    /// Follows a creator: any registered member but oneself. Signed-in accounts only.
    /// Refused, with nothing written: `CANNOT_FOLLOW_SELF`; `CANNOT_FOLLOW_BRAND` (brands
    /// never post, so there is nothing of theirs to follow; they sponsor creators
    /// instead); `ALREADY_FOLLOWING`; `UNKNOWN_USER` for an unknown or forgotten account.
    async fn follow(
        &self,
        ctx: &Context<'_>,
        creator_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<FollowPayload> {
        let sender = Sender::member(ctx, "follow", idempotency_key.as_deref())?;
        let creator = creator_id_of(&creator_id)?;
        follow(ctx, sender, creator, |creator| Command::Follow { creator }).await
    }

    /// Stops following a creator. `NOT_FOLLOWING` when one does not follow them.
    async fn unfollow(
        &self,
        ctx: &Context<'_>,
        creator_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<FollowPayload> {
        let sender = Sender::member(ctx, "unfollow", idempotency_key.as_deref())?;
        let creator = creator_id_of(&creator_id)?;
        follow(ctx, sender, creator, |creator| Command::Unfollow {
            creator,
        })
        .await
    }
}

fn creator_id_of(id: &ID) -> Result<UserId, ApiError> {
    UserId::parse(id).map_err(|e| ApiError::input("creatorId", e.to_string()))
}

/// Runs the follow or unfollow of `creator` and answers the creator as it left them.
async fn follow(
    ctx: &Context<'_>,
    sender: Sender,
    creator: UserId,
    command: fn(UserId) -> Command,
) -> Gql<FollowPayload> {
    let done = run(ctx, sender, command(creator.clone())).await?;
    Ok(FollowPayload {
        creator: fresh_user(ctx, &creator)?,
        position: written(&done),
    })
}
