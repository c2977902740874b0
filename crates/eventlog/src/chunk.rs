//! The value of a record chunk (layout version 2): a run of consecutive stored records
//! under one key, [`keys::chunk_key`] of the first one's position.
//!
//! | bytes | what |
//! | --- | --- |
//! | 1 | [`CHUNK_FORMAT`] |
//! | 4 | the record count `n`, u32 big-endian, at least 1 |
//! | `n` times | a stored record: its length (u32 big-endian), then its bytes |
//!
//! The stored bytes are the ones `codec::seal` made, unchanged: the chain hash, the Merkle
//! leaves and `codec::open` do not know chunks exist. A group commit writes its records as
//! one chunk (or a few, [`MAX_CHUNK_BYTES`]) with one insert each, so a crash leaves a chunk
//! whole or absent, never part of one.
//!
//! Invariant: decoding never panics and never trusts a length it has not checked against
//! the value; anything malformed is `LogError::Corrupt` naming the first position it
//! affects.

use std::ops::Range;

use sparkfeed_events::Position;

use crate::{LogError, keys};

/// The format byte every chunk value starts with.
pub const CHUNK_FORMAT: u8 = 1;

/// A chunk closes before a record would take its value past this many bytes (a record
/// larger than that gets a chunk of its own).
///
/// Why 7 KiB: sled 0.34.7 writes any log message larger than a quarter of its 512 KiB
/// segment (about 128 KiB) to a blob file of its own, which the durability barrier must then
/// `fsync` with its directory ([`crate::durable`]). A chunk insert is one such message, and
/// every tenth update of a leaf rewrites the whole leaf, which holds up to 17 entries (sled
/// splits a leaf past 16): 17 chunks of 7 KiB stay under that threshold, so the chunks of a
/// steady stream of small records never leave sled's log. That is about 20 sealed 200-byte
/// events per chunk: a group of 40 writes 2 chunks instead of 40 records.
pub const MAX_CHUNK_BYTES: usize = 7 * 1024;

/// A chunk closes at this many records, whatever their size.
pub const MAX_CHUNK_RECORDS: u32 = 256;

/// The format byte and the count.
const HEADER: usize = 5;
/// A record's length prefix.
const LEN: usize = 4;

/// One chunk value, encoded.
pub fn encode<'a>(records: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut value = header();
    let mut count = 0u32;
    for record in records {
        push_record(&mut value, record);
        count = count.saturating_add(1);
    }
    set_count(&mut value, count);
    value
}

fn header() -> Vec<u8> {
    let mut value = Vec::with_capacity(MAX_CHUNK_BYTES);
    value.push(CHUNK_FORMAT);
    value.extend_from_slice(&[0; 4]);
    value
}

fn push_record(value: &mut Vec<u8>, record: &[u8]) {
    // Records are at most `codec::MAX_RECORD_BYTES` (64 KiB): the length always fits.
    let len = u32::try_from(record.len()).unwrap_or(u32::MAX);
    value.extend_from_slice(&len.to_be_bytes());
    value.extend_from_slice(record);
}

fn set_count(value: &mut [u8], count: u32) {
    if let Some(slot) = value.get_mut(1..HEADER) {
        slot.copy_from_slice(&count.to_be_bytes());
    }
}

/// Where each record of the chunk at `first` lies in `value`, in order.
pub fn decode(first: Position, value: &[u8]) -> Result<Vec<Range<usize>>, LogError> {
    let count = count(first, value)?;
    // The count is not trusted for the allocation: each record takes at least `LEN` bytes.
    let mut ranges = Vec::with_capacity(count.min(value.len() / LEN));
    let mut at = HEADER;
    for index in 0..count {
        let range = next_record(first, index, value, at)?;
        at = range.end;
        ranges.push(range);
    }
    if at != value.len() {
        return Err(corrupt(
            first,
            count,
            format!("{} bytes after the chunk's last record", value.len() - at),
        ));
    }
    Ok(ranges)
}

/// Where the record at `index` of the chunk at `first` lies in `value` (without decoding
/// the rest): `Ok(None)` when the chunk holds fewer records.
pub fn record_at(
    first: Position,
    value: &[u8],
    index: u64,
) -> Result<Option<Range<usize>>, LogError> {
    let count = count(first, value)?;
    let Some(index) = usize::try_from(index).ok().filter(|&i| i < count) else {
        return Ok(None);
    };
    let mut at = HEADER;
    for skipped in 0..index {
        at = next_record(first, skipped, value, at)?.end;
    }
    next_record(first, index, value, at).map(Some)
}

