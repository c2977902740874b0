//! The rows of the moderation projection.

use serde::{Deserialize, Serialize};
use sparkfeed_domain::events::{ReportDecision, ReportReason};
use sparkfeed_domain::{PostId, ReportId, UserId};
use sparkfeed_events::Position;

/// A member's report of a post, and the moderator's decision once made.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct ReportRow {
    /// The report.
    pub report: ReportId,
    /// The post reported.
    pub post: PostId,
    /// Who reported it.
    pub reporter: UserId,
    /// Why.
    pub reason: ReportReason,
    /// Where the report is in the log.
    pub position: Position,
    /// When it was filed (microseconds since the epoch).
    pub reported_at: i64,
    /// The decision, once made.
    pub resolution: Option<Resolution>,
}

/// A moderator's decision on a report.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Resolution {
    /// The moderator.
    pub by: UserId,
    /// Dismissed or upheld.
    pub decision: ReportDecision,
    /// Where the decision is in the log.
    pub position: Position,
    /// When (microseconds since the epoch).
    pub decided_at: i64,
}
