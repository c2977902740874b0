//! How the creators projection folds follows, tags, removals and orders into its rows.

use sparkfeed_domain::events::{self as ev, DomainEvent};
use sparkfeed_domain::{Asin, UserId};
use sparkfeed_events::{Position, RecordedEvent};

use super::keys;
use super::rows::{FollowCounts, PostTags, ShelfRow};
use super::{CREATORS, Creators};
use crate::store::Rows;
use crate::{Applied, Projection};

impl Projection for Creators {
    fn name(&self) -> &'static str {
        CREATORS
    }

    fn version(&self) -> u32 {
        1
    }

    /// Storefronts and follow lists are read beside feed pages.
    fn cache_weight(&self) -> u64 {
        2
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        let at = stored.record.position;
        let when = stored.record.recorded_at.0;
        match event {
            DomainEvent::Followed(e) => followed(rows, e, at),
            DomainEvent::Unfollowed(e) => unfollowed(rows, e),
            DomainEvent::PostPublished(e) => published(rows, e, at, when),
            DomainEvent::ProductTagged(e) => tagged(rows, e, at, when),
            DomainEvent::ProductUntagged(e) => untagged(rows, e),
            DomainEvent::PostRemoved(e) => removed(rows, e),
            DomainEvent::OrderPlaced(e) => shelve(rows, &e.author, &e.asin, |row| {
                row.purchases = row.purchases.saturating_add(1);
                row.units = row.units.saturating_add(u64::from(e.quantity));
            }),
            // A forgotten member's follows and storefront stay as counts and opaque ids:
            // their handle and name are what forgetting makes unreadable.
            _ => Ok(()),
        }
    }
}

/// The domain refuses a second follow; a replayed one changes nothing all the same.
fn followed(rows: &mut Rows<'_>, e: &ev::Followed, at: Position) -> Applied {
    let pair = keys::follow(&e.member, &e.creator);
    if rows.contains(&pair)? {
        return Ok(());
    }
    rows.put(pair, &at)?;
    rows.put(keys::follower_entry(&e.creator, at), &e.member)?;
    rows.put(keys::following_entry(&e.member, at), &e.creator)?;
    count(rows, &e.creator, |c| {
        c.followers = c.followers.saturating_add(1)
    })?;
    count(rows, &e.member, |c| {
        c.following = c.following.saturating_add(1)
    })
}

fn unfollowed(rows: &mut Rows<'_>, e: &ev::Unfollowed) -> Applied {
    let pair = keys::follow(&e.member, &e.creator);
    let Some(since) = rows.get::<Position>(&pair)? else {
        return Ok(());
    };
    rows.delete(pair);
    rows.delete(keys::follower_entry(&e.creator, since));
    rows.delete(keys::following_entry(&e.member, since));
    count(rows, &e.creator, |c| {
        c.followers = c.followers.saturating_sub(1)
    })?;
    count(rows, &e.member, |c| {
        c.following = c.following.saturating_sub(1)
    })
}

fn count(rows: &mut Rows<'_>, user: &UserId, change: impl FnOnce(&mut FollowCounts)) -> Applied {
    rows.change(keys::counts(user), |counts: &mut Option<FollowCounts>| {
        change(counts.get_or_insert_with(FollowCounts::default));
    })
}

fn published(rows: &mut Rows<'_>, e: &ev::PostPublished, at: Position, when: i64) -> Applied {
    let mut post = PostTags {
        author: e.author.clone(),
        tags: Vec::with_capacity(e.tags.len()),
        tagged: Vec::new(),
        removed: false,
    };
    for tag in &e.tags {
        post.tags.push((tag.asin.clone(), tag.media_index));
        if !post.tagged.iter().any(|(a, _)| *a == tag.asin) {
            post.tagged.push((tag.asin.clone(), at));
            put_on_shelf(rows, &e.author, &tag.asin, &e.post, at, when)?;
        }
    }
    rows.put(keys::post_tags(&e.post), &post)
}

