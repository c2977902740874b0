//! Queries over the feeds projection: cursor-paged lists (newest first, see
//! [`crate::list`]) and single rows. The member's home feed is in [`super::home`].

use std::sync::Arc;

use sparkfeed_domain::{Asin, CommentId, InterestSlug, PostId, UserId};
use sparkfeed_events::Position;

use super::keys;
use super::rows::*;
use super::stats_view::StatsRowView;
use crate::ProjectionError;
use crate::bucket::{newer_than, page};
use crate::cache::Source;
use crate::decoded::DecodedRows;
use crate::list::{Page, row};
use crate::store::decode;

/// Posts of an interest, newest first. Removed posts are gone.
pub fn feed(
    feeds: &impl Source,
    interest: &InterestSlug,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), keys::feed_prefix(interest), first, after)
}

/// Posts of an interest published after `since`, oldest first, at most `max`: what a live
/// feed subscriber has not seen yet.
pub fn feed_since(
    feeds: &impl Source,
    interest: &InterestSlug,
    since: Option<Position>,
    max: usize,
) -> Result<Vec<(Position, PostId)>, ProjectionError> {
    newer_than(feeds.tree(), keys::feed_prefix(interest), since, max)
}

/// The newest post of an interest's feed, if any: where a live subscriber starts.
pub fn feed_head(
    feeds: &impl Source,
    interest: &InterestSlug,
) -> Result<Option<Position>, ProjectionError> {
    Ok(feed(feeds, interest, 1, None)?
        .items
        .first()
        .map(|(c, _)| *c))
}

/// A post's card (viewer-independent part).
pub fn post_card(
    feeds: &impl Source,
    post: &PostId,
) -> Result<Option<PostCardRow>, ProjectionError> {
    let Some(body) = post_body(feeds, post)? else {
        return Ok(None);
    };
    card_of(feeds, post, Arc::new(body))
}

/// A post's card, its body decoded through `bodies` (decoded again only when it changed).
pub fn post_card_with(
    feeds: &impl Source,
    post: &PostId,
    bodies: &DecodedRows<PostBody>,
) -> Result<Option<PostCardRow>, ProjectionError> {
    let Some(body) = bodies.get(feeds, &keys::card(post))? else {
        return Ok(None);
    };
    card_of(feeds, post, body)
}

fn card_of(
    feeds: &impl Source,
    post: &PostId,
    body: Arc<PostBody>,
) -> Result<Option<PostCardRow>, ProjectionError> {
    let stats = match feeds.row(&keys::stats(post))? {
        Some(bytes) => decode::<StatsRowView<'_>>(&bytes)?.counts,
        None => PostStats::default(),
    };
    Ok(Some(PostCardRow { body, stats }))
}

/// A post's body (everything but its counts).
pub fn post_body(feeds: &impl Source, post: &PostId) -> Result<Option<PostBody>, ProjectionError> {
    row(feeds, &keys::card(post))
}

/// Whether `viewer` smiles at `post`: one read of the post's row, unless it spilled.
pub fn smiles(
    feeds: &impl Source,
    post: &PostId,
    viewer: &UserId,
) -> Result<bool, ProjectionError> {
    viewer_did(feeds, post, viewer, EngagementKind::Smile)
}

/// Whether `viewer` has saved `post`: one read of the post's row, unless it spilled.
pub fn saved(feeds: &impl Source, post: &PostId, viewer: &UserId) -> Result<bool, ProjectionError> {
    viewer_did(feeds, post, viewer, EngagementKind::Save)
}

/// Whether `viewer` smiles at and has saved `post`: one read of the post's [`StatsRow`]
/// (which its card read already brought into the row cache), and one more per kind that
/// spilled (see [`Engaged`]).
pub fn viewer_state(
    feeds: &impl Source,
    post: &PostId,
    viewer: &UserId,
) -> Result<(bool, bool), ProjectionError> {
    let Some(bytes) = feeds.row(&keys::stats(post))? else {
        return Ok((false, false));
    };
    let row: StatsRowView<'_> = decode(&bytes)?;
    Ok((
        row.did(feeds, post, viewer, EngagementKind::Smile)?,
        row.did(feeds, post, viewer, EngagementKind::Save)?,
    ))
}

