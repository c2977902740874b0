//! Queries over the read models: cursor-paged lists (newest first) and single rows.
//!
//! A cursor is the log position of the item it points at (a post's publication, a save,
//! an order). Walking pages with `after = last cursor` never repeats an item and never
//! skips one that existed when the walk began: newer items sort before the cursor.

use std::collections::HashMap;

use sparkfeed_domain::{Asin, InterestSlug, PostId, UserId};
use sparkfeed_events::Position;

use crate::ProjectionError;
use crate::cache::Source;
use crate::decoded::DecodedRows;
use crate::rows::*;
use crate::store::{decode, key, newest_first};

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items with their cursors, newest first.
    pub items: Vec<(Position, T)>,
    /// Whether more items follow.
    pub has_next: bool,
}

fn prefix(parts: &[&str]) -> Vec<u8> {
    let mut p = key(parts, None);
    p.push(0);
    p
}

fn cursor_of(k: &[u8]) -> Result<Position, ProjectionError> {
    let tail: [u8; 8] = k
        .get(k.len().saturating_sub(8)..)
        .and_then(|t| t.try_into().ok())
        .ok_or_else(|| ProjectionError::Corrupt("short list key".into()))?;
    Ok(Position(u64::MAX - u64::from_be_bytes(tail)))
}

/// A newest-first scan of the list under `parts`, after cursor `after`.
fn scan<'a>(
    tree: &'a sled::Tree,
    parts: &[&str],
    after: Option<Position>,
) -> impl Iterator<Item = Result<(Position, sled::IVec), ProjectionError>> + use<'a> {
    let p = prefix(parts);
    let start = match after {
        Some(c) => {
            let mut s = p.clone();
            s.extend_from_slice(&newest_first(c).saturating_add(1).to_be_bytes());
            s
        }
        None => p.clone(),
    };
    tree.range(start..)
        .take_while(move |e| e.as_ref().map_or(true, |(k, _)| k.starts_with(&p)))
        .map(|e| {
            let (k, v) = e?;
            Ok((cursor_of(&k)?, v))
        })
}

fn page<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    parts: &[&str],
    first: usize,
    after: Option<Position>,
) -> Result<Page<T>, ProjectionError> {
    let mut items = Vec::with_capacity(first.min(100));
    let mut has_next = false;
    for entry in scan(tree, parts, after) {
        let (cursor, value) = entry?;
        if items.len() == first {
            has_next = true;
            break;
        }
        items.push((cursor, decode(&value)?));
    }
    Ok(Page { items, has_next })
}

fn row<T: serde::de::DeserializeOwned>(
    tree: &impl Source,
    parts: &[&str],
) -> Result<Option<T>, ProjectionError> {
    tree.row(&key(parts, None))?.map(|v| decode(&v)).transpose()
}

/// Posts of an interest, newest first. Removed posts are gone.
pub fn feed(
    feeds: &impl Source,
    interest: &InterestSlug,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), &["feed", interest.as_str()], first, after)
}

/// Posts of an interest published after `since`, oldest first, at most `max`: what a live
/// feed subscriber has not seen yet.
pub fn feed_since(
    feeds: &impl Source,
    interest: &InterestSlug,
    since: Option<Position>,
    max: usize,
) -> Result<Vec<(Position, PostId)>, ProjectionError> {
    let p = prefix(&["feed", interest.as_str()]);
    let mut end = p.clone();
    match since {
        Some(c) => end.extend_from_slice(&newest_first(c).to_be_bytes()),
        None => end.extend_from_slice(&[0xff; 9]),
    }
    let mut items = Vec::new();
    for entry in tree_range_rev(feeds.tree(), p, end) {
        let (k, v) = entry?;
        items.push((cursor_of(&k)?, decode(&v)?));
        if items.len() == max {
            break;
        }
    }
    Ok(items)
}

/// Keys in `start..end`, last first (newest-first keys read this way go oldest first).
fn tree_range_rev(
    tree: &sled::Tree,
    start: Vec<u8>,
    end: Vec<u8>,
) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), sled::Error>> {
    tree.range(start..end).rev()
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
    card_of(feeds, post, std::sync::Arc::new(body))
}

/// A post's card, its body decoded through `bodies` (decoded again only when it changed).
pub fn post_card_with(
    feeds: &impl Source,
    post: &PostId,
    bodies: &DecodedRows<PostBody>,
) -> Result<Option<PostCardRow>, ProjectionError> {
    let Some(body) = bodies.get(feeds, &key(&["card", post.as_str()], None))? else {
        return Ok(None);
    };
    card_of(feeds, post, body)
}

