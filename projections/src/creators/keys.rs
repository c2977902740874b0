//! The keys of the creators projection's rows: the only place one is spelled.
//!
//! Lists end in the reversed position of the event that put the entry there, newest first
//! ([`newest_first`]); the storefront's ranked entries end in the reversed purchase count,
//! the reversed position of the last tag and the ASIN, so that a scan reads the most
//! bought first, ties the most recently tagged first.
//!
//! | key | row |
//! | --- | --- |
//! | `follow\|member\|creator` | the [`Position`] of the `Followed`, while they follow |
//! | `followers\|creator\|rev` | the follower's [`UserId`] |
//! | `following\|member\|rev` | the followed creator's [`UserId`] |
//! | `counts\|user` | [`FollowCounts`](super::rows::FollowCounts) |
//! | `shelf\|creator\|asin` | [`ShelfRow`](super::rows::ShelfRow) |
//! | `rank\|creator\|rev purchases\|rev last tag\|asin` | [`ShelfRow`](super::rows::ShelfRow), while listed |
//! | `shelfpost\|creator\|asin\|rev` | the [`PostId`] of a live post tagging it |
//! | `tags\|post` | [`PostTags`](super::rows::PostTags) |

use sparkfeed_domain::{Asin, PostId, UserId};
use sparkfeed_events::Position;

use crate::store::{key, newest_first, prefix};

/// That `member` follows `creator`: `follow|member|creator`.
pub fn follow(member: &UserId, creator: &UserId) -> Vec<u8> {
    key(&["follow", member.as_str(), creator.as_str()], None)
}

/// A follower of `creator` since `at`: `followers|creator|rev`.
pub fn follower_entry(creator: &UserId, at: Position) -> Vec<u8> {
    key(&["followers", creator.as_str()], Some(newest_first(at)))
}

/// What every follower entry of `creator` starts with.
pub fn followers_prefix(creator: &UserId) -> Vec<u8> {
    prefix(&["followers", creator.as_str()])
}

/// A creator `member` follows since `at`: `following|member|rev`.
pub fn following_entry(member: &UserId, at: Position) -> Vec<u8> {
    key(&["following", member.as_str()], Some(newest_first(at)))
}

/// What every entry of the creators `member` follows starts with.
pub fn following_prefix(member: &UserId) -> Vec<u8> {
    prefix(&["following", member.as_str()])
}

/// An account's follow counts: `counts|user`.
pub fn counts(user: &UserId) -> Vec<u8> {
    key(&["counts", user.as_str()], None)
}

/// A product on `creator`'s storefront: `shelf|creator|asin`.
pub fn shelf(creator: &UserId, asin: &Asin) -> Vec<u8> {
    key(&["shelf", creator.as_str(), asin.as_str()], None)
}

/// The ranked entry of a listed product: `rank|creator|rev purchases|rev last tag|asin`.
pub fn rank_entry(creator: &UserId, purchases: u64, last_tagged: Position, asin: &Asin) -> Vec<u8> {
    let mut k = rank_prefix(creator);
    k.extend_from_slice(&(u64::MAX - purchases).to_be_bytes());
    k.extend_from_slice(&newest_first(last_tagged).to_be_bytes());
    k.extend_from_slice(asin.as_str().as_bytes());
    k
}

/// What every ranked entry of `creator`'s storefront starts with.
pub fn rank_prefix(creator: &UserId) -> Vec<u8> {
    prefix(&["rank", creator.as_str()])
}

/// A live post of `creator` tagging `asin` since `at`: `shelfpost|creator|asin|rev`.
pub fn shelf_post_entry(creator: &UserId, asin: &Asin, at: Position) -> Vec<u8> {
    key(
        &["shelfpost", creator.as_str(), asin.as_str()],
        Some(newest_first(at)),
    )
}

/// What every entry of `creator`'s live posts tagging `asin` starts with.
pub fn shelf_posts_prefix(creator: &UserId, asin: &Asin) -> Vec<u8> {
    prefix(&["shelfpost", creator.as_str(), asin.as_str()])
}

/// The products a post tags: `tags|post`.
pub fn post_tags(post: &PostId) -> Vec<u8> {
    key(&["tags", post.as_str()], None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (UserId, Asin, Asin) {
        (
            UserId::parse("uana").expect("valid"),
            Asin::parse("B000000001").expect("valid"),
            Asin::parse("B000000002").expect("valid"),
        )
    }

    #[test]
    fn ranked_entries_sort_most_bought_first_then_most_recently_tagged() {
        let (ana, one, two) = ids();
        let mut keys = [
            rank_entry(&ana, 1, Position(50), &one),
            rank_entry(&ana, 3, Position(10), &two),
            rank_entry(&ana, 1, Position(70), &two),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                rank_entry(&ana, 3, Position(10), &two),
                rank_entry(&ana, 1, Position(70), &two),
                rank_entry(&ana, 1, Position(50), &one),
            ]
        );
        assert!(keys.iter().all(|k| k.starts_with(&rank_prefix(&ana))));
    }
}
