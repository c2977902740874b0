//! How the audit projection folds a trail entry into the ledger: the contract's row, the
//! posts and purchases under it, and the listings by opening, brand and enthusiast. What
//! members earn is folded by [`super::earnings`].

use super::keys;
use super::rows::{
    AuditEntry, ContractRow, Ending, Fact, LedgerPost, LedgerSale, SalesTotals, SponsoredPostRef,
    add_amount,
};
use crate::Applied;
use crate::store::Rows;

/// Folds `entry` into the ledger. Each event counts once: a contract opened twice keeps
/// its first opening, one ended twice its first ending (the domain refuses both anyway).
pub(super) fn fold(rows: &mut Rows<'_>, entry: &AuditEntry) -> Applied {
    let contract = &entry.contract;
    let at = entry.position;
    match &entry.fact {
        Fact::ContractOpened(terms) => {
            let key = keys::contract(contract);
            if rows.contains(&key)? {
                return Ok(());
            }
            rows.put(keys::opened(at), contract)?;
            rows.put(keys::by_brand(&terms.brand, at), contract)?;
            rows.put(keys::by_enthusiast(&terms.enthusiast, at), contract)?;
            rows.put(
                key,
                &ContractRow {
                    contract: contract.clone(),
                    terms: terms.clone(),
                    opened: entry.mark(),
                    ended: None,
                    sales: SalesTotals::default(),
                },
            )
        }
        Fact::ContractEnded { by, reason } => change(rows, entry, |row| {
            row.ended.get_or_insert_with(|| Ending {
                mark: entry.mark(),
                by: by.clone(),
                reason: reason.clone(),
            });
        }),
        Fact::SponsoredPostPublished { disclosure, .. } => {
            let Some(post) = &entry.post else {
                return Ok(());
            };
            rows.put(
                keys::post_contract(post),
                &SponsoredPostRef {
                    contract: contract.clone(),
                    published: at,
                },
            )?;
            rows.put(
                keys::ledger_post(contract, at),
                &LedgerPost {
                    post: post.clone(),
                    disclosure: disclosure.clone(),
                    published: entry.mark(),
                    removed: None,
                },
            )
        }
        Fact::SponsoredPostRemoved { .. } => {
            let Some(post) = &entry.post else {
                return Ok(());
            };
            let Some(r) = rows.get::<SponsoredPostRef>(&keys::post_contract(post))? else {
                return Ok(());
            };
            let key = keys::ledger_post(&r.contract, r.published);
            if let Some(mut row) = rows.get::<LedgerPost>(&key)?
                && row.removed.is_none()
            {
                row.removed = Some(entry.mark());
                rows.put(key, &row)?;
            }
            Ok(())
        }
        Fact::PurchaseAttributed(sale) => {
            rows.put(
                keys::ledger_sale(contract, at),
                &LedgerSale {
                    sale: sale.clone(),
                    mark: entry.mark(),
                },
            )?;
            change(rows, entry, |row| {
                let sales = &mut row.sales;
                sales.purchases = sales.purchases.saturating_add(1);
                add_amount(&mut sales.totals, sale.total);
                if let Some(commission) = sale.commission {
                    add_amount(&mut sales.commissions, commission);
                }
            })
        }
        Fact::CaptionEdited | Fact::ProductTagged { .. } | Fact::ProductUntagged { .. } => Ok(()),
    }
}

/// Changes the row of `entry`'s contract, if the ledger has it.
fn change(rows: &mut Rows<'_>, entry: &AuditEntry, f: impl FnOnce(&mut ContractRow)) -> Applied {
    let key = keys::contract(&entry.contract);
    if let Some(mut row) = rows.get::<ContractRow>(&key)? {
        f(&mut row);
        rows.put(key, &row)?;
    }
    Ok(())
}
