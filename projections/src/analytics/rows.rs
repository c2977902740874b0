//! The rows of the analytics projection.

use serde::{Deserialize, Serialize};
use sparkfeed_domain::InterestSlug;

/// Per post, what its engagements and orders are counted under: written when it is
/// published, never changed.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct PostFacts {
    /// Whether the post is sponsored (its orders count as the sponsored kind's).
    pub sponsored: bool,
    /// Its interests (each one's day counters count what happens to it).
    pub interests: Vec<InterestSlug>,
}

/// Per interest and day: what happened.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct DayCounters {
    /// Posts published.
    pub posts: u64,
    /// Smiles (net of unsmiles).
    pub smiles: i64,
    /// Saves (net of unsaves).
    pub saves: i64,
    /// Shares.
    pub shares: u64,
    /// Orders.
    pub purchases: u64,
    /// Revenue in cents (all currencies summed as USD in the demo).
    pub revenue_cents: u64,
    /// Comments posted.
    pub comments: u64,
}

/// Orders of one thing (a product, or through a post) over some time.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Sales {
    /// Orders.
    pub purchases: u64,
    /// Units ordered.
    pub units: u64,
    /// Revenue in cents.
    pub revenue_cents: u64,
}

impl Sales {
    /// One more order of `units` for `cents`. Saturating: a projection applies every
    /// event the log holds and never panics.
    pub fn add_order(&mut self, units: u64, cents: u64) {
        self.purchases = self.purchases.saturating_add(1);
        self.units = self.units.saturating_add(units);
        self.revenue_cents = self.revenue_cents.saturating_add(cents);
    }

    /// Both summed.
    pub fn plus(self, other: Sales) -> Sales {
        Sales {
            purchases: self.purchases.saturating_add(other.purchases),
            units: self.units.saturating_add(other.units),
            revenue_cents: self.revenue_cents.saturating_add(other.revenue_cents),
        }
    }
}

/// What the posts of one kind (sponsored or organic) did one day.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct KindDay {
    /// Posts of the kind published that day.
    pub posts: u64,
    /// Orders through posts of the kind that day.
    pub sales: Sales,
}

crate::heap::heap_free!(DayCounters, Sales, KindDay);
