//! Queries over the analytics projection.

use sparkfeed_domain::InterestSlug;

use super::keys;
use super::rows::DayCounters;
use crate::ProjectionError;
use crate::store::decode;

/// The counters of an interest for days `from..=to` (day numbers since the epoch).
pub fn analytics(
    tree: &sled::Tree,
    interest: &InterestSlug,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, DayCounters)>, ProjectionError> {
    tree.range(keys::day(interest, from)..=keys::day(interest, to))
        .map(|e| {
            let (k, v) = e?;
            let day = k
                .get(k.len().saturating_sub(8)..)
                .and_then(|tail| <[u8; 8]>::try_from(tail).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| ProjectionError::Corrupt("day key".into()))?;
            Ok((day, decode(&v)?))
        })
        .collect()
}
