//! Verifying a data directory that no process holds, without writing to it.
//!
//! sled 0.34 has no read-only open: opening a store writes to it. Our own open
//! ([`crate::EventLog::open`]) also runs recovery, which deletes the records of a group
//! past the tail marker. So `sparkfeed verify` never opens the directory:
//! [`verify_dir`] copies the store under the directory's lock
//! ([`crate::snapshot::copy_quiescent`]) and opens the copy's sled store as it stands,
//! with no recovery. Records past the tail marker are named with their positions
//! ([`OfflineVerify::past_tail`]), never removed. A layout version 1 directory is migrated
//! to chunks in the copy ([`crate::layout`]), its record bytes unchanged.
//!
//! Invariant: nothing under the source directory is written. Its `LOCK` is taken (a file
//! lock, not a write) so that no process writes the store while it is copied.

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::{Duration, Instant};

use sparkfeed_events::{Hash, Position, codec};

use crate::records::{last_position, read_stored};
use crate::verify::VerifyReport;
use crate::{LogError, LogHead, keys, snapshot};

/// sled's page cache for the copy: one pass over the log gains nothing from more.
const COPY_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// What [`verify_dir`] found.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OfflineVerify {
    /// The chain and the indexes up to the tail marker's end.
    pub report: VerifyReport,
    /// Records at or past the tail marker's end: a group whose writes did not all land
    /// before a crash (never acknowledged), or a marker lowered by hand. Opening the log
    /// would remove them; verify only names them.
    pub past_tail: Option<RangeInclusive<Position>>,
    /// Bytes copied.
    pub copied_bytes: u64,
    /// Time spent copying the store.
    pub copy_time: Duration,
    /// Time spent verifying the copy.
    pub verify_time: Duration,
}

impl OfflineVerify {
    /// True when the chain and the indexes match and no record lies past the tail marker.
    pub fn is_intact(&self) -> bool {
        self.report.is_intact() && self.past_tail.is_none()
    }
}

/// A copy of a data directory's store, opened as it stands (no recovery).
struct Copy {
    tree: sled::Tree,
    /// The head the tail marker gives.
    head: LogHead,
    past_tail: Option<RangeInclusive<Position>>,
    copied_bytes: u64,
    copy_time: Duration,
}

/// Copies the store of `dir` into `scratch` under `dir`'s lock and reads where its log
/// stands there, writing nothing to `dir`.
fn open_copy(dir: &Path, scratch: &Path) -> Result<Copy, LogError> {
    let started = Instant::now();
    snapshot::copy_quiescent(dir, scratch, &[])?;
    let copy_time = started.elapsed();
    let copied_bytes = bytes_under(scratch)?;
    let db = sled::Config::new()
        .path(scratch.join("sled"))
        .cache_capacity(COPY_CACHE_BYTES)
        .open()?;
    let tree = db.open_tree("log")?;
    // A layout version 1 store is migrated here, in the copy (the source is never
    // written): the record bytes move unchanged, records past the tail marker included.
    let (layout, _) = crate::layout::upgrade(&tree, || Ok(()))?;
    let marker = dir.join(crate::INITIALIZED_MARKER);
    if layout == crate::layout::Layout::Empty && marker.exists() {
        return Err(crate::log::vanished(&marker));
    }
    let last = last_position(&tree)?;
    let end = match tree.get(keys::TAIL_KEY)? {
        Some(value) => {
            keys::tail_from_value(&value)
                .ok_or(LogError::Corrupt {
                    position: None,
                    reason: "malformed tail marker".into(),
                })?
                .1
        }
        // Written before the marker existed: each group was one atomic batch.
        None => last.map_or(0, |l| l.0 + 1),
    };
    let past_tail = last.filter(|l| l.0 >= end).map(|l| Position(end)..=l);
    // A marker past the last record leaves `end - 1` missing: verify's walk reports it.
    let hash = end
        .checked_sub(1)
        .and_then(|p| read_stored(&tree, Position(p)).ok())
        .map_or(Hash::GENESIS, |stored| stored.hash);
    Ok(Copy {
        tree,
        head: LogHead { len: end, hash },
        past_tail,
        copied_bytes,
        copy_time,
    })
}

/// The head of the log of the data directory `dir` (which no process may hold) as its
/// tail marker gives it, and the records past that marker, read from a copy made in
/// `scratch` without writing to `dir` and with no recovery.
pub fn head_dir(
    dir: &Path,
    scratch: &Path,
) -> Result<(LogHead, Option<RangeInclusive<Position>>), LogError> {
    let copy = open_copy(dir, scratch)?;
    Ok((copy.head, copy.past_tail))
}

