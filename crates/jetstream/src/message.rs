//! One JetStream message: a group of appends, as the exact records every node stores.
//!
//! The publishing node builds the records itself (positions, versions, recorded time and
//! chain hashes, continuing the log as it had it at the stream sequence it expected), so
//! the message carries the stored bytes of `sparkfeed-events`' codec. Every node copies
//! them into its local log and checks that its own chain ends at the hash they carry.
//!
//! Layout (version 1), all integers little-endian:
//! ```text
//! "SFJS" | version u8 = 1 | first position u64 | records u32 | appends u32
//!        | appends × (records in the append u32)
//!        | records × (length u32 | stored record bytes)
//! ```
//! Invariant: a message is decoded whole or refused as `CORRUPT`; the counts, the append
//! boundaries and each record's position and stream are checked against each other.

use sparkfeed_eventlog::LogError;
use sparkfeed_events::{Position, RecordedEvent, codec};

const MAGIC: &[u8; 4] = b"SFJS";
const VERSION: u8 = 1;
const HEADER: usize = 4 + 1 + 8 + 4 + 4;

/// A group of appends, in log order: the records of each append, one stream each.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Group {
    /// The position of the first record.
    pub first_position: Position,
    /// Each append's records, already sealed: consecutive positions from `first_position`.
    pub appends: Vec<Vec<Vec<u8>>>,
}

/// The start of a message, readable without decoding its records: what a node resuming
/// from its local log needs to find where to start.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Span {
    /// The position of the first record.
    pub first_position: u64,
    /// How many records the message holds.
    pub records: u64,
}

impl Span {
    /// The position after the message's last record.
    pub fn end(&self) -> u64 {
        self.first_position + self.records
    }
}

impl Group {
    /// How many records the group holds.
    pub fn records(&self) -> usize {
        self.appends.iter().map(Vec::len).sum()
    }

