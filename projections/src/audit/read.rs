//! Queries over the audit projection: a post's and a party's history, and the ledger.
//!
//! Ledger lists go oldest first, by the position of the event each item comes from (a
//! contract's opening, a post's publication, an order): walking pages with `after = last
//! cursor` repeats nothing and skips nothing, and what is added meanwhile comes last.

use serde::de::DeserializeOwned;
use sparkfeed_domain::{ContractId, PostId, UserId};
use sparkfeed_events::Position;

use super::keys;
use super::rows::{
    AuditEntry, ContractRow, Earnings, LedgerPost, LedgerSale, MonthEarnings, SponsoredPostRef,
};
use crate::ProjectionError;
use crate::list::{Page, row};
use crate::store::decode;

/// The audit trail of a sponsored post: its contract's events and its own, in log order.
pub fn sponsorship_history(
    audit: &sled::Tree,
    post: &PostId,
) -> Result<Vec<AuditEntry>, ProjectionError> {
    let Some(r) = row::<SponsoredPostRef>(audit, &keys::post_contract(post))? else {
        return Ok(vec![]);
    };
    let mut entries: Vec<AuditEntry> = Vec::new();
    for e in audit.scan_prefix(keys::trail_prefix(&r.contract)) {
        let entry: AuditEntry = decode(&e?.1)?;
        if entry.post.is_none() || entry.post.as_ref() == Some(post) {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// Every sponsorship event a brand or an enthusiast was party to, in log order.
pub fn sponsorship_history_of(
    audit: &sled::Tree,
    party: &UserId,
) -> Result<Vec<AuditEntry>, ProjectionError> {
    audit
        .scan_prefix(keys::party_prefix(party))
        .map(|e| decode(&e?.1))
        .collect()
}

/// The contract `contract` in the ledger, if it was opened.
pub fn contract(
    audit: &sled::Tree,
    contract: &ContractId,
) -> Result<Option<ContractRow>, ProjectionError> {
    row(audit, &keys::contract(contract))
}

/// Which contracts [`contracts`] lists.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContractFilter {
    /// Only this brand's.
    pub brand: Option<UserId>,
    /// Only those with this enthusiast.
    pub enthusiast: Option<UserId>,
    /// Only those in force at this instant (microseconds since the epoch; see
    /// [`ContractRow::is_active_at`]).
    pub active_at: Option<i64>,
}

impl ContractFilter {
    fn admits(&self, c: &ContractRow) -> bool {
        self.brand.as_ref().is_none_or(|b| *b == c.terms.brand)
            && self
                .enthusiast
                .as_ref()
                .is_none_or(|e| *e == c.terms.enthusiast)
            && self.active_at.is_none_or(|at| c.is_active_at(at))
    }
}

/// Up to `first` contracts `filter` admits, opened after position `after`, in the order
/// they were opened.
pub fn contracts(
    audit: &sled::Tree,
    filter: &ContractFilter,
    first: usize,
    after: Option<Position>,
) -> Result<Page<ContractRow>, ProjectionError> {
    let prefix = match (&filter.brand, &filter.enthusiast) {
        (Some(brand), _) => keys::by_brand_prefix(brand),
        (None, Some(enthusiast)) => keys::by_enthusiast_prefix(enthusiast),
        (None, None) => keys::opened_prefix(),
    };
    let mut items = Vec::with_capacity(first.min(64));
    for entry in oldest_first::<ContractId>(audit, prefix, after) {
        let (at, id) = entry?;
        let Some(c) = contract(audit, &id)? else {
            return Err(ProjectionError::Corrupt(format!(
                "contract {id} is listed but has no ledger row"
            )));
        };
        if !filter.admits(&c) {
            continue;
        }
        if items.len() == first {
            return Ok(Page {
                items,
                has_next: true,
            });
        }
        items.push((at, c));
    }
    Ok(Page {
        items,
        has_next: false,
    })
}

/// Up to `first` posts published under `contract` after position `after`, oldest first.
pub fn posts_under(
    audit: &sled::Tree,
    contract: &ContractId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<LedgerPost>, ProjectionError> {
    page(audit, keys::ledger_posts(contract), first, after)
}

/// Up to `first` purchases attributed to `contract` after position `after`, oldest first.
pub fn sales_under(
    audit: &sled::Tree,
    contract: &ContractId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<LedgerSale>, ProjectionError> {
    page(audit, keys::ledger_sales(contract), first, after)
}

/// What `user` earned, all months together (none yet: zero orders, no amounts).
pub fn earnings(audit: &sled::Tree, user: &UserId) -> Result<Earnings, ProjectionError> {
    Ok(row(audit, &keys::earnings(user))?.unwrap_or_default())
}

/// Up to `first` months of what `user` earned, newest month first, after the month whose
/// number ([`Month`](super::rows::Month)`.0`) is the cursor `after`. Months without a
/// commission or a contract starting are left out.
pub fn earnings_by_month(
    audit: &sled::Tree,
    user: &UserId,
    first: usize,
    after: Option<Position>,
) -> Result<Page<MonthEarnings>, ProjectionError> {
    crate::list::page(audit, keys::earnings_months(user), first, after)
}

/// Up to `first` rows of the list under `prefix` after position `after`, oldest first.
fn page<T: DeserializeOwned>(
    audit: &sled::Tree,
    prefix: Vec<u8>,
    first: usize,
    after: Option<Position>,
) -> Result<Page<T>, ProjectionError> {
    let mut items = Vec::with_capacity(first.min(64));
    for entry in oldest_first(audit, prefix, after) {
        if items.len() == first {
            return Ok(Page {
                items,
                has_next: true,
            });
        }
        items.push(entry?);
    }
    Ok(Page {
        items,
        has_next: false,
    })
}

/// The rows of the list under `prefix` (keys ending in a big-endian position), from the
/// first after position `after`, oldest first, each with its position.
fn oldest_first<T: DeserializeOwned>(
    audit: &sled::Tree,
    prefix: Vec<u8>,
    after: Option<Position>,
) -> impl Iterator<Item = Result<(Position, T), ProjectionError>> {
    let mut start = prefix.clone();
    if let Some(after) = after {
        match after.0.checked_add(1) {
            Some(next) => start.extend_from_slice(&next.to_be_bytes()),
            // Nothing comes after the last position: start past every key of the list.
            None => start.extend_from_slice(&[0xff; 9]),
        }
    }
    audit
        .range(start..)
        .take_while(move |e| e.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
        .map(|e| {
            let (k, v) = e?;
            Ok((position_of(&k)?, decode(&v)?))
        })
}

/// The position a list key ends in.
fn position_of(key: &[u8]) -> Result<Position, ProjectionError> {
    let tail: [u8; 8] = key
        .get(key.len().saturating_sub(8)..)
        .and_then(|t| t.try_into().ok())
        .ok_or_else(|| ProjectionError::Corrupt("short ledger key".into()))?;
    Ok(Position(u64::from_be_bytes(tail)))
}
