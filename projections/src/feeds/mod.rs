//! `feeds`: per-interest feeds, post cards, members, products, orders, saves, comments.
//!
//! - [`keys`]: every key of its rows, the only place one is spelled.
//! - [`rows`]: what the rows hold.
//! - `apply` (the [`Projection`](crate::Projection) impl of [`Feeds`]): how each event
//!   changes them, with smiles and saves kept in `engagement`.
//! - [`read`]: queries of single rows and lists; [`home`]: the member's home feed, which
//!   merges their interests' feeds (`merge`) and lets the feed [`policy`] filter them.

mod apply;
mod engagement;
pub mod home;
pub mod keys;
mod merge;
pub mod policy;
pub mod read;
pub mod rows;
mod stats_view;
pub mod walk;

/// The feeds projection.
pub struct Feeds;

/// Its name.
pub const FEEDS: &str = "feeds";
