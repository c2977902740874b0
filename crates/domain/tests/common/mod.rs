//! Ids, media and commands shared by the domain's test binaries.

#![allow(dead_code)] // each binary uses its own share of them

use sparkfeed_domain::events::MediaKind;
use sparkfeed_domain::{
    Asin, Caller, Command, Currency, Handle, InterestSlug, MediaInput, Money, PostId, Role,
    TagInput, UserId,
};

pub(crate) fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}
pub(crate) fn post(id: &str) -> PostId {
    PostId::parse(id).expect("valid post id")
}
pub(crate) fn asin(text: &str) -> Asin {
    Asin::parse(text).expect("valid asin")
}
pub(crate) fn interest(slug: &str) -> InterestSlug {
    InterestSlug::parse(slug).expect("valid interest")
}
pub(crate) fn usd(cents: u64) -> Money {
    Money::new(cents, Currency::USD)
}
pub(crate) fn as_user(id: &str) -> Caller {
    Caller::User(user(id))
}
pub(crate) fn system() -> Caller {
    Caller::System("test".into())
}

pub(crate) const DAY: i64 = 86_400_000_000;

pub(crate) fn media(n: usize) -> Vec<MediaInput> {
    (0..n)
        .map(|i| MediaInput {
            kind: MediaKind::Image,
            url: format!("https://img.example/{i}.jpg"),
            width: 1080,
            height: 1350,
            alt: format!("photo {i}"),
        })
        .collect()
}

pub(crate) fn tag(text: &str) -> TagInput {
    TagInput {
        asin: asin(text),
        media_index: 0,
        x: 0.5,
        y: 0.5,
    }
}

/// A post of `author`'s in fitness with the given tags.
pub(crate) fn publish(id: &str, tags: &[&str]) -> Command {
    Command::PublishPost {
        post: post(id),
        caption: "my morning kit".into(),
        media: media(1),
        interests: vec![interest("fitness")],
        tags: tags.iter().map(|t| tag(t)).collect(),
        contract: None,
    }
}

/// The commands that build the standard world, in order, each with its caller: interests
/// fitness, diy, fashion; products B000000001 ($19.99, fitness), B000000002 ($5.00,
/// consumable), B000000003 (delisted); admin `uadmin`, Prime members `uana` (enthusiast) and
/// `ubob`, non-Prime `ucarl`, moderator `umod` (Prime), brand `uacme` ("Acme"); ana's post
/// `pana1` tagging B000000001 and B000000002.
pub(crate) fn standard_world() -> Vec<(Caller, Command)> {
    let mut world = Vec::new();
    for (slug, name) in [
        ("fitness", "Fitness"),
        ("diy", "DIY"),
        ("fashion", "Fashion"),
    ] {
        world.push((
            system(),
            Command::AddInterest {
                interest: interest(slug),
                name: name.into(),
                rebuy_window_days: Some(30),
            },
        ));
    }
    for (a, price, consumable) in [
        ("B000000001", 1999, false),
        ("B000000002", 500, true),
        ("B000000003", 700, false),
    ] {
        world.push((
            system(),
            Command::ListProduct {
                asin: asin(a),
                title: format!("Product {a}"),
                price: usd(price),
                image_url: format!("https://img.example/{a}.jpg"),
                interests: vec![interest("fitness")],
                consumable,
            },
        ));
    }
    world.push((
        system(),
        Command::DelistProduct {
            asin: asin("B000000003"),
        },
    ));
    for (id, handle, prime) in [
        ("uadmin", "admin", false),
        ("uana", "ana", true),
        ("ubob", "bob", true),
        ("ucarl", "carl", false),
        ("umod", "mod", true),
    ] {
        world.push((
            Caller::Anonymous,
            Command::RegisterMember {
                user: user(id),
                handle: Handle::parse(handle).expect("valid"),
                display_name: format!("{handle} display"),
            },
        ));
        if prime {
            world.push((system(), Command::StartPrime { user: user(id) }));
        }
    }
    for (id, role) in [
        ("uadmin", Role::Admin),
        ("uana", Role::Enthusiast),
        ("umod", Role::Moderator),
    ] {
        world.push((
            system(),
            Command::GrantRole {
                user: user(id),
                role,
            },
        ));
    }
    world.push((
        system(),
        Command::RegisterBrand {
            user: user("uacme"),
            handle: Handle::parse("acme").expect("valid"),
            brand_name: "Acme".into(),
        },
    ));
    world.push((
        as_user("uana"),
        publish("pana1", &["B000000001", "B000000002"]),
    ));
    world
}
