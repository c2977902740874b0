//! Random command sequences from many members, run concurrently, never break an invariant.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use sparkfeed_domain::events::DomainEvent;
use sparkfeed_domain::{Command, CommandError, ContractId, PostId, UserId};
use sparkfeed_events::Position;

use crate::*;

const MEMBERS: [&str; 4] = ["uana", "ubob", "umod", "ucarl"];
const PRODUCTS: [&str; 2] = ["B000000001", "B000000002"];

#[derive(Clone, Debug)]
enum Op {
    Smile(usize, usize),
    Unsmile(usize, usize),
    Save(usize, usize),
    Unsave(usize, usize),
    Buy(usize, usize, usize, u8),
    Reprice(usize, u64),
    Delist(usize),
    Publish(usize, Option<usize>),
    OpenContract(usize),
    EndContract(usize),
    Remove(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let m = 0..MEMBERS.len();
    let p = 0usize..6;
    prop_oneof![
        3 => (m.clone(), p.clone()).prop_map(|(m, p)| Op::Smile(m, p)),
        2 => (m.clone(), p.clone()).prop_map(|(m, p)| Op::Unsmile(m, p)),
        2 => (m.clone(), p.clone()).prop_map(|(m, p)| Op::Save(m, p)),
        1 => (m.clone(), p.clone()).prop_map(|(m, p)| Op::Unsave(m, p)),
        3 => (m.clone(), p.clone(), 0..PRODUCTS.len(), 0u8..12).prop_map(|(m, p, a, q)| Op::Buy(m, p, a, q)),
        2 => (0..PRODUCTS.len(), 1u64..5000).prop_map(|(a, c)| Op::Reprice(a, c)),
        1 => (0..PRODUCTS.len()).prop_map(Op::Delist),
        2 => (0usize..6, prop::option::of(0usize..3)).prop_map(|(p, k)| Op::Publish(p, k)),
        1 => (0usize..3).prop_map(Op::OpenContract),
        1 => (0usize..3).prop_map(Op::EndContract),
        1 => (m, p).prop_map(|(m, p)| Op::Remove(m, p)),
    ]
}

fn post_id(n: usize) -> PostId {
    post(&format!("pprop{n}"))
}
fn contract_id(n: usize) -> ContractId {
    ContractId::parse(&format!("kprop{n}")).expect("valid")
}

fn command(w: &World, op: &Op, salt: usize) -> (Caller, Command) {
    match op {
        Op::Smile(m, p) => (as_user(MEMBERS[*m]), Command::Smile { post: post_id(*p) }),
        Op::Unsmile(m, p) => (as_user(MEMBERS[*m]), Command::Unsmile { post: post_id(*p) }),
        Op::Save(m, p) => (
            as_user(MEMBERS[*m]),
            Command::SavePost { post: post_id(*p) },
        ),
        Op::Unsave(m, p) => (
            as_user(MEMBERS[*m]),
            Command::UnsavePost { post: post_id(*p) },
        ),
        Op::Buy(m, p, a, q) => (
            as_user(MEMBERS[*m]),
            Command::Buy {
                post: post_id(*p),
                asin: asin(PRODUCTS[*a]),
                quantity: *q,
                idempotency_key: format!("key-{}", salt % 7),
                gift: salt.is_multiple_of(3),
            },
        ),
        Op::Reprice(a, cents) => (
            system(),
            Command::RepriceProduct {
                asin: asin(PRODUCTS[*a]),
                price: usd(*cents),
            },
        ),
        Op::Delist(a) => (
            system(),
            Command::DelistProduct {
                asin: asin(PRODUCTS[*a]),
            },
        ),
        Op::Publish(p, k) => {
            let Command::PublishPost {
                caption,
                media,
                interests,
                tags,
                ..
            } = publish("pignored", &PRODUCTS)
            else {
                unreachable!()
            };
            (
                as_user("uana"),
                Command::PublishPost {
                    post: post_id(*p),
                    caption,
                    media,
                    interests,
                    tags,
                    contract: k.map(contract_id),
                },
            )
        }
        Op::OpenContract(k) => (
            as_user("uacme"),
            Command::OpenContract {
                contract: contract_id(*k),
                enthusiast: user("uana"),
                flat_fee: None,
                commission_bp: Some(800),
                starts_at: w.now.0 - DAY,
                ends_at: w.now.0 + DAY,
            },
        ),
        Op::EndContract(k) => (
            as_user("uacme"),
            Command::EndContract {
                contract: contract_id(*k),
                reason: String::new(),
            },
        ),
        Op::Remove(m, p) => (
            as_user(MEMBERS[*m]),
            Command::RemovePost {
                post: post_id(*p),
                reason: String::new(),
            },
        ),
    }
}

/// Replays the whole log and checks every invariant at every position.
fn check_invariants(w: &World) -> Result<(), TestCaseError> {
    let events = w
        .domain
        .log()
        .read_all(Position(0), usize::MAX)
        .expect("reads");
    let mut smiling: HashSet<(PostId, UserId)> = HashSet::new();
    let mut saved: HashSet<(PostId, UserId)> = HashSet::new();
    let mut smiles: HashMap<PostId, i64> = HashMap::new();
    let mut prices = HashMap::new();
    let mut delisted = HashSet::new();
    let mut contracts: HashMap<ContractId, (i64, i64)> = HashMap::new();
    let mut ended = HashSet::new();
    let mut orders = HashSet::new();
    for stored in &events {
        match w.domain.decode(stored).expect("decodes") {
            DomainEvent::Smiled(e) => {
                prop_assert!(
                    smiling.insert((e.post.clone(), e.member)),
                    "two live smiles"
                );
                *smiles.entry(e.post).or_default() += 1;
            }
            DomainEvent::Unsmiled(e) => {
                prop_assert!(
                    smiling.remove(&(e.post.clone(), e.member)),
                    "unsmile without a smile"
                );
                let count = smiles.entry(e.post).or_default();
                *count -= 1;
                prop_assert!(*count >= 0, "negative smile count");
            }
            DomainEvent::Saved(e) => {
                prop_assert!(saved.insert((e.post, e.member)), "two live saves")
            }
            DomainEvent::Unsaved(e) => {
                prop_assert!(saved.remove(&(e.post, e.member)), "unsave without a save")
            }
            DomainEvent::ProductListed(e) => {
                prices.insert(e.asin, e.price);
            }
            DomainEvent::ProductRepriced(e) => {
                prices.insert(e.asin, e.price);
            }
            DomainEvent::ProductDelisted(e) => {
                delisted.insert(e.asin);
            }
            DomainEvent::OrderPlaced(e) => {
                prop_assert_eq!(
                    Some(&e.unit_price),
                    prices.get(&e.asin),
                    "charged the catalog price at this position"
                );
                prop_assert!(!delisted.contains(&e.asin), "bought a delisted product");
                prop_assert!(
                    orders.insert(e.order.clone()),
                    "one order per idempotency key"
                );
                prop_assert_eq!(e.total.cents, e.unit_price.cents * u64::from(e.quantity));
            }
            DomainEvent::ContractOpened(e) => {
                contracts.insert(e.contract, (e.starts_at, e.ends_at));
            }
            DomainEvent::ContractEnded(e) => {
                ended.insert(e.contract);
            }
            DomainEvent::PostPublished(e) => {
                if let Some(d) = e.sponsorship {
                    let window = contracts.get(&d.contract);
                    prop_assert!(window.is_some(), "sponsored under an unopened contract");
                    prop_assert!(
                        !ended.contains(&d.contract),
                        "sponsored under an ended contract"
                    );
                    let (starts, ends) = window.copied().unwrap_or_default();
                    prop_assert!(
                        starts <= w.now.0 && w.now.0 < ends,
                        "contract active at publication"
                    );
                }
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_commands_from_many_members_keep_every_invariant(
        plans in prop::collection::vec(prop::collection::vec(op(), 1..30), 3..5)
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async {
            let w = World::standard().await;
            for p in 0..3 {
                w.given(as_user("uana"), Command::PublishPost {
                    post: post_id(p),
                    caption: String::new(),
                    media: media(1),
                    interests: vec![interest("fitness")],
                    tags: PRODUCTS.iter().map(|a| tag(a)).collect(),
                    contract: None,
                }).await;
            }
            let w = std::sync::Arc::new(w);
            let tasks: Vec<_> = plans.into_iter().enumerate().map(|(t, plan)| {
                let w = w.clone();
                tokio::spawn(async move {
                    for (n, op) in plan.iter().enumerate() {
                        let (caller, command) = command(&w, op, t * 100 + n);
                        let ctx = w.ctx(caller);
                        match w.domain.execute(&ctx, &command).await {
                            Ok(_) | Err(CommandError::Refused(_)) => {}
                            Err(CommandError::Failed(e)) => panic!("{op:?} failed: {e}"),
                        }
                    }
                })
            }).collect();
            for t in tasks {
                t.await.expect("task");
            }
            check_invariants(&w)
        })?;
    }
}
