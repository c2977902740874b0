//! The log's Merkle tree (RFC 9162, [`sparkfeed_merkle`]), kept in the store as it appends.
//!
//! Every complete subtree's hash is stored, [`keys::TREE_CHUNK`] of one level under one key
//! ([`keys::tree_key`]): appending leaf `n` adds the leaf and every subtree it completes
//! (O(log n), amortised 2 hashes), and a group rewrites only the last chunk of each level
//! it touched, so the tree costs a group about `events / 8 + levels` inserts, not
//! `2 * events`. A root or a proof reads only stored hashes, never a record. A leaf is one
//! record: `SHA-256(0x00 || its stored bytes before the chain hash)`, the bytes the chain
//! hashes.
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

impl Frontier {
    /// The root of the tree of the leaves pushed so far: its complete subtrees folded from
    /// the right (RFC 9162's split at the largest power of two below the size).
    pub(crate) fn root(&self) -> Hash {
        self.pending
            .iter()
            .flatten()
            .fold(None, |right: Option<Hash>, left| {
                Some(right.map_or(*left, |r| node_hash(left, &r)))
            })
            .unwrap_or_else(sparkfeed_merkle::empty_root)
    }
}

/// The stored subtree hashes of `tree`.
pub(crate) struct Stored<'a>(pub(crate) &'a sled::Tree);

impl Nodes for Stored<'_> {
    fn complete(&self, level: u32, index: u64) -> Option<Hash> {
        let chunk = self
            .0
            .get(keys::tree_key(level, index / keys::TREE_CHUNK))
            .ok()??;
        hash_in(&chunk, index)
    }
}

/// [`Stored`] for a walk that asks for the subtrees of each level in increasing order
/// (verify): it keeps the chunk it last read per level, so a walk reads each chunk about
/// once instead of once per subtree. A chunk that does not hold the subtree asked for yet
/// (the writer grew it since) is read again.
pub(crate) struct Walk<'a> {
    tree: &'a sled::Tree,
    chunks: Vec<Option<(u64, sled::IVec)>>,
}

impl<'a> Walk<'a> {
    pub(crate) fn new(tree: &'a sled::Tree) -> Self {
        Self {
            tree,
            chunks: vec![None; 64],
        }
    }

    /// The stored hash of subtree (`level`, `index`), if there is one.
    pub(crate) fn complete(&mut self, level: u32, index: u64) -> Result<Option<Hash>, LogError> {
        let number = index / keys::TREE_CHUNK;
        let at = usize::try_from(level).unwrap_or(usize::MAX);
        let Some(slot) = self.chunks.get_mut(at) else {
            return Ok(None);
        };
        if let Some((held, chunk)) = slot
            && *held == number
            && let Some(hash) = hash_in(chunk, index)
        {
            return Ok(Some(hash));
        }
        let chunk = self.tree.get(keys::tree_key(level, number))?;
        let hash = chunk.as_deref().and_then(|c| hash_in(c, index));
        *slot = chunk.map(|c| (number, c));
        Ok(hash)
    }
}

/// The hash of subtree `index` in its level's chunk `chunk`, if the chunk holds it.
fn hash_in(chunk: &[u8], index: u64) -> Option<Hash> {
    let at = usize::try_from(index % keys::TREE_CHUNK).ok()? * 32;
    let bytes: [u8; 32] = chunk.get(at..at + 32)?.try_into().ok()?;
    Some(Hash(bytes))
}

/// The last, growing chunk of each level, as the writer holds it between groups.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tails {
    /// Per level: the chunk's number, its bytes, and whether a group changed it.
    levels: Vec<(u64, Vec<u8>, bool)>,
}

impl Tails {
    /// The tails of a tree of `len` leaves whose chunks are stored whole in `tree`.
    pub(crate) fn load(tree: &sled::Tree, len: u64) -> Result<Self, LogError> {
        let mut levels = Vec::new();
        for level in 0..64u32 {
            let nodes = len >> level;
            if nodes == 0 {
                break;
            }
            let (chunk, held) = (nodes / keys::TREE_CHUNK, nodes % keys::TREE_CHUNK);
            let mut bytes = Vec::new();
            if held > 0 {
                let stored = tree.get(keys::tree_key(level, chunk))?.unwrap_or_default();
                let want = usize::try_from(held).unwrap_or(usize::MAX) * 32;
                bytes = stored
                    .get(..want)
                    .map(<[u8]>::to_vec)
                    .ok_or(LogError::Corrupt {
                        position: None,
                        reason: format!(
                            "the Merkle tree's chunk {chunk} of level {level} is short"
                        ),
                    })?;
            }
            levels.push((chunk, bytes, false));
        }
        Ok(Self { levels })
    }

