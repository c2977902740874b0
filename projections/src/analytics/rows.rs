//! The rows of the analytics projection.

use serde::{Deserialize, Serialize};

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
}
