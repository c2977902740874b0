//! The keys of the moderation projection's rows: the only place one is spelled.
//!
//! Queue entries end in the reversed position of the event that put them there: newest
//! first, and the position is the entry's cursor.
//!
//! | key | row |
//! | --- | --- |
//! | `report\|id` | [`ReportRow`](super::rows::ReportRow) |
//! | `open\|reversed position of the report` | [`ReportRow`](super::rows::ReportRow), while undecided |
//! | `resolved\|reversed position of the decision` | [`ReportRow`](super::rows::ReportRow), once decided |

use sparkfeed_domain::ReportId;
use sparkfeed_events::Position;

use crate::store::{key, newest_first, prefix};

/// A report: `report|id`.
pub fn report(id: &ReportId) -> Vec<u8> {
    key(&["report", id.as_str()], None)
}

/// An undecided report in the queue, at the position it was filed: `open|position`.
pub fn open_entry(filed_at: Position) -> Vec<u8> {
    key(&["open"], Some(newest_first(filed_at)))
}

/// What every undecided report's queue entry starts with.
pub fn open_prefix() -> Vec<u8> {
    prefix(&["open"])
}

/// A decided report, at the position it was decided: `resolved|position`.
pub fn resolved_entry(decided_at: Position) -> Vec<u8> {
    key(&["resolved"], Some(newest_first(decided_at)))
}

/// What every decided report's entry starts with.
pub fn resolved_prefix() -> Vec<u8> {
    prefix(&["resolved"])
}
