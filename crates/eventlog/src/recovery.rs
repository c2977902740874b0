//! Opening after a crash: find the head and put right the tail a crash may have left.
//!
//! The writer's order of inserts and what a crash can leave behind are described at
//! [`keys::TAIL_KEY`]. Recovery removes the records of a group that did not finish (never
//! acknowledged): the chunks at the tail marker's end and beyond, and the records past it
//! of a chunk that reaches across it (one a migration made, or a marker lowered by hand),
//! which is cut short with one insert. It writes again the index entries an in-flight group
//! may lack, and checks the chain over that tail. What it changed is made durable before
//! the log opens.

use sparkfeed_events::{Hash, Position, Timestamp, codec};

use crate::durable::DataFiles;
use crate::records::{self, last_position, read_stored};
use crate::{LogError, LogHead, chunk, keys};

/// Where the log stands after recovery.
pub(crate) struct Recovered {
    pub(crate) head: LogHead,
    pub(crate) last_recorded_at: Timestamp,
    pub(crate) report: RecoveryReport,
}

/// What opening the log had to put right.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct RecoveryReport {
    /// Records of a group whose writes did not all land before a crash, removed. They were
    /// never acknowledged.
    pub removed_records: u64,
    /// Index entries of records in flight at a crash, written again.
    pub reindexed_entries: u64,
}

/// Recovers the log in `tree` (see the module doc).
pub(crate) fn recover(
    db: &sled::Db,
    tree: &sled::Tree,
    files: &mut DataFiles,
) -> Result<Recovered, LogError> {
    let Some(last) = last_position(tree)? else {
        return Ok(Recovered {
            head: LogHead {
                len: 0,
                hash: Hash::GENESIS,
            },
            last_recorded_at: Timestamp(i64::MIN),
            report: RecoveryReport::default(),
        });
    };
    let (checked_from, end) = match tree.get(keys::TAIL_KEY)? {
        Some(value) => keys::tail_from_value(&value).ok_or(LogError::Corrupt {
            position: None,
            reason: "malformed tail marker".into(),
        })?,
        // Written before the marker existed: each group was one atomic batch.
        None => (last.0, last.0 + 1),
    };
    if checked_from > end || end > last.0 + 1 {
        return Err(LogError::Corrupt {
            position: Some(Position(end.min(last.0 + 1))),
            reason: format!(
                "the tail marker says records up to {end} were written whole, but the last \
                 record is at {}",
                last.0
            ),
        });
    }

    let removed = if last.0 >= end {
        remove_unfinished(tree, Position(end))?
    } else {
        0
    };

    let mut prev = match checked_from.checked_sub(1) {
        Some(before) => read_stored(tree, Position(before))?.hash,
        None => Hash::GENESIS,
    };
    let mut reindexed = 0;
    let mut last_recorded_at = Timestamp(i64::MIN);
    let mut tail = records::walk(tree, Position(checked_from), Position(end))?;
    for position in (checked_from..end).map(Position) {
        let stored = tail
            .next()
            .transpose()?
            .filter(|s| s.position() == position);
        let stored = stored.ok_or(LogError::Corrupt {
            position: Some(position),
            reason: "a record below the tail marker's end is missing".into(),
        })?;
        let split = codec::split(stored.bytes()).map_err(|e| LogError::corrupt(position, e))?;
        if prev.link(split.record_bytes) != split.hash {
            return Err(LogError::Corrupt {
                position: Some(position),
                reason: "the chain hash does not match the record".into(),
            });
        }
        let record =
            codec::decode_record(split.record_bytes).map_err(|e| LogError::corrupt(position, e))?;
        if record.position != position {
            return Err(LogError::Corrupt {
                position: Some(position),
                reason: format!("the record says it is at {}", record.position),
            });
        }
        let value = keys::position_value(position);
        for key in keys::index_keys(&record) {
            match tree.get(&key)? {
                Some(found) if found.as_ref() == value.as_slice() => {}
                None => {
                    tree.insert(key, &value)?;
                    reindexed += 1;
                }
                Some(_) => {
                    return Err(LogError::Corrupt {
                        position: Some(position),
                        reason: "an index entry of the record points elsewhere".into(),
                    });
                }
            }
        }
        prev = split.hash;
        last_recorded_at = record.recorded_at;
    }
    if checked_from == end && end > 0 {
        last_recorded_at = read_stored(tree, Position(end - 1))?.record.recorded_at;
    }

    if removed > 0 || reindexed > 0 || checked_from != end {
        tree.insert(keys::TAIL_KEY, &keys::tail_value(end, end))?;
        db.flush()?;
        files.sync()?;
        if removed > 0 || reindexed > 0 {
            tracing::warn!(
                removed,
                reindexed,
                head = end,
                "recovered the log's tail after a crash"
            );
        }
    }
    Ok(Recovered {
        head: LogHead {
            len: end,
            hash: prev,
        },
        last_recorded_at,
        report: RecoveryReport {
            removed_records: removed,
            reindexed_entries: reindexed,
        },
    })
}

/// Removes every record at `end` and beyond, and those of their index entries that
/// landed: the chunks that start there are removed, and one that starts below `end` and
/// reaches past it keeps its records below `end`. Answers how many records went.
fn remove_unfinished(tree: &sled::Tree, end: Position) -> Result<u64, LogError> {
    let from = match records::chunk_at(tree, end)? {
        Some((first, _)) => first,
        None => end,
    };
    let chunks: Vec<_> = tree
        .range(keys::chunk_key(from)..=keys::chunk_key(Position(u64::MAX)))
        .collect::<Result<_, _>>()?;
    let mut removed = 0;
    for (key, value) in chunks {
        let first = records::first_of(&key)?;
        let mut kept = Vec::new();
        let mut cut = false;
        // `chunk::decode` checked that every position of the chunk fits in a u64.
        for (index, at) in (0u64..).zip(chunk::decode(first, &value)?) {
            let position = Position(first.0.saturating_add(index));
            let stored = value.get(at).unwrap_or_default();
            if position < end {
                kept.push(stored);
                continue;
            }
            let record = codec::open(stored)
                .map_err(|e| LogError::corrupt(position, e))?
                .record;
            let here = keys::position_value(position);
            for key in keys::index_keys(&record) {
                if tree.get(&key)?.as_deref() == Some(here.as_slice()) {
                    tree.remove(key)?;
                }
            }
            removed += 1;
            cut = true;
        }
        if !cut {
            continue;
        }
        if first < end {
            // Cut short with one insert: the records below `end` stay as they were.
            tree.insert(key, chunk::encode(kept))?;
        } else {
            tree.remove(key)?;
        }
    }
    Ok(removed)
}
