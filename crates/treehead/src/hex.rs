//! Lowercase hex for the JSON files, and serde adapters for their hash fields.

use sparkfeed_events::Hash;

/// Why a hex string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// Not an even number of hex digits.
    #[error("expected hex digits in pairs, got {0} characters")]
    OddLength(usize),
    /// A character that is not a hex digit.
    #[error("{0:?} is not a hex digit")]
    NotHex(char),
    /// The wrong number of bytes.
    #[error("expected {expected} bytes of hex, got {found}")]
    Length {
        /// Bytes wanted.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
}

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// The bytes of a hex string (either case).
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let digits: Vec<u8> = text
        .chars()
        .map(|c| {
            c.to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
                .ok_or(HexError::NotHex(c))
        })
        .collect::<Result<_, _>>()?;
    if !digits.len().is_multiple_of(2) {
        return Err(HexError::OddLength(digits.len()));
    }
    Ok(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Exactly `N` bytes of hex.
pub fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let bytes = decode(text)?;
    let found = bytes.len();
    bytes
        .try_into()
        .map_err(|_| HexError::Length { expected: N, found })
}

/// A hash of 64 hex digits.
pub fn decode_hash(text: &str) -> Result<Hash, HexError> {
    decode_array(text).map(Hash)
}

/// `#[serde(with = "hex::hash")]`: a [`Hash`] as 64 hex digits.
pub mod hash {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use sparkfeed_events::Hash;

    /// Writes the hash as hex.
    pub fn serialize<S: Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hash.to_hex())
    }

    /// Reads 64 hex digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::decode_hash(&text).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "hex::hashes")]`: a list of hashes as hex strings.
pub mod hashes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error, ser::SerializeSeq};
    use sparkfeed_events::Hash;

    /// Writes each hash as hex.
    pub fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(hashes.len()))?;
        for h in hashes {
            seq.serialize_element(&h.to_hex())?;
        }
        seq.end()
    }

    /// Reads a list of 64-digit hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| super::decode_hash(t).map_err(D::Error::custom))
            .collect()
    }
}

/// `#[serde(with = "hex::bytes")]`: bytes as hex.
pub mod bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes the bytes as hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::encode(bytes))
    }

    /// Reads hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        super::decode(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(encode(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(decode("00ABff"), Ok(vec![0, 0xab, 0xff]));
        assert_eq!(decode("abc"), Err(HexError::OddLength(3)));
        assert_eq!(decode("zz"), Err(HexError::NotHex('z')));
        assert_eq!(
            decode_array::<4>("0011"),
            Err(HexError::Length {
                expected: 4,
                found: 2
            })
        );
    }
}
