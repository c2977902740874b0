//! `TreeHead`, `InclusionProof` and `ConsistencyProof`: the log's Merkle tree (RFC 9162)
//! for anyone to check offline. Public: a proof reveals only hashes.

use async_graphql::SimpleObject;
use sparkfeed_eventlog::LogError;
use sparkfeed_events::Hash;

use crate::error::ApiError;
use crate::scalars::Int64;

/// The Merkle tree head of the log: its size and root hash (RFC 9162).
#[derive(SimpleObject)]
#[graphql(serial)]
pub(crate) struct TreeHead {
    /// Events in the tree (the first `treeSize` positions).
    pub tree_size: Int64,
    /// The root hash (hex), SHA-256 as RFC 9162 defines it.
    pub root_hash: String,
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