fn card_of(
    feeds: &impl Source,
    post: &PostId,
    body: std::sync::Arc<PostBody>,
) -> Result<Option<PostCardRow>, ProjectionError> {
    let stats = match feeds.row(&key(&["stats", post.as_str()], None))? {
        Some(bytes) => decode::<StatsRowView<'_>>(&bytes)?.counts,
        None => PostStats::default(),
    };
    Ok(Some(PostCardRow { body, stats }))
}

/// A post's body (everything but its counts).
pub fn post_body(feeds: &impl Source, post: &PostId) -> Result<Option<PostBody>, ProjectionError> {
    row(feeds, &["card", post.as_str()])
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
    let Some(bytes) = feeds.row(&key(&["stats", post.as_str()], None))? else {
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
    let Some(bytes) = feeds.row(&key(&["stats", post.as_str()], None))? else {
        return Ok(false);
    };
    decode::<StatsRowView<'_>>(&bytes)?.did(feeds, post, viewer, kind)
}

/// A [`StatsRow`] read in place: laid out the same, its member ids borrowed from the
/// stored bytes, so reading a card's counts or answering a viewer allocates a list per
/// kind, not a string per member.
#[derive(serde::Deserialize)]
struct StatsRowView<'a> {
    counts: PostStats,
    #[serde(borrow)]
    smiles: EngagedView<'a>,
    #[serde(borrow)]
    saves: EngagedView<'a>,
}

impl StatsRowView<'_> {
    /// Whether `viewer` did `kind` to `post`, the post this row is of: in its list, or in
    /// a row of their own once the list spilled.
    fn did(
        &self,
        feeds: &impl Source,
        post: &PostId,
        viewer: &UserId,
        kind: EngagementKind,
    ) -> Result<bool, ProjectionError> {
        let engaged = match kind {
            EngagementKind::Smile => &self.smiles,
            EngagementKind::Save => &self.saves,
        };
        match engaged {
            EngagedView::Listed(list) => Ok(list
                .binary_search_by(|e| e.member.cmp(viewer.as_str()))
                .is_ok()),
            EngagedView::Spilled => Ok(feeds.has(&crate::feeds::own_engagement_key(
                kind,
                post.as_str(),
                viewer.as_str(),
            ))?),
        }
    }
}

/// An [`Engaged`] read in place.
#[derive(serde::Deserialize)]
enum EngagedView<'a> {
    Listed(#[serde(borrow)] Vec<EngagementView<'a>>),
    Spilled,
}

/// An [`Engagement`] read in place.
#[derive(serde::Deserialize)]
struct EngagementView<'a> {
    member: &'a str,
    /// Decoded only to step over it to the next member.
    _at: Position,
}

/// For each tag of the card: did the author really buy that product here (not as a gift)?
pub fn verified_purchaser(
    feeds: &impl Source,
    card: &PostCardRow,
) -> Result<Vec<bool>, ProjectionError> {
    card.body
        .tags
        .iter()
        .map(|t| {
            Ok(feeds.has(&key(
                &["bought", card.body.author.as_str(), t.asin.as_str()],
                None,
            ))?)
        })
        .collect()
}

/// A member or brand account.
pub fn member(feeds: &impl Source, user: &UserId) -> Result<Option<MemberRow>, ProjectionError> {
    row(feeds, &["member", user.as_str()])
}

/// A member or brand account, decoded through `members`.
pub fn member_with(
    feeds: &impl Source,
    user: &UserId,
    members: &DecodedRows<MemberRow>,
) -> Result<Option<std::sync::Arc<MemberRow>>, ProjectionError> {
    members.get(feeds, &key(&["member", user.as_str()], None))
}

/// An interest of the catalog.
pub fn interest(
    feeds: &impl Source,
    interest: &InterestSlug,
) -> Result<Option<InterestRow>, ProjectionError> {
    row(feeds, &["interest", interest.as_str()])
}

/// A comment, removed ones excluded.
pub fn comment(
    feeds: &impl Source,
    comment: &sparkfeed_domain::CommentId,
) -> Result<Option<CommentRow>, ProjectionError> {
    row(feeds, &["comment", comment.as_str()])
}

/// Every interest of the catalog.
pub fn interests(feeds: &impl Source) -> Result<Vec<InterestRow>, ProjectionError> {
    feeds
        .tree()
        .scan_prefix(prefix(&["interest"]))
        .map(|e| decode(&e?.1))
        .collect()
}

/// A product.
pub fn product(feeds: &impl Source, asin: &Asin) -> Result<Option<ProductRow>, ProjectionError> {
    row(feeds, &["product", asin.as_str()])
}

/// A product of the catalog, decoded through `products`.
pub fn product_with(
    feeds: &impl Source,
    asin: &Asin,
    products: &DecodedRows<ProductRow>,
) -> Result<Option<std::sync::Arc<ProductRow>>, ProjectionError> {
    products.get(feeds, &key(&["product", asin.as_str()], None))
}

