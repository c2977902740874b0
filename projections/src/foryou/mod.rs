//! `foryou`: what the ranked "For you" feed knows of each member, and the ranking itself.
//!
//! The rows are the member's own signals ([`rows::MemberSignals`]): who they follow, what
//! they hid and their feed mode (their explicit controls), and their affinity to authors,
//! interests and products, learned from what they smiled at, saved, shared, commented on
//! and bought for themselves. Engagements wait in a small row of their own
//! ([`rows::Unfolded`]) and are folded into the signals [`rows::FOLD_AT`] at a time; a read
//! folds in the ones still waiting ([`read::signals`]). A small index of each post's
//! author, interests and products ([`rows::PostFacts`]) lets an engagement be credited
//! without reading another projection. Everything else a ranking needs (candidates, cards, counts, purchases) is
//! read from `feeds` at query time ([`rank`]).
//!
//! - [`keys`]: every key of its rows, the only place one is spelled.
//! - [`rows`]: the rows; [`keyed`], the lists in them searched at every engagement.
//! - `fold`: how engagements change a member's signals, folded in [`rows::FOLD_AT`] at a
//!   time ([`rows::Unfolded`]).
//! - `apply` (the [`Projection`](crate::Projection) impl of [`ForYou`]).
//! - [`read`]: a member's signals.
//! - [`rank`]: candidates, scores, reasons, and the arrangement under the feed policy.
//!
//! A forgotten member's signals and unfolded engagements are deleted: what they liked is
//! personal.

mod apply;
mod fold;
pub mod keyed;
pub mod keys;
pub mod rank;
pub mod read;
pub mod rows;
pub mod score;

/// The `foryou` projection.
pub struct ForYou;

/// Its name.
pub const FOR_YOU: &str = "foryou";