/// Whether `viewer` did `kind` to `post`.
fn viewer_did(
    feeds: &impl Source,
    post: &PostId,
    viewer: &UserId,
    kind: EngagementKind,
) -> Result<bool, ProjectionError> {
    let Some(bytes) = feeds.row(&keys::stats(post))? else {
        return Ok(false);
    };
    decode::<StatsRowView<'_>>(&bytes)?.did(feeds, post, viewer, kind)
}

/// For each tag of the card: did the author really buy that product here (not as a gift)?
pub fn verified_purchaser(
    feeds: &impl Source,
    card: &PostCardRow,
) -> Result<Vec<bool>, ProjectionError> {
    card.body
        .tags
        .iter()
        .map(|t| Ok(feeds.has(&keys::bought(&card.body.author, &t.asin))?))
        .collect()
}

/// A member or brand account.
pub fn member(feeds: &impl Source, user: &UserId) -> Result<Option<MemberRow>, ProjectionError> {
    row(feeds, &keys::member(user))
}

/// A member or brand account, decoded through `members`.
pub fn member_with(
    feeds: &impl Source,
    user: &UserId,
    members: &DecodedRows<MemberRow>,
) -> Result<Option<Arc<MemberRow>>, ProjectionError> {
    members.get(feeds, &keys::member(user))
}

/// An interest of the catalog.
pub fn interest(
    feeds: &impl Source,
    interest: &InterestSlug,
) -> Result<Option<InterestRow>, ProjectionError> {
    row(feeds, &keys::interest(interest))
}

/// A comment, removed ones excluded.
pub fn comment(
    feeds: &impl Source,
    comment: &CommentId,
) -> Result<Option<CommentRow>, ProjectionError> {
    row(feeds, &keys::comment(comment))
}

/// Every interest of the catalog.
pub fn interests(feeds: &impl Source) -> Result<Vec<InterestRow>, ProjectionError> {
    feeds
        .tree()
        .scan_prefix(keys::interests_prefix())
        .map(|e| decode(&e?.1))
        .collect()
}

/// A product.
pub fn product(feeds: &impl Source, asin: &Asin) -> Result<Option<ProductRow>, ProjectionError> {
    row(feeds, &keys::product(asin))
}

/// A product of the catalog, decoded through `products`.
pub fn product_with(
    feeds: &impl Source,
    asin: &Asin,
    products: &DecodedRows<ProductRow>,
) -> Result<Option<Arc<ProductRow>>, ProjectionError> {
    products.get(feeds, &keys::product(asin))
}

/// What `buyer` bought of a product for themselves (gifts left out), if anything.
pub fn bought(
    feeds: &impl Source,
    buyer: &UserId,
    asin: &Asin,
) -> Result<Option<BoughtRow>, ProjectionError> {
    row(feeds, &keys::bought(buyer, asin))
}

/// Posts that tag a product, newest first.
pub fn product_posts(
    feeds: &impl Source,
    asin: &Asin,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), keys::product_posts_prefix(asin), first, after)
}

/// A member's posts published after `since`, oldest first, at most `max`: what a live
/// subscriber following them has not seen yet.
pub fn posts_by_since(
    feeds: &impl Source,
    user: &UserId,
    since: Option<Position>,
    max: usize,
) -> Result<Vec<(Position, PostId)>, ProjectionError> {
    newer_than(feeds.tree(), keys::by_author_prefix(user), since, max)
}

/// A member's posts, newest first.
pub fn posts_by(
    feeds: &impl Source,
    user: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), keys::by_author_prefix(user), first, after)
}

/// A member's saved posts, most recently saved first (private to them).
pub fn saved_by(
    feeds: &impl Source,
    user: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), keys::saved_prefix(user), first, after)
}

/// A member's orders, newest first (private to them).
pub fn orders_of(
    feeds: &impl Source,
    user: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<OrderRow>, ProjectionError> {
    page(feeds.tree(), keys::orders_prefix(user), first, after)
}

/// A post's comments, newest first.
pub fn comments(
    feeds: &impl Source,
    post: &PostId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<CommentRow>, ProjectionError> {
    let ids: Page<CommentId> = page(feeds.tree(), keys::post_comments_prefix(post), first, after)?;
    let mut items = Vec::with_capacity(ids.items.len());
    for (cursor, id) in ids.items {
        if let Some(c) = comment(feeds, &id)? {
            items.push((cursor, c));
        }
    }
    Ok(Page {
        items,
        has_next: ids.has_next,
    })
}
