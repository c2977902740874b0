//! The keys of the analytics projection's rows: the only place one is spelled.
//!
//! Day numbers are days since the Unix epoch, big-endian, so a range of days is a range
//! of keys.
//!
//! | key | row |
//! | --- | --- |
//! | `post\|post` | [`PostFacts`](super::rows::PostFacts): its interests and kind |
//! | `day\|interest\|day` | [`DayCounters`](super::rows::DayCounters) |
//! | `kind\|sponsored\|day`, `kind\|organic\|day` | [`KindDay`](super::rows::KindDay) |
//! | `pday\|day\|asin` | [`Sales`](super::rows::Sales) of a product that day |
//! | `postday\|day\|post` | [`Sales`](super::rows::Sales) through a post that day |

use sparkfeed_domain::{Asin, InterestSlug, PostId};

use crate::store::{key, prefix};

/// What the projection counts a post's engagements and orders under: `post|post`.
pub fn post(post: &PostId) -> Vec<u8> {
    key(&["post", post.as_str()], None)
}

/// An interest's counters of one day: `day|interest|day`.
pub fn day(interest: &InterestSlug, day: u64) -> Vec<u8> {
    key(&["day", interest.as_str()], Some(day))
}

/// The name of a kind of post in keys.
fn kind_name(sponsored: bool) -> &'static str {
    if sponsored { "sponsored" } else { "organic" }
}

/// What sponsored (or organic) posts did one day: `kind|sponsored|day`.
pub fn kind_day(sponsored: bool, day: u64) -> Vec<u8> {
    key(&["kind", kind_name(sponsored)], Some(day))
}

/// A product's sales of one day: `pday|day|asin`.
pub fn product_day(day: u64, asin: &Asin) -> Vec<u8> {
    let mut k = key(&["pday"], Some(day));
    k.push(0);
    k.extend_from_slice(asin.as_str().as_bytes());
    k
}

/// What every product's sales of `day` start with.
pub fn product_day_prefix(day: u64) -> Vec<u8> {
    let mut k = key(&["pday"], Some(day));
    k.push(0);
    k
}

/// A post's sales of one day: `postday|day|post`.
pub fn post_day(day: u64, post: &PostId) -> Vec<u8> {
    let mut k = key(&["postday"], Some(day));
    k.push(0);
    k.extend_from_slice(post.as_str().as_bytes());
    k
}

/// What every post's sales of `day` start with.
pub fn post_day_prefix(day: u64) -> Vec<u8> {
    let mut k = key(&["postday"], Some(day));
    k.push(0);
    k
}

/// What every day row of a kind of post starts with.
pub fn kind_prefix(sponsored: bool) -> Vec<u8> {
    prefix(&["kind", kind_name(sponsored)])
}
