//! The hash chain: each record is sealed to the one before it.
//!
//! `hash(n) = SHA-256(hash(n-1) || record_bytes(n))`, with `hash(-1) =` [`Hash::GENESIS`].
//! The record bytes are exactly the stored bytes before the hash (format byte included),
//! so changing any stored byte of record `n` changes `hash(n)` and every hash after it.

use std::fmt;

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The hash before the first record: 32 zero bytes.
    pub const GENESIS: Hash = Hash([0; 32]);

    /// The chain hash of a record whose bytes are `record_bytes`, following `self`.
    pub fn link(&self, record_bytes: &[u8]) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update(record_bytes);
        Hash(hasher.finalize().into())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        use fmt::Write;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_is_sha256_of_previous_hash_then_bytes() {
        // sha256 of 32 zero bytes followed by "abc", computed independently.
        let mut expected = Sha256::new();
        expected.update([0u8; 32]);
        expected.update(b"abc");
        assert_eq!(
            Hash::GENESIS.link(b"abc").0,
            <[u8; 32]>::from(expected.finalize())
        );
        assert_ne!(Hash::GENESIS.link(b"abc"), Hash::GENESIS.link(b"abd"));
        assert_eq!(Hash::GENESIS.to_hex(), "0".repeat(64));
    }
}