    /// The message bytes.
    pub fn encode(&self) -> Vec<u8> {
        let bytes: usize = self.appends.iter().flatten().map(|r| 4 + r.len()).sum();
        let mut out = Vec::with_capacity(HEADER + 4 * self.appends.len() + bytes);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.first_position.0.to_le_bytes());
        out.extend_from_slice(&count(self.records()).to_le_bytes());
        out.extend_from_slice(&count(self.appends.len()).to_le_bytes());
        for append in &self.appends {
            out.extend_from_slice(&count(append.len()).to_le_bytes());
        }
        for record in self.appends.iter().flatten() {
            out.extend_from_slice(&count(record.len()).to_le_bytes());
            out.extend_from_slice(record);
        }
        out
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Reads little-endian integers off the front of a message, or says where it ran out.
struct Reader<'a> {
    rest: &'a [u8],
    sequence: u64,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LogError> {
        if self.rest.len() < n {
            return Err(corrupt(self.sequence, "the message ends early"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, LogError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, LogError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
}

fn corrupt(sequence: u64, reason: &str) -> LogError {
    LogError::Corrupt {
        position: None,
        reason: format!("JetStream message {sequence}: {reason}"),
    }
}

fn header(bytes: &[u8], sequence: u64) -> Result<(Reader<'_>, Span, u32), LogError> {
    let mut reader = Reader {
        rest: bytes,
        sequence,
    };
    if reader.take(4)? != MAGIC {
        return Err(corrupt(sequence, "not a sparkfeed group (bad magic)"));
    }
    let version = reader.take(1)?.first().copied().unwrap_or(0);
    if version != VERSION {
        return Err(corrupt(
            sequence,
            &format!("group format {version}; this build reads {VERSION}"),
        ));
    }
    let first_position = reader.u64()?;
    let records = u64::from(reader.u32()?);
    let appends = reader.u32()?;
    Ok((
        reader,
        Span {
            first_position,
            records,
        },
        appends,
    ))
}

/// The span of the message at stream sequence `sequence`, from its header alone.
pub fn span(bytes: &[u8], sequence: u64) -> Result<Span, LogError> {
    Ok(header(bytes, sequence)?.1)
}

/// Decodes the message at stream sequence `sequence` into its appends' records.
pub fn decode(bytes: &[u8], sequence: u64) -> Result<Vec<Vec<RecordedEvent>>, LogError> {
    let (mut reader, span, appends) = header(bytes, sequence)?;
    let mut sizes = Vec::new();
    for _ in 0..appends {
        sizes.push(reader.u32()?);
    }
    if sizes.iter().map(|&n| u64::from(n)).sum::<u64>() != span.records || sizes.contains(&0) {
        return Err(corrupt(
            sequence,
            "the append sizes do not add up to the records",
        ));
    }
    let mut position = span.first_position;
    let mut out = Vec::with_capacity(sizes.len());
    for size in sizes {
        let mut append: Vec<RecordedEvent> = Vec::new();
        for _ in 0..size {
            let length = reader.u32()? as usize;
            let stored = reader.take(length)?;
            let event = codec::open(stored).map_err(|e| LogError::Corrupt {
                position: Some(Position(position)),
                reason: format!("JetStream message {sequence}: {e}"),
            })?;
            if event.record.position.0 != position
                || append
                    .first()
                    .is_some_and(|first| first.record.stream != event.record.stream)
            {
                return Err(corrupt(sequence, "a record is out of place in its group"));
            }
            position += 1;
            append.push(event);
        }
        out.push(append);
    }
    if !reader.rest.is_empty() {
        return Err(corrupt(sequence, "bytes after the last record"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparkfeed_events::{EventRecord, Hash, StreamName, StreamVersion, Timestamp};

    fn sealed(position: u64, stream: &str, prev: &Hash) -> (Vec<u8>, Hash) {
        let event = sparkfeed_testkit::log::event(position);
        let record = EventRecord {
            position: Position(position),
            stream: StreamName::parse(stream).expect("valid"),
            version: StreamVersion(position),
            id: event.id,
            event_type: event.event_type,
            schema_version: event.schema_version,
            recorded_at: Timestamp(1_700_000_000_000_000),
            metadata: event.metadata,
            payload: event.payload,
        };
        codec::seal(&record, prev).expect("seals")
    }

    #[test]
    fn a_group_reads_back_as_the_records_it_was_made_of() {
        let (a, h) = sealed(7, "post-1", &Hash::GENESIS);
        let (b, h) = sealed(8, "post-1", &h);
        let (c, _) = sealed(9, "user-2", &h);
        let group = Group {
            first_position: Position(7),
            appends: vec![vec![a.clone(), b.clone()], vec![c.clone()]],
        };
        let bytes = group.encode();
        assert_eq!(
            span(&bytes, 1).expect("span"),
            Span {
                first_position: 7,
                records: 3
            }
        );
        let decoded = decode(&bytes, 1).expect("decodes");
        let stored: Vec<Vec<Vec<u8>>> = decoded
            .iter()
            .map(|append| {
                append
                    .iter()
                    .map(|e| codec::seal(&e.record, &Hash::GENESIS).expect("seals").0)
                    .collect()
            })
            .collect();
        assert_eq!(stored.len(), 2);
        assert_eq!(decoded.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(
            decoded
                .iter()
                .flatten()
                .map(|e| e.record.position.0)
                .collect::<Vec<_>>(),
            vec![7, 8, 9]
        );
    }

    #[test]
    fn a_damaged_message_is_refused_whole() {
        let (a, _) = sealed(0, "post-1", &Hash::GENESIS);
        let bytes = Group {
            first_position: Position(0),
            appends: vec![vec![a]],
        }
        .encode();
        for cut in [3, HEADER, bytes.len() - 1] {
            let short = bytes.get(..cut).expect("shorter");
            assert_eq!(decode(short, 5).expect_err("refused").code(), "CORRUPT");
        }
        let mut flipped = bytes.clone();
        if let Some(b) = flipped.get_mut(0) {
            *b ^= 1;
        }
        assert_eq!(decode(&flipped, 5).expect_err("refused").code(), "CORRUPT");
        let mut longer = bytes;
        longer.push(0);
        assert_eq!(decode(&longer, 5).expect_err("refused").code(), "CORRUPT");
        let misplaced = Group {
            first_position: Position(3),
            appends: vec![vec![sealed(0, "post-1", &Hash::GENESIS).0]],
        }
        .encode();
        assert_eq!(
            decode(&misplaced, 5).expect_err("refused").code(),
            "CORRUPT"
        );
    }
}
