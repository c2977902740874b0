//! The rules that span two streams hold across API nodes: two nodes, each a `Domain` over
//! its own `JetStreamLog` on one 3-server cluster, race a reprice against buys and the end
//! of a contract against sponsored posts. No in-process lock is shared between them; the
//! append conditions checked where each append lands are what keeps the rules.
//!
//! (The two domains share one key store in this process: sealing is not what is tested.)

use std::sync::Arc;
use std::time::Duration;

use sparkfeed_domain::events::{DomainEvent, MediaKind};
use sparkfeed_domain::{Caller, Command, Context, Domain, KeyStore, MediaInput, Role, TagInput};
use sparkfeed_jetstream::{Config, JetStreamLog};
use sparkfeed_testkit::conformance::{converge, read_everything};
use sparkfeed_testkit::ids::{asin, contract, handle, interest, post, usd, user};
use sparkfeed_testkit::nats::NatsCluster;
use sparkfeed_testkit::world::{as_user, system};

struct Nodes {
    a: Domain,
    b: Domain,
    _cluster: NatsCluster,
    _dir: tempfile::TempDir,
}

async fn two_nodes() -> Nodes {
    let cluster = NatsCluster::start(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = Arc::new(KeyStore::open(&dir.path().join("keys")).expect("keys"));
    let mut domains = Vec::new();
    for name in ["a", "b"] {
        let mut config = Config::new(cluster.urls(), dir.path().join(name));
        config.timeout = Duration::from_secs(30);
        let log = JetStreamLog::open(config).await.expect("node opens");
        domains.push(Domain::new(log, Arc::clone(&keys)));
    }
    let b = domains.pop().expect("b");
    let a = domains.pop().expect("a");
    Nodes {
        a,
        b,
        _cluster: cluster,
        _dir: dir,
    }
}

async fn run(domain: &Domain, caller: Caller, command: Command) {
    domain
        .execute(&Context::new(caller), &command)
        .await
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
}

fn publish(id: &str, under: Option<&str>) -> Command {
    Command::PublishPost {
        post: post(id),
        caption: "my kit".into(),
        media: vec![MediaInput {
            kind: MediaKind::Image,
            url: "https://img.example/0.jpg".into(),
            width: 1080,
            height: 1350,
            alt: "photo".into(),
        }],
        interests: vec![interest("fitness")],
        tags: vec![TagInput {
            asin: asin("B000000001"),
            media_index: 0,
            x: 0.5,
            y: 0.5,
        }],
        contract: under.map(contract),
    }
}

/// A catalog of one product, a Prime enthusiast `uana` with a post tagging it, a Prime
/// buyer `ubob` and a brand `uacme`, written through node A and seen by node B.
async fn given_a_world(nodes: &Nodes) {
    let a = &nodes.a;
    run(
        a,
        system(),
        Command::AddInterest {
            interest: interest("fitness"),
            name: "Fitness".into(),
            rebuy_window_days: Some(30),
        },
    )
    .await;
    run(
        a,
        system(),
        Command::ListProduct {
            asin: asin("B000000001"),
            title: "Kettlebell".into(),
            price: usd(1000),
            image_url: "https://img.example/k.jpg".into(),
            interests: vec![interest("fitness")],
            consumable: true,
        },
    )
    .await;
    for (id, name) in [("uana", "ana"), ("ubob", "bob")] {
        run(
            a,
            Caller::Anonymous,
            Command::RegisterMember {
                user: user(id),
                handle: handle(name),
                display_name: name.into(),
            },
        )
        .await;
        run(a, system(), Command::StartPrime { user: user(id) }).await;
    }
    run(
        a,
        system(),
        Command::GrantRole {
            user: user("uana"),
            role: Role::Enthusiast,
        },
    )
    .await;
    run(
        a,
        system(),
        Command::RegisterBrand {
            user: user("uacme"),
            handle: handle("acme"),
            brand_name: "Acme".into(),
        },
    )
    .await;
    run(a, as_user("uana"), publish("pana1", None)).await;
    converge(
        &[Arc::clone(a.log()), Arc::clone(nodes.b.log())],
        a.log().head().len,
    )
    .await;
}

/// Both logs at the same head, and every event of it decoded.
async fn settled(nodes: &Nodes) -> Vec<(u64, DomainEvent)> {
    let logs = [Arc::clone(nodes.a.log()), Arc::clone(nodes.b.log())];
    let len = logs.iter().map(|l| l.head().len).max().unwrap_or(0);
    converge(&logs, len).await;
    read_everything(nodes.a.log().as_ref())
        .iter()
        .map(|e| {
            let decoded = nodes.a.decode(e).expect("decodes");
            (e.record.position.0, decoded)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_is_charged_the_price_in_force_at_its_position_across_nodes() {
    let nodes = two_nodes().await;
    given_a_world(&nodes).await;
    let repricer = {
        let a = nodes.a.clone();
        tokio::spawn(async move {
            for cents in 1001..1031u64 {
                let command = Command::RepriceProduct {
                    asin: asin("B000000001"),
                    price: usd(cents),
                };
                run(&a, system(), command).await;
            }
        })
    };
    let buyer = {
        let b = nodes.b.clone();
        tokio::spawn(async move {
            let mut conflicts = 0;
            for n in 0..30 {
                let command = Command::Buy {
                    post: post("pana1"),
                    asin: asin("B000000001"),
                    quantity: 1,
                    idempotency_key: format!("order-{n}"),
                    gift: false,
                };
                // A buy that lost to reprices 8 times in a row is answered CONFLICT, and
                // the client tries again with the same key (the same order).
                for _ in 0..100 {
                    let ctx = Context::new(as_user("ubob"));
                    match b.execute(&ctx, &command).await {
                        Ok(_) => break,
                        Err(e) if e.code() == "CONFLICT" => conflicts += 1,
                        Err(e) => panic!("{command:?}: {e}"),
                    }
                }
            }
            conflicts
        })
    };
    repricer.await.expect("repricer");
    let conflicts = buyer.await.expect("buyer");
    println!("buys answered CONFLICT while the price moved, then retried: {conflicts}");

    let mut price = None;
    let mut orders = 0;
    let mut reprices = 0;
    let mut charged = std::collections::BTreeSet::new();
    for (position, event) in settled(&nodes).await {
        match event {
            DomainEvent::ProductListed(e) => price = Some(e.price),
            DomainEvent::ProductRepriced(e) => {
                price = Some(e.price);
                reprices += 1;
            }
            DomainEvent::OrderPlaced(e) => {
                orders += 1;
                charged.insert(e.unit_price.cents);
                assert_eq!(
                    Some(e.unit_price),
                    price,
                    "the order at {position} is charged the price in force there"
                );
            }
            _ => {}
        }
    }
    assert_eq!((orders, reprices), (30, 30));
    println!("orders were charged {} different prices", charged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sponsored_post_lands_after_its_contract_ended_on_another_node() {
    let nodes = two_nodes().await;
    given_a_world(&nodes).await;
    let now = sparkfeed_events::Timestamp::now().0;
    run(
        &nodes.a,
        as_user("uacme"),
        Command::OpenContract {
            contract: contract("kdeal"),
            enthusiast: user("uana"),
            flat_fee: Some(usd(50_000)),
            commission_bp: Some(1_000),
            starts_at: now - 3_600_000_000,
            ends_at: now + 86_400_000_000,
        },
    )
    .await;
    let logs = [Arc::clone(nodes.a.log()), Arc::clone(nodes.b.log())];
    converge(&logs, nodes.a.log().head().len).await;
    let (first_post, posted) = tokio::sync::oneshot::channel();
    let poster = {
        let b = nodes.b.clone();
        tokio::spawn(async move {
            let mut first = Some(first_post);
            let (mut published, mut refused) = (0, 0);
            for n in 0..40 {
                let command = publish(&format!("psp{n}"), Some("kdeal"));
                match b.execute(&Context::new(as_user("uana")), &command).await {
                    Ok(_) => {
                        published += 1;
                        if let Some(tell) = first.take() {
                            let _ = tell.send(());
                        }
                    }
                    Err(e) => {
                        assert_eq!(e.code(), "CONTRACT_NOT_ACTIVE", "{e}");
                        refused += 1;
                    }
                }
            }
            (published, refused)
        })
    };
    // End it once a sponsored post is in, while the poster goes on.
    posted.await.expect("a sponsored post was published");
    run(
        &nodes.a,
        as_user("uacme"),
        Command::EndContract {
            contract: contract("kdeal"),
            reason: "campaign over".into(),
        },
    )
    .await;
    let (published, refused) = poster.await.expect("poster");
    assert!(
        published >= 1 && refused >= 1,
        "{published} published, {refused} refused"
    );

    let mut ended_at = None;
    let mut sponsored = 0;
    for (position, event) in settled(&nodes).await {
        match event {
            DomainEvent::ContractEnded(_) => ended_at = Some(position),
            DomainEvent::PostPublished(e) if e.sponsorship.is_some() => {
                sponsored += 1;
                assert!(
                    ended_at.is_none(),
                    "the sponsored post at {position} landed after the contract ended"
                );
            }
            _ => {}
        }
    }
    assert!(ended_at.is_some());
    assert_eq!(sponsored, published);
}
