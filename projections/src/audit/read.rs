//! Queries over the audit projection.

use sparkfeed_domain::{ContractId, PostId, UserId};

use super::keys;
use super::rows::AuditEntry;
use crate::ProjectionError;
use crate::list::row;
use crate::store::decode;

/// The audit trail of a sponsored post: its contract's events and its own, in log order.
pub fn sponsorship_history(
    audit: &sled::Tree,
    post: &PostId,
) -> Result<Vec<AuditEntry>, ProjectionError> {
    let Some(contract) = row::<ContractId>(audit, &keys::post_contract(post))? else {
        return Ok(vec![]);
    };
    let mut entries: Vec<AuditEntry> = Vec::new();
    for e in audit.scan_prefix(keys::trail_prefix(&contract)) {
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
