//! The keys of the analytics projection's rows: the only place one is spelled.
//!
//! | key | row |
//! | --- | --- |
//! | `postint\|post` | the post's interests |
//! | `day\|interest\|day number` | [`DayCounters`](super::rows::DayCounters) (days in order) |

use sparkfeed_domain::{InterestSlug, PostId};

use crate::store::key;

/// A post's interests: `postint|post`.
pub fn post_interests(post: &PostId) -> Vec<u8> {
    key(&["postint", post.as_str()], None)
}

/// An interest's counters of one day (days since the Unix epoch): `day|interest|day`.
pub fn day(interest: &InterestSlug, day: u64) -> Vec<u8> {
    key(&["day", interest.as_str()], Some(day))
}
