//! The GraphQL object types, one file per object, each over a read-model row.
//!
//! Each file holds its object's field functions (`mod field`), the executor's methods that
//! call them, and, for the objects of a post card, a `direct` function that answers a
//! selection from the same field functions ([`crate::direct`] walks the selection). So a
//! value is computed in one place whichever path asks for it.
//!
//! [`nodes`] names the rows that objects point at each other through (a post's author, a
//! member's posts), so that no object file imports another that imports it.
//!
//! Every object type here is `serial`: its fields are synchronous reads from the request's
//! snapshot, so resolving them one after another gives the same answer as resolving them
//! concurrently, without a `FuturesUnordered` (and a task allocation per field) per object,
//! which cost about a tenth of a feed page's CPU.

pub(crate) mod analytics;
pub(crate) mod audit;
pub(crate) mod comment;
pub(crate) mod disclosure;
pub(crate) mod earnings;
pub(crate) mod event;
pub(crate) mod feed;
pub(crate) mod follows;
pub(crate) mod foryou;
pub(crate) mod interest;
pub(crate) mod ledger;
pub(crate) mod media;
pub(crate) mod merkle;
pub(crate) mod money;
pub(crate) mod nodes;
pub(crate) mod order;
pub(crate) mod post;
pub(crate) mod post_counts;
pub(crate) mod product;
pub(crate) mod projection;
pub(crate) mod report;
pub(crate) mod sales;
pub(crate) mod sponsorship;
pub(crate) mod storefront;
pub(crate) mod tag;
pub(crate) mod user;
pub(crate) mod verify;
