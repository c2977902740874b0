//! The log's Merkle tree, in the style of Certificate Transparency (RFC 9162, section 2.1):
//! tree heads, inclusion proofs and consistency proofs, and their checks.
//!
//! - A leaf is one record: `leaf_hash = SHA-256(0x00 || record bytes)`.
//! - An inner node: `node_hash = SHA-256(0x01 || left || right)`.
//! - The tree of `n` leaves splits at `k`, the largest power of two below `n`: its root is
//!   `node_hash(root(first k), root(the rest))`; the empty tree's root is `SHA-256("")`.
//!
//! Proofs are computed from *complete* subtrees only (`2^level` leaves starting at a
//! multiple of `2^level`), asked of a [`Nodes`] store: the log keeps every complete
//! subtree's hash as it appends (O(log n) per append, amortised O(1)), so a proof never
//! rereads a record. Any other subtree (the right edge of a tree whose size is not a power
//! of two) is computed from at most `log2 n` complete ones.
//!
//! The checks ([`verify_inclusion`], [`verify_consistency`]) are the RFC's algorithms and
//! need nothing but hashes: anyone can run them offline.

use sha2::{Digest, Sha256};
use sparkfeed_events::Hash;

/// Why a proof was not computed, or did not check out. Each has a stable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A tree size of 0 has no leaf to prove. Code `EMPTY_TREE`.
    #[error("a tree of size 0 has nothing to prove")]
    EmptyTree,
    /// The leaf is not in a tree of that size. Code `PAST_TREE_SIZE`.
    #[error("leaf {index} is not in a tree of size {size}")]
    PastTreeSize {
        /// The leaf asked for.
        index: u64,
        /// The tree's size.
        size: u64,
    },
    /// The older size is above the newer one. Code `SIZES_REVERSED`.
    #[error("a tree of size {from} cannot grow into one of size {to}")]
    SizesReversed {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// The proof has too few or too many hashes for those sizes. Code `BAD_PROOF_LENGTH`.
    #[error("the proof has {found} hashes where {expected} were due")]
    BadProofLength {
        /// The hashes the sizes call for.
        expected: usize,
        /// The hashes given.
        found: usize,
    },
    /// The proof leads to another root: the record, the proof or the head was altered.
    /// Code `ROOT_MISMATCH`.
    #[error("the proof leads to root {computed}, not to the head's {expected}")]
    RootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The root it should have led to.
        expected: Hash,
    },
    /// The store lacks a subtree the proof needs. Code `MISSING_NODE`.
    #[error("the tree has no node at level {level}, index {index}")]
    MissingNode {
        /// Its level (leaves are level 0).
        level: u32,
        /// Its index at that level.
        index: u64,
    },
}

impl ProofError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProofError::EmptyTree => "EMPTY_TREE",
            ProofError::PastTreeSize { .. } => "PAST_TREE_SIZE",
            ProofError::SizesReversed { .. } => "SIZES_REVERSED",
            ProofError::BadProofLength { .. } => "BAD_PROOF_LENGTH",
            ProofError::RootMismatch { .. } => "ROOT_MISMATCH",
            ProofError::MissingNode { .. } => "MISSING_NODE",
        }
    }
}

