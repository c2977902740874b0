//! `feeds`: per-interest feeds, post cards, members, products, orders, saves, comments.
//!
//! Keys (parts joined by `0x00`, positions big-endian, feeds newest first):
//! `card|post`, `stats|post`, `feed|interest|rev`, `byauthor|user|rev`,
//! `member|user`, `interest|slug`, `product|asin`, `productposts|asin|rev`,
//! `smile|post|user` and `save|post|user` (only for posts past [`LISTED_MEMBERS`], see
//! [`Engaged`]), `saved|user|rev`, `bought|user|asin`, `orders|user|rev`, `comment|id`,
//! `comments|post|rev`.

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{PostId, UserId};
use sparkfeed_events::{Position, RecordedEvent};

use crate::rows::*;
use crate::store::{Rows, key, newest_first};
use crate::{Projection, ProjectionError};

/// The feeds projection.
pub struct Feeds;

/// Its name.
pub const FEEDS: &str = "feeds";

fn card_key(post: &str) -> Vec<u8> {
    key(&["card", post], None)
}

fn stats_key(post: &str) -> Vec<u8> {
    key(&["stats", post], None)
}

/// The key of a spilled member's own row (see [`Engaged`]).
pub(crate) fn own_engagement_key(kind: EngagementKind, post: &str, member: &str) -> Vec<u8> {
    key(&[kind.key_part(), post, member], None)
}

/// Records in `stats` (the post's row, written back by the caller) that `member` did
/// `kind` to `post` at `at`, or in a row of their own once the list spilled; answers
/// whether they had not already.
fn engage(
    rows: &mut Rows<'_>,
    stats: &mut StatsRow,
    kind: EngagementKind,
    post: &PostId,
    member: &UserId,
    at: Position,
) -> Result<bool, ProjectionError> {
    let engaged = stats.of(kind);
    let Engaged::Listed(list) = engaged else {
        let own = own_engagement_key(kind, post.as_str(), member.as_str());
        if rows.contains(&own)? {
            return Ok(false);
        }
        rows.put(own, &at)?;
        return Ok(true);
    };
    let Err(slot) = list.binary_search_by(|e| e.member.cmp(member)) else {
        return Ok(false);
    };
    let engagement = Engagement {
        member: member.clone(),
        at,
    };
    if list.len() < LISTED_MEMBERS {
        list.insert(slot, engagement);
    } else {
        for e in list.drain(..).chain([engagement]) {
            rows.put(
                own_engagement_key(kind, post.as_str(), e.member.as_str()),
                &e.at,
            )?;
        }
        *engaged = Engaged::Spilled;
    }
    Ok(true)
}

/// Undoes `member`'s `kind` of `post` in `stats` (written back by the caller); answers
/// where it had been recorded (`None` if they had not).
fn disengage(
    rows: &mut Rows<'_>,
    stats: &mut StatsRow,
    kind: EngagementKind,
    post: &PostId,
    member: &UserId,
) -> Result<Option<Position>, ProjectionError> {
    match stats.of(kind) {
        Engaged::Listed(list) => Ok(list
            .binary_search_by(|e| e.member.cmp(member))
            .ok()
            .map(|i| list.remove(i).at)),
        Engaged::Spilled => {
            let own = own_engagement_key(kind, post.as_str(), member.as_str());
            let at = rows.get::<Position>(&own)?;
            rows.delete(own);
            Ok(at)
        }
    }
}

