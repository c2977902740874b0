//! The keys of the audit projection's rows: the only place one is spelled.
//!
//! Trail, ledger and listing entries end in the big-endian position of their event:
//! oldest first.
//!
//! | key | row |
//! | --- | --- |
//! | `trail\|contract\|position` | [`AuditEntry`](super::rows::AuditEntry) |
//! | `bypost\|post\|position` | [`AuditEntry`](super::rows::AuditEntry) |
//! | `party\|user\|position` | [`AuditEntry`](super::rows::AuditEntry) |
//! | `postcontract\|post` | [`SponsoredPostRef`](super::rows::SponsoredPostRef) |
//! | `ledger\|contract` | [`ContractRow`](super::rows::ContractRow) |
//! | `lpost\|contract\|position` | [`LedgerPost`](super::rows::LedgerPost) |
//! | `lsale\|contract\|position` | [`LedgerSale`](super::rows::LedgerSale) |
//! | `opened\|position` | the [`ContractId`] opened there |
//! | `bybrand\|brand\|position` | the [`ContractId`] a brand opened there |
//! | `byenthusiast\|enthusiast\|position` | the [`ContractId`] opened there with an enthusiast |
//! | `earnings\|user` | [`Earnings`](super::rows::Earnings) |
//! | `emonth\|user\|rev month` | [`MonthEarnings`](super::rows::MonthEarnings), newest month first |
//!
//! Layout 2 (the typed ledger) dropped layout 1's `parties|contract`: a contract's parties
//! are in its `ledger` row.

use sparkfeed_domain::{ContractId, PostId, UserId};
use sparkfeed_events::Position;

use super::rows::Month;
use crate::store::{key, newest_first, prefix};

/// Where a sponsored post's ledger row is: `postcontract|post`.
pub fn post_contract(post: &PostId) -> Vec<u8> {
    key(&["postcontract", post.as_str()], None)
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
/// `party|user|position`.
pub fn party_entry(party: &UserId, at: Position) -> Vec<u8> {
    key(&["party", party.as_str()], Some(at.0))
}

/// What every entry of a party's trail starts with.
pub fn party_prefix(party: &UserId) -> Vec<u8> {
    prefix(&["party", party.as_str()])
}

/// A contract in the ledger: `ledger|contract`.
pub fn contract(contract: &ContractId) -> Vec<u8> {
    key(&["ledger", contract.as_str()], None)
}

/// The post published under `contract` at `at`: `lpost|contract|position`.
pub fn ledger_post(contract: &ContractId, at: Position) -> Vec<u8> {
    key(&["lpost", contract.as_str()], Some(at.0))
}

/// What every post under `contract` starts with.
pub fn ledger_posts(contract: &ContractId) -> Vec<u8> {
    prefix(&["lpost", contract.as_str()])
}

/// The purchase attributed to `contract` at `at`: `lsale|contract|position`.
pub fn ledger_sale(contract: &ContractId, at: Position) -> Vec<u8> {
    key(&["lsale", contract.as_str()], Some(at.0))
}

/// What every purchase attributed to `contract` starts with.
pub fn ledger_sales(contract: &ContractId) -> Vec<u8> {
    prefix(&["lsale", contract.as_str()])
}

/// The contract opened at `at`: `opened|position`.
pub fn opened(at: Position) -> Vec<u8> {
    key(&["opened"], Some(at.0))
}

/// What every contract, by opening position, starts with.
pub fn opened_prefix() -> Vec<u8> {
    prefix(&["opened"])
}

/// The contract `brand` opened at `at`: `bybrand|brand|position`.
pub fn by_brand(brand: &UserId, at: Position) -> Vec<u8> {
    key(&["bybrand", brand.as_str()], Some(at.0))
}

/// What every contract of `brand` starts with.
pub fn by_brand_prefix(brand: &UserId) -> Vec<u8> {
    prefix(&["bybrand", brand.as_str()])
}

/// The contract opened at `at` with `enthusiast`: `byenthusiast|enthusiast|position`.
pub fn by_enthusiast(enthusiast: &UserId, at: Position) -> Vec<u8> {
    key(&["byenthusiast", enthusiast.as_str()], Some(at.0))
}

/// What every contract of `enthusiast` starts with.
pub fn by_enthusiast_prefix(enthusiast: &UserId) -> Vec<u8> {
    prefix(&["byenthusiast", enthusiast.as_str()])
}

/// The commissions `user` earned: `earnings|user`.
pub fn earnings(user: &UserId) -> Vec<u8> {
    key(&["earnings", user.as_str()], None)
}

/// What `user` earned in `month`: `emonth|user|rev month`. The list's cursor
/// ([`crate::list`]) is the month's number as a position.
pub fn earnings_month(user: &UserId, month: Month) -> Vec<u8> {
    key(
        &["emonth", user.as_str()],
        Some(newest_first(Position(u64::from(month.0)))),
    )
}

/// What every month of `user`'s earnings starts with.
pub fn earnings_months(user: &UserId) -> Vec<u8> {
    prefix(&["emonth", user.as_str()])
}
