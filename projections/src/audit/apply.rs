//! How the audit projection folds each event into its trail; [`super::ledger`] folds the
//! same entries into the ledger, and [`super::earnings`] the events into earnings.

use sparkfeed_domain::events::{self as ev, DomainEvent};
use sparkfeed_domain::{ContractId, PostId};
use sparkfeed_events::RecordedEvent;

use super::keys;
use super::rows::{AuditEntry, ContractRow, Fact, Sale, SponsoredPostRef, Terms};
use super::{AUDIT, Audit};
use super::{earnings, ledger};
use crate::store::Rows;
use crate::{Applied, Projection, ProjectionError};

/// What an event adds to a contract's trail.
struct Mention {
    contract: ContractId,
    /// The sponsored post it concerns, if any.
    post: Option<PostId>,
    /// In words, without personal data.
    summary: String,
    /// Typed.
    fact: Fact,
}

impl Projection for Audit {
    fn name(&self) -> &'static str {
        AUDIT
    }

    fn version(&self) -> u32 {
        // 2: typed entries (`Fact`), the ledger (contracts, their posts and sales, the
        // listings by brand and enthusiast), earnings; `parties` folded into `ledger`.
        // 3: earnings count flat fees, and are kept per month too (`emonth`).
        3
    }

    fn apply(&self, rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
        earnings::fold(rows, stored, event)?;
        let Some(Mention {
            contract,
            post,
            summary,
            fact,
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
            fact,
        };
        ledger::fold(rows, &entry)?;
        rows.put(keys::trail_entry(&contract, r.position), &entry)?;
        if let Some(post) = post {
            rows.put(keys::post_entry(&post, r.position), &entry)?;
        }
        if let Some(row) = rows.get::<ContractRow>(&keys::contract(&contract))? {
            rows.put(keys::party_entry(&row.terms.brand, r.position), &entry)?;
            rows.put(keys::party_entry(&row.terms.enthusiast, r.position), &entry)?;
        }
        Ok(())
    }
}

/// What `event` adds to a trail, if anything.
fn mention(rows: &Rows<'_>, event: &DomainEvent) -> Result<Option<Mention>, ProjectionError> {
    // Summaries are worded only for sponsored posts: most events concern none.
    let of_post = |rows: &Rows<'_>, post: &PostId, summary: &dyn Fn() -> String, fact: Fact| {
        Ok::<_, ProjectionError>(
            rows.get::<SponsoredPostRef>(&keys::post_contract(post))?
                .map(|r| Mention {
                    contract: r.contract,
                    post: Some(post.clone()),
                    summary: summary(),
                    fact,
                }),
        )
    };
    match event {
        DomainEvent::ContractOpened(e) => Ok(Some(Mention {
            contract: e.contract.clone(),
            post: None,
            summary: contract_opened(e),
            fact: Fact::ContractOpened(Terms {
                brand: e.brand.clone(),
                brand_name: e.brand_name.clone(),
                enthusiast: e.enthusiast.clone(),
                flat_fee: e.flat_fee,
                commission_bp: e.commission_bp,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
            }),
        })),
        DomainEvent::ContractEnded(e) => Ok(Some(Mention {
            contract: e.contract.clone(),
            post: None,
            summary: format!("contract ended by {}", e.by),
            fact: Fact::ContractEnded {
                by: e.by.clone(),
                reason: e.reason.clone(),
            },
        })),
        DomainEvent::PostPublished(e) => {
            let Some(d) = &e.sponsorship else {
                return Ok(None);
            };
            Ok(Some(Mention {
                contract: d.contract.clone(),
                post: Some(e.post.clone()),
                summary: format!(
                    "sponsored post published by {} with disclosure \"Paid partnership with {}\"",
                    e.author, d.brand_name
                ),
                fact: Fact::SponsoredPostPublished {
                    author: e.author.clone(),
                    disclosure: d.clone(),
                },
            }))
        }
        DomainEvent::CaptionEdited(e) => of_post(
            rows,
            &e.post,
            &|| "caption edited".into(),
            Fact::CaptionEdited,
        ),
        DomainEvent::ProductTagged(e) => of_post(
            rows,
            &e.post,
            &|| format!("product {} tagged", e.tag.asin),
            Fact::ProductTagged {
                asin: e.tag.asin.clone(),
            },
        ),
        DomainEvent::ProductUntagged(e) => of_post(
            rows,
            &e.post,
            &|| format!("product {} untagged", e.asin),
            Fact::ProductUntagged {
                asin: e.asin.clone(),
            },
        ),
        DomainEvent::PostRemoved(e) => of_post(
            rows,
            &e.post,
            &|| format!("post removed by {}", e.by),
            Fact::SponsoredPostRemoved {
                by: e.by.clone(),
                reason: e.reason.clone(),
            },
        ),
        DomainEvent::OrderPlaced(e) => {
            let Some(r) = rows.get::<SponsoredPostRef>(&keys::post_contract(&e.post))? else {
                return Ok(None);
            };
            let fact = Fact::PurchaseAttributed(sale(e, &r.contract));
            Ok(Some(Mention {
                contract: r.contract,
                post: Some(e.post.clone()),
                summary: order_placed(e),
                fact,
            }))
        }
        _ => Ok(None),
    }
}

/// The purchase `e` through a post under `contract`: its commission counts only when it
/// accrued under that contract.
fn sale(e: &ev::OrderPlaced, contract: &ContractId) -> Sale {
    Sale {
        order: e.order.clone(),
        buyer: e.buyer.clone(),
        post: e.post.clone(),
        asin: e.asin.clone(),
        quantity: e.quantity,
        total: e.total,
        commission: e
            .commission
            .as_ref()
            .filter(|k| k.contract.as_ref() == Some(contract))
            .map(|k| k.amount),
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
