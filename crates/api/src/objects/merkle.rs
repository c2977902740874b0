//! `TreeHead`, `InclusionProof` and `ConsistencyProof`: the log's Merkle tree (RFC 9162)
//! for anyone to check offline. Public: a proof reveals only hashes.

use std::sync::Arc;

use async_graphql::{Object, SimpleObject};
use sparkfeed_eventlog::LogError;
use sparkfeed_events::Hash;
use sparkfeed_treehead::SignedTreeHead;

use crate::error::ApiError;
use crate::scalars::{DateTime, Int64};

/// The Merkle tree head of the log (RFC 9162), signed with the log's Ed25519 key: save it
/// as JSON with these field names (`sparkfeed head --signed` writes the same file) and
/// check it offline with `sparkfeed check-proof` or any Ed25519 library.
pub(crate) struct TreeHead(pub Arc<SignedTreeHead>);

/// The Merkle tree head of the log, signed.
#[Object(serial)]
impl TreeHead {
    /// Events in the tree (the first `treeSize` positions).
    async fn tree_size(&self) -> Int64 {
        Int64(self.0.tree_size)
    }
    /// The root hash (hex), SHA-256 as RFC 9162 defines it.
    async fn root_hash(&self) -> String {
        self.0.root_hash.to_hex()
    }
    /// When it was signed.
    async fn timestamp(&self) -> DateTime {
        DateTime::from_micros(self.0.timestamp_micros)
    }
    /// When it was signed, in microseconds since the epoch: the value the signature covers.
    async fn timestamp_micros(&self) -> Int64 {
        Int64(u64::try_from(self.0.timestamp_micros).unwrap_or(0))
    }
    /// The log's Ed25519 public key (hex); get it from the operator out of band, and check
    /// that it is this one.
    async fn public_key(&self) -> String {
        self.0.public_key.to_string()
    }
    /// The Ed25519 signature (hex, 64 bytes) over the bytes `"sparkfeed signed tree head
    /// v1\0"`, the tree size (8 bytes, big-endian), `timestampMicros` (8 bytes, big-endian)
    /// and the root hash (32 bytes).
    async fn signature(&self) -> String {
        sparkfeed_treehead::hex::encode(&self.0.signature)
    }
}

/// That the event at `position` is in the tree of `treeSize` events: hash `leafHash`
/// with `hashes` in order (nearest sibling first) to reach `rootHash`.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct InclusionProof {
    /// The event's position (its leaf index).
    pub position: Int64,
    /// The tree's size.
    pub tree_size: Int64,
    /// SHA-256(0x00 || the record's stored bytes before its chain hash), hex.
    pub leaf_hash: String,
    /// The root the proof reaches (hex).
    pub root_hash: String,
    /// The audit path (hex), nearest sibling first.
    pub hashes: Vec<String>,
}

/// That the tree of `fromSize` events is a prefix of the tree of `toSize` events: nothing
/// below `fromSize` changed.
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct ConsistencyProof {
    /// The older size.
    pub from_size: Int64,
    /// The newer size.
    pub to_size: Int64,
    /// The older tree's root (hex).
    pub from_root: String,
    /// The newer tree's root (hex).
    pub to_root: String,
    /// The proof (hex), in RFC 9162 order.
    pub hashes: Vec<String>,
}

/// Hashes as hex.
pub(crate) fn hex(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_hex).collect()
}

/// A proof the log declined: a bad request for the asker (`BAD_USER_INPUT` naming
/// `field`), anything else a failure of the log.
pub(crate) fn proof_refused(field: &'static str, e: LogError) -> ApiError {
    match &e {
        LogError::PastHead { .. } => ApiError::input(field, e.to_string()),
        LogError::Proof(p) if p.code() != "MISSING_NODE" => ApiError::input(field, e.to_string()),
        _ => e.into(),
    }
}
