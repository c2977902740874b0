//! `analytics`: posts, smiles, saves, shares, purchases and revenue per interest per day.
//!
//! - [`keys`]: every key of its rows, the only place one is spelled.
//! - [`rows`]: the [`DayCounters`](rows::DayCounters).
//! - `apply` (the [`Projection`](crate::Projection) impl of [`Analytics`]): which
//!   counter each event moves.
//! - [`read`]: an interest's counters over a range of days.

mod apply;
pub mod keys;
pub mod read;
pub mod rows;

/// The analytics projection.
pub struct Analytics;

/// Its name.
pub const ANALYTICS: &str = "analytics";

const DAY_MICROS: i64 = 86_400_000_000;

/// The day number (days since the Unix epoch) of a time in microseconds.
pub fn day_of(micros: i64) -> u64 {
    u64::try_from(micros.div_euclid(DAY_MICROS)).unwrap_or(0)
}
