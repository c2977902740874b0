//! Tamper evidence: recompute the chain, cross-check both indexes, and recompute the
//! Merkle tree's stored subtrees from the records.

use std::collections::HashMap;
use std::fmt;

use sparkfeed_events::{Hash, Position, StreamName, codec};

use crate::{LogError, LogHead, keys, records};

/// The outcome of [`crate::EventLog::verify`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifyReport {
    /// How many records were checked.
    pub records: u64,
    /// The head the check ran up to.
    pub head: LogHead,
    /// The first thing that does not match, if any.
    pub tamper: Option<Tamper>,
    /// Whether the Merkle tree was checked against the records (a copy of a log written
    /// before the tree existed has none until the log is opened).
    pub merkle_checked: bool,
    /// For each tree size asked for (and reached before any tamper), the Merkle root of
    /// the first that many records, recomputed from the records themselves: what a saved
    /// signed head of that size must say if the log still extends it.
    pub roots: Vec<(u64, Hash)>,
}

impl VerifyReport {
    /// True when every record and index entry matched.
    pub fn is_intact(&self) -> bool {
        self.tamper.is_none()
    }
}

/// The first position at which the stored log stops matching itself.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tamper {
    /// The position that does not match.
    pub position: Position,
    /// How it does not match.
    pub kind: TamperKind,
}

/// How a position fails verification.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TamperKind {
    /// No record is stored at this position although later ones are.
    Missing,
    /// The stored bytes do not decode.
    Undecodable(String),
    /// The record says it belongs at another position.
    WrongPosition(Position),
    /// The stored hash is not SHA-256(previous hash || record bytes).
    HashMismatch {
        /// The hash stored with the record.
        stored: Hash,
        /// The hash the chain says it should have.
        computed: Hash,
    },
    /// The stream's versions are not contiguous here.
    VersionGap {
        /// The stream.
        stream: StreamName,
        /// The version the stream's next event should have.
        expected: u64,
        /// The version the record has.
        found: u64,
    },
    /// The stream index does not point at this record.
    StreamIndexMismatch,
    /// The event-id index does not point at this record.
    EventIndexMismatch,
    /// An index entry points at this position but no record here matches it.
    StrayIndexEntry,
    /// The stored Merkle subtree this record completes is missing or is not the hash of
    /// the records under it.
    MerkleNode {
        /// The subtree's level (leaves are level 0).
        level: u32,
        /// Its index at that level.
        index: u64,
    },
}

impl fmt::Display for TamperKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TamperKind::Missing => f.write_str("record missing"),
            TamperKind::MerkleNode { level, index } => write!(
                f,
                "the Merkle subtree at level {level}, index {index} does not match the records"
            ),
            TamperKind::Undecodable(e) => write!(f, "record does not decode: {e}"),
            TamperKind::WrongPosition(p) => write!(f, "record claims position {p}"),
            TamperKind::HashMismatch { stored, computed } => {
                write!(f, "hash mismatch: stored {stored}, chain gives {computed}")
            }
            TamperKind::VersionGap {
                stream,
                expected,
                found,
            } => write!(f, "{stream} jumps from version {expected} to {found}"),
            TamperKind::StreamIndexMismatch => f.write_str("stream index does not point here"),
            TamperKind::EventIndexMismatch => f.write_str("event-id index does not point here"),
            TamperKind::StrayIndexEntry => {
                f.write_str("an index entry points here that no record matches")
            }
        }
    }
}

const PROGRESS_EVERY: u64 = 4096;

