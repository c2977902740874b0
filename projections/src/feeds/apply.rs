//! How the feeds projection folds each event into its rows.

use sparkfeed_domain::events::{self as ev, DomainEvent, Tag};
use sparkfeed_domain::{Asin, CommentId, PostId};
use sparkfeed_events::{Position, RecordedEvent};

use super::engagement::{change_stats, disengage, engage};
use super::keys;
use super::rows::*;
use super::{FEEDS, Feeds};
use crate::bucket;
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

impl Projection for Feeds {
    fn name(&self) -> &'static str {
        FEEDS
    }

    fn version(&self) -> u32 {
        // 2: smiles and saves listed in the post's `stats|post` row until it has many.
        // 3: lists held in buckets of entries ([`crate::bucket`]), not a row an entry.
        3
    }

    /// Every feed page reads cards, counts and list rows from here.
    fn cache_weight(&self) -> u64 {
        6
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        let at = stored.record.position;
        let recorded_at = stored.record.recorded_at.0;
        match event {
            DomainEvent::UserRegistered(e) => registered(rows, e),
            DomainEvent::PrimeStarted(e) => change_member(rows, &e.user, |m| m.prime = true),
            DomainEvent::PrimeEnded(e) => change_member(rows, &e.user, |m| m.prime = false),
            DomainEvent::InterestsChosen(e) => {
                change_member(rows, &e.user, |m| m.interests = e.interests.clone())
            }
            DomainEvent::RoleGranted(e) => change_member(rows, &e.user, |m| {
                if !m.roles.contains(&e.role) {
                    m.roles.push(e.role);
                    m.roles.sort();
                }
            }),
            DomainEvent::RoleRevoked(e) => {
                change_member(rows, &e.user, |m| m.roles.retain(|r| *r != e.role))
            }
            DomainEvent::InterestAdded(e) => interest_added(rows, e),
            DomainEvent::ProductListed(e) => product_listed(rows, e),
            DomainEvent::ProductRepriced(e) => change_product(rows, &e.asin, |p| p.price = e.price),
            DomainEvent::ProductDelisted(e) => change_product(rows, &e.asin, |p| p.delisted = true),
            DomainEvent::PostPublished(e) => published(rows, e, at, recorded_at),
            DomainEvent::CaptionEdited(e) => {
                update(rows, keys::card(&e.post), |c: &mut PostBody| {
                    c.caption = e.caption.clone()
                })
            }
            DomainEvent::ProductTagged(e) => tagged(rows, e),
            DomainEvent::ProductUntagged(e) => untagged(rows, e),
            DomainEvent::PostRemoved(e) => removed(rows, e),
            DomainEvent::Smiled(e) => smiled(rows, e, at),
            DomainEvent::Unsmiled(e) => unsmiled(rows, e),
            DomainEvent::Saved(e) => saved(rows, e, at),
            DomainEvent::Unsaved(e) => unsaved(rows, e),
            DomainEvent::Shared(e) => change_counts(rows, &e.post, |c| c.shares += 1),
            DomainEvent::CommentPosted(e) => comment_posted(rows, e, at),
            DomainEvent::CommentRemoved(e) => comment_removed(rows, e),
            DomainEvent::OrderPlaced(e) => order_placed(rows, e, at, recorded_at),
            DomainEvent::HandleReserved(_)
            | DomainEvent::ContractOpened(_)
            | DomainEvent::ContractEnded(_)
            | DomainEvent::PostReported(_)
            | DomainEvent::ReportResolved(_) => Ok(()),
            // Nothing to rewrite: the rows hold the member's values sealed, and the key
            // that opened them is gone; reads show them as null from now on (and a
            // rebuild reads the same ciphertexts).
            DomainEvent::MemberForgotten(_) => Ok(()),
            // Follows and feed controls: read by the `forYou` projection, not this one.
            DomainEvent::Followed(_)
            | DomainEvent::Unfollowed(_)
            | DomainEvent::MarkedNotInterested(_)
            | DomainEvent::NotInterestedUndone(_)
            | DomainEvent::FeedModeSet(_) => Ok(()),
        }
    }
}

fn registered(rows: &mut Rows<'_>, e: &ev::UserRegistered) -> Result<(), ProjectionError> {
    rows.put(
        keys::member(&e.user),
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
    )
}

fn change_member(
    rows: &mut Rows<'_>,
    user: &sparkfeed_domain::UserId,
    change: impl FnOnce(&mut MemberRow),
) -> Result<(), ProjectionError> {
    update(rows, keys::member(user), change)
}

