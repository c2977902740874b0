//! `audit`: the sponsorship audit trail, per contract, per sponsored post and per party.
//!
//! Entries hold no personal data: positions, times, actors (opaque ids), event types,
//! chain hashes and amounts.
//!
//! - [`keys`]: every key of its rows, the only place one is spelled.
//! - [`rows`]: the [`AuditEntry`](rows::AuditEntry).
//! - `apply` (the [`Projection`](crate::Projection) impl of [`Audit`]): which events
//!   enter the trail, and in what words.
//! - [`read`]: a post's and a party's history.

mod apply;
pub mod keys;
pub mod read;
pub mod rows;

/// The audit projection.
pub struct Audit;

/// Its name.
pub const AUDIT: &str = "audit";