/// The number of records the chunk at `first` says it holds, checked against the
/// positions left and the format byte.
pub fn count(first: Position, value: &[u8]) -> Result<usize, LogError> {
    let bad = |reason: String| LogError::Corrupt {
        position: Some(first),
        reason,
    };
    let (format, count) = match value {
        [format, a, b, c, d, ..] => (*format, u32::from_be_bytes([*a, *b, *c, *d])),
        _ => return Err(bad(format!("a {}-byte chunk has no header", value.len()))),
    };
    if format != CHUNK_FORMAT {
        return Err(bad(format!("unknown chunk format {format}")));
    }
    if count == 0 {
        return Err(bad("an empty chunk".into()));
    }
    if first.0.checked_add(u64::from(count)).is_none() {
        return Err(bad(format!(
            "{count} records from {first} overflow positions"
        )));
    }
    usize::try_from(count).map_err(|_| bad(format!("{count} records in one chunk")))
}

/// The record at `index`, whose length prefix starts at `at`.
fn next_record(
    first: Position,
    index: usize,
    value: &[u8],
    at: usize,
) -> Result<Range<usize>, LogError> {
    let start = at.checked_add(LEN);
    let len = start
        .and_then(|start| value.get(at..start))
        .and_then(|bytes| <[u8; LEN]>::try_from(bytes).ok())
        .map(u32::from_be_bytes)
        .and_then(|len| usize::try_from(len).ok());
    let range = start
        .zip(len)
        .and_then(|(start, len)| Some(start..start.checked_add(len)?))
        .filter(|range| range.end <= value.len());
    range.ok_or_else(|| corrupt(first, index, "the chunk ends inside this record".into()))
}

fn corrupt(first: Position, index: usize, reason: String) -> LogError {
    let offset = u64::try_from(index).unwrap_or(u64::MAX);
    LogError::Corrupt {
        position: Some(Position(first.0.saturating_add(offset))),
        reason,
    }
}

/// Cuts a run of records, pushed in position order, into chunks of at most
/// [`MAX_CHUNK_BYTES`] and [`MAX_CHUNK_RECORDS`]; a position that does not follow the
/// last one pushed (a gap in a store being migrated) starts a new chunk.
pub(crate) struct Chunker {
    first: Position,
    value: Vec<u8>,
    count: u32,
}

impl Default for Chunker {
    fn default() -> Self {
        Self {
            first: Position(0),
            value: header(),
            count: 0,
        }
    }
}

/// A chunk ready to be inserted: its key and value.
pub(crate) type Encoded = ([u8; 9], Vec<u8>);

impl Chunker {
    /// Adds the record at `position`; answers the chunk it closed to make room, if any.
    pub(crate) fn push(&mut self, position: Position, stored: &[u8]) -> Option<Encoded> {
        let follows = self.first.0.checked_add(u64::from(self.count)) == Some(position.0);
        let full = self.count >= MAX_CHUNK_RECORDS
            || self.value.len() + LEN + stored.len() > MAX_CHUNK_BYTES;
        let closed = if self.count > 0 && (full || !follows) {
            self.take()
        } else {
            None
        };
        if self.count == 0 {
            self.first = position;
        }
        push_record(&mut self.value, stored);
        self.count += 1;
        closed
    }

