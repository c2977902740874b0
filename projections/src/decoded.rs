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

type Shard<T> = Mutex<HashMap<Box<[u8]>, (sled::IVec, Arc<T>)>>;

/// Rows of one type by key, decoded at most once per stored version.
pub struct DecodedRows<T> {
    shards: [Shard<T>; SHARDS],
    per_shard: usize,
}

fn shard_of(key: &[u8]) -> usize {
    let hash = key.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    usize::try_from(hash).unwrap_or_default() % SHARDS
}

impl<T: DeserializeOwned> DecodedRows<T> {
    /// A cache of at most about `capacity` rows (a full shard starts over).
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The row stored at `key` in `tree`, decoded; `None` when there is none.
    pub fn get(&self, tree: &impl Source, key: &[u8]) -> Result<Option<Arc<T>>, ProjectionError> {
        let Some(bytes) = tree.row(key)? else {
            return Ok(None);
        };
        let shard = &self.shards[shard_of(key)];
        if let Some((seen, row)) = shard.lock().unwrap_or_else(|p| p.into_inner()).get(key)
            && *seen == bytes
        {
            return Ok(Some(Arc::clone(row)));
        }
        let row = Arc::new(decode::<T>(&bytes)?);
        let mut rows = shard.lock().unwrap_or_else(|p| p.into_inner());
        if rows.len() >= self.per_shard {
            rows.clear();
        }
        rows.insert(key.into(), (bytes, Arc::clone(&row)));
        Ok(Some(row))
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
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
        let rows = DecodedRows::<String>::new(100);
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
    fn the_cache_is_bounded() {
        let (_dir, tree) = tree();
        let rows = DecodedRows::<String>::new(32);
        for n in 0..500 {
            let key = format!("k{n}");
            put(&tree, key.as_bytes(), "v");
            rows.get(&tree, key.as_bytes()).expect("read");
        }
        assert!(rows.len() <= 32, "{}", rows.len());
    }
}
