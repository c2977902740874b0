//! `analytics`: posts, smiles, saves, shares, purchases and revenue per interest per day.
//!
//! Keys: `postint|post` -> the post's interests; `day|interest|day number` -> counters.

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{InterestSlug, PostId};
use sparkfeed_events::RecordedEvent;

use crate::rows::DayCounters;
use crate::store::{Rows, key};
use crate::{Projection, ProjectionError};

/// How one event changes a day's counters.
type Change = Box<dyn Fn(&mut DayCounters)>;

/// The analytics projection.
pub struct Analytics;

/// Its name.
pub const ANALYTICS: &str = "analytics";

const DAY_MICROS: i64 = 86_400_000_000;

/// The day number (days since the Unix epoch) of a time in microseconds.
pub fn day_of(micros: i64) -> u64 {
    u64::try_from(micros.div_euclid(DAY_MICROS)).unwrap_or(0)
}

impl Projection for Analytics {
    fn name(&self) -> &'static str {
        ANALYTICS
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply(
        &self,
        rows: &mut Rows<'_>,
        stored: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let day = day_of(stored.record.recorded_at.0);
        let interests_of =
            |rows: &Rows<'_>, post: &PostId| -> Result<Vec<InterestSlug>, ProjectionError> {
                Ok(rows
                    .get(&key(&["postint", post.as_str()], None))?
                    .unwrap_or_default())
            };
        let (interests, change): (Vec<InterestSlug>, Change) = match event {
            DomainEvent::PostPublished(e) => {
                rows.put(key(&["postint", e.post.as_str()], None), &e.interests)?;
                (e.interests.clone(), Box::new(|c| c.posts += 1))
            }
            // Saturating: a projection must apply every event the log holds, never panic.
            DomainEvent::Smiled(e) => (
                interests_of(rows, &e.post)?,
                Box::new(|c| c.smiles = c.smiles.saturating_add(1)),
            ),
            DomainEvent::Unsmiled(e) => (
                interests_of(rows, &e.post)?,
                Box::new(|c| c.smiles = c.smiles.saturating_sub(1)),
            ),
            DomainEvent::Saved(e) => (
                interests_of(rows, &e.post)?,
                Box::new(|c| c.saves = c.saves.saturating_add(1)),
            ),
            DomainEvent::Unsaved(e) => (
                interests_of(rows, &e.post)?,
                Box::new(|c| c.saves = c.saves.saturating_sub(1)),
            ),
            DomainEvent::Shared(e) => (
                interests_of(rows, &e.post)?,
                Box::new(|c| c.shares = c.shares.saturating_add(1)),
            ),
            DomainEvent::OrderPlaced(e) => {
                let cents = e.total.cents;
                (
                    interests_of(rows, &e.post)?,
                    Box::new(move |c| {
                        c.purchases = c.purchases.saturating_add(1);
                        c.revenue_cents = c.revenue_cents.saturating_add(cents);
                    }),
                )
            }
            _ => return Ok(()),
        };
        for interest in interests {
            let k = key(&["day", interest.as_str()], Some(day));
            let mut counters = rows.get::<DayCounters>(&k)?.unwrap_or_default();
            change(&mut counters);
            rows.put(k, &counters)?;
        }
        Ok(())
    }
}