    /// Adds subtree (`level`, `index`), the next of its level; a chunk it fills goes to
    /// `writes` at once.
    pub(crate) fn add(
        &mut self,
        level: u32,
        index: u64,
        hash: Hash,
        writes: &mut Vec<([u8; 10], Vec<u8>)>,
    ) {
        let at = usize::try_from(level).unwrap_or(usize::MAX);
        if self.levels.len() <= at {
            self.levels.resize(at + 1, (0, Vec::new(), false));
        }
        let (chunk, bytes, changed) = &mut self.levels[at];
        *chunk = index / keys::TREE_CHUNK;
        bytes.extend_from_slice(&hash.0);
        *changed = true;
        if index % keys::TREE_CHUNK == keys::TREE_CHUNK - 1 {
            writes.push((keys::tree_key(level, *chunk), std::mem::take(bytes)));
            *changed = false;
        }
    }

    /// Sends every chunk a group changed and did not fill to `writes`.
    pub(crate) fn flush(&mut self, writes: &mut Vec<([u8; 10], Vec<u8>)>) {
        for (level, (chunk, bytes, changed)) in self.levels.iter_mut().enumerate() {
            if std::mem::take(changed) && !bytes.is_empty() {
                let level = u32::try_from(level).unwrap_or(u32::MAX);
                writes.push((keys::tree_key(level, *chunk), bytes.clone()));
            }
        }
    }
}

/// Removes the subtree hashes that reach past the first `len` leaves (those of a group
/// cut short); answers how many chunks it changed.
pub(crate) fn trim(tree: &sled::Tree, len: u64) -> Result<u64, LogError> {
    let mut changed = 0;
    for level in 0..64u32 {
        let nodes = len >> level;
        let (chunk, held) = (nodes / keys::TREE_CHUNK, nodes % keys::TREE_CHUNK);
        let keep = usize::try_from(held).unwrap_or(usize::MAX) * 32;
        let from = keys::tree_key(level, chunk);
        let to = keys::tree_key(level, u64::MAX);
        let chunks: Vec<_> = tree.range(from..=to).collect::<Result<_, _>>()?;
        for (key, value) in chunks {
            if key.as_ref() == from.as_slice() && keep > 0 {
                if value.len() > keep {
                    tree.insert(key, value.get(..keep).unwrap_or_default())?;
                    changed += 1;
                }
            } else {
                tree.remove(key)?;
                changed += 1;
            }
        }
    }
    Ok(changed)
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
        leaf_of_stored(position, stored_record(tree, position)?.bytes())?
    } else {
        let left = ensure(tree, level - 1, index * 2, written)?;
        let right = ensure(tree, level - 1, index * 2 + 1, written)?;
        node_hash(&left, &right)
    };
    set(tree, level, index, hash, written)?;
    Ok(hash)
}

/// Stores the hash of subtree (`level`, `index`) in its chunk, first the missing ones
/// before it in that chunk (a chunk holds its subtrees in order, with no gap).
fn set(
    tree: &sled::Tree,
    level: u32,
    index: u64,
    hash: Hash,
    written: &mut u64,
) -> Result<(), LogError> {
    let key = keys::tree_key(level, index / keys::TREE_CHUNK);
    let at = usize::try_from(index % keys::TREE_CHUNK).unwrap_or(usize::MAX) * 32;
    let held = tree.get(key)?.map_or(0, |c| c.len());
    if held < at {
        // The subtree before it is missing too: its hash first, then this one.
        ensure(tree, level, index - 1, written)?;
    }
    let mut chunk = tree.get(key)?.map(|c| c.to_vec()).unwrap_or_default();
    match chunk.get_mut(at..at + 32) {
        Some(slot) => slot.copy_from_slice(&hash.0),
        None => {
            chunk.truncate(at);
            chunk.extend_from_slice(&hash.0);
        }
    }
    tree.insert(key, chunk)?;
    *written += 1;
    Ok(())
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
pub(crate) fn stored_record(
    tree: &sled::Tree,
    position: Position,
) -> Result<crate::records::StoredRecord, LogError> {
    crate::records::stored(tree, position)?.ok_or(LogError::Corrupt {
        position: Some(position),
        reason: "a record below the head is missing".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sparkfeed_merkle::MemoryTree;

    /// The frontier's root is the RFC 9162 root of every size: what `verify --against`
    /// compares a saved head with.
    #[test]
    fn the_frontier_root_is_the_tree_root_at_every_size() {
        let mut frontier = Frontier::default();
        let mut tree = MemoryTree::default();
        assert_eq!(frontier.root(), sparkfeed_merkle::empty_root());
        for n in 0..300u64 {
            let leaf = leaf_hash(&n.to_be_bytes());
            frontier.push(n, leaf, |_, _, _| {}).expect("pushes");
            tree.push(leaf);
            assert_eq!(
                Ok(frontier.root()),
                sparkfeed_merkle::root(&tree, n + 1),
                "size {}",
                n + 1
            );
        }
    }
}
