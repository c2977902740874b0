//! Bucketed lists: a newest-first list whose entries are held a bounded bucket to a row,
//! not a row each.
//!
//! A rebuild's cost is sled's, row by row (about 9 µs of CPU an insert here, see
//! BENCHMARKS.md): an interest's feed listing every post of the interest as a row of its
//! own made the feeds projection write about as many rows as it applied events. In buckets
//! of [`BUCKET_ENTRIES`], a long list costs a row per that many entries; a list of one
//! entry (most posts' comments) still costs one row.
//!
//! Under a list's prefix `P`:
//!
//! | key | row |
//! | --- | --- |
//! | `P` + `0x00 * 8` | the head: the newest entries |
//! | `P` + `newest_first(m)` | a sealed bucket, whose entries are at positions up to `m` |
//!
//! Invariant (the partition): the buckets split the positions between them. A sealed
//! bucket keyed by `m` holds every entry at or below `m` and above the next older
//! bucket's `m` (sealed, `m` is its newest entry; a removal may take that one out); the
//! head holds every entry above the newest sealed bucket's `m`. So the bucket of position
//! `p` is the greatest key at or below `P + newest_first(p)` (the head's key sorts before
//! every sealed one), and reading the keys in order reads the entries newest first. Entries in a bucket are newest first, at distinct positions, and a bucket
//! is never empty (its row is removed instead) nor holds more than [`BUCKET_ENTRIES`].
//!
//! Appending (every list's common case: an entry at the event's own position) changes the
//! head alone, with no seek; a full head is sealed where it stands. Inserting below the
//! newest entry (a product tagged on an older post) or removing an entry seeks its bucket;
//! a bucket over capacity splits in two.
//!
//! Cursors are the entries' positions, as for lists of a row an entry ([`crate::list`]).

use serde::{Serialize, de::DeserializeOwned};
use sparkfeed_events::Position;

use crate::ProjectionError;
use crate::list::{Page, page_of};
use crate::store::{Rows, decode, newest_first};

/// The most entries a bucket holds: about 2 KiB of post ids, small enough that appending to
/// a head rewritten at every append stays cheap on the live path.
pub const BUCKET_ENTRIES: usize = 64;

/// A bucket's entries: positions and values, newest first.
type Entries<T> = Vec<(u64, T)>;

/// About what an entry costs in memory, for the rebuild's row buffer: its position, its
/// id's handle and text, and its share of the bucket's spare capacity.
const ENTRY_BYTES: usize = 96;

fn bytes_of<T>(bucket: &Option<Entries<T>>) -> usize {
    bucket.as_ref().map_or(0, |b| b.len() * ENTRY_BYTES)
}

/// The key of the head of the list under `prefix`.
fn head_key(prefix: &[u8]) -> Vec<u8> {
    bucket_key(prefix, 0)
}

/// The key under `prefix` ending in `reversed`.
fn bucket_key(prefix: &[u8], reversed: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&reversed.to_be_bytes());
    key
}

/// The key of a sealed bucket whose newest entry is at `newest`.
fn sealed_key(prefix: &[u8], newest: u64) -> Vec<u8> {
    bucket_key(prefix, newest_first(Position(newest)))
}

/// Adds `value` at `position`, the position of the event being applied: above every
/// entry the list has ever held. The common case, and the cheap one: the head alone
/// changes. An entry not above the head's newest is inserted where it belongs instead.
pub fn append<T>(
    rows: &mut Rows<'_>,
    prefix: &[u8],
    position: Position,
    value: T,
) -> Result<(), ProjectionError>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    append_within(rows, prefix, position, value, BUCKET_ENTRIES)
}

/// Adds `value` at `position` anywhere in the list, replacing an entry at that position.
pub fn insert<T>(
    rows: &mut Rows<'_>,
    prefix: &[u8],
    position: Position,
    value: T,
) -> Result<(), ProjectionError>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    insert_within(rows, prefix, position, value, BUCKET_ENTRIES)
}

/// Removes the entry at `position`, if the list holds one.
pub fn remove<T>(
    rows: &mut Rows<'_>,
    prefix: &[u8],
    position: Position,
) -> Result<(), ProjectionError>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let Some(key) = bucket_of(rows, prefix, position)? else {
        return Ok(());
    };
    rows.change_ordered(
        key,
        |bucket: &mut Option<Entries<T>>| {
            if let Some(entries) = bucket {
                entries.retain(|(at, _)| *at != position.0);
                if entries.is_empty() {
                    *bucket = None;
                }
            }
        },
        bytes_of,
    )
}

/// The key of the bucket that holds (or would hold) `position`: `None` when the list is
/// empty.
fn bucket_of(
    rows: &Rows<'_>,
    prefix: &[u8],
    position: Position,
) -> Result<Option<Vec<u8>>, ProjectionError> {
    rows.last_in(
        &head_key(prefix),
        &bucket_key(prefix, newest_first(position)),
    )
}

fn append_within<T>(
    rows: &mut Rows<'_>,
    prefix: &[u8],
    position: Position,
    value: T,
    capacity: usize,
) -> Result<(), ProjectionError>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let head = head_key(prefix);
    // No head: the list is empty, or removals emptied the head; where the entry goes is
    // sought, not assumed.
    if !rows.contains(&head)? {
        return insert_within(rows, prefix, position, value, capacity);
    }
    let at = position.0;
    // Given back when the head is not the place for it.
    let mut value = Some(value);
    let sealed = rows.change_ordered(
        head,
        |head: &mut Option<Entries<T>>| {
            let entries = head.as_mut()?;
            if entries.first().is_none_or(|(newest, _)| *newest >= at) {
                return None;
            }
            let v = value.take()?;
            if entries.len() >= capacity {
                return Some(std::mem::replace(entries, vec![(at, v)]));
            }
            entries.insert(0, (at, v));
            None
        },
        bytes_of,
    )?;
    if let Some(entries) = sealed {
        seal(rows, prefix, entries)?;
    }
    match value {
        Some(v) => insert_within(rows, prefix, position, v, capacity),
        None => Ok(()),
    }
}