/// `SHA-256(0x00 || data)`: the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// `SHA-256("")`: the root of the empty tree.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// The hashes of complete subtrees: `complete(level, index)` covers leaves
/// `index * 2^level .. (index + 1) * 2^level`.
pub trait Nodes {
    /// The hash of that complete subtree, if the store has it.
    fn complete(&self, level: u32, index: u64) -> Option<Hash>;
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The root of the `len` leaves from `start` (`start` a multiple of the largest power of
/// two not above `len`, as every subtree the RFC's recursion visits is).
fn subtree(nodes: &impl Nodes, start: u64, len: u64) -> Result<Hash, ProofError> {
    if len.is_power_of_two() {
        let level = len.trailing_zeros();
        let index = start >> level;
        return nodes
            .complete(level, index)
            .ok_or(ProofError::MissingNode { level, index });
    }
    let k = split(len);
    Ok(node_hash(
        &subtree(nodes, start, k)?,
        &subtree(nodes, start + k, len - k)?,
    ))
}

/// The root of the first `size` leaves (the tree head's hash).
pub fn root(nodes: &impl Nodes, size: u64) -> Result<Hash, ProofError> {
    if size == 0 {
        return Ok(empty_root());
    }
    subtree(nodes, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves (the RFC's
/// `PATH(m, D[n])`), nearest sibling first.
pub fn inclusion_proof(nodes: &impl Nodes, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    if size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if index >= size {
        return Err(ProofError::PastTreeSize { index, size });
    }
    let mut proof = Vec::new();
    path(nodes, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path(
    nodes: &impl Nodes,
    m: u64,
    start: u64,
    n: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    if n == 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(nodes, m, start, k, proof)?;
        proof.push(subtree(nodes, start + k, n - k)?);
    } else {
        path(nodes, m - k, start + k, n - k, proof)?;
        proof.push(subtree(nodes, start, k)?);
    }
    Ok(())
}

/// The consistency proof that the tree of the first `from` leaves is a prefix of the one
/// of the first `to` (the RFC's `PROOF(m, D[n])`). `from` is at least 1.
pub fn consistency_proof(nodes: &impl Nodes, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
    if from == 0 {
        return Err(ProofError::EmptyTree);
    }
    if from > to {
        return Err(ProofError::SizesReversed { from, to });
    }
    let mut proof = Vec::new();
    subproof(nodes, from, 0, to, true, &mut proof)?;
    Ok(proof)
}

fn subproof(
    nodes: &impl Nodes,
    m: u64,
    start: u64,
    n: u64,
    whole: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    if m == n {
        if !whole {
            proof.push(subtree(nodes, start, n)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(nodes, m, start, k, whole, proof)?;
        proof.push(subtree(nodes, start + k, n - k)?);
    } else {
        subproof(nodes, m - k, start + k, n - k, false, proof)?;
        proof.push(subtree(nodes, start, k)?);
    }
    Ok(())
}

/// Checks that `leaf` (a [`leaf_hash`]) is leaf `index` of the tree of `size` leaves
/// whose root is `root`, by `proof` (RFC 9162, 2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if index >= size {
        return Err(ProofError::PastTreeSize { index, size });
    }
    let expected = inclusion_length(index, size);
    if proof.len() != expected {
        return Err(ProofError::BadProofLength {
            expected,
            found: proof.len(),
        });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if r == *root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch {
            computed: r,
            expected: *root,
        })
    }
}

/// The number of hashes in the inclusion proof of leaf `index` in a tree of `size`.
fn inclusion_length(index: u64, size: u64) -> usize {
    // The levels where the paths to `index` and to the last leaf part, then the
    // right border above them (RFC 9162's verification ends with sn == 0).
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    usize::try_from(inner + border).unwrap_or(usize::MAX)
}

/// Checks that the tree of `from` leaves with root `from_root` is a prefix of the tree of
/// `to` leaves with root `to_root`, by `proof` (RFC 9162, 2.1.4.2).
pub fn verify_consistency(
    from: u64,
    to: u64,
    from_root: &Hash,
    to_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if from == 0 {
        return Err(ProofError::EmptyTree);
    }
    if from > to {
        return Err(ProofError::SizesReversed { from, to });
    }
    if from == to {
        if !proof.is_empty() {
            return Err(ProofError::BadProofLength {
                expected: 0,
                found: proof.len(),
            });
        }
        return match from_root == to_root {
            true => Ok(()),
            false => Err(ProofError::RootMismatch {
                computed: *from_root,
                expected: *to_root,
            }),
        };
    }
    let mut path = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*from_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (from - 1, to - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::BadProofLength {
            expected: 1,
            found: 0,
        });
    };
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(ProofError::BadProofLength {
                expected: path.len() - 1,
                found: proof.len(),
            });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::BadProofLength {
            expected: proof.len() + 1,
            found: proof.len(),
        });
    }
    if fr != *from_root {
        return Err(ProofError::RootMismatch {
            computed: fr,
            expected: *from_root,
        });
    }
    if sr != *to_root {
        return Err(ProofError::RootMismatch {
            computed: sr,
            expected: *to_root,
        });
    }
    Ok(())
}

/// Complete subtrees kept in memory: the tree of the leaves pushed so far.
#[derive(Default, Clone, Debug)]
pub struct MemoryTree {
    /// `levels[l][i]`: the complete subtree of level `l`, index `i`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// Appends a leaf (its [`leaf_hash`]); completes the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut level = 0;
        let mut hash = leaf;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            let len = row.len();
            if len % 2 == 1 {
                return;
            }
            hash = node_hash(&row[len - 2], &row[len - 1]);
            level += 1;
        }
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }
}

impl Nodes for MemoryTree {
    fn complete(&self, level: u32, index: u64) -> Option<Hash> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }
}
