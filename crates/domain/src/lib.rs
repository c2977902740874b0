//! The rules of sparkfeed: every user action is a [`Command`] that yields events or a typed
//! [`Refusal`], and a refusal appends nothing.
//!
//! - [`ids`] holds the domain newtypes, parsed at the edge;
//! - [`events`] every event, with personal data [`Sealed`] from version 1;
//! - [`state`] the aggregates, one per stream kind, folding their events;
//! - [`service`] the [`Domain`] that loads state, applies the rules and appends.
//!
//! Streams: `user-<id>`, `handle-<keyed hash>`, `interest-<slug>`, `product-<asin>`,
//! `post-<id>`, `engagement-<post>.<member>`, `share-<post>.<member>`, `comment-<id>`,
//! `order-<hash of buyer and key>`, `sponsorship-<id>`. No stream name carries personal
//! data.

pub mod commands;
mod error;
pub mod events;
mod ids;
mod seal;
pub mod service;
pub mod state;
pub mod streams;

pub use commands::{Caller, ClientKey, Command, Context, MediaInput, TagInput};
pub use error::{CommandError, Failure, Refusal};
pub use ids::{
    Asin, CommentId, ContractId, Currency, DerivedId, Handle, InterestSlug, Money, PostId, Role,
    UserId,
};
pub use seal::{KeyStore, Sealed};
pub use service::{Domain, Executed, order_id};
