//! Engagement: smiles, saves, shares and comments.

use async_graphql::{Context, Enum, ID, Object};
use sparkfeed_domain::events::ShareChannel as DomainChannel;
use sparkfeed_domain::{Command, CommentId, PostId};
use sparkfeed_projections::read;

use super::args;
use super::payloads::{CommentPayload, PositionPayload, PostPayload, post_payload, written};
use super::sender::{Sender, run};
use crate::ctx::{Gql, feeds_tree};
use crate::error::ApiError;
use crate::objects::comment::Comment;

/// Engagement: smiles, saves, shares and comments.
#[derive(Default)]
pub(crate) struct EngagementMutations;

/// Engagement: smiles, saves, shares and comments.
#[Object]
impl EngagementMutations {
    /// Smiles at a post (once per member).
    async fn smile(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "smile", idempotency_key, &post_id, |post| {
            Command::Smile { post }
        })
        .await
    }

    /// Takes a smile back.
    async fn unsmile(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "unsmile", idempotency_key, &post_id, |post| {
            Command::Unsmile { post }
        })
        .await
    }

    /// Saves a post (once per member).
    async fn save_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "savePost", idempotency_key, &post_id, |post| {
            Command::SavePost { post }
        })
        .await
    }

    /// Unsaves a post.
    async fn unsave_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        engage(ctx, "unsavePost", idempotency_key, &post_id, |post| {
            Command::UnsavePost { post }
        })
        .await
    }

    /// Shares a post.
    async fn share_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        #[graphql(default_with = "ShareChannel::Link")] channel: ShareChannel,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::prime(ctx, "sharePost", idempotency_key.as_deref())?;
        let post = args::post_id(&post_id)?;
        let channel = match channel {
            ShareChannel::Link => DomainChannel::Link,
            ShareChannel::Message => DomainChannel::Message,
            ShareChannel::Email => DomainChannel::Email,
            ShareChannel::Social => DomainChannel::Social,
        };
        let done = run(
            ctx,
            sender,
            Command::SharePost {
                post: post.clone(),
                channel,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Comments on a post (Prime members, up to 1,000 characters).
    async fn comment(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        text: String,
        idempotency_key: Option<String>,
    ) -> Gql<CommentPayload> {
        let sender = Sender::prime(ctx, "comment", idempotency_key.as_deref())?;
        let post = args::post_id(&post_id)?;
        let comment = sender.new_id(CommentId::generate);
        let done = run(
            ctx,
            sender,
            Command::Comment {
                comment: comment.clone(),
                post,
                text,
            },
        )
        .await?;
        Ok(CommentPayload {
            comment: read::comment(&feeds_tree(ctx)?, &comment)?.map(Comment),
            position: written(&done),
        })
    }

    /// Removes a comment (its author, the post's author or a moderator).
    async fn remove_comment(
        &self,
        ctx: &Context<'_>,
        comment_id: ID,
        idempotency_key: Option<String>,
    ) -> Gql<PositionPayload> {
        let sender = Sender::member(ctx, "removeComment", idempotency_key.as_deref())?;
        let comment = CommentId::parse(&comment_id)
            .map_err(|e| ApiError::input("commentId", e.to_string()))?;
        let done = run(ctx, sender, Command::RemoveComment { comment }).await?;
        Ok(PositionPayload {
            position: written(&done),
        })
    }
}

/// Where a post is shared to.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
enum ShareChannel {
    /// A copied link.
    Link,
    /// A direct message.
    Message,
    /// Email.
    Email,
    /// Another social network.
    Social,
}

/// A Prime member's smile, unsmile, save or unsave of `post_id`: one shape, four commands.
async fn engage(
    ctx: &Context<'_>,
    operation: &str,
    idempotency_key: Option<String>,
    post_id: &ID,
    command: fn(PostId) -> Command,
) -> Gql<PostPayload> {
    let sender = Sender::prime(ctx, operation, idempotency_key.as_deref())?;
    let post = args::post_id(post_id)?;
    let done = run(ctx, sender, command(post.clone())).await?;
    Ok(post_payload(ctx, &post, done)?)
}
