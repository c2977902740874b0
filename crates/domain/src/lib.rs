//! The rules of sparkfeed: every user action is a [`Command`] that yields events or a typed
//! [`Refusal`], and a refusal appends nothing.
//!
//! - [`ids`] holds the domain newtypes, parsed at the edge;
//! - [`events`] every event, with personal data [`Sealed`] from version 1;
//! - [`state`] the aggregates, one per stream kind, folding their events (evolve);
//! - [`rules`] one module per aggregate family, each a pure `decide` (command and states
//!   in, events or a [`Refusal`] out);
//! - [`limits`] every limit the rules enforce;
//! - [`streams`] the name of every stream;
//! - [`service`] the [`Domain`] that loads state, asks the rules, seals and appends.
//!
//! Where to add a new action: a [`Command`] variant (`commands.rs`), its event
//! (`events.rs`) and that event's `apply` (`state.rs`), a `decide` arm in the rules module
//! of the family whose stream it writes (`rules/`), and, in `service/execute.rs`, the arm
//! that routes it to that family (plus any stream its rule reads that the family does not
//! load yet). A new stream kind is named in `streams.rs`. Its tests are given/when/then
//! in `tests/rules` (`memory::Given::when` routes a command as `execute` does).
//!
//! Streams: `user-<id>`, `handle-<keyed hash>`, `interest-<slug>`, `product-<asin>`,
//! `post-<id>`, `engagement-<post>.<member>`, `share-<post>.<member>`, `comment-<id>`,
//! `order-<hash of buyer and key>`, `sponsorship-<id>`. No stream name carries personal
//! data.

pub mod commands;
mod error;
pub mod events;
mod ids;
pub mod limits;
pub mod rules;
mod seal;
pub mod service;
pub mod state;
pub mod streams;

pub use commands::{Caller, ClientKey, Command, Context, MediaInput, TagInput};
pub use error::{CommandError, Failure, Refusal};
pub use ids::{
    Asin, CommentId, ContractId, Currency, DerivedId, Handle, InterestSlug, Money, PostId,
    ReportId, Role, UserId,
};
pub use seal::{KeyStore, Sealed, SharedKeys};
pub use service::{Domain, Executed, order_id};