fn interest_added(rows: &mut Rows<'_>, e: &ev::InterestAdded) -> Result<(), ProjectionError> {
    rows.put(
        keys::interest(&e.interest),
        &InterestRow {
            interest: e.interest.clone(),
            name: e.name.clone(),
            rebuy_window_days: e.rebuy_window_days,
        },
    )
}

fn product_listed(rows: &mut Rows<'_>, e: &ev::ProductListed) -> Result<(), ProjectionError> {
    rows.put(
        keys::product(&e.asin),
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
    )
}

fn change_product(
    rows: &mut Rows<'_>,
    asin: &Asin,
    change: impl FnOnce(&mut ProductRow),
) -> Result<(), ProjectionError> {
    update(rows, keys::product(asin), change)
}

fn published(
    rows: &mut Rows<'_>,
    e: &ev::PostPublished,
    at: Position,
    recorded_at: i64,
) -> Result<(), ProjectionError> {
    rows.put(
        keys::card(&e.post),
        &PostBody {
            post: e.post.clone(),
            author: e.author.clone(),
            caption: e.caption.clone(),
            media: e.media.clone(),
            interests: e.interests.clone(),
            tags: e.tags.clone(),
            disclosure: e.sponsorship.clone(),
            published_at: at,
            recorded_at,
            removed: false,
        },
    )?;
    rows.put_in_place(keys::stats(&e.post), StatsRow::default());
    for interest in &e.interests {
        bucket::append(rows, &keys::feed_prefix(interest), at, e.post.clone())?;
    }
    bucket::append(rows, &keys::by_author_prefix(&e.author), at, e.post.clone())?;
    for asin in distinct_asins(&e.tags) {
        bucket::append(rows, &keys::product_posts_prefix(asin), at, e.post.clone())?;
    }
    change_member(rows, &e.author, |m| m.posts += 1)
}

fn tagged(rows: &mut Rows<'_>, e: &ev::ProductTagged) -> Result<(), ProjectionError> {
    let Some(mut card) = rows.get::<PostBody>(&keys::card(&e.post))? else {
        return Ok(());
    };
    let newly = !card.tags.iter().any(|t| t.asin == e.tag.asin);
    card.tags.push(e.tag.clone());
    if newly && !card.removed {
        // Listed where the post was published, below newer posts of the product.
        bucket::insert(
            rows,
            &keys::product_posts_prefix(&e.tag.asin),
            card.published_at,
            e.post.clone(),
        )?;
    }
    rows.put(keys::card(&e.post), &card)
}

fn untagged(rows: &mut Rows<'_>, e: &ev::ProductUntagged) -> Result<(), ProjectionError> {
    let Some(mut card) = rows.get::<PostBody>(&keys::card(&e.post))? else {
        return Ok(());
    };
    card.tags
        .retain(|t| !(t.asin == e.asin && t.media_index == e.media_index));
    if !card.tags.iter().any(|t| t.asin == e.asin) {
        bucket::remove::<PostId>(
            rows,
            &keys::product_posts_prefix(&e.asin),
            card.published_at,
        )?;
    }
    rows.put(keys::card(&e.post), &card)
}

fn removed(rows: &mut Rows<'_>, e: &ev::PostRemoved) -> Result<(), ProjectionError> {
    let Some(mut card) = rows.get::<PostBody>(&keys::card(&e.post))? else {
        return Ok(());
    };
    let published = card.published_at;
    for interest in &card.interests {
        bucket::remove::<PostId>(rows, &keys::feed_prefix(interest), published)?;
    }
    bucket::remove::<PostId>(rows, &keys::by_author_prefix(&card.author), published)?;
    for asin in distinct_asins(&card.tags) {
        bucket::remove::<PostId>(rows, &keys::product_posts_prefix(asin), published)?;
    }
    card.removed = true;
    rows.put(keys::card(&e.post), &card)
}

fn smiled(rows: &mut Rows<'_>, e: &ev::Smiled, at: Position) -> Result<(), ProjectionError> {
    change_stats(rows, &e.post, |rows, stats| {
        if engage(rows, stats, EngagementKind::Smile, &e.post, &e.member, at)? {
            stats.counts.smiles += 1;
        }
        Ok(())
    })?;
    Ok(())
}

fn unsmiled(rows: &mut Rows<'_>, e: &ev::Unsmiled) -> Result<(), ProjectionError> {
    change_stats(rows, &e.post, |rows, stats| {
        if disengage(rows, stats, EngagementKind::Smile, &e.post, &e.member)?.is_some() {
            stats.counts.smiles = stats.counts.smiles.saturating_sub(1);
        }
        Ok(())
    })?;
    Ok(())
}