fn insert_within<T>(
    rows: &mut Rows<'_>,
    prefix: &[u8],
    position: Position,
    value: T,
    capacity: usize,
) -> Result<(), ProjectionError>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let at = position.0;
    let key = bucket_of(rows, prefix, position)?.unwrap_or_else(|| head_key(prefix));
    let older_half = rows.change_ordered(
        key,
        |bucket: &mut Option<Entries<T>>| {
            let entries = bucket.get_or_insert_with(Vec::new);
            match entries.binary_search_by(|(p, _)| at.cmp(p)) {
                Ok(i) => {
                    if let Some(entry) = entries.get_mut(i) {
                        entry.1 = value;
                    }
                }
                Err(i) => entries.insert(i, (at, value)),
            }
            (entries.len() > capacity).then(|| entries.split_off(entries.len() / 2))
        },
        bytes_of,
    )?;
    match older_half {
        Some(entries) => seal(rows, prefix, entries),
        None => Ok(()),
    }
}

/// Writes `entries` (newest first, all below every entry of the bucket they came from and
/// above every older bucket's) as the sealed bucket they make.
fn seal<T>(rows: &mut Rows<'_>, prefix: &[u8], entries: Entries<T>) -> Result<(), ProjectionError>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let Some(&(newest, _)) = entries.first() else {
        return Ok(());
    };
    rows.change_ordered(
        sealed_key(prefix, newest),
        |bucket: &mut Option<Entries<T>>| *bucket = Some(entries),
        bytes_of,
    )
}

/// A newest-first read of the list under `prefix`, of the entries below cursor `after`
/// (all of them when `None`), bucket by bucket as it goes.
pub(crate) fn scan<T: DeserializeOwned + 'static>(
    tree: &sled::Tree,
    prefix: Vec<u8>,
    after: Option<Position>,
) -> impl Iterator<Item = Result<(Position, T), ProjectionError>> + use<T> {
    let below = after.map_or(u64::MAX, |a| a.0);
    let buckets: Box<dyn Iterator<Item = sled::Result<sled::IVec>>> = match after {
        None => Box::new(
            tree.scan_prefix(&prefix)
                .map(|e| e.map(|(_, bucket)| bucket)),
        ),
        Some(cursor) => {
            // The head, then the sealed bucket that may straddle the cursor, then every
            // bucket below it.
            let head = head_key(&prefix);
            let at = bucket_key(&prefix, newest_first(cursor));
            let head_row = tree.get(&head).transpose();
            let mut after_head = head.clone();
            after_head.push(0);
            // None at the last position of all (a cursor is client input).
            let straddling = (after_head < at)
                .then(|| tree.range(after_head.clone()..at.clone()).next_back())
                .flatten()
                .map(|e| e.map(|(_, bucket)| bucket));
            // At the last position of all, `at` is the head's own key.
            let from = if at > head { at } else { after_head };
            let below_cursor = tree
                .range(from..)
                .take_while({
                    let prefix = prefix.clone();
                    move |e| e.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix))
                })
                .map(|e| e.map(|(_, bucket)| bucket));
            Box::new(head_row.into_iter().chain(straddling).chain(below_cursor))
        }
    };
    buckets.flat_map(move |bucket| {
        let entries: Vec<Result<(Position, T), ProjectionError>> = match bucket
            .map_err(ProjectionError::from)
            .and_then(|b| decode::<Entries<T>>(&b))
        {
            Ok(entries) => entries
                .into_iter()
                .filter(|(at, _)| *at < below)
                .map(|(at, v)| Ok((Position(at), v)))
                .collect(),
            Err(e) => vec![Err(e)],
        };
        entries
    })
}

/// Up to `first` entries of the list under `prefix` below cursor `after`, newest first.
pub(crate) fn page<T: DeserializeOwned + 'static>(
    tree: &sled::Tree,
    prefix: Vec<u8>,
    first: usize,
    after: Option<Position>,
) -> Result<Page<T>, ProjectionError> {
    page_of(scan(tree, prefix, after), first)
}

/// Up to `max` entries of the list under `prefix` above `since` (all when `None`), oldest
/// first.
pub(crate) fn newer_than<T: DeserializeOwned>(
    tree: &sled::Tree,
    prefix: Vec<u8>,
    since: Option<Position>,
    max: usize,
) -> Result<Vec<(Position, T)>, ProjectionError> {
    let above = since.map(|s| s.0);
    // From the bucket of the oldest position wanted (or the oldest bucket) up to the head.
    let last = match since {
        Some(s) => bucket_key(&prefix, newest_first(Position(s.0.saturating_add(1)))),
        None => bucket_key(&prefix, u64::MAX),
    };
    let mut items = Vec::new();
    for bucket in tree.range(prefix..=last).rev() {
        let (_, bucket) = bucket?;
        let entries: Entries<T> = decode(&bucket)?;
        for (at, value) in entries.into_iter().rev() {
            if above.is_some_and(|s| at <= s) {
                continue;
            }
            items.push((Position(at), value));
            if items.len() == max {
                return Ok(items);
            }
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests;
