//! How the analytics projection folds each event into its counters.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sparkfeed_domain::events::{self as ev, DomainEvent};
use sparkfeed_domain::{InterestSlug, PostId};
use sparkfeed_events::RecordedEvent;

use super::rows::{DayCounters, KindDay, Sales};
use super::{ANALYTICS, Analytics, day_of, keys};
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

impl Projection for Analytics {
    fn name(&self) -> &'static str {
        ANALYTICS
    }

    fn version(&self) -> u32 {
        // 2: comments counted; sales per product, per post and per kind of post by day.
        2
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        let day = day_of(stored.record.recorded_at.0);
        // Saturating throughout: a projection must apply every event the log holds.
        match event {
            DomainEvent::PostPublished(e) => published(rows, e, day),
            DomainEvent::Smiled(e) => by_interest(rows, &e.post, day, |c| {
                c.smiles = c.smiles.saturating_add(1)
            }),
            DomainEvent::Unsmiled(e) => by_interest(rows, &e.post, day, |c| {
                c.smiles = c.smiles.saturating_sub(1)
            }),
            DomainEvent::Saved(e) => {
                by_interest(rows, &e.post, day, |c| c.saves = c.saves.saturating_add(1))
            }
            DomainEvent::Unsaved(e) => {
                by_interest(rows, &e.post, day, |c| c.saves = c.saves.saturating_sub(1))
            }
            DomainEvent::Shared(e) => by_interest(rows, &e.post, day, |c| {
                c.shares = c.shares.saturating_add(1)
            }),
            DomainEvent::CommentPosted(e) => by_interest(rows, &e.post, day, |c| {
                c.comments = c.comments.saturating_add(1)
            }),
            DomainEvent::OrderPlaced(e) => ordered(rows, e, day),
            _ => Ok(()),
        }
    }
}

fn published(rows: &mut Rows<'_>, e: &ev::PostPublished, day: u64) -> Applied {
    let sponsored = e.sponsorship.is_some();
    rows.put(keys::post_interests(&e.post), &e.interests)?;
    rows.put(keys::post_kind(&e.post), &sponsored)?;
    change(rows, keys::kind_day(sponsored, day), |k: &mut KindDay| {
        k.posts = k.posts.saturating_add(1)
    })?;
    for interest in &e.interests {
        change(rows, keys::day(interest, day), |c: &mut DayCounters| {
            c.posts = c.posts.saturating_add(1)
        })?;
    }
    Ok(())
}

fn ordered(rows: &mut Rows<'_>, e: &ev::OrderPlaced, day: u64) -> Applied {
    let (units, cents) = (u64::from(e.quantity), e.total.cents);
    by_interest(rows, &e.post, day, |c| {
        c.purchases = c.purchases.saturating_add(1);
        c.revenue_cents = c.revenue_cents.saturating_add(cents);
    })?;
    change(rows, keys::product_day(day, &e.asin), |s: &mut Sales| {
        s.add_order(units, cents)
    })?;
    change(rows, keys::post_day(day, &e.post), |s: &mut Sales| {
        s.add_order(units, cents)
    })?;
    let sponsored = rows
        .get::<bool>(&keys::post_kind(&e.post))?
        .unwrap_or(false);
    change(rows, keys::kind_day(sponsored, day), |k: &mut KindDay| {
        k.sales.add_order(units, cents)
    })
}

/// Changes the day's counters of every interest of `post`.
fn by_interest(
    rows: &mut Rows<'_>,
    post: &PostId,
    day: u64,
    f: impl Fn(&mut DayCounters),
) -> Applied {
    let interests: Vec<InterestSlug> = rows.get(&keys::post_interests(post))?.unwrap_or_default();
    for interest in interests {
        change(rows, keys::day(&interest, day), &f)?;
    }
    Ok(())
}

/// Reads the row at `key` (its default when absent), changes it and writes it back.
fn change<T: Serialize + DeserializeOwned + Default + Send + 'static>(
    rows: &mut Rows<'_>,
    key: Vec<u8>,
    f: impl FnOnce(&mut T),
) -> Result<(), ProjectionError> {
    rows.change(key, |row: &mut Option<T>| {
        f(row.get_or_insert_with(T::default))
    })
}
