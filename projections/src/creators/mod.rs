//! `creators`: who follows whom, and each creator's storefront (the products they tagged
//! in their posts, ranked by the purchases made through those posts).
//!
//! Rows hold opaque ids, counts and positions: no personal data.
//!
//! - [`keys`]: every key of its rows, the only place one is spelled.
//! - [`rows`]: follow counts, a storefront's [`ShelfRow`](rows::ShelfRow)s, and the
//!   products each post tags.
//! - `apply` (the [`Projection`](crate::Projection) impl of [`Creators`]): follows, tags,
//!   removals and orders.
//! - [`read`]: counts, follower and following lists (newest first), and a storefront.

mod apply;
pub mod keys;
pub mod read;
pub mod rows;

/// The creators projection.
pub struct Creators;

/// Its name.
pub const CREATORS: &str = "creators";
