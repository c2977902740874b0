//! The keys of the feeds projection's rows: the only place one is spelled.
//!
//! Parts are joined by `0x00` ([`key`]). A list is held in buckets of entries under its
//! prefix (a `*_prefix` builder), each bucket's key ending in a position reversed so that
//! the newest sorts first ([`crate::bucket`]); its entries are what the table says.
//!
//! | key | row |
//! | --- | --- |
//! | `card\|post` | [`PostBody`](super::rows::PostBody) |
//! | `stats\|post` | [`StatsRow`](super::rows::StatsRow) |
//! | `smile\|post\|user`, `save\|post\|user` | when, once the post's list spilled ([`Engaged`](super::rows::Engaged)) |
//! | `feed\|interest\|rev` | bucket of post ids |
//! | `byauthor\|user\|rev` | bucket of post ids |
//! | `productposts\|asin\|rev` | bucket of post ids |
//! | `saved\|user\|rev` | bucket of post ids |
//! | `orders\|user\|rev` | bucket of [`OrderRow`](super::rows::OrderRow)s |
//! | `comments\|post\|rev` | bucket of comment ids |
//! | `comment\|id` | [`CommentRow`](super::rows::CommentRow) |
//! | `member\|user` | [`MemberRow`](super::rows::MemberRow) |
//! | `interest\|slug` | [`InterestRow`](super::rows::InterestRow) |
//! | `product\|asin` | [`ProductRow`](super::rows::ProductRow) |
//! | `bought\|user\|asin` | [`BoughtRow`](super::rows::BoughtRow) |

use sparkfeed_domain::{Asin, CommentId, InterestSlug, PostId, UserId};

use super::rows::EngagementKind;
use crate::store::{key, prefix};

/// A post's body: `card|post`.
pub fn card(post: &PostId) -> Vec<u8> {
    key(&["card", post.as_str()], None)
}

/// A post's counts and who engaged with it: `stats|post`.
pub fn stats(post: &PostId) -> Vec<u8> {
    key(&["stats", post.as_str()], None)
}

/// The first part of a spilled member's own engagement row.
pub fn engagement_part(kind: EngagementKind) -> &'static str {
    match kind {
        EngagementKind::Smile => "smile",
        EngagementKind::Save => "save",
    }
}

/// A spilled member's own smile or save of a post: `smile|post|user`, `save|post|user`.
pub fn own_engagement(kind: EngagementKind, post: &PostId, member: &UserId) -> Vec<u8> {
    key(
        &[engagement_part(kind), post.as_str(), member.as_str()],
        None,
    )
}

/// What every bucket of an interest's feed starts with.
pub fn feed_prefix(interest: &InterestSlug) -> Vec<u8> {
    prefix(&["feed", interest.as_str()])
}

/// What every bucket of an author's posts starts with.
pub fn by_author_prefix(author: &UserId) -> Vec<u8> {
    prefix(&["byauthor", author.as_str()])
}

/// What every bucket of a product's posts starts with.
pub fn product_posts_prefix(asin: &Asin) -> Vec<u8> {
    prefix(&["productposts", asin.as_str()])
}

/// What every bucket of a member's saved posts starts with.
pub fn saved_prefix(member: &UserId) -> Vec<u8> {
    prefix(&["saved", member.as_str()])
}

/// What every bucket of a member's orders starts with.
pub fn orders_prefix(buyer: &UserId) -> Vec<u8> {
    prefix(&["orders", buyer.as_str()])
}

/// A comment: `comment|id`.
pub fn comment(comment: &CommentId) -> Vec<u8> {
    key(&["comment", comment.as_str()], None)
}

/// What every bucket of a post's comments starts with.
pub fn post_comments_prefix(post: &PostId) -> Vec<u8> {
    prefix(&["comments", post.as_str()])
}

/// A member or brand account: `member|user`.
pub fn member(user: &UserId) -> Vec<u8> {
    key(&["member", user.as_str()], None)
}

/// An interest of the catalog: `interest|slug`.
pub fn interest(interest: &InterestSlug) -> Vec<u8> {
    key(&["interest", interest.as_str()], None)
}

/// What every interest of the catalog starts with.
pub fn interests_prefix() -> Vec<u8> {
    prefix(&["interest"])
}

/// A product of the catalog: `product|asin`.
pub fn product(asin: &Asin) -> Vec<u8> {
    key(&["product", asin.as_str()], None)
}

/// What a member bought of a product for themselves: `bought|user|asin`.
pub fn bought(buyer: &UserId, asin: &Asin) -> Vec<u8> {
    key(&["bought", buyer.as_str(), asin.as_str()], None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_their_parts_joined_by_nul_and_a_list_prefix_ends_in_one() {
        let post = PostId::parse("p1").expect("valid");
        let fitness = InterestSlug::parse("fitness").expect("valid");
        assert_eq!(stats(&post), b"stats\0p1");
        assert_eq!(feed_prefix(&fitness), b"feed\0fitness\0");
        assert_eq!(interests_prefix(), b"interest\0");
    }
}
