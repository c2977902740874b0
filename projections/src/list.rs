//! Reading rows back: single rows, and cursor-paged lists of a row an entry whose keys end
//! in a reversed position (newest first), as every projection's `read` module does. The
//! feeds projection's lists are held in buckets of entries instead ([`crate::bucket`]),
//! with the same cursors.
//!
//! A cursor is the log position of the item it points at (a post's publication, a save,
//! an order). Walking pages with `after = last cursor` never repeats an item and never
//! skips one that existed when the walk began: newer items sort before the cursor.

use serde::de::DeserializeOwned;
use sparkfeed_events::Position;

use crate::ProjectionError;
use crate::cache::Source;
use crate::store::{decode, newest_first};

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The items with their cursors, newest first.
    pub items: Vec<(Position, T)>,
    /// Whether more items follow.
    pub has_next: bool,
}

/// The row at `key`, decoded.
pub(crate) fn row<T: DeserializeOwned>(
    source: &impl Source,
    key: &[u8],
) -> Result<Option<T>, ProjectionError> {
    source.row(key)?.map(|v| decode(&v)).transpose()
}

/// The cursor of a list entry: the position its key ends in, reversed back.
fn cursor_of(k: &[u8]) -> Result<Position, ProjectionError> {
    let tail: [u8; 8] = k
        .get(k.len().saturating_sub(8)..)
        .and_then(|t| t.try_into().ok())
        .ok_or_else(|| ProjectionError::Corrupt("short list key".into()))?;
    Ok(Position(u64::MAX - u64::from_be_bytes(tail)))
}

/// A newest-first scan of the list whose entries start with `prefix`, after cursor `after`.
pub(crate) fn scan(
    tree: &sled::Tree,
    prefix: Vec<u8>,
    after: Option<Position>,
) -> impl Iterator<Item = Result<(Position, sled::IVec), ProjectionError>> + use<> {
    let start = match after {
        Some(c) => {
            let mut s = prefix.clone();
            s.extend_from_slice(&newest_first(c).saturating_add(1).to_be_bytes());
            s
        }
        None => prefix.clone(),
    };
    tree.range(start..)
        .take_while(move |e| e.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
        .map(|e| {
            let (k, v) = e?;
            Ok((cursor_of(&k)?, v))
        })
}

/// Up to `first` items of the list under `prefix` after cursor `after`, newest first.
pub(crate) fn page<T: DeserializeOwned>(
    tree: &sled::Tree,
    prefix: Vec<u8>,
    first: usize,
    after: Option<Position>,
) -> Result<Page<T>, ProjectionError> {
    page_of(
        scan(tree, prefix, after).map(|e| e.and_then(|(at, v)| Ok((at, decode(&v)?)))),
        first,
    )
}

/// The first `first` of `entries` (newest first), and whether more follow.
pub(crate) fn page_of<T>(
    entries: impl Iterator<Item = Result<(Position, T), ProjectionError>>,
    first: usize,
) -> Result<Page<T>, ProjectionError> {
    let mut items = Vec::with_capacity(first.min(100));
    let mut has_next = false;
    for entry in entries {
        let entry = entry?;
        if items.len() == first {
            has_next = true;
            break;
        }
        items.push(entry);
    }
    Ok(Page { items, has_next })
}
