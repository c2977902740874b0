//! The on-disk key layout: one sled tree, five key prefixes.
//!
//! | key | value |
//! | --- | --- |
//! | `m` `layout` | the layout version, one byte ([`LAYOUT_VERSION`]) |
//! | `m` `tail` | where recovery starts looking ([`TAIL_KEY`]) |
//! | `c` first position (u64 big-endian) | a chunk: a run of consecutive stored records, each its format byte, body and chain hash ([`crate::chunk`]) |
//! | `s` stream name `0x00` version (u64 big-endian) | the event's position (u64 big-endian) |
//! | `e` event id (16 bytes) | the event's position (u64 big-endian) |
//! | `t` level (u8) chunk (u64 big-endian) | up to 16 complete Merkle subtree hashes ([`tree_key`]) |
//!
//! Layout version 1 kept each record under `p` position ([`legacy_record_key`]); opening
//! such a store migrates it ([`crate::layout`]).
//!
//! Big-endian numbers make sled's byte order the numeric order, so a range scan over `c`
//! walks the log in position order, the record at position `n` is in the chunk with the greatest
//! first position at or below `n`, and one over `s<name>\0` walks a stream in version order.
//! Stream names never contain `0x00` ([`StreamName`]'s invariant), so one stream's prefix is
//! never a prefix of another's keys.

use sparkfeed_events::{EventId, EventRecord, Position, StreamName, StreamVersion};

/// The version of this key layout, stored under [`LAYOUT_KEY`]: 2 since records are
/// stored in chunks ([`chunk_key`]); 1 when each had its own key ([`legacy_record_key`]).
pub const LAYOUT_VERSION: u8 = 2;
/// The layout that kept one record per key, which opening a store migrates from.
pub const LEGACY_LAYOUT_VERSION: u8 = 1;
/// Where the layout version is stored.
pub const LAYOUT_KEY: &[u8] = b"mlayout";

/// The tail marker: `checked_from` and `end`, two big-endian u64s.
///
/// Invariant (kept by the writer, relied on by recovery): a group is written as plain
/// inserts, first its records as one chunk or a few ([`chunk_key`], one insert each, so a
/// chunk lands whole or not at all) in position order, then their index entries, then
/// their Merkle subtrees, then this marker with `end` = the position after the group's
/// last record and `checked_from` = the durable head when the group was written. A group's
/// chunks start at its first position, so the writer never leaves a chunk across `end`.
/// sled recovers a prefix of those inserts, so after a crash:
/// - records at `end` and beyond belong to a group whose writes did not all land, which
///   was never acknowledged (an acknowledgement waits for a flush after the marker);
///   recovery removes them, cutting short a chunk that reaches past `end` (a migrated
///   store's, or a marker lowered by hand);
/// - records in `checked_from..end` are whole, but a group still in flight may lack index
///   entries;
/// - everything below `checked_from` was flushed whole before the marker was written.
///
/// A store written before the marker existed (each group one atomic batch) has none; its
/// last record is checked instead.
pub const TAIL_KEY: &[u8] = b"mtail";

/// The tail marker's value.
pub fn tail_value(checked_from: u64, end: u64) -> [u8; 16] {
    let mut value = [0u8; 16];
    value[..8].copy_from_slice(&checked_from.to_be_bytes());
    value[8..].copy_from_slice(&end.to_be_bytes());
    value
}

/// `(checked_from, end)` from a tail marker's value, if it has the right length.
pub fn tail_from_value(value: &[u8]) -> Option<(u64, u64)> {
    let value: [u8; 16] = value.try_into().ok()?;
    let (from, end) = value.split_at(8);
    Some((
        u64::from_be_bytes(from.try_into().ok()?),
        u64::from_be_bytes(end.try_into().ok()?),
    ))
}

const CHUNK: u8 = b'c';
const LEGACY_RECORD: u8 = b'p';
const STREAM: u8 = b's';
const EVENT: u8 = b'e';
const TREE: u8 = b't';

/// Merkle subtree hashes stored under one key: [`tree_key`] `(level, chunk)` holds the
/// hashes of subtrees `chunk * TREE_CHUNK ..` of that level, 32 bytes each, in order.
pub const TREE_CHUNK: u64 = 16;

