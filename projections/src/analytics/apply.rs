//! How the analytics projection folds each event into its counters.

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{InterestSlug, PostId};
use sparkfeed_events::RecordedEvent;

use super::rows::DayCounters;
use super::{ANALYTICS, Analytics, day_of, keys};
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

/// How one event changes a day's counters.
type Change = Box<dyn Fn(&mut DayCounters)>;

impl Projection for Analytics {
    fn name(&self) -> &'static str {
        ANALYTICS
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        let day = day_of(stored.record.recorded_at.0);
        let interests_of =
            |rows: &Rows<'_>, post: &PostId| -> Result<Vec<InterestSlug>, ProjectionError> {
                Ok(rows.get(&keys::post_interests(post))?.unwrap_or_default())
            };
        let (interests, change): (Vec<InterestSlug>, Change) = match event {
            DomainEvent::PostPublished(e) => {
                rows.put(keys::post_interests(&e.post), &e.interests)?;
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
            let k = keys::day(&interest, day);
            let mut counters = rows.get::<DayCounters>(&k)?.unwrap_or_default();
            change(&mut counters);
            rows.put(k, &counters)?;
        }
        Ok(())
    }
}