fn tagged(rows: &mut Rows<'_>, e: &ev::ProductTagged, at: Position, when: i64) -> Applied {
    let key = keys::post_tags(&e.post);
    let Some(mut post) = rows.get::<PostTags>(&key)? else {
        return Ok(());
    };
    if post.removed {
        return Ok(());
    }
    let asin = &e.tag.asin;
    post.tags.push((asin.clone(), e.tag.media_index));
    if !post.tagged.iter().any(|(a, _)| a == asin) {
        post.tagged.push((asin.clone(), at));
        put_on_shelf(rows, &post.author, asin, &e.post, at, when)?;
    }
    rows.put(key, &post)
}

fn untagged(rows: &mut Rows<'_>, e: &ev::ProductUntagged) -> Applied {
    let key = keys::post_tags(&e.post);
    let Some(mut post) = rows.get::<PostTags>(&key)? else {
        return Ok(());
    };
    if post.removed {
        return Ok(());
    }
    post.tags
        .retain(|(a, media)| !(*a == e.asin && *media == e.media_index));
    if !post.tags.iter().any(|(a, _)| *a == e.asin)
        && let Some(i) = post.tagged.iter().position(|(a, _)| *a == e.asin)
    {
        let (asin, since) = post.tagged.remove(i);
        take_off_shelf(rows, &post.author, &asin, since)?;
    }
    rows.put(key, &post)
}

fn removed(rows: &mut Rows<'_>, e: &ev::PostRemoved) -> Applied {
    let key = keys::post_tags(&e.post);
    let Some(mut post) = rows.get::<PostTags>(&key)? else {
        return Ok(());
    };
    if post.removed {
        return Ok(());
    }
    for (asin, since) in std::mem::take(&mut post.tagged) {
        take_off_shelf(rows, &post.author, &asin, since)?;
    }
    post.removed = true;
    rows.put(key, &post)
}

/// `post`, published or tagged at `at`, now tags `asin` on its author's storefront.
fn put_on_shelf(
    rows: &mut Rows<'_>,
    creator: &UserId,
    asin: &Asin,
    post: &sparkfeed_domain::PostId,
    at: Position,
    when: i64,
) -> Applied {
    rows.put(keys::shelf_post_entry(creator, asin, at), post)?;
    shelve(rows, creator, asin, |row| {
        row.posts = row.posts.saturating_add(1);
        row.last_tagged = at;
        row.last_tagged_at = when;
    })
}

/// A post that tagged `asin` since `since` no longer does.
fn take_off_shelf(rows: &mut Rows<'_>, creator: &UserId, asin: &Asin, since: Position) -> Applied {
    rows.delete(keys::shelf_post_entry(creator, asin, since));
    shelve(rows, creator, asin, |row| {
        row.posts = row.posts.saturating_sub(1);
    })
}

/// Changes `creator`'s row of `asin` and moves its ranked entry to match: the entry is
/// there exactly while the row is [`ShelfRow::listed`], under the row's current counts.
fn shelve(
    rows: &mut Rows<'_>,
    creator: &UserId,
    asin: &Asin,
    change: impl FnOnce(&mut ShelfRow),
) -> Applied {
    // Changed in place: a creator's row of a product changes at every tag and purchase.
    let (old, row) = rows.change(keys::shelf(creator, asin), |held: &mut Option<ShelfRow>| {
        let old = held.clone();
        let row = held.get_or_insert_with(|| ShelfRow::new(asin.clone()));
        change(row);
        (old, row.clone())
    })?;
    if let Some(old) = old.filter(ShelfRow::listed) {
        rows.delete(keys::rank_entry(
            creator,
            old.purchases,
            old.last_tagged,
            asin,
        ));
    }
    if row.listed() {
        let ranked = keys::rank_entry(creator, row.purchases, row.last_tagged, asin);
        rows.put(ranked, &row)?;
    }
    Ok(())
}