/// The key of a chunk of complete Merkle subtrees of `level` (see [`TREE_CHUNK`]): each the
/// RFC 9162 hash of the leaves (records) `index * 2^level .. (index + 1) * 2^level` (see
/// [`crate::merkle`]). Written with the group that completes them, after its index entries.
pub fn tree_key(level: u32, chunk: u64) -> [u8; 10] {
    let mut key = [TREE; 10];
    key[1] = u8::try_from(level).unwrap_or(u8::MAX);
    key[2..].copy_from_slice(&chunk.to_be_bytes());
    key
}

/// The prefix shared by every Merkle subtree key.
pub fn tree_prefix() -> &'static [u8] {
    &[TREE]
}

/// The key of the chunk whose first record is at `first` ([`crate::chunk`]).
pub fn chunk_key(first: Position) -> [u8; 9] {
    let mut key = [CHUNK; 9];
    key[1..].copy_from_slice(&first.0.to_be_bytes());
    key
}

/// The first position a chunk key names, if `key` is a chunk key.
pub fn position_of_chunk_key(key: &[u8]) -> Option<Position> {
    match key {
        [CHUNK, rest @ ..] => rest
            .try_into()
            .ok()
            .map(|b| Position(u64::from_be_bytes(b))),
        _ => None,
    }
}

/// The prefix shared by every chunk key.
pub fn chunk_prefix() -> &'static [u8] {
    &[CHUNK]
}

/// The key of the record at `position` in layout version 1 (one record per key): what a
/// migration reads, and what tests write to build such a store.
pub fn legacy_record_key(position: Position) -> [u8; 9] {
    let mut key = [LEGACY_RECORD; 9];
    key[1..].copy_from_slice(&position.0.to_be_bytes());
    key
}

/// The position a layout version 1 record key names, if `key` is one.
pub fn position_of_legacy_record_key(key: &[u8]) -> Option<Position> {
    match key {
        [LEGACY_RECORD, rest @ ..] => rest
            .try_into()
            .ok()
            .map(|b| Position(u64::from_be_bytes(b))),
        _ => None,
    }
}

/// The prefix shared by every layout version 1 record key.
pub fn legacy_record_prefix() -> &'static [u8] {
    &[LEGACY_RECORD]
}

/// The prefix shared by every stream-index key of `stream`.
pub fn stream_prefix(stream: &StreamName) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.as_str().len() + 10);
    key.push(STREAM);
    key.extend_from_slice(stream.as_str().as_bytes());
    key.push(0);
    key
}

/// The stream-index key of `stream` at `version`.
pub fn stream_key(stream: &StreamName, version: StreamVersion) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&version.0.to_be_bytes());
    key
}

/// The version a stream-index key names (its last 8 bytes).
pub fn version_of_stream_key(key: &[u8]) -> Option<StreamVersion> {
    let tail = key.len().checked_sub(8).map(|at| &key[at..])?;
    tail.try_into()
        .ok()
        .map(|b| StreamVersion(u64::from_be_bytes(b)))
}

/// The prefix shared by every stream-index key.
pub fn stream_index_prefix() -> &'static [u8] {
    &[STREAM]
}

/// The event-id index key of `id`.
pub fn event_key(id: &EventId) -> [u8; 17] {
    let mut key = [EVENT; 17];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

/// The two index keys of `record`: its stream-index key and its event-id key. Both point
/// at its position.
pub fn index_keys(record: &EventRecord) -> [Vec<u8>; 2] {
    [
        stream_key(&record.stream, record.version),
        event_key(&record.id).to_vec(),
    ]
}

/// The prefix shared by every event-id index key.
pub fn event_index_prefix() -> &'static [u8] {
    &[EVENT]
}

/// An index value: a position as 8 big-endian bytes.
pub fn position_value(position: Position) -> [u8; 8] {
    position.0.to_be_bytes()
}

/// Reads an index value back, if it has the right length.
pub fn position_from_value(value: &[u8]) -> Option<Position> {
    value
        .try_into()
        .ok()
        .map(|b| Position(u64::from_be_bytes(b)))
}
