//! The sponsorship ledger (the audit projection, layout 3): one typed row per contract,
//! the posts and purchases under it, the listings by brand, enthusiast and period, and
//! each member's earnings; equal after a rebuild.

use sparkfeed_domain::events::Disclosure;
use sparkfeed_domain::{Command, ContractId, Money, Role};
use sparkfeed_events::Position;
use sparkfeed_projections::audit::read::{self as ledger, ContractFilter};
use sparkfeed_projections::audit::rows::{
    ContractRow, Earnings, Ending, Fact, Mark, SalesTotals, Terms,
};

use crate::*;

/// Where the event at `position` is in the log, as the ledger marks it.
fn mark(w: &World, position: Position) -> Mark {
    let stored = w
        .domain
        .log()
        .read_event(position)
        .expect("reads")
        .expect("exists");
    Mark {
        position,
        recorded_at: stored.record.recorded_at.0,
        hash: stored.hash.to_hex(),
    }
}

fn audit(w: &World) -> sled::Tree {
    w.projections.tree("audit").expect("audit")
}

fn row(w: &World, id: &str) -> ContractRow {
    ledger::contract(&audit(w), &contract(id))
        .expect("reads")
        .expect("in the ledger")
}

/// Contract `id`: `enthusiast` sponsored by the signed-in brand, over `[starts, ends)`.
fn open(
    id: &str,
    enthusiast: &str,
    fee: Option<Money>,
    commission_bp: Option<u32>,
    (starts_at, ends_at): (i64, i64),
) -> Command {
    Command::OpenContract {
        contract: contract(id),
        enthusiast: user(enthusiast),
        flat_fee: fee,
        commission_bp,
        starts_at,
        ends_at,
    }
}

fn end(id: &str, reason: &str) -> Command {
    Command::EndContract {
        contract: contract(id),
        reason: reason.into(),
    }
}

