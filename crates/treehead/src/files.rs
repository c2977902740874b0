//! The proof files `sparkfeed prove` writes and `sparkfeed check-proof` reads: the same
//! fields, under the same names, as the GraphQL `inclusionProof` and `consistencyProof`.

use serde::{Deserialize, Serialize};
use sparkfeed_events::Hash;

/// That the record at `position` is in the tree of `tree_size` records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InclusionProofFile {
    /// The record's position (its leaf index).
    pub position: u64,
    /// The tree's size.
    pub tree_size: u64,
    /// The record's leaf hash: SHA-256(0x00 || its bytes).
    #[serde(with = "crate::hex::hash")]
    pub leaf_hash: Hash,
    /// The root the proof reaches.
    #[serde(with = "crate::hex::hash")]
    pub root_hash: Hash,
    /// The audit path, nearest sibling first.
    #[serde(with = "crate::hex::hashes")]
    pub hashes: Vec<Hash>,
}

/// That the tree of `from_size` records is a prefix of the tree of `to_size` records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsistencyProofFile {
    /// The older size.
    pub from_size: u64,
    /// The newer size.
    pub to_size: u64,
    /// The older root.
    #[serde(with = "crate::hex::hash")]
    pub from_root: Hash,
    /// The newer root.
    #[serde(with = "crate::hex::hash")]
    pub to_root: Hash,
    /// The proof, in RFC 9162 order.
    #[serde(with = "crate::hex::hashes")]
    pub hashes: Vec<Hash>,
}

/// One record as the log stores it, for checking against an inclusion proof: the bytes its
/// leaf hashes, and the event they decode to as `sparkfeed export` shows it (personal data
/// sealed), so that a reader need not decode bincode to see what was proved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordFile {
    /// Its position.
    pub position: u64,
    /// Its stored bytes before the chain hash (format byte and body), hex.
    #[serde(with = "crate::hex::bytes")]
    pub record_bytes: Vec<u8>,
    /// The event, as one line of `sparkfeed export`.
    pub event: serde_json::Value,
}
