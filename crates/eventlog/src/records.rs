//! The stored records in their chunks ([`crate::chunk`]): one record by position, a run of
//! them in order, the last one; and, for tools and tests that edit a closed store by hand,
//! rewriting or removing one record inside its chunk.
//!
//! Invariant: a walk reads each chunk once, however many of its records it hands out; a
//! lookup by position reads one chunk.

use std::ops::Range;

use sparkfeed_events::{Position, RecordedEvent, codec};

use crate::{LogError, chunk, keys};

/// The stored bytes of one record (format byte, body, chain hash), inside its chunk.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    position: Position,
    chunk: sled::IVec,
    at: Range<usize>,
}

impl StoredRecord {
    /// The record's position.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The record's stored bytes, as `codec::seal` made them.
    pub fn bytes(&self) -> &[u8] {
        // The range was checked against the chunk when it was decoded.
        self.chunk.get(self.at.clone()).unwrap_or_default()
    }
}

/// The record at `position` in `tree`, if it is stored.
pub fn stored(tree: &sled::Tree, position: Position) -> Result<Option<StoredRecord>, LogError> {
    let Some((first, chunk)) = chunk_at(tree, position)? else {
        return Ok(None);
    };
    let at = chunk::record_at(first, &chunk, position.0 - first.0)?;
    Ok(at.map(|at| StoredRecord {
        position,
        chunk,
        at,
    }))
}

/// The chunk with the greatest first position at or below `position`: the only one that can
/// hold it.
pub(crate) fn chunk_at(
    tree: &sled::Tree,
    position: Position,
) -> Result<Option<(Position, sled::IVec)>, LogError> {
    let Some(entry) = tree
        .range(keys::chunk_prefix()..=keys::chunk_key(position).as_slice())
        .next_back()
    else {
        return Ok(None);
    };
    let (key, value) = entry?;
    Ok(Some((first_of(&key)?, value)))
}

/// The first position a chunk key names (`CORRUPT` when it is malformed).
pub(crate) fn first_of(key: &[u8]) -> Result<Position, LogError> {
    keys::position_of_chunk_key(key).ok_or(LogError::Corrupt {
        position: None,
        reason: "malformed chunk key".into(),
    })
}

/// The position of the last stored record.
pub(crate) fn last_position(tree: &sled::Tree) -> Result<Option<Position>, LogError> {
    let Some(last) = tree.scan_prefix(keys::chunk_prefix()).next_back() else {
        return Ok(None);
    };
    let (key, value) = last?;
    let first = first_of(&key)?;
    let count = u64::try_from(chunk::count(first, &value)?).unwrap_or(u64::MAX);
    // `count` checked that the chunk's positions do not overflow.
    Ok(Some(Position(first.0 + count - 1)))
}

/// The stored records from `from` up to (not including) `end`, in position order, each
/// chunk read once. A gap is not an error here: the walk hands out the records that are
/// there, and the caller compares positions.
pub(crate) fn walk(tree: &sled::Tree, from: Position, end: Position) -> Result<Walk, LogError> {
    if from >= end {
        return Ok(Walk {
            chunks: None,
            current: None,
            from,
            end,
        });
    }
    let start = match chunk_at(tree, from)? {
        Some((first, chunk)) if covers(first, &chunk, from)? => first,
        _ => from,
    };
    let chunks = Some(tree.range(keys::chunk_key(start)..keys::chunk_key(end)));
    Ok(Walk {
        chunks,
        current: None,
        from,
        end,
    })
}

/// Whether the chunk at `first` holds `position` (at or past `first`).
fn covers(first: Position, chunk: &[u8], position: Position) -> Result<bool, LogError> {
    let count = u64::try_from(chunk::count(first, chunk)?).unwrap_or(u64::MAX);
    Ok(position.0 - first.0 < count)
}

/// A walk over stored records ([`walk`]).
pub(crate) struct Walk {
    chunks: Option<sled::Iter>,
    current: Option<Current>,
    from: Position,
    end: Position,
}

/// The chunk a walk is in.
struct Current {
    chunk: sled::IVec,
    records: std::vec::IntoIter<Range<usize>>,
    next: Position,
}

