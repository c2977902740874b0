//! Decoded rows kept across reads, each beside the stored bytes it was decoded from.
//!
//! A read through [`DecodedRows`] still fetches the row's bytes from its [`Source`] (sled,
//! or the row cache that the projection's commits keep exact), so it is never staler than
//! the store and needs no invalidation of its own; it only skips decoding when the bytes
//! are the ones it decoded last time. A post card's body is read by every feed page
//! that shows it and changes rarely (a caption edit, a tag), and decoding it (sealed
//! caption, media, tags) cost about a twentieth of a feed page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;

use crate::ProjectionError;
use crate::cache::Source;
use crate::store::decode;

/// Shards, so that concurrent readers rarely wait on one lock.
const SHARDS: usize = 16;

/// What one held row costs beside its key, its stored bytes and its decoded value's own
/// size, as counted: the map's slot, the handles and the allocations' headers.
const ROW_OVERHEAD: usize = 96;

/// The decoded value's heap (strings, lists) is counted as twice its stored bytes: the
/// encoding is compact (lengths and bytes), the decoded form has capacities and headers.
const DECODED_PER_STORED_BYTE: usize = 2;

#[derive(Default)]
struct Rows<T> {
    rows: HashMap<Box<[u8]>, (sled::IVec, Arc<T>)>,
    /// The rows' [`DecodedRows::cost`] summed.
    bytes: usize,
}

/// Rows of one type by key, decoded at most once per stored version.
///
/// Invariant: each shard holds at most its part of the capacity, counted by
/// [`DecodedRows::cost`] (an estimate of the memory a row holds): a row that would take it
/// past that first clears the shard, and a row larger than a shard's part is not kept.
pub struct DecodedRows<T> {
    shards: [Mutex<Rows<T>>; SHARDS],
    per_shard_bytes: usize,
}

fn shard_of(key: &[u8]) -> usize {
    let hash = key.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    usize::try_from(hash).unwrap_or_default() % SHARDS
}

impl<T: DeserializeOwned> DecodedRows<T> {
    /// A cache of at most `bytes`, as [`DecodedRows::cost`] counts them (a full shard starts
    /// over).
    pub fn with_capacity_bytes(bytes: usize) -> Self {
        Self {
            shards: std::array::from_fn(|_| {
                Mutex::new(Rows {
                    rows: HashMap::new(),
                    bytes: 0,
                })
            }),
            per_shard_bytes: bytes / SHARDS,
        }
    }

    /// What a row stored as `stored` at `key` counts for: its key, its stored bytes, its
    /// decoded value (its own size and [`DECODED_PER_STORED_BYTE`] a stored byte) and
    /// [`ROW_OVERHEAD`].
    fn cost(key: &[u8], stored: &[u8]) -> usize {
        key.len()
            + stored.len() * (1 + DECODED_PER_STORED_BYTE)
            + std::mem::size_of::<T>()
            + ROW_OVERHEAD
    }

    /// The row stored at `key` in `tree`, decoded; `None` when there is none.
    pub fn get(&self, tree: &impl Source, key: &[u8]) -> Result<Option<Arc<T>>, ProjectionError> {
        let Some(bytes) = tree.row(key)? else {
            return Ok(None);
        };
        let shard = &self.shards[shard_of(key)];
        if let Some((seen, row)) = shard
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .rows
            .get(key)
            && *seen == bytes
        {
            return Ok(Some(Arc::clone(row)));
        }
        let row = Arc::new(decode::<T>(&bytes)?);
        let cost = Self::cost(key, &bytes);
        if cost > self.per_shard_bytes {
            return Ok(Some(row));
        }
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        if shard.bytes + cost > self.per_shard_bytes {
            shard.rows.clear();
            shard.bytes = 0;
        }
        if let Some((before, _)) = shard.rows.insert(key.into(), (bytes, Arc::clone(&row))) {
            shard.bytes -= Self::cost(key, &before);
        }
        shard.bytes += cost;
        Ok(Some(row))
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).rows.len())
            .sum()
    }

    /// The bytes held, as [`DecodedRows::cost`] counts them.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).bytes)
            .sum()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparkfeed_events::codec;

    fn tree() -> (tempfile::TempDir, sled::Tree) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new().path(dir.path()).open().expect("sled");
        let tree = db.open_tree("rows").expect("tree");
        (dir, tree)
    }

    fn put(tree: &sled::Tree, key: &[u8], value: &str) {
        tree.insert(
            key,
            codec::encode_payload(&value.to_owned()).expect("encode"),
        )
        .expect("insert");
    }

    /// The row at `k`, read through `rows`.
    fn text(rows: &DecodedRows<String>, tree: &sled::Tree) -> Option<String> {
        rows.get(tree, b"k")
            .expect("read")
            .map(|row| row.as_str().to_owned())
    }

    #[test]
    fn a_changed_row_is_decoded_again_never_served_stale() {
        let (_dir, tree) = tree();
        let rows = DecodedRows::<String>::with_capacity_bytes(64 * 1024);
        put(&tree, b"k", "first");
        assert_eq!(text(&rows, &tree).as_deref(), Some("first"));
        let again = rows.get(&tree, b"k").expect("read").expect("row");
        let same = rows.get(&tree, b"k").expect("read").expect("row");
        assert!(
            Arc::ptr_eq(&again, &same),
            "unchanged bytes are not decoded again"
        );
        put(&tree, b"k", "second");
        assert_eq!(text(&rows, &tree).as_deref(), Some("second"));
        tree.remove(b"k").expect("remove");
        assert_eq!(rows.get(&tree, b"k").expect("read"), None);
    }

    #[test]
    fn the_cache_holds_at_most_its_bytes_and_still_answers_every_row() {
        let (_dir, tree) = tree();
        let capacity = 16 * 1024;
        let rows = DecodedRows::<String>::with_capacity_bytes(capacity);
        let value = "v".repeat(200);
        for n in 0..500 {
            let key = format!("k{n:03}");
            put(&tree, key.as_bytes(), &value);
            let row = rows.get(&tree, key.as_bytes()).expect("read");
            assert_eq!(row.as_deref(), Some(&value), "{key}");
            assert!(rows.bytes() <= capacity, "{} bytes held", rows.bytes());
        }
        let held = rows.len();
        assert!(held > 0 && held < 500, "{held} rows held");
        // A row larger than a shard's part is answered, never kept.
        let small = DecodedRows::<String>::with_capacity_bytes(16 * 64);
        put(&tree, b"k", &value);
        assert_eq!(text(&small, &tree).as_deref(), Some(value.as_str()));
        assert_eq!((small.len(), small.bytes()), (0, 0));
    }
}
