//! `moderation`: the moderators' queue of reported posts.
//!
//! Rows hold opaque ids, reasons, decisions, positions and times: no personal data.
//!
//! - [`keys`]: every key of its rows, the only place one is spelled.
//! - [`rows`]: the [`ReportRow`](rows::ReportRow).
//! - `apply` (the [`Projection`](crate::Projection) impl of [`Moderation`]).
//! - [`read`]: one report, and the open or resolved queue, newest first.

mod apply;
pub mod keys;
pub mod read;
pub mod rows;

/// The moderation projection.
pub struct Moderation;

/// Its name.
pub const MODERATION: &str = "moderation";
