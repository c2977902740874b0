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
        String::from_utf8_lossy(&self.hex_bytes()).into_owned()
    }

    /// Lowercase hex as ASCII bytes, with no allocation.
    fn hex_bytes(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        hex
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex_bytes();
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
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

    #[test]
    fn hex_is_lowercase_two_digits_per_byte_in_order() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0x0f;
        bytes[1] = 0xa0;
        bytes[31] = 0xff;
        let hash = Hash(bytes);
        let expected = format!("0fa0{}ff", "00".repeat(29));
        assert_eq!(hash.to_hex(), expected);
        assert_eq!(hash.to_string(), expected);
    }
}
