//! The log's Merkle tree (RFC 9162, [`sparkfeed_merkle`]), kept in the store as it appends.
//!
//! Every complete subtree's hash is stored under [`keys::tree_key`]: appending leaf `n`
//! stores the leaf and every subtree it completes (O(log n), amortised 2 inserts), so a
//! root or a proof reads only stored hashes, never a record. A leaf is one record:
//! `SHA-256(0x00 || its stored bytes before the chain hash)`, the bytes the chain hashes.
//!
//! Invariant (kept by the writer and by recovery): for a log of `n` durable records the
//! store holds every complete subtree within the first `n` leaves and none beyond them.
//! The writer writes a group's subtree hashes after its index entries and before the tail
//! marker; recovery removes those of a group cut short ([`trim`]) and writes again any
//! that are missing below the head ([`restore`]), which also builds the whole tree of a
//! log written before the tree existed.

use sparkfeed_events::{Hash, Position, codec};
use sparkfeed_merkle::{Nodes, leaf_hash, node_hash};

use crate::{LogError, keys};

/// The leaf hash of a stored record (its bytes before the chain hash).
pub(crate) fn leaf_of_stored(position: Position, stored: &[u8]) -> Result<Hash, LogError> {
    let split = codec::split(stored).map_err(|e| LogError::corrupt(position, e))?;
    Ok(leaf_hash(split.record_bytes))
}

/// The right edge of the tree: at each level, the last complete subtree when it still
/// waits for its right sibling.
#[derive(Clone, Debug, Default)]
pub(crate) struct Frontier {
    pending: Vec<Option<Hash>>,
}

impl Frontier {
    /// Appends leaf `position` (the next one); `complete` is told every subtree it
    /// completes, the leaf first.
    pub(crate) fn push(
        &mut self,
        position: u64,
        leaf: Hash,
        mut complete: impl FnMut(u32, u64, Hash),
    ) -> Result<(), LogError> {
        let (mut level, mut hash) = (0u32, leaf);
        loop {
            let index = position >> level;
            complete(level, index, hash);
            let at = usize::try_from(level).unwrap_or(usize::MAX);
            if self.pending.len() <= at {
                self.pending.resize(at + 1, None);
            }
            if index & 1 == 0 {
                self.pending[at] = Some(hash);
                return Ok(());
            }
            let Some(left) = self.pending[at].take() else {
                return Err(LogError::Corrupt {
                    position: Some(Position(position)),
                    reason: format!("the Merkle tree lacks the left sibling at level {level}"),
                });
            };
            hash = node_hash(&left, &hash);
            level += 1;
        }
    }
}

/// The stored subtree hashes of `tree`.
pub(crate) struct Stored<'a>(pub(crate) &'a sled::Tree);

impl Nodes for Stored<'_> {
    fn complete(&self, level: u32, index: u64) -> Option<Hash> {
        let value = self.0.get(keys::tree_key(level, index)).ok()??;
        let bytes: [u8; 32] = value.as_ref().try_into().ok()?;
        Some(Hash(bytes))
    }
}

/// Removes the subtree hashes that reach past the first `len` leaves (those of a group
/// cut short); answers how many.
pub(crate) fn trim(tree: &sled::Tree, len: u64) -> Result<u64, LogError> {
    let mut removed = 0;
    for level in 0..64u32 {
        let first_past = len >> level;
        let from = keys::tree_key(level, first_past);
        let to = keys::tree_key(level, u64::MAX);
        let doomed: Vec<_> = tree.range(from..=to).keys().collect::<Result<_, _>>()?;
        for key in doomed {
            tree.remove(key)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The frontier of a log of `len` records, writing again every missing subtree hash it
/// needs (from the records where leaves are missing); answers it and how many hashes were
/// written.
pub(crate) fn restore(tree: &sled::Tree, len: u64) -> Result<(Frontier, u64), LogError> {
    let mut frontier = Frontier::default();
    let mut written = 0;
    for level in 0..64u32 {
        if len >> level & 1 == 1 {
            let hash = ensure(tree, level, (len >> level) - 1, &mut written)?;
            let at = usize::try_from(level).unwrap_or(usize::MAX);
            frontier.pending.resize(at + 1, None);
            frontier.pending[at] = Some(hash);
        }
    }
    Ok((frontier, written))
}

/// The stored hash of subtree (`level`, `index`), computed and written first if missing.
fn ensure(tree: &sled::Tree, level: u32, index: u64, written: &mut u64) -> Result<Hash, LogError> {
    if let Some(hash) = Stored(tree).complete(level, index) {
        return Ok(hash);
    }
    let hash = if level == 0 {
        let position = Position(index);
        leaf_of_stored(position, &stored_record(tree, position)?)?
    } else {
        let left = ensure(tree, level - 1, index * 2, written)?;
        let right = ensure(tree, level - 1, index * 2 + 1, written)?;
        node_hash(&left, &right)
    };
    tree.insert(keys::tree_key(level, index), &hash.0)?;
    *written += 1;
    Ok(hash)
}

/// Whether the store holds any subtree hash (a log written before the tree existed holds
/// none until it is opened).
pub(crate) fn has_tree(tree: &sled::Tree) -> Result<bool, LogError> {
    Ok(tree
        .scan_prefix(keys::tree_prefix())
        .next()
        .transpose()?
        .is_some())
}

/// The stored bytes of the record at `position` (`CORRUPT` when it is missing).
pub(crate) fn stored_record(tree: &sled::Tree, position: Position) -> Result<sled::IVec, LogError> {
    tree.get(keys::record_key(position))?
        .ok_or(LogError::Corrupt {
            position: Some(position),
            reason: "a record below the head is missing".into(),
        })
}
