//! The offline checks: a head's signature, an inclusion proof against a head, a
//! consistency proof between two heads. Nothing but the files and the public key.

use sparkfeed_merkle::{ProofError, leaf_hash, verify_consistency, verify_inclusion};

use crate::files::{ConsistencyProofFile, InclusionProofFile, RecordFile};
use crate::head::SignedTreeHead;
use crate::key::PublicKey;

/// Why a check failed. Each has a stable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The public key is not 32 bytes of hex, or not an Ed25519 key. Code `BAD_KEY`.
    #[error("not an Ed25519 public key: {0}")]
    BadKey(String),
    /// The head says another key signed it. Code `KEY_MISMATCH`.
    #[error("the head was signed by {head}, not by the key given ({given})")]
    KeyMismatch {
        /// The key the head names.
        head: String,
        /// The key the checker holds.
        given: String,
    },
    /// The signature does not verify under the key. Code `BAD_SIGNATURE`.
    #[error("the head's signature does not verify: the head or its signature was changed")]
    BadSignature,
    /// The proof is about another tree than the head. Code `WRONG_TREE`.
    #[error("the proof is not about this head: {0}")]
    WrongTree(String),
    /// The record is not the one the proof is about. Code `RECORD_MISMATCH`.
    #[error("the record does not match the proof: {0}")]
    RecordMismatch(String),
    /// The proof does not check out. Code: the proof error's.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

impl CheckError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadKey(_) => "BAD_KEY",
            Self::KeyMismatch { .. } => "KEY_MISMATCH",
            Self::BadSignature => "BAD_SIGNATURE",
            Self::WrongTree(_) => "WRONG_TREE",
            Self::RecordMismatch(_) => "RECORD_MISMATCH",
            Self::Proof(e) => e.code(),
        }
    }
}

/// Checks that `key` signed `head` and that `proof` puts its leaf (and `record`, when
/// given) at its position in `head`'s tree.
///
/// # Errors
/// The first check that fails, in that order: signature, tree, record, path.
pub fn check_inclusion(
    head: &SignedTreeHead,
    proof: &InclusionProofFile,
    record: Option<&RecordFile>,
    key: &PublicKey,
) -> Result<(), CheckError> {
    head.verify(key)?;
    if proof.tree_size != head.tree_size {
        return Err(CheckError::WrongTree(format!(
            "the proof is for a tree of {} records, the head's has {}",
            proof.tree_size, head.tree_size
        )));
    }
    if proof.root_hash != head.root_hash {
        return Err(CheckError::WrongTree(format!(
            "the proof reaches root {}, the head's root is {}",
            proof.root_hash, head.root_hash
        )));
    }
    if let Some(record) = record {
        check_record(record, proof)?;
    }
    verify_inclusion(
        &proof.leaf_hash,
        proof.position,
        head.tree_size,
        &proof.hashes,
        &head.root_hash,
    )?;
    Ok(())
}

/// Checks that `record` is the leaf `proof` is about: same position, and its bytes hash to
/// the proof's leaf. (That its `event` is what the bytes hold is for a reader that can
/// decode them: `sparkfeed check-proof` does.)
///
/// # Errors
/// [`CheckError::RecordMismatch`].
pub fn check_record(record: &RecordFile, proof: &InclusionProofFile) -> Result<(), CheckError> {
    if record.position != proof.position {
        return Err(CheckError::RecordMismatch(format!(
            "the record is at position {}, the proof is for position {}",
            record.position, proof.position
        )));
    }
    let leaf = leaf_hash(&record.record_bytes);
    if leaf != proof.leaf_hash {
        return Err(CheckError::RecordMismatch(format!(
            "the record's bytes hash to leaf {leaf}, the proof's leaf is {}",
            proof.leaf_hash
        )));
    }
    Ok(())
}

/// Checks that `key` signed both heads and that `proof` shows `old`'s tree is a prefix of
/// `new`'s: nothing below `old.tree_size` changed.
///
/// # Errors
/// The first check that fails: signatures, trees, then the proof.
pub fn check_consistency(
    old: &SignedTreeHead,
    new: &SignedTreeHead,
    proof: &ConsistencyProofFile,
    key: &PublicKey,
) -> Result<(), CheckError> {
    old.verify(key)?;
    new.verify(key)?;
    let sizes = (proof.from_size, proof.to_size) == (old.tree_size, new.tree_size);
    if !sizes {
        return Err(CheckError::WrongTree(format!(
            "the proof goes from {} to {} records, the heads have {} and {}",
            proof.from_size, proof.to_size, old.tree_size, new.tree_size
        )));
    }
    if proof.from_root != old.root_hash || proof.to_root != new.root_hash {
        return Err(CheckError::WrongTree(
            "the proof's roots are not the heads' roots".to_string(),
        ));
    }
    verify_consistency(
        old.tree_size,
        new.tree_size,
        &old.root_hash,
        &new.root_hash,
        &proof.hashes,
    )?;
    Ok(())
}
