//! Posts: publishing, editing, tagging and removal.

use async_graphql::{Context, ID, InputObject, Object};
use sparkfeed_domain::{Command, MediaInput as DomainMedia, PostId, TagInput as DomainTag};

use super::args;
use super::payloads::{PostPayload, post_payload};
use super::sender::{Sender, run};
use crate::ctx::Gql;
use crate::error::ApiResult;
use crate::objects::media::MediaKind;

/// Posts: publishing, editing, tagging and removal.
#[derive(Default)]
pub(crate) struct PostMutations;

/// Posts: publishing, editing, tagging and removal.
#[Object]
impl PostMutations {
    /// Publishes a post (Prime members; brands cannot post).
    async fn publish_post(&self, ctx: &Context<'_>, input: PublishPostInput) -> Gql<PostPayload> {
        let sender = Sender::prime(ctx, "publishPost", input.idempotency_key.as_deref())?;
        let post = sender.new_id(PostId::generate);
        let media = input
            .media
            .into_iter()
            .map(|m| DomainMedia {
                kind: m.kind.into(),
                url: m.url,
                width: m.width,
                height: m.height,
                alt: m.alt,
            })
            .collect();
        let tags = input
            .tags
            .iter()
            .map(TagInput::parse)
            .collect::<ApiResult<Vec<_>>>()?;
        let contract = input
            .contract_id
            .as_ref()
            .map(args::contract_id)
            .transpose()?;
        let command = Command::PublishPost {
            post: post.clone(),
            caption: input.caption,
            media,
            interests: args::interests(&input.interests)?,
            tags,
            contract,
        };
        let done = run(ctx, sender, command).await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Edits a post's caption (its author).
    async fn edit_caption(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        caption: String,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "editCaption", idempotency_key.as_deref())?;
        let post = args::post_id(&post_id)?;
        let done = run(
            ctx,
            sender,
            Command::EditCaption {
                post: post.clone(),
                caption,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Tags a product in a post (its author).
    async fn tag_product(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        tag: TagInput,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "tagProduct", idempotency_key.as_deref())?;
        let post = args::post_id(&post_id)?;
        let tag = tag.parse()?;
        let done = run(
            ctx,
            sender,
            Command::TagProduct {
                post: post.clone(),
                tag,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Untags a product from a medium of a post (its author).
    async fn untag_product(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        asin: String,
        #[graphql(default)] media_index: u8,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "untagProduct", idempotency_key.as_deref())?;
        let post = args::post_id(&post_id)?;
        let asin = args::asin(&asin)?;
        let done = run(
            ctx,
            sender,
            Command::UntagProduct {
                post: post.clone(),
                asin,
                media_index,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }

    /// Removes a post (its author or a moderator): it leaves every feed and stays in the
    /// log and the audit trail.
    async fn remove_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        reason: String,
        idempotency_key: Option<String>,
    ) -> Gql<PostPayload> {
        let sender = Sender::member(ctx, "removePost", idempotency_key.as_deref())?;
        let post = args::post_id(&post_id)?;
        let done = run(
            ctx,
            sender,
            Command::RemovePost {
                post: post.clone(),
                reason,
            },
        )
        .await?;
        Ok(post_payload(ctx, &post, done)?)
    }
}

/// A medium of a new post.
#[derive(InputObject)]
struct MediaInput {
    /// Image or video.
    #[graphql(default_with = "MediaKind::Image")]
    kind: MediaKind,
    /// An http(s) URL.
    url: String,
    /// Pixels, at least 1.
    width: u32,
    /// Pixels, at least 1.
    height: u32,
    /// Alternative text, up to 500 characters.
    #[graphql(default)]
    alt: String,
}

/// A product tag at a point of a medium.
#[derive(InputObject)]
struct TagInput {
    /// The product's ASIN.
    asin: String,
    /// Which medium (0-based).
    #[graphql(default)]
    media_index: u8,
    /// Horizontal position in [0, 1].
    x: f32,
    /// Vertical position in [0, 1].
    y: f32,
}

impl TagInput {
    fn parse(&self) -> ApiResult<DomainTag> {
        Ok(DomainTag {
            asin: args::asin(&self.asin)?,
            media_index: self.media_index,
            x: self.x,
            y: self.y,
        })
    }
}

/// A new post.
#[derive(InputObject)]
struct PublishPostInput {
    /// Up to 2,200 characters.
    #[graphql(default)]
    caption: String,
    /// 1 to 10 media.
    media: Vec<MediaInput>,
    /// 1 to 3 interest slugs.
    interests: Vec<String>,
    /// Up to 20 product tags.
    #[graphql(default)]
    tags: Vec<TagInput>,
    /// The active sponsorship contract of a sponsored post: it will carry "Paid
    /// partnership with <brand>" in every view.
    contract_id: Option<ID>,
    /// The client's key (1 to 100 characters): a retry with the same key and input is
    /// answered with the same post and writes nothing; the same key with another input is
    /// refused with `IDEMPOTENCY_CONFLICT`.
    idempotency_key: Option<String>,
}