impl Iterator for Walk {
    type Item = Result<StoredRecord, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(current) = &mut self.current {
                if let Some(at) = current.records.next() {
                    let position = current.next;
                    current.next = position.next();
                    if position < self.from {
                        continue;
                    }
                    if position >= self.end {
                        // Chunks start past their predecessors' records: nothing further is
                        // below `end`.
                        self.current = None;
                        self.from = self.end;
                        return None;
                    }
                    return Some(Ok(StoredRecord {
                        position,
                        chunk: current.chunk.clone(),
                        at,
                    }));
                }
                self.current = None;
            }
            if self.from >= self.end {
                return None;
            }
            let read = self
                .chunks
                .as_mut()?
                .next()?
                .map_err(LogError::from)
                .and_then(|(key, chunk)| {
                    let first = first_of(&key)?;
                    let records = chunk::decode(first, &chunk)?;
                    Ok(Current {
                        chunk,
                        records: records.into_iter(),
                        next: first,
                    })
                });
            match read {
                Ok(current) => self.current = Some(current),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The record at `position`, decoded (`CORRUPT` when it is missing).
pub(crate) fn read_stored(
    tree: &sled::Tree,
    position: Position,
) -> Result<RecordedEvent, LogError> {
    let stored = stored(tree, position)?.ok_or(LogError::Corrupt {
        position: Some(position),
        reason: "the record is missing".into(),
    })?;
    open_at(stored.bytes(), position)
}

/// The record stored at `position`, decoded.
///
/// Invariant: a record read back names the position it is stored at. Readers step on
/// from the position a record names (export, replay, the `events` query): one naming
/// another is `CORRUPT` here, never a jump or an overflow past `u64::MAX` there.
fn open_at(stored: &[u8], position: Position) -> Result<RecordedEvent, LogError> {
    let event = codec::open(stored).map_err(|e| LogError::corrupt(position, e))?;
    if event.record.position != position {
        return Err(LogError::Corrupt {
            position: Some(position),
            reason: format!(
                "the record stored here says it is at position {}",
                event.record.position
            ),
        });
    }
    Ok(event)
}

/// Up to `max` records from `from` on, below `len`: a walk over their chunks, each read once.
pub(crate) fn read_range(
    tree: &sled::Tree,
    from: Position,
    max: usize,
    len: u64,
) -> Result<Vec<RecordedEvent>, LogError> {
    if from.0 >= len || max == 0 {
        return Ok(Vec::new());
    }
    let end = Position(
        len.min(
            from.0
                .saturating_add(u64::try_from(max).unwrap_or(u64::MAX)),
        ),
    );
    let mut events = Vec::with_capacity(usize::try_from(end.0 - from.0).unwrap_or(0));
    let mut expected = from;
    for stored in walk(tree, from, end)? {
        let stored = stored?;
        if stored.position() != expected {
            return Err(LogError::Corrupt {
                position: Some(expected),
                reason: "gap in the log".into(),
            });
        }
        events.push(open_at(stored.bytes(), expected)?);
        expected = expected.next();
    }
    if expected != end {
        return Err(LogError::Corrupt {
            position: Some(expected),
            reason: "gap in the log".into(),
        });
    }
    Ok(events)
}

/// Replaces the stored bytes of the record at `position` inside its chunk, with one insert:
/// what someone editing a closed store by hand does (the tamper tests). `CORRUPT` when no
/// record is stored there.
pub fn rewrite_stored(tree: &sled::Tree, position: Position, bytes: &[u8]) -> Result<(), LogError> {
    let (first, mut records, index) = chunk_of(tree, position)?;
    records[index] = bytes.to_vec();
    tree.insert(
        keys::chunk_key(first),
        chunk::encode(records.iter().map(Vec::as_slice)),
    )?;
    Ok(())
}

/// Removes the record at `position` from its chunk, leaving the records before it in the
/// chunk and those after it in a new chunk at `position + 1`: what someone deleting one
/// record from a closed store does. `CORRUPT` when no record is stored there.
pub fn remove_stored(tree: &sled::Tree, position: Position) -> Result<(), LogError> {
    let (first, mut records, index) = chunk_of(tree, position)?;
    let after = records.split_off(index + 1);
    records.truncate(index);
    if records.is_empty() {
        tree.remove(keys::chunk_key(first))?;
    } else {
        tree.insert(
            keys::chunk_key(first),
            chunk::encode(records.iter().map(Vec::as_slice)),
        )?;
    }
    if !after.is_empty() {
        tree.insert(
            keys::chunk_key(position.next()),
            chunk::encode(after.iter().map(Vec::as_slice)),
        )?;
    }
    Ok(())
}

/// The chunk holding `position`: its first position, its records, and the index of
/// `position` among them.
fn chunk_of(
    tree: &sled::Tree,
    position: Position,
) -> Result<(Position, Vec<Vec<u8>>, usize), LogError> {
    let missing = || LogError::Corrupt {
        position: Some(position),
        reason: "no record is stored here".into(),
    };
    let (first, chunk) = chunk_at(tree, position)?.ok_or_else(missing)?;
    let records: Vec<Vec<u8>> = chunk::decode(first, &chunk)?
        .into_iter()
        .map(|at| chunk.get(at).map(<[u8]>::to_vec).unwrap_or_default())
        .collect();
    let index = usize::try_from(position.0 - first.0)
        .ok()
        .filter(|&i| i < records.len())
        .ok_or_else(missing)?;
    Ok((first, records, index))
}
