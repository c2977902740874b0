//! What can go wrong, typed so that "try again" is never confused with "the disk is broken".
//!
//! [`AppendRefused`] is an expected outcome: the log is healthy and nothing was written.
//! [`LogError`] is a failure below the rules: I/O, corruption, a lock held elsewhere, a
//! closed log (fail-stop), or a file system too full to append to (the log stays healthy
//! and appends resume once space is freed: [`LogError::StorageFull`]).

use std::path::PathBuf;

use sparkfeed_events::{CodecError, EventId, Position, StreamName};

use crate::{ExpectedVersion, StreamState};

/// An append the log declined. Nothing of it was written; the log is healthy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendRefused {
    /// The stream is not at the version the caller expected (an optimistic-concurrency race
    /// was lost, or the caller's view is stale). GraphQL code: `WRONG_EXPECTED_VERSION`.
    #[error("wrong expected version on {stream}: expected {expected}, stream is {actual}")]
    WrongExpectedVersion {
        /// The stream appended to.
        stream: StreamName,
        /// What the caller expected.
        expected: ExpectedVersion,
        /// What the stream actually is.
        actual: StreamState,
    },
    /// Some of the event ids are already in the log, but not as exactly this append (other
    /// stream, other order, or only some of them). Code: `EVENT_ID_CONFLICT`.
    #[error("event id {event_id} conflicts with the log: {reason}")]
    EventIdConflict {
        /// The first conflicting id.
        event_id: EventId,
        /// How it conflicts.
        reason: &'static str,
    },
    /// The append itself is malformed (no events, too many, a repeated id). Code:
    /// `VALIDATION`, or what the codec said of a record it could not seal.
    #[error("invalid append: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
        /// The stable code.
        code: &'static str,
    },
    /// A record is over the size limit (`codec::MAX_RECORD_BYTES`). Code:
    /// `RECORD_TOO_LARGE`.
    #[error("invalid append: {reason}")]
    TooLarge {
        /// Which record, and how large.
        reason: String,
    },
}

impl AppendRefused {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AppendRefused::WrongExpectedVersion { .. } => "WRONG_EXPECTED_VERSION",
            AppendRefused::EventIdConflict { .. } => "EVENT_ID_CONFLICT",
            AppendRefused::Invalid { code, .. } => code,
            AppendRefused::TooLarge { .. } => "RECORD_TOO_LARGE",
        }
    }
}

/// A failure of the log: the caller cannot fix it by retrying the same call at once.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Another process (or another handle in this one) has the data directory open.
    /// Code: `LOG_LOCKED`.
    #[error("{} is in use by another sparkfeed process (lock held on {})", dir.display(), lock.display())]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The file system of the data directory has less free space than the append needs
    /// plus [`Config::storage_reserve_bytes`](crate::Config::storage_reserve_bytes), so the
    /// append was not written (nothing of its group reached the store). Not fail-stop: the
    /// log stays healthy, reads work, and appends succeed again once space is freed.
    /// Code: `STORAGE_FULL`.
    #[error(
        "the file system of the log is full: {available} bytes free, {needed} needed \
         (the append and the reserve); nothing was written, append again once space is freed"
    )]
    StorageFull {
        /// Bytes free for an unprivileged writer (`f_bavail`).
        available: u64,
        /// Bytes the append needed free: its group's keys and values plus the reserve.
        needed: u64,
    },
    /// A file-system operation failed. Code: `IO`, or `STORAGE_FULL` when the OS said
    /// `ENOSPC`.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// sled failed. Code: `STORE`, or `STORAGE_FULL` when sled's I/O got `ENOSPC`.
    #[error("store: {0}")]
    Store(#[from] sled::Error),
    /// Stored bytes are not what the log wrote. Code: `CORRUPT`.
    #[error("corrupt log{}: {reason}", position.map(|p| format!(" at position {p}")).unwrap_or_default())]
    Corrupt {
        /// Where, when known.
        position: Option<Position>,
        /// What is wrong.
        reason: String,
    },
    /// A Merkle proof or root was asked of a tree larger than the durable log.
    /// Code: `PAST_HEAD`.
    #[error("the log has {head} durable records, not {size}")]
    PastHead {
        /// The tree size asked for.
        size: u64,
        /// The durable head.
        head: u64,
    },
    /// A Merkle proof could not be made (a size of 0, a leaf past the size, sizes
    /// reversed, a subtree missing). Code: the proof error's.
    #[error(transparent)]
    Proof(#[from] sparkfeed_merkle::ProofError),
    /// The directory was written by a newer layout than this build knows. Code: `CORRUPT`.
    #[error("the data directory has key layout {found}, this build reads layout {known}")]
    UnknownLayout {
        /// The stored layout version.
        found: u8,
        /// The version this build reads.
        known: u8,
    },
    /// An earlier commit failed, so the log stopped accepting appends; reopen it.
    /// Code: `LOG_FAILED`, whatever the cause (also `ENOSPC` inside sled, which the
    /// free-space check makes a race: a stopped log does not resume by itself, since sled
    /// 0.34 keeps its first I/O error for good and nothing unsynced may be acknowledged).
    #[error("the log stopped after a failed commit: {0}; reopen it")]
    Stopped(String),
    /// The log was closed. Code: `LOG_CLOSED`.
    #[error("the log is closed")]
    Closed,
    /// A shared log (NATS JetStream) did not answer in time: an append may or may not have
    /// been written, and retrying it with the same event ids is safe (it is written once).
    /// Code: `LOG_UNAVAILABLE`.
    #[error("the shared log is unavailable: {0}; retry with the same event ids")]
    Unavailable(String),
}

impl LogError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            LogError::Locked { .. } => "LOG_LOCKED",
            LogError::StorageFull { .. } => "STORAGE_FULL",
            LogError::Io { source, .. } if is_storage_full(source) => "STORAGE_FULL",
            LogError::Store(sled::Error::Io(source)) if is_storage_full(source) => "STORAGE_FULL",
            LogError::Io { .. } => "IO",
            LogError::Store(_) => "STORE",
            LogError::Corrupt { .. } | LogError::UnknownLayout { .. } => "CORRUPT",
            LogError::Stopped(_) => "LOG_FAILED",
            LogError::PastHead { .. } => "PAST_HEAD",
            LogError::Proof(e) => e.code(),
            LogError::Closed => "LOG_CLOSED",
            LogError::Unavailable(_) => "LOG_UNAVAILABLE",
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        LogError::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn corrupt(position: Position, error: CodecError) -> Self {
        LogError::Corrupt {
            position: Some(position),
            reason: error.to_string(),
        }
    }
}

/// Whether `error` is the OS saying the file system is full (`ENOSPC`, or `EDQUOT`).
fn is_storage_full(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Why an append did not happen: refused (healthy, nothing written) or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Declined; nothing was written.
    #[error(transparent)]
    Refused(#[from] AppendRefused),
    /// The log failed. [`LogError::StorageFull`]: nothing was written and the log is
    /// healthy; any other: whether anything was written is unknown until it is reopened.
    #[error(transparent)]
    Failed(#[from] LogError),
}

impl AppendError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AppendError::Refused(r) => r.code(),
            AppendError::Failed(f) => f.code(),
        }
    }
}
