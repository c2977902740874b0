//! `audit`: the sponsorship audit trail, per contract, per sponsored post and per party;
//! and the sponsorship ledger, per contract, in the shape of an EU ad repository (DSA
//! Art. 39): who paid, for whom, the period, the posts and their disclosures, and the
//! purchases and commissions under it.
//!
//! Rows hold no personal data: positions, times, actors (opaque ids), event types, chain
//! hashes, amounts, a brand's public name and the reasons given for an ending or a removal.
//!
//! - [`keys`]: every key of its rows, the only place one is spelled.
//! - [`rows`]: the [`AuditEntry`](rows::AuditEntry) with its typed
//!   [`Fact`](rows::Fact), and the ledger's rows.
//! - `apply` (the [`Projection`](crate::Projection) impl of [`Audit`]): which events
//!   enter the trail, as what fact and in what words; `ledger`: how each entry changes
//!   the ledger; [`earnings`]: what members earn, and when a flat fee counts.
//! - [`read`]: a post's and a party's history, a contract, the contracts by brand,
//!   enthusiast and period, the posts and purchases under one, a member's earnings in all
//!   and by month.

mod apply;
pub mod earnings;
pub mod keys;
mod ledger;
pub mod read;
pub mod rows;

/// The audit projection.
pub struct Audit;

/// Its name.
pub const AUDIT: &str = "audit";
