//! The keys of the feeds projection's rows: the only place one is spelled.
//!
//! Parts are joined by `0x00` ([`key`]); a list's entries end in the position of what
//! they list, reversed so that the newest sorts first ([`newest_first`]). A `*_prefix`
//! builder gives what every entry of one list starts with, for scans.
//!
//! | key | row |
//! | --- | --- |
//! | `card\|post` | [`PostBody`](super::rows::PostBody) |
//! | `stats\|post` | [`StatsRow`](super::rows::StatsRow) |
//! | `smile\|post\|user`, `save\|post\|user` | when, once the post's list spilled ([`Engaged`](super::rows::Engaged)) |
//! | `feed\|interest\|rev` | post id |
//! | `byauthor\|user\|rev` | post id |
//! | `productposts\|asin\|rev` | post id |
//! | `saved\|user\|rev` | post id |
//! | `orders\|user\|rev` | [`OrderRow`](super::rows::OrderRow) |
//! | `comments\|post\|rev` | comment id |
//! | `comment\|id` | [`CommentRow`](super::rows::CommentRow) |
//! | `member\|user` | [`MemberRow`](super::rows::MemberRow) |
//! | `interest\|slug` | [`InterestRow`](super::rows::InterestRow) |
//! | `product\|asin` | [`ProductRow`](super::rows::ProductRow) |
//! | `bought\|user\|asin` | [`BoughtRow`](super::rows::BoughtRow) |

use sparkfeed_domain::{Asin, CommentId, InterestSlug, PostId, UserId};
use sparkfeed_events::Position;

use super::rows::EngagementKind;
use crate::store::{key, newest_first, prefix};

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

/// The post published at `published` in an interest's feed: `feed|interest|rev`.
pub fn feed_entry(interest: &InterestSlug, published: Position) -> Vec<u8> {
    key(&["feed", interest.as_str()], Some(newest_first(published)))
}

/// What every entry of an interest's feed starts with.
pub fn feed_prefix(interest: &InterestSlug) -> Vec<u8> {
    prefix(&["feed", interest.as_str()])
}

/// The post published at `published` among its author's: `byauthor|user|rev`.
pub fn by_author_entry(author: &UserId, published: Position) -> Vec<u8> {
    key(
        &["byauthor", author.as_str()],
        Some(newest_first(published)),
    )
}

/// What every entry of an author's posts starts with.
pub fn by_author_prefix(author: &UserId) -> Vec<u8> {
    prefix(&["byauthor", author.as_str()])
}

/// The post published at `published` among those tagging a product:
/// `productposts|asin|rev`.
pub fn product_post_entry(asin: &Asin, published: Position) -> Vec<u8> {
    key(
        &["productposts", asin.as_str()],
        Some(newest_first(published)),
    )
}

/// What every entry of a product's posts starts with.
pub fn product_posts_prefix(asin: &Asin) -> Vec<u8> {
    prefix(&["productposts", asin.as_str()])
}

/// A post a member saved at `saved`: `saved|user|rev`.
pub fn saved_entry(member: &UserId, saved: Position) -> Vec<u8> {
    key(&["saved", member.as_str()], Some(newest_first(saved)))
}

/// What every entry of a member's saved posts starts with.
pub fn saved_prefix(member: &UserId) -> Vec<u8> {
    prefix(&["saved", member.as_str()])
}

/// A member's order placed at `placed`: `orders|user|rev`.
pub fn order_entry(buyer: &UserId, placed: Position) -> Vec<u8> {
    key(&["orders", buyer.as_str()], Some(newest_first(placed)))
}

/// What every entry of a member's orders starts with.
pub fn orders_prefix(buyer: &UserId) -> Vec<u8> {
    prefix(&["orders", buyer.as_str()])
}

/// A comment: `comment|id`.
pub fn comment(comment: &CommentId) -> Vec<u8> {
    key(&["comment", comment.as_str()], None)
}

/// The comment posted at `posted` among its post's: `comments|post|rev`.
pub fn post_comment_entry(post: &PostId, posted: Position) -> Vec<u8> {
    key(&["comments", post.as_str()], Some(newest_first(posted)))
}

/// What every entry of a post's comments starts with.
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
    fn keys_are_their_parts_joined_by_nul_and_lists_end_newest_first() {
        let post = PostId::parse("p1").expect("valid");
        let fitness = InterestSlug::parse("fitness").expect("valid");
        assert_eq!(stats(&post), b"stats\0p1");
        let mut entry = b"feed\0fitness\0".to_vec();
        entry.extend_from_slice(&(u64::MAX - 7).to_be_bytes());
        assert_eq!(feed_entry(&fitness, Position(7)), entry);
        assert!(entry.starts_with(&feed_prefix(&fitness)));
        assert_eq!(interests_prefix(), b"interest\0");
    }
}
