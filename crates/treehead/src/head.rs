//! A signed tree head: the tree's size and root as of a time, signed.

use serde::{Deserialize, Serialize};
use sparkfeed_events::Hash;

use crate::check::CheckError;
use crate::key::PublicKey;

/// The label the signed bytes start with: a signature over a tree head can never be read
/// as a signature over anything else.
pub const SIGNED_LABEL: &[u8] = b"sparkfeed signed tree head v1\0";

/// The bytes a head's signature covers: [`SIGNED_LABEL`], the tree size (u64 big-endian),
/// the time (i64 big-endian, microseconds since the epoch) and the root hash (32 bytes).
pub fn signed_message(tree_size: u64, timestamp_micros: i64, root_hash: &Hash) -> Vec<u8> {
    let mut message = Vec::with_capacity(SIGNED_LABEL.len() + 8 + 8 + 32);
    message.extend_from_slice(SIGNED_LABEL);
    message.extend_from_slice(&tree_size.to_be_bytes());
    message.extend_from_slice(&timestamp_micros.to_be_bytes());
    message.extend_from_slice(&root_hash.0);
    message
}

/// Now, in microseconds since the epoch: the time a head is signed at.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The log's Merkle tree head, signed: as `sparkfeed head --signed` writes it and
/// `treeHead` answers it (the same field names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedTreeHead {
    /// The records in the tree: the log's first `tree_size` positions.
    pub tree_size: u64,
    /// The tree's root (RFC 9162).
    #[serde(with = "crate::hex::hash")]
    pub root_hash: Hash,
    /// When it was signed, in microseconds since the epoch.
    pub timestamp_micros: i64,
    /// The key that signed it (Ed25519, 32 bytes of hex). Informative: a check uses the
    /// key the auditor holds and refuses a head that names another.
    pub public_key: PublicKey,
    /// The Ed25519 signature over [`signed_message`] (64 bytes of hex).
    #[serde(with = "crate::hex::bytes")]
    pub signature: Vec<u8>,
}

impl SignedTreeHead {
    /// The bytes the signature covers.
    pub fn message(&self) -> Vec<u8> {
        signed_message(self.tree_size, self.timestamp_micros, &self.root_hash)
    }

    /// Checks that `key` signed this head.
    ///
    /// # Errors
    /// [`CheckError::KeyMismatch`] when the head names another key,
    /// [`CheckError::BadSignature`] when the signature does not verify.
    pub fn verify(&self, key: &PublicKey) -> Result<(), CheckError> {
        if self.public_key != *key {
            return Err(CheckError::KeyMismatch {
                head: self.public_key.to_string(),
                given: key.to_string(),
            });
        }
        key.verify(&self.message(), &self.signature)
    }
}
