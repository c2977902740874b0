//! The rows the read models store, under their old paths: each projection's rows now live
//! with it ([`crate::feeds::rows`], [`crate::audit::rows`], [`crate::analytics::rows`]);
//! callers move there.

pub use crate::analytics::rows::DayCounters;
pub use crate::audit::rows::AuditEntry;
pub use crate::feeds::rows::{
    BoughtRow, CommentRow, Engaged, Engagement, EngagementKind, InterestRow, LISTED_MEMBERS,
    MemberRow, OrderRow, PostBody, PostCardRow, PostStats, ProductRow, StatsRow,
};
