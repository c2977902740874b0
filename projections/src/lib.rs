//! The read side of sparkfeed: every screen is a projection of the log.
//!
//! A [`Projection`] folds domain events into rows of its own sled tree. The runner
//! ([`Projections`]) feeds each projection the log from its checkpoint and commits the
//! rows of a batch of events together with the new checkpoint in one `sled::Batch`, then
//! fdatasyncs the store, so a crash or a power cut at any instant neither skips nor
//! double-applies an event. Projections follow the log live and report their lag;
//! [`Projections::wait_for`] lets a client read its own writes; [`Projections::rebuild`]
//! replays from zero into a fresh store and swaps it in while the old one keeps serving.
//!
//! Read models, each a module holding its `apply` (the [`Projection`] impl), its `keys`
//! (the only place a row key is spelled), its `rows` and its `read` queries: [`feeds`]
//! (per-interest feeds, post cards, members, products, orders, saves, comments, the home
//! feed and the feed [`policy`](feeds::policy)), [`audit`] (sponsorship audit trail),
//! [`analytics`] (per interest and day), [`moderation`] (the queue of reported posts),
//! [`creators`] (follows and storefronts).
//! [`read`] and [`rows`] keep the old paths.
//!
//! The runner is in `runner` (live and catch-up) and `runner::replay` (rebuilds); the
//! `catalog` names each projection's served generation; [`store`] holds the generations
//! and the batch of rows being written, and [`heap`] counts what its rows held decoded
//! take; [`cache`] and [`decoded`] serve reads; [`list`] pages lists.
//!
//! Invariant: projections only read the log; nothing here writes to it.

pub mod analytics;
pub mod audit;
mod bucket;
pub mod budget;
pub mod cache;
mod catalog;
pub mod creators;
pub mod decoded;
pub mod feeds;
pub mod foryou;
pub mod heap;
pub mod list;
pub mod moderation;
pub mod read;
pub mod rows;
mod runner;
pub mod store;
mod warm;

use std::sync::Arc;

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_eventlog::LogError;
use sparkfeed_events::RecordedEvent;

pub use crate::budget::CacheBudget;
pub use crate::cache::{RowCache, Source, View};
pub use crate::runner::{Projections, RebuildReport};
use crate::store::Rows;

/// What folding one event answers: done, or why the projection cannot go on.
pub type Applied = Result<(), ProjectionError>;

/// A read model: folds events into rows.
pub trait Projection: Send + Sync + 'static {
    /// Its stable name (`feeds`, `audit`, `analytics`).
    fn name(&self) -> &'static str;

    /// The layout version of its rows. Bump it with any change that makes rows written by
    /// the old `apply` wrong for the new reads (a key renamed, a row reshaped, a rule
    /// changed). A store built by another version is never served: opening it starts a
    /// fresh generation that replays the log from zero.
    fn version(&self) -> u32;

    /// Its part of the page-cache budget, relative to the others' ([`CacheBudget`]): the
    /// stores that serve feed pages read most and get most.
    fn cache_weight(&self) -> u64 {
        1
    }

    /// Its rows kept decoded between live batches get one `warm_part()`th of its part of
    /// the budget ([`CacheBudget::warm_share`], at most half), its store's page cache the
    /// rest.
    fn warm_part(&self) -> u64 {
        budget::WARM_PART
    }

    /// Folds one event into `rows`. Must be deterministic: a rebuild replays it.
    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied;
}

/// Why a projection could not advance or answer.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The projection store failed. Code `STORE`.
    #[error("projection store: {0}")]
    Store(#[from] sled::Error),
    /// The log failed. Code: the log's.
    #[error("log: {0}")]
    Log(#[from] LogError),
    /// A row or an event does not decode. Code `CORRUPT`.
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// No projection has this name. Code `NOT_FOUND`.
    #[error("no projection named {0}")]
    Unknown(String),
    /// The projections did not reach the position in time. Code `TIMEOUT`.
    #[error("projections did not reach position {0} in time")]
    Timeout(u64),
}

impl ProjectionError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ProjectionError::Store(_) => "STORE",
            ProjectionError::Log(e) => e.code(),
            ProjectionError::Corrupt(_) => "CORRUPT",
            ProjectionError::Unknown(_) => "NOT_FOUND",
            ProjectionError::Timeout(_) => "TIMEOUT",
        }
    }
}

/// The page-cache budget of all projection stores together unless configured: 192 MiB,
/// split by [`CacheBudget`]. The cache fills only as rows are read and written, and hot
/// rows are also served from each projection's row cache ([`crate::cache`]).
pub const DEFAULT_CACHE_BYTES: u64 = 192 * 1024 * 1024;

/// How many bytes of rows a replay holds in memory before it writes them out: the rows
/// of many batches coalesce (a post's counts are written once, not once per batch that
/// touched them) and go to the fresh tree in key order. Bounds a rebuild's extra memory.
///
/// 128 MiB holds the rows feeds and foryou change in place at 10^6 events (about 47 and
/// 64 MB, counted as [`heap::HeapSize`] says they hold). At 64 MiB, once they were counted
/// at what they hold, those rebuilds took 13-22% more CPU (BENCHMARKS.md, thirteenth
/// session); before, they were counted at a few MB and 64 MiB held about twice that.
pub const DEFAULT_REPLAY_BUFFER_BYTES: usize = 128 << 20;

/// From how many events in the log a projection that has applied none catches up by a
/// rebuild ([`Projections::catch_up`]) rather than batch by batch. Batch by batch, every
/// first read of a row goes through the store's share of the page cache and every batch
/// is synced: at 10^7 events that took about 30 minutes on one core, reading some 620 GB
/// from the files' page cache, and at 10^6 about 81 s against 27-33 s rebuilt
/// (`BENCHMARKS.md`). A short log catches up batch by batch: a rebuild starts a
/// generation of its own.
pub const DEFAULT_REBUILD_FROM_EVENTS: u64 = 100_000;

/// A live projection writes nothing for a batch of events that changes none of its rows,
/// not even its checkpoint, but never lets the checkpoint in its tree stand this many
/// events behind: the most events a restart applies again, for nothing (see
/// [`View::checkpoint`]).
pub const UNWRITTEN_AT_MOST: u64 = 4096;

/// Every projection, in the order they are opened.
fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(feeds::Feeds),
        Arc::new(audit::Audit),
        Arc::new(analytics::Analytics),
        Arc::new(moderation::Moderation),
        Arc::new(foryou::ForYou),
        Arc::new(creators::Creators),
    ]
}