fn acme(id: &str) -> Disclosure {
    Disclosure {
        contract: contract(id),
        brand: user("uacme"),
        brand_name: "Acme".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contracts_row_after_its_opening_posts_purchases_and_early_end() {
    let (w, _live) = World::small_live().await;
    let now = w.now();
    let period = (now - DAY, now + DAY);

    // Given a contract for a 100.00 USD fee and 10% commission, two posts under it, and
    // three purchases through them, the last after the brand ended the contract early.
    let opened = w
        .run(
            as_user("uacme"),
            open("k1", "uana", Some(usd(10_000)), Some(1_000), period),
        )
        .await
        .position;
    let tag = &["B000000001"];
    let p1 = w
        .run(
            as_user("uana"),
            publish("ps1", &["fitness"], tag, Some("k1")),
        )
        .await
        .position;
    let p2 = w
        .run(
            as_user("uana"),
            publish("ps2", &["fitness"], tag, Some("k1")),
        )
        .await
        .position;
    let buy1 = w
        .run(as_user("ubob"), buy("ps1", "B000000001", 2, "b1", false))
        .await
        .position;
    let buy2 = w
        .run(as_user("ubob"), buy("ps2", "B000000001", 1, "b2", true))
        .await
        .position;
    let ended = w
        .run(as_user("uacme"), end("k1", "campaign over"))
        .await
        .position;
    let late = w
        .run_and_read(as_user("ubob"), buy("ps1", "B000000001", 1, "b3", false))
        .await
        .position;

    // Then the contract's row holds its parties, terms, period, ending and sales.
    let k1 = row(&w, "k1");
    assert_eq!(
        k1,
        ContractRow {
            contract: contract("k1"),
            terms: Terms {
                brand: user("uacme"),
                brand_name: "Acme".into(),
                enthusiast: user("uana"),
                flat_fee: Some(usd(10_000)),
                commission_bp: Some(1_000),
                starts_at: period.0,
                ends_at: period.1,
            },
            opened: mark(&w, opened),
            ended: Some(Ending {
                mark: mark(&w, ended),
                by: "user:uacme".into(),
                reason: "campaign over".into(),
            }),
            sales: SalesTotals {
                purchases: 3,
                totals: vec![usd(4_000)],
                commissions: vec![usd(300)],
            },
        }
    );
    let ended_at = mark(&w, ended).recorded_at;
    assert!(k1.is_active_at(ended_at - 1));
    assert!(
        !k1.is_active_at(ended_at),
        "ended early: no longer in force"
    );
    assert!(!k1.is_active_at(period.0 - 1), "not yet in force");

    // Every post under it with its disclosure, and every purchase with its commission
    // (none after the end), each marked with its position and hash.
    let posts = ledger::posts_under(&audit(&w), &contract("k1"), 10, None).expect("reads");
    assert!(!posts.has_next);
    let posts: Vec<_> = posts
        .items
        .into_iter()
        .map(|(at, p)| (at, p.post, p.disclosure, p.published, p.removed))
        .collect();
    assert_eq!(
        posts,
        vec![
            (p1, post("ps1"), acme("k1"), mark(&w, p1), None),
            (p2, post("ps2"), acme("k1"), mark(&w, p2), None),
        ]
    );
    let sales = ledger::sales_under(&audit(&w), &contract("k1"), 10, None).expect("reads");
    let sales: Vec<_> = sales
        .items
        .into_iter()
        .map(|(at, s)| (at, s.sale.buyer, s.sale.total, s.sale.commission, s.mark))
        .collect();
    assert_eq!(
        sales,
        vec![
            (
                buy1,
                user("ubob"),
                usd(2_000),
                Some(usd(200)),
                mark(&w, buy1)
            ),
            (
                buy2,
                user("ubob"),
                usd(1_000),
                Some(usd(100)),
                mark(&w, buy2)
            ),
            (late, user("ubob"), usd(1_000), None, mark(&w, late)),
        ]
    );
    assert_eq!(
        ledger::earnings(&audit(&w), &user("uana")).expect("reads"),
        Earnings {
            orders: 2,
            under_contracts: vec![usd(300)],
            as_associate: vec![],
            flat_fees: vec![usd(10_000)],
        }
    );

    // The trail of a post is typed: each entry says what it is and carries its facts.
    let trail = ledger::sponsorship_history(&audit(&w), &post("ps1")).expect("reads");
    let kinds: Vec<_> = trail
        .iter()
        .map(|e| match &e.fact {
            Fact::ContractOpened(t) => format!("opened {}", t.brand_name),
            Fact::SponsoredPostPublished { disclosure, .. } => {
                format!("published {}", disclosure.brand_name)
            }
            Fact::PurchaseAttributed(s) => format!("purchase {:?}", s.commission),
            Fact::ContractEnded { reason, .. } => format!("ended: {reason}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "opened Acme",
            "published Acme",
            &format!("purchase {:?}", Some(usd(200))),
            "ended: campaign over",
            "purchase None",
        ]
    );
    w.assert_rebuild_equals_live("audit").await;
    assert_eq!(row(&w, "k1"), k1, "the rebuilt ledger reads the same");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_under_a_fee_only_contract_count_and_earn_no_commission() {
    let (w, _live) = World::small_live().await;
    let now = w.now();
    w.run(
        as_user("uacme"),
        open("k1", "uana", Some(usd(5_000)), None, (now - DAY, now + DAY)),
    )
    .await;
    let tag = &["B000000001"];
    w.run(
        as_user("uana"),
        publish("ps", &["fitness"], tag, Some("k1")),
    )
    .await;
    // An unsponsored post of the same enthusiast earns them an associate's commission.
    w.run(as_user("uana"), publish("po", &["fitness"], tag, None))
        .await;
    w.run(as_user("ubob"), buy("ps", "B000000001", 3, "b1", false))
        .await;
    let removed = w
        .run(
            system(),
            Command::RemovePost {
                post: post("ps"),
                reason: "expired".into(),
            },
        )
        .await
        .position;
    w.run_and_read(as_user("ubob"), buy("po", "B000000001", 1, "b2", false))
        .await;

    assert_eq!(
        row(&w, "k1").sales,
        SalesTotals {
            purchases: 1,
            totals: vec![usd(3_000)],
            commissions: vec![],
        }
    );
    let posts = ledger::posts_under(&audit(&w), &contract("k1"), 10, None).expect("reads");
    let listed: Vec<_> = posts.items.iter().map(|(_, p)| &p.post).collect();
    assert_eq!(
        listed,
        vec![&post("ps")],
        "the unsponsored post is not listed"
    );
    assert_eq!(posts.items[0].1.removed, Some(mark(&w, removed)));
    let earned = ledger::earnings(&audit(&w), &user("uana")).expect("reads");
    assert_eq!(
        (earned.orders, earned.under_contracts.len()),
        (1, 0),
        "only the associate commission: {earned:?}"
    );
    assert_eq!(earned.as_associate.len(), 1);
    w.assert_rebuild_equals_live("audit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_list_by_brand_enthusiast_and_period_in_opening_order() {
    let (w, _live) = World::small_live().await;
    w.run(
        system(),
        Command::GrantRole {
            user: user("ubob"),
            role: Role::Enthusiast,
        },
    )
    .await;
    w.run(
        system(),
        Command::RegisterBrand {
            user: user("ubeta"),
            handle: handle("beta"),
            brand_name: "Beta".into(),
        },
    )
    .await;
    let now = w.now();
    let (past, current, future) = (
        (now - 3 * DAY, now - 2 * DAY),
        (now - DAY, now + DAY),
        (now + 2 * DAY, now + 3 * DAY),
    );
    let fee = Some(usd(1_000));
    for (brand, id, enthusiast, period) in [
        ("uacme", "ka", "uana", past),
        ("ubeta", "kb", "uana", current),
        ("uacme", "kc", "ubob", current),
        ("uacme", "kd", "uana", future),
        ("ubeta", "ke", "ubob", current),
    ] {
        w.run(as_user(brand), open(id, enthusiast, fee, None, period))
            .await;
    }
    w.run_and_read(as_user("ubeta"), end("ke", "")).await;

    let ids = |filter: ContractFilter| -> Vec<String> {
        let all = ledger::contracts(&audit(&w), &filter, 50, None).expect("reads");
        all.items
            .iter()
            .map(|(_, c)| c.contract.to_string())
            .collect()
    };
    let party = |b: Option<&str>, e: Option<&str>| ContractFilter {
        brand: b.map(user),
        enthusiast: e.map(user),
        active_at: None,
    };
    assert_eq!(ids(party(None, None)), ["ka", "kb", "kc", "kd", "ke"]);
    assert_eq!(ids(party(Some("uacme"), None)), ["ka", "kc", "kd"]);
    assert_eq!(ids(party(None, Some("uana"))), ["ka", "kb", "kd"]);
    assert_eq!(ids(party(Some("uacme"), Some("uana"))), ["ka", "kd"]);
    let active_at = |at: i64| ContractFilter {
        active_at: Some(at),
        ..ContractFilter::default()
    };
    assert_eq!(ids(active_at(w.now())), ["kb", "kc"], "ke ended early");
    assert_eq!(ids(active_at(now - 2 * DAY - 1)), ["ka"]);
    assert_eq!(ids(active_at(now + 2 * DAY)), ["kd"]);

    // Pages of two walk every contract once, in opening order.
    let mut walked: Vec<ContractId> = Vec::new();
    let mut after = None;
    loop {
        let page =
            ledger::contracts(&audit(&w), &ContractFilter::default(), 2, after).expect("reads");
        assert!(page.items.len() <= 2);
        walked.extend(page.items.iter().map(|(_, c)| c.contract.clone()));
        after = page.items.last().map(|(at, _)| *at);
        if !page.has_next {
            break;
        }
    }
    let all: Vec<_> = ["ka", "kb", "kc", "kd", "ke"].map(contract).into();
    assert_eq!(walked, all);
    assert!(
        ledger::contract(&audit(&w), &contract("kz"))
            .expect("reads")
            .is_none(),
        "an unknown contract is not in the ledger"
    );
}
