//! What a creator earned (the audit projection, layout 3): commissions at the associate
//! rate or a contract's, and flat fees in the month their contract starts; in all, by
//! month and by contract; equal after a rebuild.

use sparkfeed_domain::{Command, Money};
use sparkfeed_events::Position;
use sparkfeed_projections::audit::read::{self as ledger, ContractFilter};
use sparkfeed_projections::audit::rows::{Earnings, Month, MonthEarnings};

use crate::*;

const MAT: &str = "B000000001";

fn audit(w: &World) -> sled::Tree {
    w.projections.tree("audit").expect("audit")
}

/// Contract `id` of acme with ana: `fee`, 10% commission, from `starts` for two days.
fn open(id: &str, fee: Money, starts: i64) -> Command {
    Command::OpenContract {
        contract: contract(id),
        enthusiast: user("uana"),
        flat_fee: Some(fee),
        commission_bp: Some(1_000),
        starts_at: starts,
        ends_at: starts + 2 * DAY,
    }
}

/// When the event at `position` was recorded.
fn recorded_at(w: &World, position: Position) -> i64 {
    let stored = w.domain.log().read_event(position).expect("reads");
    stored.expect("exists").record.recorded_at.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earnings_split_commissions_by_rate_and_count_fees_in_their_start_month() {
    let (w, _live) = World::small_live().await;
    let now = w.now();

    // Given two contracts of acme with ana, one running now (a 50.00 fee) and one
    // starting in 40 days (70.00),
    let (running, later) = (now - DAY, now + 40 * DAY);
    w.run(as_user("uacme"), open("ka", usd(5_000), running))
        .await;
    w.run(as_user("uacme"), open("kb", usd(7_000), later)).await;

    // when bob buys two 10.00 mats through ana's post under ka (10%: 2.00) and one
    // through her unsponsored post (the associate rate, 3%: 0.30),
    w.run(
        as_user("uana"),
        publish("ps", &["fitness"], &[MAT], Some("ka")),
    )
    .await;
    w.run(as_user("uana"), publish("po", &["fitness"], &[MAT], None))
        .await;
    let sponsored = w.run(as_user("ubob"), buy("ps", MAT, 2, "b1", false)).await;
    let associate = w
        .run_and_read(as_user("ubob"), buy("po", MAT, 1, "b2", false))
        .await;

    // then her earnings hold both commissions and both fees.
    let total = ledger::earnings(&audit(&w), &user("uana")).expect("reads");
    assert_eq!(
        total,
        Earnings {
            orders: 2,
            under_contracts: vec![usd(200)],
            as_associate: vec![usd(30)],
            flat_fees: vec![usd(12_000)],
        }
    );

    // By month, newest first: kb's month holds its fee alone; the month of each order
    // holds its commission, and ka's month its fee (one row when they are the same month).
    let months = ledger::earnings_by_month(&audit(&w), &user("uana"), 12, None).expect("reads");
    let rows: Vec<&MonthEarnings> = months.items.iter().map(|(_, m)| m).collect();
    assert!(
        rows.windows(2).all(|m| m[0].month > m[1].month),
        "newest first"
    );
    let month = |m: Month| -> &MonthEarnings {
        rows.iter()
            .find(|r| r.month == m)
            .unwrap_or_else(|| panic!("a row for {m}: {rows:?}"))
    };
    let kb = month(Month::of(later));
    assert_eq!(
        (kb.orders, &kb.flat_fees, kb.under_contracts.is_empty()),
        (0, &vec![usd(7_000)], true)
    );
    assert!(month(Month::of(running)).flat_fees.contains(&usd(5_000)));
    let placed = month(Month::of(recorded_at(&w, sponsored.position)));
    assert!(placed.under_contracts.contains(&usd(200)), "{placed:?}");
    let placed = month(Month::of(recorded_at(&w, associate.position)));
    assert!(placed.as_associate.contains(&usd(30)), "{placed:?}");
    let fees: u64 = rows
        .iter()
        .flat_map(|r| &r.flat_fees)
        .map(|m| m.cents)
        .sum();
    assert_eq!(fees, 12_000, "the months add up to the total");

    // By contract: each with its fee, its commissions and its orders.
    let filter = ContractFilter {
        enthusiast: Some(user("uana")),
        ..ContractFilter::default()
    };
    let contracts = ledger::contracts(&audit(&w), &filter, 10, None).expect("reads");
    let by_contract: Vec<_> = contracts
        .items
        .iter()
        .map(|(_, c)| {
            let id = c.contract.to_string();
            let fee = c.terms.flat_fee;
            (id, fee, c.sales.commissions.clone(), c.sales.purchases)
        })
        .collect();
    assert_eq!(
        by_contract,
        [
            ("ka".to_owned(), Some(usd(5_000)), vec![usd(200)], 1),
            ("kb".to_owned(), Some(usd(7_000)), vec![], 0),
        ]
    );
    w.assert_rebuild_equals_live("audit").await;
}