fn saved(rows: &mut Rows<'_>, e: &ev::Saved, at: Position) -> Result<(), ProjectionError> {
    let newly = change_stats(rows, &e.post, |rows, stats| {
        let newly = engage(rows, stats, EngagementKind::Save, &e.post, &e.member, at)?;
        if newly {
            stats.counts.saves += 1;
        }
        Ok(newly)
    })?;
    if newly == Some(true) {
        bucket::append(rows, &keys::saved_prefix(&e.member), at, e.post.clone())?;
    }
    Ok(())
}

fn unsaved(rows: &mut Rows<'_>, e: &ev::Unsaved) -> Result<(), ProjectionError> {
    let saved_at = change_stats(rows, &e.post, |rows, stats| {
        let saved_at = disengage(rows, stats, EngagementKind::Save, &e.post, &e.member)?;
        if saved_at.is_some() {
            stats.counts.saves = stats.counts.saves.saturating_sub(1);
        }
        Ok(saved_at)
    })?;
    if let Some(Some(saved_at)) = saved_at {
        bucket::remove::<PostId>(rows, &keys::saved_prefix(&e.member), saved_at)?;
    }
    Ok(())
}

/// Changes a post's counts alone (its listed members untouched).
fn change_counts(
    rows: &mut Rows<'_>,
    post: &PostId,
    change: impl FnOnce(&mut PostStats),
) -> Result<(), ProjectionError> {
    // In place: a post's stats change at every engagement, and a row written whole would
    // go out at a rebuild's next write-out only to be read back ([`Rows::make_room_unserved`]).
    rows.change(keys::stats(post), |s: &mut Option<StatsRow>| {
        if let Some(s) = s {
            change(&mut s.counts);
        }
    })
}

fn comment_posted(
    rows: &mut Rows<'_>,
    e: &ev::CommentPosted,
    at: Position,
) -> Result<(), ProjectionError> {
    rows.put(
        keys::comment(&e.comment),
        &CommentRow {
            comment: e.comment.clone(),
            post: e.post.clone(),
            author: e.author.clone(),
            text: e.text.clone(),
            position: at,
        },
    )?;
    bucket::append(
        rows,
        &keys::post_comments_prefix(&e.post),
        at,
        e.comment.clone(),
    )?;
    change_counts(rows, &e.post, |c| c.comments += 1)
}

fn comment_removed(rows: &mut Rows<'_>, e: &ev::CommentRemoved) -> Result<(), ProjectionError> {
    let comment_key = keys::comment(&e.comment);
    let Some(comment) = rows.get::<CommentRow>(&comment_key)? else {
        return Ok(());
    };
    bucket::remove::<CommentId>(
        rows,
        &keys::post_comments_prefix(&comment.post),
        comment.position,
    )?;
    rows.delete(comment_key);
    change_counts(rows, &e.post, |c| c.comments = c.comments.saturating_sub(1))
}

fn order_placed(
    rows: &mut Rows<'_>,
    e: &ev::OrderPlaced,
    at: Position,
    recorded_at: i64,
) -> Result<(), ProjectionError> {
    change_counts(rows, &e.post, |c| c.purchases += 1)?;
    change_product(rows, &e.asin, |p| p.purchases += 1)?;
    bucket::append(
        rows,
        &keys::orders_prefix(&e.buyer),
        at,
        OrderRow {
            order: e.order.clone(),
            post: e.post.clone(),
            asin: e.asin.clone(),
            quantity: e.quantity,
            total: e.total,
            gift: e.gift,
            position: at,
        },
    )?;
    // A gift says nothing of the buyer's own taste: it must not steer their feed.
    if !e.gift {
        let bought_key = keys::bought(&e.buyer, &e.asin);
        let mut bought = rows.get::<BoughtRow>(&bought_key)?.unwrap_or_default();
        bought.orders += 1;
        bought.last_at = recorded_at;
        rows.put(bought_key, &bought)?;
    }
    Ok(())
}

/// The products tagged in a post, each once.
fn distinct_asins(tags: &[Tag]) -> Vec<&Asin> {
    let mut asins: Vec<&Asin> = tags.iter().map(|t| &t.asin).collect();
    asins.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    asins.dedup();
    asins
}

/// Reads, changes and writes back one row; a missing row is left missing.
fn update<T>(
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
