//! The read side against real logs in temp dirs: rebuilds, paging, read-your-writes, the
//! home feed's rules, post cards and the audit trail.

mod props;
mod reads;
mod rebuild;

use sparkfeed_domain::events::MediaKind;
use sparkfeed_domain::{Caller, Command, Context, MediaInput, Role, TagInput, UserId};
pub(crate) use sparkfeed_testkit::ids::{asin, contract, handle, interest, post, usd, user};
pub(crate) use sparkfeed_testkit::world::{World, system};

pub(crate) const DAY: i64 = 86_400_000_000;

pub(crate) fn publish(
    id: &str,
    interests: &[&str],
    tags: &[&str],
    contract: Option<&str>,
) -> Command {
    Command::PublishPost {
        post: post(id),
        caption: format!("post {id}"),
        media: vec![MediaInput {
            kind: MediaKind::Image,
            url: "https://img.example/1.jpg".into(),
            width: 10,
            height: 10,
            alt: String::new(),
        }],
        interests: interests.iter().map(|i| interest(i)).collect(),
        tags: tags
            .iter()
            .map(|a| TagInput {
                asin: asin(a),
                media_index: 0,
                x: 0.1,
                y: 0.2,
            })
            .collect(),
        contract: contract.map(self::contract),
    }
}

/// Interests fitness (re-buy window 30 days) and diy; products B000000001 (durable),
/// B000000002 (consumable); Prime members uana (enthusiast) and ubob; brand uacme.
pub(crate) async fn small_world() -> World {
    let w = World::empty();
    for (slug, window) in [("fitness", Some(30)), ("diy", None)] {
        w.run(
            system(),
            Command::AddInterest {
                interest: interest(slug),
                name: slug.into(),
                rebuy_window_days: window,
            },
        )
        .await;
    }
    for (a, consumable) in [("B000000001", false), ("B000000002", true)] {
        w.run(
            system(),
            Command::ListProduct {
                asin: asin(a),
                title: format!("Product {a}"),
                price: usd(1000),
                image_url: "https://img.example/p.jpg".into(),
                interests: vec![interest("fitness")],
                consumable,
            },
        )
        .await;
    }
    for (id, name) in [("uana", "ana"), ("ubob", "bob")] {
        w.run(
            Caller::Anonymous,
            Command::RegisterMember {
                user: user(id),
                handle: handle(name),
                display_name: name.into(),
            },
        )
        .await;
        w.run(system(), Command::StartPrime { user: user(id) })
            .await;
    }
    w.run(
        system(),
        Command::GrantRole {
            user: user("uana"),
            role: Role::Enthusiast,
        },
    )
    .await;
    w.run(
        system(),
        Command::RegisterBrand {
            user: user("uacme"),
            handle: handle("acme"),
            brand_name: "Acme".into(),
        },
    )
    .await;
    w
}
