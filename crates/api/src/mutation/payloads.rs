//! What mutations answer: the log position written and what it changed, read fresh.

use std::sync::Arc;

use async_graphql::{Context, ID, SimpleObject};
use sparkfeed_domain::{Asin, Executed, PostId, UserId};
use sparkfeed_projections::read;

use crate::ctx::{feeds_tree, may_see_removed};
use crate::error::ApiResult;
use crate::objects::comment::Comment;
use crate::objects::nodes::{Post, Product, User};
use crate::objects::order::Order;
use crate::scalars::Int64;

/// What `registerUser` did.
#[derive(SimpleObject)]
pub(super) struct RegisterPayload {
    /// The new account.
    pub user: Option<User>,
    /// A bearer token for it: send `Authorization: Bearer <token>`.
    pub token: String,
    /// The log position written.
    pub position: Int64,
}

/// A mutation on an account.
#[derive(SimpleObject)]
pub(super) struct UserPayload {
    /// The account as it is now.
    pub user: Option<User>,
    /// The log position written.
    pub position: Int64,
}

/// A mutation on a post.
#[derive(SimpleObject)]
pub(super) struct PostPayload {
    /// The post as it is now (`null` once removed, except to its author and moderators).
    pub post: Option<Post>,
    /// The log position written.
    pub position: Int64,
}

/// A new comment.
#[derive(SimpleObject)]
pub(super) struct CommentPayload {
    /// The comment.
    pub comment: Option<Comment>,
    /// The log position written.
    pub position: Int64,
}

/// A mutation that answers with its position only.
#[derive(SimpleObject)]
pub(super) struct PositionPayload {
    /// The log position written.
    pub position: Int64,
}

/// A one-click order.
#[derive(SimpleObject)]
pub(super) struct BuyPayload {
    /// The order (the original one when the idempotency key was used before).
    pub order: Order,
    /// True when this key was used before and nothing new was written.
    pub deduplicated: bool,
    /// The log position of the order.
    pub position: Int64,
}

/// A sponsorship contract.
#[derive(SimpleObject)]
pub(super) struct SponsorshipPayload {
    /// The contract's id: the `contractId` of sponsored posts.
    pub contract_id: ID,
    /// The log position written.
    pub position: Int64,
}

/// A catalog change of an interest.
#[derive(SimpleObject)]
pub(super) struct InterestPayload {
    /// The interest's slug.
    pub slug: String,
    /// The log position written.
    pub position: Int64,
}

/// A catalog change of a product.
#[derive(SimpleObject)]
pub(super) struct ProductPayload {
    /// The product as it is now.
    pub product: Option<Product>,
    /// The log position written.
    pub position: Int64,
}

/// The position `done` wrote.
pub(super) fn written(done: &Executed) -> Int64 {
    Int64(done.position.0)
}

/// The card of `post` as it is now, bypassing the request's loader cache (a mutation
/// changes what an earlier field of the same request may have loaded).
fn fresh_post(ctx: &Context<'_>, post: &PostId) -> ApiResult<Option<Post>> {
    Ok(read::post_card(&feeds_tree(ctx)?, post)?.map(|c| Post(Arc::new(c))))
}

/// The account `user` as it is now (see [`fresh_post`]).
pub(super) fn fresh_user(ctx: &Context<'_>, user: &UserId) -> ApiResult<Option<User>> {
    Ok(read::member(&feeds_tree(ctx)?, user)?.map(|m| User(Arc::new(m))))
}

/// The product `asin` as it is now (see [`fresh_post`]).
pub(super) fn fresh_product(ctx: &Context<'_>, asin: &Asin) -> ApiResult<Option<Product>> {
    Ok(read::product(&feeds_tree(ctx)?, asin)?.map(|p| Product(Arc::new(p))))
}

/// `post` as it is after `done`, hidden once removed from those who may not see it.
pub(super) fn post_payload(
    ctx: &Context<'_>,
    post: &PostId,
    done: Executed,
) -> ApiResult<PostPayload> {
    let post = fresh_post(ctx, post)?.filter(|p| !p.0.body.removed || may_see_removed(ctx, &p.0));
    Ok(PostPayload {
        post,
        position: written(&done),
    })
}

/// `user` as it is after `done`.
pub(super) fn user_payload(
    ctx: &Context<'_>,
    user: &UserId,
    done: Executed,
) -> ApiResult<UserPayload> {
    Ok(UserPayload {
        user: fresh_user(ctx, user)?,
        position: written(&done),
    })
}

/// `product` as it is after `done`.
pub(super) fn product_payload(
    ctx: &Context<'_>,
    asin: &Asin,
    done: Executed,
) -> ApiResult<ProductPayload> {
    Ok(ProductPayload {
        product: fresh_product(ctx, asin)?,
        position: written(&done),
    })
}
