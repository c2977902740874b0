//! `audit`: the sponsorship audit trail, per contract and per sponsored post.
//!
//! Keys: `postcontract|post` -> contract, `parties|contract` -> (brand, enthusiast),
//! `trail|contract|position`, `bypost|post|position` and `party|user|position` ->
//! [`AuditEntry`]. Entries hold no personal data: positions,
//! times, actors (opaque ids), event types, chain hashes and amounts.

use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{ContractId, PostId, UserId};
use sparkfeed_events::RecordedEvent;

use crate::rows::AuditEntry;
use crate::store::{Rows, key};
use crate::{Projection, ProjectionError};

/// The audit projection.
pub struct Audit;

/// Its name.
pub const AUDIT: &str = "audit";

impl Projection for Audit {
    fn name(&self) -> &'static str {
        AUDIT
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply(
        &self,
        rows: &mut Rows<'_>,
        stored: &RecordedEvent,
        event: &DomainEvent,
    ) -> Result<(), ProjectionError> {
        let contract_of = |rows: &Rows<'_>, post: &PostId| {
            rows.get::<ContractId>(&key(&["postcontract", post.as_str()], None))
        };
        let (contract, post, summary): (ContractId, Option<PostId>, String) = match event {
            DomainEvent::ContractOpened(e) => (
                {
                    rows.put(
                        key(&["parties", e.contract.as_str()], None),
                        &(e.brand.clone(), e.enthusiast.clone()),
                    )?;
                    e.contract.clone()
                },
                None,
                format!(
                    "contract opened: brand {} ({}) sponsors {}; fee {}; commission {} bp",
                    e.brand,
                    e.brand_name,
                    e.enthusiast,
                    e.flat_fee.map_or("none".into(), |f| f.to_string()),
                    e.commission_bp.map_or("none".into(), |b| b.to_string())
                ),
            ),
            DomainEvent::ContractEnded(e) => (
                e.contract.clone(),
                None,
                format!("contract ended by {}", e.by),
            ),
            DomainEvent::PostPublished(e) => match &e.sponsorship {
                Some(d) => {
                    rows.put(key(&["postcontract", e.post.as_str()], None), &d.contract)?;
                    (
                        d.contract.clone(),
                        Some(e.post.clone()),
                        format!(
                            "sponsored post published by {} with disclosure \"Paid partnership with {}\"",
                            e.author, d.brand_name
                        ),
                    )
                }
                None => return Ok(()),
            },
            DomainEvent::CaptionEdited(e) => match contract_of(rows, &e.post)? {
                Some(c) => (c, Some(e.post.clone()), "caption edited".into()),
                None => return Ok(()),
            },
            DomainEvent::ProductTagged(e) => match contract_of(rows, &e.post)? {
                Some(c) => (
                    c,
                    Some(e.post.clone()),
                    format!("product {} tagged", e.tag.asin),
                ),
                None => return Ok(()),
            },
            DomainEvent::ProductUntagged(e) => match contract_of(rows, &e.post)? {
                Some(c) => (
                    c,
                    Some(e.post.clone()),
                    format!("product {} untagged", e.asin),
                ),
                None => return Ok(()),
            },
            DomainEvent::PostRemoved(e) => match contract_of(rows, &e.post)? {
                Some(c) => (c, Some(e.post.clone()), format!("post removed by {}", e.by)),
                None => return Ok(()),
            },
            DomainEvent::OrderPlaced(e) => match contract_of(rows, &e.post)? {
                Some(c) => (
                    c,
                    Some(e.post.clone()),
                    format!(
                        "purchase of {} x{} for {}; commission {}",
                        e.asin,
                        e.quantity,
                        e.total,
                        e.commission.as_ref().map_or(
                            "none (contract not active)".into(),
                            |k| format!("{} to {}", k.amount, k.to)
                        )
                    ),
                ),
                None => return Ok(()),
            },
            _ => return Ok(()),
        };
        let r = &stored.record;
        let entry = AuditEntry {
            position: r.position,
            recorded_at: r.recorded_at.0,
            actor: r.metadata.actor.to_string(),
            event_type: r.event_type.to_string(),
            hash: stored.hash.to_hex(),
            contract: contract.clone(),
            post: post.clone(),
            summary,
        };
        rows.put(
            key(&["trail", contract.as_str()], Some(r.position.0)),
            &entry,
        )?;
        if let Some(post) = post {
            rows.put(key(&["bypost", post.as_str()], Some(r.position.0)), &entry)?;
        }
        if let Some((brand, enthusiast)) =
            rows.get::<(UserId, UserId)>(&key(&["parties", contract.as_str()], None))?
        {
            rows.put(key(&["party", brand.as_str()], Some(r.position.0)), &entry)?;
            rows.put(
                key(&["party", enthusiast.as_str()], Some(r.position.0)),
                &entry,
            )?;
        }
        Ok(())
    }
}