/// Verifies the log of the data directory `dir` (which no process may hold:
/// `LOG_LOCKED` otherwise) from a copy made in `scratch` (which must not exist), without
/// writing to `dir`; `progress` is told how many records have been checked.
pub fn verify_dir(
    dir: &Path,
    scratch: &Path,
    progress: impl FnMut(u64),
) -> Result<OfflineVerify, LogError> {
    open_dir(dir, scratch)?.verify(&[], progress)
}

/// The log of the data directory `dir` (which no process may hold: `LOG_LOCKED`
/// otherwise), read from a copy made in `scratch` (which must not exist) as it stands:
/// no recovery runs and nothing under `dir` is written. For the auditors' offline
/// commands: proofs, heads and verify.
pub fn open_dir(dir: &Path, scratch: &Path) -> Result<OfflineLog, LogError> {
    open_copy(dir, scratch).map(OfflineLog)
}

/// A data directory's log, read from a copy ([`open_dir`]). Everything it answers is about
/// the records up to the tail marker; those past it are only named ([`Self::past_tail`]).
pub struct OfflineLog(Copy);

impl OfflineLog {
    /// The head the tail marker gives.
    pub fn head(&self) -> LogHead {
        self.0.head
    }

    /// The records at or past the tail marker, if any (opening the log would remove them).
    pub fn past_tail(&self) -> Option<RangeInclusive<Position>> {
        self.0.past_tail.clone()
    }

    /// The Merkle root of the first `size` records, from the stored subtrees.
    pub fn tree_root(&self, size: u64) -> Result<Hash, LogError> {
        self.within_head(size)?;
        Ok(sparkfeed_merkle::root(
            &crate::merkle::Stored(&self.0.tree),
            size,
        )?)
    }

    /// The inclusion proof of the record at `position` in the tree of the first `size`.
    pub fn inclusion_proof(&self, position: Position, size: u64) -> Result<Vec<Hash>, LogError> {
        self.within_head(size)?;
        let nodes = crate::merkle::Stored(&self.0.tree);
        Ok(sparkfeed_merkle::inclusion_proof(&nodes, position.0, size)?)
    }

    /// The consistency proof from the tree of the first `from` records to that of `to`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LogError> {
        self.within_head(to)?;
        let nodes = crate::merkle::Stored(&self.0.tree);
        Ok(sparkfeed_merkle::consistency_proof(&nodes, from, to)?)
    }

    /// The bytes the record at `position`'s leaf hashes (its stored bytes before the chain
    /// hash).
    pub fn leaf_bytes(&self, position: Position) -> Result<Vec<u8>, LogError> {
        self.within_head(position.0.saturating_add(1))?;
        let stored = crate::merkle::stored_record(&self.0.tree, position)?;
        let split = codec::split(stored.bytes()).map_err(|e| LogError::corrupt(position, e))?;
        Ok(split.record_bytes.to_vec())
    }

    /// The record at `position`.
    pub fn read(&self, position: Position) -> Result<sparkfeed_events::RecordedEvent, LogError> {
        self.within_head(position.0.saturating_add(1))?;
        read_stored(&self.0.tree, position)
    }

    /// Verifies the chain, the indexes and the Merkle tree, and recomputes from the
    /// records the roots of the trees of sizes `roots_at` (`VerifyReport::roots`).
    pub fn verify(
        self,
        roots_at: &[u64],
        progress: impl FnMut(u64),
    ) -> Result<OfflineVerify, LogError> {
        let started = Instant::now();
        let report = crate::verify::verify(&self.0.tree, self.0.head, roots_at, progress)?;
        Ok(OfflineVerify {
            report,
            past_tail: self.0.past_tail,
            copied_bytes: self.0.copied_bytes,
            copy_time: self.0.copy_time,
            verify_time: started.elapsed(),
        })
    }

    fn within_head(&self, size: u64) -> Result<(), LogError> {
        let head = self.0.head.len;
        if size > head {
            return Err(LogError::PastHead { size, head });
        }
        Ok(())
    }
}

/// The bytes of the regular files under `dir`, recursively.
fn bytes_under(dir: &Path) -> Result<u64, LogError> {
    let io = |e| LogError::io(format!("measuring {}", dir.display()), e);
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            total += bytes_under(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata().map_err(io)?.len();
        }
    }
    Ok(total)
}
