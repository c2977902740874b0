//! Where projections keep their rows: one sled store, one tree per projection generation.
//!
//! A projection's rows and its checkpoint live in the same tree (the checkpoint under
//! [`CHECKPOINT`]), so one `sled::Batch` commits both: after a crash a projection resumes
//! exactly where its last batch ended, neither skipping nor applying an event twice.
//!
//! The `catalog` tree names the active generation of each projection. A rebuild fills a
//! fresh generation while the active one keeps serving, then swaps the catalog entry and
//! the in-memory [`Slot`] in one step and drops the old tree.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Serialize, de::DeserializeOwned};
use sparkfeed_events::{Position, codec};

use crate::ProjectionError;

/// The key of a projection's checkpoint: the position of the next event it will apply.
pub const CHECKPOINT: &[u8] = b"\x00checkpoint";

/// Encodes a row value with the log's codec options.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ProjectionError> {
    codec::encode_payload(value).map_err(|e| ProjectionError::Corrupt(e.to_string()))
}

/// Decodes a row value.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProjectionError> {
    codec::decode_payload(bytes).map_err(|e| ProjectionError::Corrupt(e.to_string()))
}

/// Builds a key from parts separated by `0x00` (parts never contain it: ids, slugs and
/// ASINs are ASCII without NUL) followed by an optional big-endian number.
pub fn key(parts: &[&str], number: Option<u64>) -> Vec<u8> {
    let mut key = Vec::with_capacity(64);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push(0);
        }
        key.extend_from_slice(part.as_bytes());
    }
    if let Some(n) = number {
        key.push(0);
        key.extend_from_slice(&n.to_be_bytes());
    }
    key
}

/// Newest first: positions stored reversed sort the latest event first.
pub fn newest_first(position: Position) -> u64 {
    u64::MAX - position.0
}

/// The active tree of one projection, swappable by a rebuild.
#[derive(Clone)]
pub struct Slot(Arc<RwLock<sled::Tree>>);

impl Slot {
    pub(crate) fn new(tree: sled::Tree) -> Self {
        Self(Arc::new(RwLock::new(tree)))
    }

    /// The tree serving reads now (a cheap handle).
    pub fn tree(&self) -> sled::Tree {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn swap(&self, tree: sled::Tree) -> sled::Tree {
        let mut guard = self.0.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *guard, tree)
    }

    /// Where the active tree's projection has got to.
    pub fn checkpoint(&self) -> Result<Position, ProjectionError> {
        checkpoint(&self.tree())
    }
}

/// The checkpoint stored in `tree` (0 when it has applied nothing).
pub fn checkpoint(tree: &sled::Tree) -> Result<Position, ProjectionError> {
    match tree.get(CHECKPOINT)? {
        None => Ok(Position::START),
        Some(v) => v
            .as_ref()
            .try_into()
            .map(|b| Position(u64::from_be_bytes(b)))
            .map_err(|_| ProjectionError::Corrupt("malformed checkpoint".into())),
    }
}

/// The writes of one batch, readable before they are committed.
pub struct Rows<'a> {
    tree: &'a sled::Tree,
    pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Rows<'a> {
    pub(crate) fn new(tree: &'a sled::Tree) -> Self {
        Self {
            tree,
            pending: BTreeMap::new(),
        }
    }

    /// The row at `key`, seeing this batch's own writes.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ProjectionError> {
        match self.pending.get(key) {
            Some(Some(v)) => decode(v).map(Some),
            Some(None) => Ok(None),
            None => self.tree.get(key)?.map(|v| decode(&v)).transpose(),
        }
    }

    /// Whether a row exists at `key`.
    pub fn contains(&self, key: &[u8]) -> Result<bool, ProjectionError> {
        match self.pending.get(key) {
            Some(v) => Ok(v.is_some()),
            None => Ok(self.tree.contains_key(key)?),
        }
    }

    /// Sets the row at `key`.
    pub fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), ProjectionError> {
        self.pending.insert(key, Some(encode(value)?));
        Ok(())
    }

    /// Removes the row at `key`.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.pending.insert(key, None);
    }

    /// Commits the rows and the checkpoint `next` in one atomic batch.
    pub(crate) fn commit(self, next: Position) -> Result<(), ProjectionError> {
        let mut batch = sled::Batch::default();
        for (key, value) in self.pending {
            match value {
                Some(v) => batch.insert(key, v),
                None => batch.remove(key),
            }
        }
        batch.insert(CHECKPOINT, &next.0.to_be_bytes());
        self.tree.apply_batch(batch)?;
        Ok(())
    }
}
