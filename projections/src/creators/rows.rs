//! The rows of the creators projection.

use serde::{Deserialize, Serialize};
use sparkfeed_domain::{Asin, UserId};
use sparkfeed_events::Position;

use crate::heap::HeapSize;

/// How many members follow an account, and how many it follows: `counts|user`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FollowCounts {
    /// Members following it.
    pub followers: u64,
    /// Creators it follows.
    pub following: u64,
}

/// A product on a creator's storefront: `shelf|creator|asin`, and (while listed) its
/// ranked entry.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ShelfRow {
    /// The product.
    pub asin: Asin,
    /// Orders placed through the creator's posts for it, removed posts included: they
    /// were bought through the creator all the same.
    pub purchases: u64,
    /// Units those orders bought.
    pub units: u64,
    /// Where the creator last tagged it in a post (a publication or a later tag), kept
    /// when that post is removed or untagged: the tie-break between equal purchases.
    pub last_tagged: Position,
    /// When (microseconds since the epoch).
    pub last_tagged_at: i64,
    /// The creator's live posts tagging it now: listed on the storefront while above 0.
    pub posts: u64,
}

impl ShelfRow {
    /// A product never tagged nor bought yet.
    pub fn new(asin: Asin) -> Self {
        Self {
            asin,
            purchases: 0,
            units: 0,
            last_tagged: Position(0),
            last_tagged_at: 0,
            posts: 0,
        }
    }

    /// Whether the storefront shows it: a live post of the creator tags it.
    pub fn listed(&self) -> bool {
        self.posts > 0
    }
}

/// The products a post tags, as the storefront needs them: `tags|post`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PostTags {
    /// The post's author.
    pub author: UserId,
    /// Every tag: the product and the medium it is on (one product may be tagged on
    /// several media).
    pub tags: Vec<(Asin, u8)>,
    /// Each product tagged now, once, with where it became tagged in this post (its
    /// entry among the creator's posts tagging that product).
    pub tagged: Vec<(Asin, Position)>,
    /// Removed by its author or a moderator: it tags nothing on the storefront any more.
    pub removed: bool,
}

crate::heap::heap_free!(FollowCounts);

impl HeapSize for ShelfRow {
    fn heap_size(&self) -> usize {
        self.asin.heap_size()
    }
}