    /// The chunk being filled, if it holds any record.
    pub(crate) fn take(&mut self) -> Option<Encoded> {
        if self.count == 0 {
            return None;
        }
        let mut value = std::mem::replace(&mut self.value, header());
        set_count(&mut value, std::mem::take(&mut self.count));
        Some((keys::chunk_key(self.first), value))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn records_of(first: Position, value: &[u8]) -> Result<Vec<Vec<u8>>, LogError> {
        Ok(decode(first, value)?
            .into_iter()
            .map(|r| value[r].to_vec())
            .collect())
    }

    #[test]
    fn a_chunk_is_a_header_then_length_prefixed_records() {
        let value = encode([b"ab".as_slice(), b"".as_slice(), b"xyz".as_slice()]);
        assert_eq!(
            value,
            [
                [CHUNK_FORMAT, 0, 0, 0, 3].as_slice(),
                &[0, 0, 0, 2, b'a', b'b'],
                &[0, 0, 0, 0],
                &[0, 0, 0, 3, b'x', b'y', b'z']
            ]
            .concat()
        );
        assert_eq!(
            record_at(Position(7), &value, 2).expect("decodes"),
            Some(19..22)
        );
        assert_eq!(record_at(Position(7), &value, 3).expect("decodes"), None);
    }

    #[test]
    fn the_chunker_closes_at_the_byte_cap_the_record_cap_and_at_gaps() {
        let mut chunker = Chunker::default();
        let big = vec![1u8; MAX_CHUNK_BYTES / 3];
        let mut closed = Vec::new();
        for p in 0..7 {
            closed.extend(chunker.push(Position(p), &big));
        }
        // Two records of a third fit with their prefixes and the header; a third does not.
        assert_eq!(closed.len(), 3);
        assert_eq!(closed[1].0, keys::chunk_key(Position(2)));
        closed.clear();
        closed.extend(chunker.push(Position(9), b"after a gap"));
        assert_eq!(closed[0].0, keys::chunk_key(Position(6)));
        let (key, value) = chunker.take().expect("one record held");
        assert_eq!(key, keys::chunk_key(Position(9)));
        assert_eq!(count(Position(9), &value).expect("decodes"), 1);
        assert!(chunker.take().is_none());

        let mut closed = Vec::new();
        for p in 0..u64::from(MAX_CHUNK_RECORDS) + 1 {
            closed.extend(chunker.push(Position(p), b""));
        }
        assert_eq!(closed.len(), 1);
        assert_eq!(
            count(Position(0), &closed[0].1).expect("decodes"),
            usize::try_from(MAX_CHUNK_RECORDS).expect("fits")
        );
    }

    #[test]
    fn a_count_past_the_last_position_is_corrupt() {
        let value = encode([b"a".as_slice(), b"b".as_slice()]);
        assert!(matches!(
            decode(Position(u64::MAX - 1), &value),
            Err(LogError::Corrupt { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_run_of_records_round_trips(
            records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..40),
            first in 0u64..1 << 40,
        ) {
            let value = encode(records.iter().map(Vec::as_slice));
            prop_assert_eq!(&records_of(Position(first), &value).expect("decodes"), &records);
            for (index, record) in (0u64..).zip(&records) {
                let at = record_at(Position(first), &value, index).expect("decodes");
                prop_assert_eq!(at.map(|r| &value[r]), Some(record.as_slice()));
            }
        }

        #[test]
        fn a_truncated_chunk_is_corrupt_never_a_panic(
            records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..20),
            cut in any::<prop::sample::Index>(),
        ) {
            let value = encode(records.iter().map(Vec::as_slice));
            let short = value.get(..cut.index(value.len())).unwrap_or_default();
            let decoded = decode(Position(5), short);
            let is_corrupt = matches!(decoded, Err(LogError::Corrupt { position: Some(_), .. }));
            prop_assert!(is_corrupt, "{:?}", decoded);
        }

        #[test]
        fn a_corrupted_chunk_decodes_to_its_records_or_is_corrupt(
            records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 1..20),
            flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..4),
            extra in prop::collection::vec(any::<u8>(), 0..8),
        ) {
            let mut value = encode(records.iter().map(Vec::as_slice));
            for (at, mask) in flips {
                let at = at.index(value.len());
                value[at] ^= mask;
            }
            value.extend(extra);
            // A flip inside a record's bytes still decodes (the chain hash catches it); a flip
            // in the framing is corrupt; nothing panics, whatever the bytes.
            match decode(Position(5), &value) {
                Ok(ranges) => {
                    for r in ranges {
                        prop_assert!(r.end <= value.len());
                    }
                }
                Err(LogError::Corrupt { position: Some(p), .. }) => prop_assert!(p.0 >= 5),
                Err(other) => prop_assert!(false, "{other}"),
            }
            for index in 0..25 {
                match record_at(Position(5), &value, index) {
                    Ok(Some(r)) => prop_assert!(r.end <= value.len()),
                    Ok(None) | Err(LogError::Corrupt { .. }) => {}
                    Err(other) => prop_assert!(false, "{other}"),
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(value in prop::collection::vec(any::<u8>(), 0..64)) {
            let decoded = decode(Position(0), &value);
            let typed = matches!(decoded, Ok(_) | Err(LogError::Corrupt { .. }));
            prop_assert!(typed, "{:?}", decoded);
        }
    }
}
