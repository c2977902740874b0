//! The keys of the audit projection's rows: the only place one is spelled.
//!
//! Trail entries end in the big-endian position of their event: oldest first.
//!
//! | key | row |
//! | --- | --- |
//! | `postcontract\|post` | the contract a sponsored post discloses |
//! | `parties\|contract` | the contract's (brand, enthusiast) |
//! | `trail\|contract\|position` | [`AuditEntry`](super::rows::AuditEntry) |
//! | `bypost\|post\|position` | [`AuditEntry`](super::rows::AuditEntry) |
//! | `party\|user\|position` | [`AuditEntry`](super::rows::AuditEntry) |
//!
//! A known wart: a contract's parties are under `parties`, a party's entries under
//! `party`, two words one letter apart. Stored rows keep these bytes; a layout version
//! bump of the projection ([`crate::Projection::version`]) may rename them one day.

use sparkfeed_domain::{ContractId, PostId, UserId};
use sparkfeed_events::Position;

use crate::store::{key, prefix};

/// The contract a sponsored post discloses: `postcontract|post`.
pub fn post_contract(post: &PostId) -> Vec<u8> {
    key(&["postcontract", post.as_str()], None)
}

/// A contract's parties, (brand, enthusiast): `parties|contract` (see the wart above).
pub fn contract_parties(contract: &ContractId) -> Vec<u8> {
    key(&["parties", contract.as_str()], None)
}

/// The event at `at` in a contract's trail: `trail|contract|position`.
pub fn trail_entry(contract: &ContractId, at: Position) -> Vec<u8> {
    key(&["trail", contract.as_str()], Some(at.0))
}

/// What every entry of a contract's trail starts with.
pub fn trail_prefix(contract: &ContractId) -> Vec<u8> {
    prefix(&["trail", contract.as_str()])
}

/// The event at `at` concerning a sponsored post: `bypost|post|position`.
pub fn post_entry(post: &PostId, at: Position) -> Vec<u8> {
    key(&["bypost", post.as_str()], Some(at.0))
}

/// The event at `at` of a contract a brand or an enthusiast is party to:
/// `party|user|position` (see the wart above).
pub fn party_entry(party: &UserId, at: Position) -> Vec<u8> {
    key(&["party", party.as_str()], Some(at.0))
}

/// What every entry of a party's trail starts with.
pub fn party_prefix(party: &UserId) -> Vec<u8> {
    prefix(&["party", party.as_str()])
}
