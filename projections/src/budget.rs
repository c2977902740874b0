//! One page-cache budget for every projection store, split by weight.
//!
//! sled gives each open store a page cache of its own, fixed when it opens, and each
//! projection generation is a store of its own. Given the same cache each, six projections
//! and a rebuild's fresh generation could hold seven times the figure given; given shares
//! of one budget, they hold at most the budget.
//!
//! The budget also bounds what is kept beside the page caches, in bytes: each projection's
//! row cache ([`crate::RowCache`], the rows served reads fetched) and the API's rows kept
//! decoded across requests ([`CacheBudget::decoded_rows_share`]). Counted in rows, those
//! held 200 MB more than the budget in a server whose members scroll every feed
//! (BENCHMARKS.md).
//!
//! Invariant (the budget holds): the shares of every projection (its store's page cache,
//! its row cache and its rows kept decoded between live batches), the API's decoded rows,
//! plus one reserve the size of the largest store's share add up to at most the budget
//! (each share is rounded down), unless
//! the budget is so small that [`MIN_STORE_CACHE_BYTES`] a store is more (below about
//! 80 MiB for today's projections). The reserve is what a rebuild's
//! fresh generation uses beside the active one, which opens with its projection's share;
//! two rebuilds at once may exceed the budget by one share.

use crate::Projection;

/// The least page cache a store gets, whatever the budget: sled needs some room to work.
pub const MIN_STORE_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// A projection's part of the budget goes to its store's page cache but for one
/// `WARM_PART`th (an eighth) of it, which holds the rows its live batches changed in place,
/// decoded, unless the projection says otherwise ([`Projection::warm_part`]).
pub const WARM_PART: u64 = 8;

/// A projection's row cache gets one `ROWS_PART`th (an eighth) of its part of the budget.
pub const ROWS_PART: u64 = 8;

/// The API's rows kept decoded across requests get one `DECODED_PART`th (an eighth) of the
/// whole budget, before it is split among the projections.
pub const DECODED_PART: u64 = 8;

/// A page-cache budget split among projections by their [`Projection::cache_weight`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheBudget {
    bytes: u64,
    /// Every projection's weight, plus the reserve's (the largest weight).
    total_weight: u64,
}

impl CacheBudget {
    /// `bytes` split among `projections` and a reserve for one rebuild.
    pub fn split(bytes: u64, projections: &[std::sync::Arc<dyn Projection>]) -> Self {
        let weights = projections.iter().map(|p| p.cache_weight().max(1));
        let reserve = weights.clone().max().unwrap_or(1);
        Self {
            bytes,
            total_weight: weights.sum::<u64>() + reserve,
        }
    }

    /// The whole budget.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The page cache of a store of `projection`: its part of the budget but for what
    /// [`CacheBudget::warm_share`] and [`CacheBudget::row_cache_share`] keep.
    pub fn share(&self, projection: &dyn Projection) -> u64 {
        let part = self.part(projection);
        (part - self.warm_share(projection) - part / ROWS_PART).max(MIN_STORE_CACHE_BYTES)
    }

    /// What the row cache in front of a store of `projection` may hold, counted as
    /// [`crate::RowCache`] counts it.
    pub fn row_cache_share(&self, projection: &dyn Projection) -> u64 {
        self.part(projection) / ROWS_PART
    }

    /// What the API's rows kept decoded across requests may hold, all kinds together.
    pub fn decoded_rows_share(&self) -> u64 {
        self.bytes / DECODED_PART
    }

    /// What `projection` may keep of the rows it changed in place, decoded, from one live
    /// batch to the next (counted as [`crate::store::Rows`] counts them): a
    /// [`Projection::warm_part`]th of its part of the budget.
    pub fn warm_share(&self, projection: &dyn Projection) -> u64 {
        self.part(projection) / projection.warm_part().max(2)
    }

    fn part(&self, projection: &dyn Projection) -> u64 {
        let weight = u128::from(projection.cache_weight().max(1));
        let projections = self.bytes - self.decoded_rows_share();
        let part = u128::from(projections) * weight / u128::from(self.total_weight.max(1));
        u64::try_from(part).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_share_and_a_rebuilds_reserve_fit_in_the_budget() {
        let all = crate::all();
        for mib in [16u64, 64, 96, 192, 256, 1024, 4096] {
            let budget = CacheBudget::split(mib << 20, &all);
            let shares: Vec<u64> = all.iter().map(|p| budget.share(p.as_ref())).collect();
            let warm: u64 = all.iter().map(|p| budget.warm_share(p.as_ref())).sum();
            let rows: u64 = all.iter().map(|p| budget.row_cache_share(p.as_ref())).sum();
            let reserve = shares.iter().copied().max().unwrap_or(0);
            let used =
                shares.iter().sum::<u64>() + warm + rows + budget.decoded_rows_share() + reserve;
            // Below about 80 MiB the least a store gets is what binds.
            if mib >= 96 {
                assert!(used <= mib << 20, "{mib} MiB: {used} bytes in shares");
            }
            assert!(shares.iter().all(|s| *s >= MIN_STORE_CACHE_BYTES));
        }
    }

    #[test]
    fn each_projection_keeps_decoded_the_part_it_asks_for_and_its_store_caches_the_rest() {
        let all = crate::all();
        let budget = CacheBudget::split(192 << 20, &all);
        for p in &all {
            let (warm, rows) = (
                budget.warm_share(p.as_ref()),
                budget.row_cache_share(p.as_ref()),
            );
            let part = warm + rows + budget.share(p.as_ref());
            // Each is rounded down from the same part: the sum may fall short by a byte each.
            assert!(warm.abs_diff(part / p.warm_part()) <= 2, "{}", p.name());
            assert!(rows.abs_diff(part / ROWS_PART) <= 2, "{}", p.name());
        }
        assert_eq!(budget.decoded_rows_share(), (192 << 20) / DECODED_PART);
        let foryou = all.iter().find(|p| p.name() == "foryou").expect("foryou");
        assert!(
            foryou.warm_part() < WARM_PART,
            "foryou keeps more than the default"
        );
    }

    #[test]
    fn the_feeds_store_gets_the_largest_share() {
        let all = crate::all();
        let budget = CacheBudget::split(256 << 20, &all);
        let share = |name: &str| {
            all.iter()
                .find(|p| p.name() == name)
                .map(|p| budget.share(p.as_ref()))
                .unwrap_or(0)
        };
        for p in &all {
            assert!(share("feeds") >= budget.share(p.as_ref()), "{}", p.name());
        }
        assert!(share("feeds") > share("moderation"));
    }
}
