//! Signed tree heads over the log's Merkle tree, and the JSON files an auditor keeps.
//!
//! A [`SignedTreeHead`] says "the log's first `treeSize` records have Merkle root
//! `rootHash`, as of `timestampMicros`", signed with the log's Ed25519 key ([`HeadKey`],
//! kept in the data directory, mode 0600). An auditor saves one today; tomorrow a
//! consistency proof between it and a newer head shows that nothing below it changed, and
//! an inclusion proof shows that a record is in it. Every check here needs nothing but the
//! files and the public key: no data directory, no server ([`check_inclusion`],
//! [`check_consistency`]).
//!
//! The signed bytes are [`signed_message`]: a fixed label, then the size, the time and the
//! root, so a signature over one head can never be read as one over another.

mod check;
mod files;
mod head;
pub mod hex;
mod key;

pub use check::{CheckError, check_consistency, check_inclusion, check_record};
pub use files::{ConsistencyProofFile, InclusionProofFile, RecordFile};
pub use head::{SIGNED_LABEL, SignedTreeHead, now_micros, signed_message};
pub use key::{HeadKey, KEY_FILE, KeyError, PUBLIC_KEY_FILE, PublicKey};
