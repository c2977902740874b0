//! What each member earned: every order's commission, in the UTC month the order was
//! placed, and every flat fee of their contracts, in the UTC month the contract starts;
//! summed in all (`earnings|user`) and per month (`emonth|user|month`). Per contract, the
//! same amounts are in its ledger row ([`ContractRow`](super::rows::ContractRow)).
//!
//! A flat fee counts as earned in full from the moment its contract is opened, in the
//! month it starts (a contract starting later shows under that later month already). An
//! early end does not take it back: the domain ends only a contract in force, so one
//! that ended early had started.

use sparkfeed_domain::UserId;
use sparkfeed_domain::events::{ContractOpened, DomainEvent, OrderPlaced};
use sparkfeed_events::RecordedEvent;

use super::keys;
use super::rows::{Earnings, Month, MonthEarnings, add_amount};
use crate::Applied;
use crate::store::Rows;

/// Folds what `event` changes of anyone's earnings. Runs before the ledger's fold: a
/// contract's opening counts once, while the ledger has no row of it yet.
pub(super) fn fold(rows: &mut Rows<'_>, stored: &RecordedEvent, event: &DomainEvent) -> Applied {
    let at = stored.record.recorded_at.0;
    match event {
        DomainEvent::OrderPlaced(e) => commission(rows, e, at),
        DomainEvent::ContractOpened(e) => signed(rows, e),
        _ => Ok(()),
    }
}

/// Adds the commission of order `e`, if any, to its earner's earnings in all and in the
/// month it was placed.
fn commission(rows: &mut Rows<'_>, e: &OrderPlaced, placed_at: i64) -> Applied {
    let Some(commission) = &e.commission else {
        return Ok(());
    };
    let sponsored = commission.contract.is_some();
    let amount = commission.amount;
    change(
        rows,
        &commission.to,
        Month::of(placed_at),
        |total, month| {
            total.orders = total.orders.saturating_add(1);
            month.orders = month.orders.saturating_add(1);
            if sponsored {
                add_amount(&mut total.under_contracts, amount);
                add_amount(&mut month.under_contracts, amount);
            } else {
                add_amount(&mut total.as_associate, amount);
                add_amount(&mut month.as_associate, amount);
            }
        },
    )
}

/// A contract opened with a flat fee: its enthusiast earned it, in the month it starts.
fn signed(rows: &mut Rows<'_>, e: &ContractOpened) -> Applied {
    let Some(fee) = e.flat_fee else {
        return Ok(());
    };
    // A contract opened twice keeps its first opening (the domain refuses it anyway).
    if rows.contains(&keys::contract(&e.contract))? {
        return Ok(());
    }
    change(
        rows,
        &e.enthusiast,
        Month::of(e.starts_at),
        |total, month| {
            add_amount(&mut total.flat_fees, fee);
            add_amount(&mut month.flat_fees, fee);
        },
    )
}

/// Changes `user`'s earnings in all and in `month`, and writes both back.
fn change(
    rows: &mut Rows<'_>,
    user: &UserId,
    month: Month,
    f: impl FnOnce(&mut Earnings, &mut MonthEarnings),
) -> Applied {
    let total_key = keys::earnings(user);
    let month_key = keys::earnings_month(user, month);
    let mut total = rows.get::<Earnings>(&total_key)?.unwrap_or_default();
    let mut by_month = rows
        .get::<MonthEarnings>(&month_key)?
        .unwrap_or_else(|| MonthEarnings::new(month));
    f(&mut total, &mut by_month);
    rows.put(total_key, &total)?;
    rows.put(month_key, &by_month)
}
