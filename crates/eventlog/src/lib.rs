//! The sparkfeed event log: an eventstore-style append log on sled.
//!
//! - [`EventLog::append`] writes events to one stream under an [`ExpectedVersion`]; a
//!   mismatch is [`AppendRefused::WrongExpectedVersion`] and writes nothing.
//! - Re-appending event ids that are already in the log writes nothing and answers the
//!   original positions ([`Appended::deduplicated`]).
//! - Positions are global and gap-free, versions contiguous per stream.
//! - An append is acknowledged only after sled has flushed it and its data file has been
//!   `fdatasync`ed; concurrent appends share one such commit (group commit).
//! - Every record is chained to the one before it by SHA-256; [`EventLog::verify`] walks
//!   the chain and the indexes and names the first position that does not match.
//! - [`EventLog::subscribe`] catches up from any position and then follows the log live,
//!   pulling pages from the store, so a slow subscriber holds at most one page.
//!
//! Invariants, and where they are enforced:
//! - Only the writer thread ([`writer`]) assigns positions and writes to the tree; it does
//!   so outside any sled transaction, so no closure can run twice and burn a position.
//! - Readers never see an event before it is durable: every read is capped at the
//!   committed head, which the writer advances only after the flush and fdatasync.
//! - sled never meets a full file system in the ordinary course: a group is written only
//!   while the file system keeps [`Config::storage_reserve_bytes`] free beyond it, and is
//!   otherwise refused whole with `STORAGE_FULL` ([`LogError::StorageFull`]).

mod backend;
pub mod chunk;
mod copy;
pub mod durable;
mod error;
pub mod keys;
mod layout;
mod log;
mod merkle;
pub mod offline;
pub mod records;
mod recovery;
pub mod sled_lock;
pub mod snapshot;
mod space;
pub mod staging;
mod subscription;
mod verify;
mod writer;

use std::fmt;
use std::path::PathBuf;

pub use backend::{AppendFuture, Condition, Log, Replication, SharedLog};
pub use error::{AppendError, AppendRefused, LogError};
pub use log::{Direction, EventLog, INITIALIZED_MARKER, LogStats, StreamSlice, check_append};
pub use recovery::RecoveryReport;
use sparkfeed_events::{Hash, Position, StreamName, StreamVersion};
pub use subscription::{SUBSCRIPTION_PAGE, Subscription};
pub use verify::{Tamper, TamperKind, VerifyReport};

/// What the caller believes about a stream before appending to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must have no events.
    NoStream,
    /// The stream must have at least one event.
    StreamExists,
    /// The stream's last event must have exactly this version.
    Exact(StreamVersion),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::StreamExists => f.write_str("stream exists"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// Where a stream is: absent, or at the version of its last event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StreamState {
    /// No event has been appended to it.
    NoStream,
    /// Its last event has this version.
    At(StreamVersion),
}

impl StreamState {
    /// The version the next event of this stream gets.
    pub fn next_version(self) -> StreamVersion {
        match self {
            StreamState::NoStream => StreamVersion::FIRST,
            StreamState::At(v) => v.next(),
        }
    }

    /// Whether `expected` holds for a stream in this state.
    pub fn satisfies(self, expected: ExpectedVersion) -> bool {
        match (expected, self) {
            (ExpectedVersion::Any, _) => true,
            (ExpectedVersion::NoStream, StreamState::NoStream) => true,
            (ExpectedVersion::StreamExists, StreamState::At(_)) => true,
            (ExpectedVersion::Exact(want), StreamState::At(have)) => want == have,
            _ => false,
        }
    }
}

impl fmt::Display for StreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamState::NoStream => f.write_str("no stream"),
            StreamState::At(v) => write!(f, "at version {v}"),
        }
    }
}

/// What an acknowledged append wrote (or, when deduplicated, had written before).
///
/// The events of one append always occupy consecutive positions and versions.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Appended {
    /// The stream appended to.
    pub stream: StreamName,
    /// Position of the first event.
    pub first_position: Position,
    /// Position of the last event.
    pub last_position: Position,
    /// Stream version of the first event.
    pub first_version: StreamVersion,
    /// Stream version of the last event: the `Exact` to expect next.
    pub last_version: StreamVersion,
    /// True when every event id was already in the log and nothing was written.
    pub deduplicated: bool,
}

impl Appended {
    /// The positions written, in order.
    pub fn positions(&self) -> impl Iterator<Item = Position> + use<> {
        (self.first_position.0..=self.last_position.0).map(Position)
    }
}

/// The durable end of the log: how many events it holds and the chain hash of the last.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LogHead {
    /// Number of durable events; also the position the next event gets.
    pub len: u64,
    /// Chain hash of the last event, [`Hash::GENESIS`] when empty.
    pub hash: Hash,
}

impl LogHead {
    /// The position of the last event, if any.
    pub fn last_position(&self) -> Option<Position> {
        self.len.checked_sub(1).map(Position)
    }
}

/// How to open a log.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory; created if missing.
    pub dir: PathBuf,
    /// sled's page cache, in bytes. sled's own default is 1 GiB; ours is 64 MiB.
    pub cache_capacity_bytes: u64,
    /// The most events one group commit folds together.
    pub max_group_events: usize,
    /// How many appends may wait for the writer before callers are held back.
    pub queue_depth: usize,
    /// Bytes to keep free on the data directory's file system. A group whose keys and
    /// values would leave less is not written: its appends fail with
    /// [`LogError::StorageFull`] (`STORAGE_FULL`) and the log stays healthy. It covers what
    /// sled writes besides the records (rewritten pages, a new segment, a snapshot), so
    /// that sled never gets `ENOSPC`, which it cannot recover from without a reopen.
    /// 0 turns the check off: a full disk then stops the log (`LOG_FAILED`) until reopened.
    pub storage_reserve_bytes: u64,
    /// What an acknowledgement waits for. Always [`Durability::Fdatasync`] outside the
    /// power-cut tests.
    pub durability: Durability,
}

/// The barrier an append waits for before it is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// sled's flush, then `fdatasync` of its data file: survives a power cut.
    #[default]
    Fdatasync,
    /// sled's flush alone (`sync_file_range` on Linux): survives a killed process, NOT a
    /// power cut. It exists only so that the power-cut tests can show they catch a log
    /// without its fdatasync; never use it for data you keep.
    FlushOnly,
}

impl Config {
    /// Defaults for the data directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            cache_capacity_bytes: 64 * 1024 * 1024,
            max_group_events: 4096,
            queue_depth: 4096,
            storage_reserve_bytes: DEFAULT_STORAGE_RESERVE_BYTES,
            durability: Durability::Fdatasync,
        }
    }
}

/// The default [`Config::storage_reserve_bytes`]: 64 MiB.
pub const DEFAULT_STORAGE_RESERVE_BYTES: u64 = 64 * 1024 * 1024;

/// The most events one append may carry.
pub const MAX_EVENTS_PER_APPEND: usize = 1000;
