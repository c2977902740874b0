//! Queries over the creators projection: follow counts and lists, and storefronts.

use sparkfeed_domain::{Asin, PostId, UserId};
use sparkfeed_events::Position;

use super::keys;
use super::rows::{FollowCounts, ShelfRow};
use crate::ProjectionError;
use crate::cache::Source;
use crate::list::{Page, page, row};
use crate::store::decode;

/// How many follow `user`, and how many `user` follows.
pub fn follow_counts(
    creators: &impl Source,
    user: &UserId,
) -> Result<FollowCounts, ProjectionError> {
    Ok(row(creators, &keys::counts(user))?.unwrap_or_default())
}

/// Whether `member` follows `creator` now.
pub fn follows(
    creators: &impl Source,
    member: &UserId,
    creator: &UserId,
) -> Result<bool, ProjectionError> {
    Ok(creators.has(&keys::follow(member, creator))?)
}

/// Up to `first` of `creator`'s followers after cursor `after`, the latest to follow
/// first; the cursor is the position of their `Followed`.
pub fn followers(
    creators: &impl Source,
    creator: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<UserId>, ProjectionError> {
    page(
        creators.tree(),
        keys::followers_prefix(creator),
        first,
        after,
    )
}

/// Up to `first` of the creators `member` follows after cursor `after`, the latest
/// followed first; the cursor is the position of the `Followed`.
pub fn following(
    creators: &impl Source,
    member: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<UserId>, ProjectionError> {
    page(
        creators.tree(),
        keys::following_prefix(member),
        first,
        after,
    )
}

/// Where a storefront page ends: the last product's rank. Paging after it resumes with
/// the next product of the ranking as it stands when that page is read (a product whose
/// purchases changed in between moves with them).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ShelfCursor {
    /// Its purchases through the creator's posts.
    pub purchases: u64,
    /// Where the creator last tagged it.
    pub last_tagged: Position,
    /// The product.
    pub asin: Asin,
}

impl ShelfRow {
    /// The cursor that pages after this product.
    pub fn cursor(&self) -> ShelfCursor {
        ShelfCursor {
            purchases: self.purchases,
            last_tagged: self.last_tagged,
            asin: self.asin.clone(),
        }
    }
}

/// One page of a storefront.
#[derive(Clone, PartialEq, Debug)]
pub struct ShelfPage {
    /// The products, most bought through the creator's posts first, ties the most
    /// recently tagged first.
    pub items: Vec<ShelfRow>,
    /// Whether more follow.
    pub has_next: bool,
}

/// Up to `first` products of `creator`'s storefront after `after`: those a live post of
/// theirs tags, most bought through their posts first, ties the most recently tagged
/// first.
pub fn storefront(
    creators: &impl Source,
    creator: &UserId,
    first: usize,
    after: Option<&ShelfCursor>,
) -> Result<ShelfPage, ProjectionError> {
    let prefix = keys::rank_prefix(creator);
    let start = match after {
        // The first key after the cursor's own: the key followed by a NUL byte.
        Some(c) => {
            let mut k = keys::rank_entry(creator, c.purchases, c.last_tagged, &c.asin);
            k.push(0);
            k
        }
        None => prefix.clone(),
    };
    let mut items = Vec::with_capacity(first.min(64));
    for entry in creators.tree().range(start..) {
        let (k, v) = entry?;
        if !k.starts_with(&prefix) {
            break;
        }
        if items.len() == first {
            return Ok(ShelfPage {
                items,
                has_next: true,
            });
        }
        items.push(decode(&v)?);
    }
    Ok(ShelfPage {
        items,
        has_next: false,
    })
}

/// `creator`'s row of `asin`, listed or not (`None` when they never tagged it).
pub fn shelf(
    creators: &impl Source,
    creator: &UserId,
    asin: &Asin,
) -> Result<Option<ShelfRow>, ProjectionError> {
    row(creators, &keys::shelf(creator, asin))
}

/// Up to `first` of `creator`'s live posts tagging `asin` after cursor `after`, the most
/// recently tagged first; the cursor is where the post came to tag it.
pub fn shelf_posts(
    creators: &impl Source,
    creator: &UserId,
    asin: &Asin,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(
        creators.tree(),
        keys::shelf_posts_prefix(creator, asin),
        first,
        after,
    )
}
