//! The objects other objects point at (posts, members, products), as the rows they wrap,
//! and their loaders. Each object's fields live in its own file; these wrappers live here
//! so that a post's author and a member's posts need no import between `post` and `user`.

use std::sync::Arc;

use async_graphql::Context;
use async_graphql::connection::Connection;
use sparkfeed_domain::{Asin, PostId, UserId};
use sparkfeed_events::Position;
use sparkfeed_projections::list::Page;
use sparkfeed_projections::rows::{MemberRow, PostCardRow, ProductRow};
use sparkfeed_projections::{ProjectionError, View};

use crate::ctx::{Gql, api, feeds_tree, reads};
use crate::error::ApiResult;
use crate::paging::{Cursor, Fetched, page};

/// A post: its card row. Fields in `post.rs`.
#[derive(Clone)]
pub(crate) struct Post(pub Arc<PostCardRow>);

/// A member or brand account. Fields in `user.rs`.
#[derive(Clone)]
pub(crate) struct User(pub Arc<MemberRow>);

/// A product of the catalog. Fields in `product.rs`.
#[derive(Clone)]
pub(crate) struct Product(pub Arc<ProductRow>);

/// The account `user`, read once per request.
pub(crate) fn load_user(ctx: &Context<'_>, user: &UserId) -> ApiResult<Option<User>> {
    Ok(reads(ctx).member(user)?.map(User))
}

/// The product `asin`, read once per request.
pub(crate) fn load_product(ctx: &Context<'_>, asin: &Asin) -> ApiResult<Option<Product>> {
    Ok(reads(ctx).product(asin)?.map(Product))
}

/// The post `post`, read once per request.
pub(crate) fn load_post(ctx: &Context<'_>, post: &PostId) -> ApiResult<Option<Post>> {
    Ok(reads(ctx).card(post)?.map(Post))
}

/// The cards of `ids`, keeping the page's order and cursors (a post with no card is left
/// out).
pub(crate) fn load_posts(
    ctx: &Context<'_>,
    ids: Vec<(Position, PostId)>,
) -> ApiResult<Vec<(Position, Post)>> {
    let reads = reads(ctx);
    let mut posts = Vec::with_capacity(ids.len());
    for (cursor, id) in ids {
        if let Some(card) = reads.card(&id)? {
            posts.push((cursor, Post(card)));
        }
    }
    Ok(posts)
}

/// A connection of posts: the page of ids that `read` answers from the feeds projection
/// (given the page size and the position to page after), as cards.
pub(crate) fn post_page(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    read: impl FnOnce(&View, usize, Option<Position>) -> Result<Page<PostId>, ProjectionError>,
) -> Gql<Connection<Cursor, Post>> {
    page(first, after, api(ctx).limits.max_page, |p| {
        let page = read(&feeds_tree(ctx)?, p.first, p.after)?;
        Ok(Fetched::nodes(load_posts(ctx, page.items)?, page.has_next))
    })
}