/// Verifies `tree` up to `head`; `roots_at` are the tree sizes whose roots to recompute
/// from the records (`VerifyReport::roots`).
pub(crate) fn verify(
    tree: &sled::Tree,
    head: LogHead,
    roots_at: &[u64],
    mut progress: impl FnMut(u64),
) -> Result<VerifyReport, LogError> {
    let merkle_checked = crate::merkle::has_tree(tree)?;
    let mut roots = Vec::new();
    if roots_at.contains(&0) {
        roots.push((0, sparkfeed_merkle::empty_root()));
    }
    let mut wanted: Vec<u64> = roots_at.iter().copied().filter(|&s| s > 0).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut wanted = wanted.into_iter().peekable();
    let report = |records, tamper, roots| VerifyReport {
        records,
        head,
        tamper,
        merkle_checked,
        roots,
    };
    let mut frontier = crate::merkle::Frontier::default();
    let mut subtrees = crate::merkle::Walk::new(tree);
    let mut prev = Hash::GENESIS;
    let mut expected = Position::START;
    let mut versions: HashMap<StreamName, u64> = HashMap::new();
    for entry in records::walk(tree, Position::START, Position(head.len))? {
        let stored = match entry {
            Ok(stored) => stored,
            // A chunk whose framing does not decode (or a malformed chunk key): none of its
            // records can be checked, so the next position due is where the log stops
            // matching itself.
            Err(LogError::Corrupt { reason, .. }) => {
                return Ok(report(
                    expected.0,
                    Some(Tamper {
                        position: expected,
                        kind: TamperKind::Undecodable(reason),
                    }),
                    roots,
                ));
            }
            Err(e) => return Err(e),
        };
        let position = stored.position();
        if position != expected {
            return Ok(report(
                expected.0,
                Some(Tamper {
                    position: expected,
                    kind: TamperKind::Missing,
                }),
                roots,
            ));
        }
        let tamper = |kind, roots| Ok(report(expected.0, Some(Tamper { position, kind }), roots));
        let split = match codec::split(stored.bytes()) {
            Ok(split) => split,
            Err(e) => return tamper(TamperKind::Undecodable(e.to_string()), roots),
        };
        let computed = prev.link(split.record_bytes);
        if computed != split.hash {
            return tamper(
                TamperKind::HashMismatch {
                    stored: split.hash,
                    computed,
                },
                roots,
            );
        }
        let record = match codec::decode_record(split.record_bytes) {
            Ok(record) => record,
            Err(e) => return tamper(TamperKind::Undecodable(e.to_string()), roots),
        };
        if record.position != position {
            return tamper(TamperKind::WrongPosition(record.position), roots);
        }
        let next_version = versions.entry(record.stream.clone()).or_insert(0);
        if record.version.0 != *next_version {
            return tamper(
                TamperKind::VersionGap {
                    stream: record.stream,
                    expected: *next_version,
                    found: record.version.0,
                },
                roots,
            );
        }
        *next_version += 1;
        let here = keys::position_value(position);
        if tree
            .get(keys::stream_key(&record.stream, record.version))?
            .as_deref()
            != Some(&here[..])
        {
            return tamper(TamperKind::StreamIndexMismatch, roots);
        }
        if tree.get(keys::event_key(&record.id))?.as_deref() != Some(&here[..]) {
            return tamper(TamperKind::EventIndexMismatch, roots);
        }
        let mut completed = Vec::new();
        let leaf = sparkfeed_merkle::leaf_hash(split.record_bytes);
        frontier.push(position.0, leaf, |level, index, hash| {
            completed.push((level, index, hash));
        })?;
        if merkle_checked {
            for (level, index, hash) in completed {
                if subtrees.complete(level, index)? != Some(hash) {
                    return tamper(TamperKind::MerkleNode { level, index }, roots);
                }
            }
        }
        if wanted.next_if_eq(&(position.0 + 1)).is_some() {
            roots.push((position.0 + 1, frontier.root()));
        }
        prev = split.hash;
        expected = expected.next();
        if expected.0.is_multiple_of(PROGRESS_EVERY) {
            progress(expected.0);
        }
    }
    if expected.0 != head.len {
        return Ok(report(
            expected.0,
            Some(Tamper {
                position: expected,
                kind: TamperKind::Missing,
            }),
            roots,
        ));
    }
    progress(expected.0);

    // Every record has its two index entries; any further entry is a stray.
    if let Some(position) = stray_entry(
        tree,
        keys::stream_index_prefix(),
        head.len,
        versions.values().sum(),
    )? {
        return Ok(report(
            head.len,
            Some(Tamper {
                position,
                kind: TamperKind::StrayIndexEntry,
            }),
            roots,
        ));
    }
    if let Some(position) = stray_entry(tree, keys::event_index_prefix(), head.len, head.len)? {
        return Ok(report(
            head.len,
            Some(Tamper {
                position,
                kind: TamperKind::StrayIndexEntry,
            }),
            roots,
        ));
    }
    Ok(report(head.len, None, roots))
}

/// When the index under `prefix` has more entries pointing into the log than `expected`,
/// the position the first surplus entry points at.
fn stray_entry(
    tree: &sled::Tree,
    prefix: &[u8],
    len: u64,
    expected: u64,
) -> Result<Option<Position>, LogError> {
    let mut seen: HashMap<Position, u32> = HashMap::new();
    let mut count = 0u64;
    for entry in tree.scan_prefix(prefix) {
        let (_, value) = entry?;
        match keys::position_from_value(&value) {
            Some(p) if p.0 < len => {
                count += 1;
                let n = seen.entry(p).or_insert(0);
                *n += 1;
                if *n > 1 {
                    return Ok(Some(p));
                }
            }
            // Entries past the durable head belong to a group not yet acknowledged.
            Some(_) => {}
            None => return Ok(Some(Position(len))),
        }
    }
    Ok((count != expected).then_some(Position(len)))
}