impl Projection for Feeds {
    fn name(&self) -> &'static str {
        FEEDS
    }

    fn version(&self) -> u32 {
        // 2: smiles and saves listed in the post's `stats|post` row until it has many.
        2
    }

    fn apply(
        &self,
        rows: &mut Rows<'_>,
        stored: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let position = stored.record.position;
        let rev = newest_first(position);
        match event {
            DomainEvent::UserRegistered(e) => rows.put(
                key(&["member", e.user.as_str()], None),
                &MemberRow {
                    user: e.user.clone(),
                    kind: e.kind,
                    handle: e.handle.clone(),
                    display_name: e.display_name.clone(),
                    brand_name: e.brand_name.clone(),
                    prime: false,
                    roles: vec![],
                    interests: vec![],
                    posts: 0,
                },
            )?,
            DomainEvent::PrimeStarted(e) => update(
                rows,
                key(&["member", e.user.as_str()], None),
                |m: &mut MemberRow| m.prime = true,
            )?,
            DomainEvent::PrimeEnded(e) => update(
                rows,
                key(&["member", e.user.as_str()], None),
                |m: &mut MemberRow| m.prime = false,
            )?,
            DomainEvent::InterestsChosen(e) => update(
                rows,
                key(&["member", e.user.as_str()], None),
                |m: &mut MemberRow| m.interests = e.interests.clone(),
            )?,
            DomainEvent::RoleGranted(e) => update(
                rows,
                key(&["member", e.user.as_str()], None),
                |m: &mut MemberRow| {
                    if !m.roles.contains(&e.role) {
                        m.roles.push(e.role);
                        m.roles.sort();
                    }
                },
            )?,
            DomainEvent::RoleRevoked(e) => update(
                rows,
                key(&["member", e.user.as_str()], None),
                |m: &mut MemberRow| m.roles.retain(|r| *r != e.role),
            )?,
            DomainEvent::InterestAdded(e) => rows.put(
                key(&["interest", e.interest.as_str()], None),
                &InterestRow {
                    interest: e.interest.clone(),
                    name: e.name.clone(),
                    rebuy_window_days: e.rebuy_window_days,
                },
            )?,
            DomainEvent::ProductListed(e) => rows.put(
                key(&["product", e.asin.as_str()], None),
                &ProductRow {
                    asin: e.asin.clone(),
                    title: e.title.clone(),
                    price: e.price,
                    image_url: e.image_url.clone(),
                    interests: e.interests.clone(),
                    consumable: e.consumable,
                    delisted: false,
                    purchases: 0,
                },
            )?,
            DomainEvent::ProductRepriced(e) => update(
                rows,
                key(&["product", e.asin.as_str()], None),
                |p: &mut ProductRow| p.price = e.price,
            )?,
            DomainEvent::ProductDelisted(e) => update(
                rows,
                key(&["product", e.asin.as_str()], None),
                |p: &mut ProductRow| p.delisted = true,
            )?,
            DomainEvent::PostPublished(e) => {
                let post = e.post.as_str();
                rows.put(
                    card_key(post),
                    &PostBody {
                        post: e.post.clone(),
                        author: e.author.clone(),
                        caption: e.caption.clone(),
                        media: e.media.clone(),
                        interests: e.interests.clone(),
                        tags: e.tags.clone(),
                        disclosure: e.sponsorship.clone(),
                        published_at: position,
                        recorded_at: stored.record.recorded_at.0,
                        removed: false,
                    },
                )?;
                rows.put(stats_key(post), &StatsRow::default())?;
                for interest in &e.interests {
                    rows.put(key(&["feed", interest.as_str()], Some(rev)), &e.post)?;
                }
                rows.put(key(&["byauthor", e.author.as_str()], Some(rev)), &e.post)?;
                for asin in distinct_asins(&e.tags) {
                    rows.put(key(&["productposts", asin], Some(rev)), &e.post)?;
                }
                update(
                    rows,
                    key(&["member", e.author.as_str()], None),
                    |m: &mut MemberRow| m.posts += 1,
                )?;
            }
            DomainEvent::CaptionEdited(e) => {
                update(rows, card_key(e.post.as_str()), |c: &mut PostBody| {
                    c.caption = e.caption.clone()
                })?
            }
            DomainEvent::ProductTagged(e) => {
                let Some(mut card) = rows.get::<PostBody>(&card_key(e.post.as_str()))? else {
                    return Ok(());
                };
                let newly = !card.tags.iter().any(|t| t.asin == e.tag.asin);
                card.tags.push(e.tag.clone());
                if newly && !card.removed {
                    rows.put(
                        key(
                            &["productposts", e.tag.asin.as_str()],
                            Some(newest_first(card.published_at)),
                        ),
                        &e.post,
                    )?;
                }
                rows.put(card_key(e.post.as_str()), &card)?;
            }
            DomainEvent::ProductUntagged(e) => {
                let Some(mut card) = rows.get::<PostBody>(&card_key(e.post.as_str()))? else {
                    return Ok(());
                };
                card.tags
                    .retain(|t| !(t.asin == e.asin && t.media_index == e.media_index));
                if !card.tags.iter().any(|t| t.asin == e.asin) {
                    rows.delete(key(
                        &["productposts", e.asin.as_str()],
                        Some(newest_first(card.published_at)),
                    ));
                }
                rows.put(card_key(e.post.as_str()), &card)?;
            }
            DomainEvent::PostRemoved(e) => {
                let Some(mut card) = rows.get::<PostBody>(&card_key(e.post.as_str()))? else {
                    return Ok(());
                };
                let rev = newest_first(card.published_at);
                for interest in &card.interests {
                    rows.delete(key(&["feed", interest.as_str()], Some(rev)));
                }
                rows.delete(key(&["byauthor", card.author.as_str()], Some(rev)));
                for asin in distinct_asins(&card.tags) {
                    rows.delete(key(&["productposts", asin], Some(rev)));
                }
                card.removed = true;
                rows.put(card_key(e.post.as_str()), &card)?;
            }
            DomainEvent::Smiled(e) => {
                change_stats(rows, &e.post, |rows, stats| {
                    if engage(
                        rows,
                        stats,
                        EngagementKind::Smile,
                        &e.post,
                        &e.member,
                        position,
                    )? {
                        stats.counts.smiles += 1;
                    }
                    Ok(())
                })?;
            }
            DomainEvent::Unsmiled(e) => {
                change_stats(rows, &e.post, |rows, stats| {
                    if disengage(rows, stats, EngagementKind::Smile, &e.post, &e.member)?.is_some()
                    {
                        stats.counts.smiles = stats.counts.smiles.saturating_sub(1);
                    }
                    Ok(())
                })?;
            }
            DomainEvent::Saved(e) => {
                let newly = change_stats(rows, &e.post, |rows, stats| {
                    let newly = engage(
                        rows,
                        stats,
                        EngagementKind::Save,
                        &e.post,
                        &e.member,
                        position,
                    )?;
                    if newly {
                        stats.counts.saves += 1;
                    }
                    Ok(newly)
                })?;
                if newly == Some(true) {
                    rows.put(key(&["saved", e.member.as_str()], Some(rev)), &e.post)?;
                }
            }
            DomainEvent::Unsaved(e) => {
                let saved_at = change_stats(rows, &e.post, |rows, stats| {
                    let saved_at =
                        disengage(rows, stats, EngagementKind::Save, &e.post, &e.member)?;
                    if saved_at.is_some() {
                        stats.counts.saves = stats.counts.saves.saturating_sub(1);
                    }
                    Ok(saved_at)
                })?;
                if let Some(Some(saved_at)) = saved_at {
                    rows.delete(key(
                        &["saved", e.member.as_str()],
                        Some(newest_first(saved_at)),
                    ));
                }
            }
            DomainEvent::Shared(e) => {
                update(rows, stats_key(e.post.as_str()), |c: &mut StatsRow| {
                    c.counts.shares += 1
                })?
            }
            DomainEvent::CommentPosted(e) => {
                rows.put(
                    key(&["comment", e.comment.as_str()], None),
                    &CommentRow {
                        comment: e.comment.clone(),
                        post: e.post.clone(),
                        author: e.author.clone(),
                        text: e.text.clone(),
                        position,
                    },
                )?;
                rows.put(key(&["comments", e.post.as_str()], Some(rev)), &e.comment)?;
                update(rows, stats_key(e.post.as_str()), |c: &mut StatsRow| {
                    c.counts.comments += 1
                })?;
            }
            DomainEvent::CommentRemoved(e) => {
                let comment_key = key(&["comment", e.comment.as_str()], None);
                if let Some(comment) = rows.get::<CommentRow>(&comment_key)? {
                    rows.delete(key(
                        &["comments", comment.post.as_str()],
                        Some(newest_first(comment.position)),
                    ));
                    rows.delete(comment_key);
                    update(rows, stats_key(e.post.as_str()), |c: &mut StatsRow| {
                        c.counts.comments = c.counts.comments.saturating_sub(1)
                    })?;
                }
            }
            DomainEvent::OrderPlaced(e) => {
                update(rows, stats_key(e.post.as_str()), |c: &mut StatsRow| {
                    c.counts.purchases += 1
                })?;
                update(
                    rows,
                    key(&["product", e.asin.as_str()], None),
                    |p: &mut ProductRow| p.purchases += 1,
                )?;
                rows.put(
                    key(&["orders", e.buyer.as_str()], Some(rev)),
                    &OrderRow {
                        order: e.order.clone(),
                        post: e.post.clone(),
                        asin: e.asin.clone(),
                        quantity: e.quantity,
                        total: e.total,
                        gift: e.gift,
                        position,
                    },
                )?;
                if !e.gift {
                    let bought_key = key(&["bought", e.buyer.as_str(), e.asin.as_str()], None);
                    let mut bought = rows.get::<BoughtRow>(&bought_key)?.unwrap_or_default();
                    bought.orders += 1;
                    bought.last_at = stored.record.recorded_at.0;
                    rows.put(bought_key, &bought)?;
                }
            }
            DomainEvent::HandleReserved(_)
            | DomainEvent::ContractOpened(_)
            | DomainEvent::ContractEnded(_) => {}
        }
        Ok(())
    }
}

