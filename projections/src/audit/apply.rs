//! How the audit projection folds each event into its trail.

use sparkfeed_domain::events::{self as ev, DomainEvent};
use sparkfeed_domain::{ContractId, PostId, UserId};
use sparkfeed_events::RecordedEvent;

use super::keys;
use super::rows::AuditEntry;
use super::{AUDIT, Audit};
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

/// What an event adds to a contract's trail.
struct Mention {
    contract: ContractId,
    /// The sponsored post it concerns, if any.
    post: Option<PostId>,
    /// In words, without personal data.
    summary: String,
}

impl Projection for Audit {
    fn name(&self) -> &'static str {
        AUDIT
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        let Some(Mention {
            contract,
            post,
            summary,
        }) = mention(rows, event)?
        else {
            return Ok(());
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
        rows.put(keys::trail_entry(&contract, r.position), &entry)?;
        if let Some(post) = post {
            rows.put(keys::post_entry(&post, r.position), &entry)?;
        }
        if let Some((brand, enthusiast)) =
            rows.get::<(UserId, UserId)>(&keys::contract_parties(&contract))?
        {
            rows.put(keys::party_entry(&brand, r.position), &entry)?;
            rows.put(keys::party_entry(&enthusiast, r.position), &entry)?;
        }
        Ok(())
    }
}

/// What `event` adds to a trail, if anything; records the contract's parties and a
/// sponsored post's contract as they appear.
fn mention(rows: &mut Rows<'_>, event: &DomainEvent) -> Result<Option<Mention>, ProjectionError> {
    // Summaries are worded only for sponsored posts: most events concern none.
    let of_post = |rows: &Rows<'_>, post: &PostId, summary: &dyn Fn() -> String| {
        Ok::<_, ProjectionError>(rows.get::<ContractId>(&keys::post_contract(post))?.map(
            |contract| Mention {
                contract,
                post: Some(post.clone()),
                summary: summary(),
            },
        ))
    };
    match event {
        DomainEvent::ContractOpened(e) => {
            rows.put(
                keys::contract_parties(&e.contract),
                &(e.brand.clone(), e.enthusiast.clone()),
            )?;
            Ok(Some(Mention {
                contract: e.contract.clone(),
                post: None,
                summary: contract_opened(e),
            }))
        }
        DomainEvent::ContractEnded(e) => Ok(Some(Mention {
            contract: e.contract.clone(),
            post: None,
            summary: format!("contract ended by {}", e.by),
        })),
        DomainEvent::PostPublished(e) => {
            let Some(d) = &e.sponsorship else {
                return Ok(None);
            };
            rows.put(keys::post_contract(&e.post), &d.contract)?;
            Ok(Some(Mention {
                contract: d.contract.clone(),
                post: Some(e.post.clone()),
                summary: format!(
                    "sponsored post published by {} with disclosure \"Paid partnership with {}\"",
                    e.author, d.brand_name
                ),
            }))
        }
        DomainEvent::CaptionEdited(e) => of_post(rows, &e.post, &|| "caption edited".into()),
        DomainEvent::ProductTagged(e) => {
            of_post(rows, &e.post, &|| format!("product {} tagged", e.tag.asin))
        }
        DomainEvent::ProductUntagged(e) => {
            of_post(rows, &e.post, &|| format!("product {} untagged", e.asin))
        }
        DomainEvent::PostRemoved(e) => {
            of_post(rows, &e.post, &|| format!("post removed by {}", e.by))
        }
        DomainEvent::OrderPlaced(e) => of_post(rows, &e.post, &|| order_placed(e)),
        _ => Ok(None),
    }
}

fn contract_opened(e: &ev::ContractOpened) -> String {
    format!(
        "contract opened: brand {} ({}) sponsors {}; fee {}; commission {} bp",
        e.brand,
        e.brand_name,
        e.enthusiast,
        e.flat_fee.map_or("none".into(), |f| f.to_string()),
        e.commission_bp.map_or("none".into(), |b| b.to_string())
    )
}

fn order_placed(e: &ev::OrderPlaced) -> String {
    format!(
        "purchase of {} x{} for {}; commission {}",
        e.asin,
        e.quantity,
        e.total,
        e.commission
            .as_ref()
            .map_or("none (contract not active)".into(), |k| format!(
                "{} to {}",
                k.amount, k.to
            ))
    )
}