/// Posts that tag a product, newest first.
pub fn product_posts(
    feeds: &impl Source,
    asin: &Asin,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), &["productposts", asin.as_str()], first, after)
}

/// A member's posts, newest first.
pub fn posts_by(
    feeds: &impl Source,
    user: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), &["byauthor", user.as_str()], first, after)
}

/// A member's saved posts, most recently saved first (private to them).
pub fn saved_by(
    feeds: &impl Source,
    user: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<PostId>, ProjectionError> {
    page(feeds.tree(), &["saved", user.as_str()], first, after)
}

/// A member's orders, newest first (private to them).
pub fn orders_of(
    feeds: &impl Source,
    user: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<OrderRow>, ProjectionError> {
    page(feeds.tree(), &["orders", user.as_str()], first, after)
}

/// A post's comments, newest first.
pub fn comments(
    feeds: &impl Source,
    post: &PostId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<CommentRow>, ProjectionError> {
    let ids: Page<sparkfeed_domain::CommentId> =
        page(feeds.tree(), &["comments", post.as_str()], first, after)?;
    let mut items = Vec::with_capacity(ids.items.len());
    for (cursor, id) in ids.items {
        if let Some(c) = row(feeds, &["comment", id.as_str()])? {
            items.push((cursor, c));
        }
    }
    Ok(Page {
        items,
        has_next: ids.has_next,
    })
}

/// A home-feed item: the post and the chosen interests that put it there.
#[derive(Clone, Debug, PartialEq)]
pub struct HomeItem {
    /// The post.
    pub post: PostId,
    /// Why it is in the feed.
    pub because: Vec<InterestSlug>,
    /// Whether it is sponsored.
    pub sponsored: bool,
}

/// How many posts a home-feed page may look at per item asked for, before it stops.
const HOME_SCAN_FACTOR: usize = 20;

/// The member's home feed: their interests' feeds merged, newest first, without
/// duplicates; at most one sponsored post in any five; posts whose tagged products the
/// member already bought for themselves are left out, unless every such product is a
/// consumable whose re-buy window (its interests' shortest) has passed at `now`.
pub fn home_feed(
    feeds: &impl Source,
    viewer: &UserId,
    first: usize,
    after: Option<Position>,
    now: i64,
) -> Result<Page<HomeItem>, ProjectionError> {
    let Some(member) = member(feeds, viewer)? else {
        return Ok(Page {
            items: vec![],
            has_next: false,
        });
    };
    let mut sources: Vec<_> = member
        .interests
        .iter()
        .map(|i| {
            (
                i.clone(),
                scan(feeds.tree(), &["feed", i.as_str()], after).peekable(),
            )
        })
        .collect();
    let mut windows: HashMap<Asin, Option<i64>> = HashMap::new();
    let mut items: Vec<(Position, HomeItem)> = Vec::new();
    let mut last_sponsored: Option<usize> = None;
    let mut scanned = 0usize;
    let budget = first.saturating_mul(HOME_SCAN_FACTOR).max(200);
    loop {
        // The newest head among the sources (largest position).
        let mut newest: Option<Position> = None;
        for (_, source) in &mut sources {
            match source.peek() {
                Some(Ok((cursor, _))) => newest = Some(newest.map_or(*cursor, |n| n.max(*cursor))),
                Some(Err(_)) => {
                    if let Some(Err(e)) = source.next() {
                        return Err(e);
                    }
                }
                None => {}
            }
        }
        let Some(cursor) = newest else {
            return Ok(Page {
                items,
                has_next: false,
            });
        };
        if items.len() == first || scanned == budget {
            return Ok(Page {
                items,
                has_next: true,
            });
        }
        scanned += 1;
        let mut post: Option<PostId> = None;
        let mut because = Vec::new();
        for (interest, source) in &mut sources {
            if matches!(source.peek(), Some(Ok((c, _))) if *c == cursor)
                && let Some(Ok((_, value))) = source.next()
            {
                post = Some(decode(&value)?);
                because.push(interest.clone());
            }
        }
        let Some(post) = post else { continue };
        let Some(card) = post_body(feeds, &post)? else {
            continue;
        };
        if card.removed || already_bought(feeds, viewer, &card.tags, now, &mut windows)? {
            continue;
        }
        let sponsored = card.disclosure.is_some();
        if sponsored {
            if last_sponsored.is_some_and(|at| items.len() - at < 5) {
                continue;
            }
            last_sponsored = Some(items.len());
        }
        items.push((
            cursor,
            HomeItem {
                post,
                because,
                sponsored,
            },
        ));
    }
}

/// Whether every product tagged in the post is one the viewer bought for themselves and
/// should not be pushed again yet.
fn already_bought(
    feeds: &impl Source,
    viewer: &UserId,
    tags: &[sparkfeed_domain::events::Tag],
    now: i64,
    windows: &mut HashMap<Asin, Option<i64>>,
) -> Result<bool, ProjectionError> {
    if tags.is_empty() {
        return Ok(false);
    }
    for tag in tags {
        let Some(bought) =
            row::<BoughtRow>(feeds, &["bought", viewer.as_str(), tag.asin.as_str()])?
        else {
            return Ok(false);
        };
        let window = match windows.get(&tag.asin) {
            Some(w) => *w,
            None => {
                let w = rebuy_window(feeds, &tag.asin)?;
                windows.insert(tag.asin.clone(), w);
                w
            }
        };
        if window.is_some_and(|w| bought.last_at.saturating_add(w) <= now) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A consumable's re-buy window in microseconds (its interests' shortest), `None` for
/// durable goods.
fn rebuy_window(feeds: &impl Source, asin: &Asin) -> Result<Option<i64>, ProjectionError> {
    let Some(product) = product(feeds, asin)? else {
        return Ok(None);
    };
    if !product.consumable {
        return Ok(None);
    }
    let mut shortest: Option<u32> = None;
    for interest in &product.interests {
        if let Some(days) = row::<InterestRow>(feeds, &["interest", interest.as_str()])?
            .and_then(|i| i.rebuy_window_days)
        {
            shortest = Some(shortest.map_or(days, |s| s.min(days)));
        }
    }
    // A window too long to count in microseconds never ends.
    Ok(shortest.map(|d| i64::from(d).checked_mul(86_400_000_000).unwrap_or(i64::MAX)))
}

/// The audit trail of a sponsored post: its contract's events and its own, in log order.
pub fn sponsorship_history(
    audit: &sled::Tree,
    post: &PostId,
) -> Result<Vec<AuditEntry>, ProjectionError> {
    let Some(contract) =
        row::<sparkfeed_domain::ContractId>(audit, &["postcontract", post.as_str()])?
    else {
        return Ok(vec![]);
    };
    let mut entries: Vec<AuditEntry> = Vec::new();
    for e in audit.scan_prefix(prefix(&["trail", contract.as_str()])) {
        let entry: AuditEntry = decode(&e?.1)?;
        if entry.post.is_none() || entry.post.as_ref() == Some(post) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Every sponsorship event a brand or an enthusiast was party to, in log order.
pub fn sponsorship_history_of(
    audit: &sled::Tree,
    party: &UserId,
) -> Result<Vec<AuditEntry>, ProjectionError> {
    audit
        .scan_prefix(prefix(&["party", party.as_str()]))
        .map(|e| decode(&e?.1))
        .collect()
}

/// The counters of an interest for days `from..=to` (day numbers since the epoch).
pub fn analytics(
    tree: &sled::Tree,
    interest: &InterestSlug,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, DayCounters)>, ProjectionError> {
    let start = key(&["day", interest.as_str()], Some(from));
    let end = key(&["day", interest.as_str()], Some(to));
    tree.range(start..=end)
        .map(|e| {
            let (k, v) = e?;
            let day = u64::from_be_bytes(
                k[k.len() - 8..]
                    .try_into()
                    .map_err(|_| ProjectionError::Corrupt("day key".into()))?,
            );
            Ok((day, decode(&v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::encode;

    fn member(id: &str) -> UserId {
        UserId::parse(id).expect("valid id")
    }

    #[test]
    fn the_in_place_view_of_a_stats_row_reads_what_the_row_wrote() {
        let row = StatsRow {
            counts: PostStats {
                smiles: 2,
                saves: 9,
                shares: 1,
                comments: 0,
                purchases: 4,
            },
            smiles: Engaged::Listed(vec![
                Engagement {
                    member: member("uana"),
                    at: Position(7),
                },
                Engagement {
                    member: member("ubob"),
                    at: Position(9),
                },
            ]),
            saves: Engaged::Spilled,
        };
        let bytes = encode(&row).expect("encodes");
        let view: StatsRowView<'_> = decode(&bytes).expect("the view decodes the row");
        assert_eq!(view.counts, row.counts);
        let EngagedView::Listed(smiles) = view.smiles else {
            panic!("smiles are listed");
        };
        let members: Vec<&str> = smiles.iter().map(|e| e.member).collect();
        assert_eq!(members, ["uana", "ubob"]);
        assert_eq!(
            smiles.iter().map(|e| e._at).collect::<Vec<_>>(),
            [Position(7), Position(9)]
        );
        assert!(matches!(view.saves, EngagedView::Spilled));
        let empty = encode(&StatsRow::default()).expect("encodes");
        let view: StatsRowView<'_> = decode(&empty).expect("decodes");
        assert!(matches!(view.smiles, EngagedView::Listed(ref l) if l.is_empty()));
    }
}