fn distinct_asins(tags: &[sparkfeed_domain::events::Tag]) -> Vec<&str> {
    let mut asins: Vec<&str> = tags.iter().map(|t| t.asin.as_str()).collect();
    asins.sort_unstable();
    asins.dedup();
    asins
}

/// Changes a post's [`StatsRow`] (and any spilled member rows, through `rows`) and writes
/// it back; answers what `change` answered, or `None` when the post has no stats (it is
/// not in this projection), which is left as it is.
fn change_stats<T>(
    rows: &mut Rows<'_>,
    post: &PostId,
    change: impl FnOnce(&mut Rows<'_>, &mut StatsRow) -> Result<T, ProjectionError>,
) -> Result<Option<T>, ProjectionError> {
    let row_key = stats_key(post.as_str());
    let Some(mut stats) = rows.get::<StatsRow>(&row_key)? else {
        return Ok(None);
    };
    let answer = change(rows, &mut stats)?;
    rows.put(row_key, &stats)?;
    Ok(Some(answer))
}

/// Reads, changes and writes back one row; a missing row is left missing.
pub(crate) fn update<T>(
    rows: &mut Rows<'_>,
    key: Vec<u8>,
    change: impl FnOnce(&mut T),
) -> Result<(), ProjectionError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    if let Some(mut row) = rows.get::<T>(&key)? {
        change(&mut row);
        rows.put(key, &row)?;
    }
    Ok(())
}
