//! Queries over the analytics projection. Days are day numbers since the Unix epoch
//! ([`super::day_of`]); every range is inclusive.

use std::collections::HashMap;

use sparkfeed_domain::{Asin, InterestSlug, PostId};

use super::keys;
use super::rows::{DayCounters, KindDay, Sales};
use crate::ProjectionError;
use crate::store::decode;

/// The counters of an interest for days `from..=to`, days without activity left out.
pub fn analytics(
    tree: &sled::Tree,
    interest: &InterestSlug,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, DayCounters)>, ProjectionError> {
    tree.range(keys::day(interest, from)..=keys::day(interest, to))
        .map(|e| {
            let (k, v) = e?;
            Ok((day_of_key(&k)?, decode(&v)?))
        })
        .collect()
}

/// The day a key ends in.
fn day_of_key(k: &[u8]) -> Result<u64, ProjectionError> {
    k.get(k.len().saturating_sub(8)..)
        .and_then(|tail| <[u8; 8]>::try_from(tail).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| ProjectionError::Corrupt("day key".into()))
}

/// The `first` products with the most orders over days `from..=to`, most first (ties:
/// more revenue first, then by ASIN).
pub fn top_products(
    tree: &sled::Tree,
    from: u64,
    to: u64,
    first: usize,
) -> Result<Vec<(Asin, Sales)>, ProjectionError> {
    top(tree, from, to, first, keys::product_day_prefix, |id| {
        Asin::parse(id).ok()
    })
}

/// The `first` posts with the most orders through them over days `from..=to`, most first
/// (ties: more revenue first, then by id).
pub fn top_posts(
    tree: &sled::Tree,
    from: u64,
    to: u64,
    first: usize,
) -> Result<Vec<(PostId, Sales)>, ProjectionError> {
    top(tree, from, to, first, keys::post_day_prefix, |id| {
        PostId::parse(id).ok()
    })
}

/// The sales of every id under `prefix(day)` summed over the days, the `first` best.
fn top<T: Ord + Clone + std::hash::Hash>(
    tree: &sled::Tree,
    from: u64,
    to: u64,
    first: usize,
    prefix: fn(u64) -> Vec<u8>,
    parse: fn(&str) -> Option<T>,
) -> Result<Vec<(T, Sales)>, ProjectionError> {
    let mut totals: HashMap<T, Sales> = HashMap::new();
    for day in from..=to {
        let prefix = prefix(day);
        for entry in tree.scan_prefix(&prefix) {
            let (k, v) = entry?;
            let id = k
                .get(prefix.len()..)
                .and_then(|id| std::str::from_utf8(id).ok())
                .and_then(parse)
                .ok_or_else(|| ProjectionError::Corrupt("sales key".into()))?;
            let sales: Sales = decode(&v)?;
            let total = totals.entry(id).or_default();
            *total = total.plus(sales);
        }
    }
    let mut ranked: Vec<(T, Sales)> = totals.into_iter().collect();
    ranked.sort_by(|(a, x), (b, y)| {
        (y.purchases, y.revenue_cents)
            .cmp(&(x.purchases, x.revenue_cents))
            .then_with(|| a.cmp(b))
    });
    ranked.truncate(first);
    Ok(ranked)
}

/// What the posts of one kind did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct KindFigures {
    /// Posts of the kind published up to and including the last day.
    pub posts: u64,
    /// Orders through posts of the kind over the days.
    pub sales: Sales,
}

/// Sponsored posts and organic ones over days `from..=to`: (sponsored, organic).
pub fn sponsored_and_organic(
    tree: &sled::Tree,
    from: u64,
    to: u64,
) -> Result<(KindFigures, KindFigures), ProjectionError> {
    let figures = |sponsored: bool| -> Result<KindFigures, ProjectionError> {
        let mut out = KindFigures::default();
        let first = keys::kind_prefix(sponsored);
        for entry in tree.range(first..=keys::kind_day(sponsored, to)) {
            let (k, v) = entry?;
            let row: KindDay = decode(&v)?;
            out.posts = out.posts.saturating_add(row.posts);
            if day_of_key(&k)? >= from {
                out.sales = out.sales.plus(row.sales);
            }
        }
        Ok(out)
    };
    Ok((figures(true)?, figures(false)?))
}
