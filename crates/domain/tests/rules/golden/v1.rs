//! The events of `fixtures/golden/domain-v1.bin`: every domain event as schema version 1
//! wrote it, with both sides of every `Option` and every arm of every enum they hold.
//!
//! Shared by the writer (`examples/write_golden_events.rs`, run once) and the golden test,
//! which expects today's code to read the log back as these values. When an event gets a
//! new schema version, change its entries here to what the upcast reading gives; the log
//! itself is never rewritten.

use sparkfeed_domain::events::{
    AccountKind, CaptionEdited, CommentPosted, CommentRemoved, Commission, ContractEnded,
    ContractOpened, Disclosure, DomainEvent, HandleReserved, InterestAdded, InterestsChosen, Media,
    MediaKind, OrderPlaced, PostPublished, PostRemoved, PrimeEnded, PrimeStarted, ProductDelisted,
    ProductListed, ProductRepriced, ProductTagged, ProductUntagged, RoleGranted, RoleRevoked,
    Saved, ShareChannel, Shared, Smiled, Tag, Unsaved, Unsmiled, UserRegistered,
};
use sparkfeed_domain::{
    Asin, CommentId, ContractId, Currency, InterestSlug, Money, PostId, Role, Sealed, UserId,
};
use sparkfeed_events::StreamName;

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("valid user id")
}
fn post(id: &str) -> PostId {
    PostId::parse(id).expect("valid post id")
}
fn asin(text: &str) -> Asin {
    Asin::parse(text).expect("valid asin")
}
fn interest(slug: &str) -> InterestSlug {
    InterestSlug::parse(slug).expect("valid interest")
}
fn contract(id: &str) -> ContractId {
    ContractId::parse(id).expect("valid contract id")
}
fn comment(id: &str) -> CommentId {
    CommentId::parse(id).expect("valid comment id")
}
fn usd(cents: u64) -> Money {
    Money::new(cents, Currency::USD)
}
fn eur(cents: u64) -> Money {
    Money::new(cents, Currency::parse("EUR").expect("valid currency"))
}
fn stream(kind: &str, id: &str) -> StreamName {
    StreamName::of(kind, id).expect("valid stream name")
}

/// Fixed bytes in a sealed value's shape (not a real ciphertext: nothing opens them here).
fn sealed(owner: &str, nonce: u8, text: &str) -> Sealed {
    let mut ciphertext: Vec<u8> = text.bytes().map(|b| b ^ 0x5a).collect();
    ciphertext.extend_from_slice(&[nonce; 16]);
    Sealed {
        owner: user(owner),
        nonce: [nonce; 12],
        ciphertext,
    }
}

/// Every event of the golden log, in log order, with the stream the service writes it to.
pub fn events() -> Vec<(StreamName, DomainEvent)> {
    let mut out: Vec<(StreamName, DomainEvent)> = Vec::new();
    let mut push = |s: StreamName, e: DomainEvent| out.push((s, e));
    let (ana, acme) = ("uana", "uacme");

    for (slug, name, rebuy) in [
        ("fitness", "Fitness", Some(30)),
        ("home-diy", "Home & DIY", None),
    ] {
        push(
            stream("interest", slug),
            InterestAdded {
                interest: interest(slug),
                name: name.into(),
                rebuy_window_days: rebuy,
            }
            .into(),
        );
    }
    push(
        stream("product", "b000000001"),
        ProductListed {
            asin: asin("B000000001"),
            title: "Kettlebell 12 kg".into(),
            price: usd(1999),
            image_url: "https://img.example/B000000001.jpg".into(),
            interests: vec![interest("fitness"), interest("home-diy")],
            consumable: false,
        }
        .into(),
    );
    push(
        stream("product", "b00000000x"),
        ProductListed {
            asin: asin("B00000000X"),
            title: "Chalk".into(),
            price: eur(500),
            image_url: "https://img.example/B00000000X.jpg".into(),
            interests: vec![interest("fitness")],
            consumable: true,
        }
        .into(),
    );
    push(
        stream("product", "b00000000x"),
        ProductRepriced {
            asin: asin("B00000000X"),
            price: eur(450),
        }
        .into(),
    );

    push(
        stream("handle", "0123456789abcdef0123456789abcdef"),
        HandleReserved { user: user(ana) }.into(),
    );
    push(
        stream("user", ana),
        UserRegistered {
            user: user(ana),
            kind: AccountKind::Member,
            handle: sealed(ana, 1, "ana"),
            display_name: sealed(ana, 2, "Ana López"),
            brand_name: None,
        }
        .into(),
    );
    push(
        stream("handle", "fedcba9876543210fedcba9876543210"),
        HandleReserved { user: user(acme) }.into(),
    );
    push(
        stream("user", acme),
        UserRegistered {
            user: user(acme),
            kind: AccountKind::Brand,
            handle: sealed(acme, 3, "acme"),
            display_name: sealed(acme, 4, "Acme"),
            brand_name: Some("Acme".into()),
        }
        .into(),
    );
    push(stream("user", ana), PrimeStarted { user: user(ana) }.into());
    push(
        stream("user", ana),
        InterestsChosen {
            user: user(ana),
            interests: vec![interest("fitness"), interest("home-diy")],
        }
        .into(),
    );
    for role in [
        Role::Enthusiast,
        Role::Moderator,
        Role::Analyst,
        Role::Auditor,
        Role::Admin,
    ] {
        push(
            stream("user", ana),
            RoleGranted {
                user: user(ana),
                role,
                by: "uadmin".into(),
            }
            .into(),
        );
    }
    push(
        stream("user", ana),
        RoleRevoked {
            user: user(ana),
            role: Role::Analyst,
            by: "system".into(),
        }
        .into(),
    );

    for (id, flat_fee, commission_bp, ends_at) in [
        ("k1", Some(usd(50_000)), Some(800), 1_790_000_000_000_000),
        ("k2", None, Some(500), 1_790_000_000_000_001),
        ("k3", Some(eur(20_000)), None, 1_790_000_000_000_002),
    ] {
        push(
            stream("sponsorship", id),
            ContractOpened {
                contract: contract(id),
                brand: user(acme),
                brand_name: "Acme".into(),
                enthusiast: user(ana),
                flat_fee,
                commission_bp,
                starts_at: 1_767_225_600_000_000,
                ends_at,
            }
            .into(),
        );
    }

    push(
        stream("post", "p1"),
        PostPublished {
            post: post("p1"),
            author: user(ana),
            caption: sealed(ana, 5, "my morning kit"),
            media: vec![Media {
                kind: MediaKind::Image,
                url: sealed(ana, 6, "https://img.example/p1.jpg"),
                width: 1080,
                height: 1350,
                alt: sealed(ana, 7, "a kettlebell on a mat"),
            }],
            interests: vec![interest("fitness")],
            tags: vec![Tag {
                asin: asin("B000000001"),
                media_index: 0,
                x: 0.25,
                y: 0.75,
            }],
            sponsorship: None,
        }
        .into(),
    );
    push(
        stream("post", "p2"),
        PostPublished {
            post: post("p2"),
            author: user(ana),
            caption: sealed(ana, 8, "chalk up"),
            media: vec![
                Media {
                    kind: MediaKind::Video,
                    url: sealed(ana, 9, "https://img.example/p2.mp4"),
                    width: 1920,
                    height: 1080,
                    alt: sealed(ana, 10, "a deadlift"),
                },
                Media {
                    kind: MediaKind::Image,
                    url: sealed(ana, 11, "https://img.example/p2.jpg"),
                    width: 640,
                    height: 640,
                    alt: sealed(ana, 12, ""),
                },
            ],
            interests: vec![interest("fitness"), interest("home-diy")],
            tags: vec![],
            sponsorship: Some(Disclosure {
                contract: contract("k1"),
                brand: user(acme),
                brand_name: "Acme".into(),
            }),
        }
        .into(),
    );
    push(
        stream("post", "p2"),
        CaptionEdited {
            post: post("p2"),
            caption: sealed(ana, 13, "chalk up, twice"),
        }
        .into(),
    );
    push(
        stream("post", "p2"),
        ProductTagged {
            post: post("p2"),
            tag: Tag {
                asin: asin("B00000000X"),
                media_index: 1,
                x: 0.0,
                y: 1.0,
            },
        }
        .into(),
    );
    push(
        stream("post", "p2"),
        ProductUntagged {
            post: post("p2"),
            asin: asin("B00000000X"),
            media_index: 1,
        }
        .into(),
    );

    let bob = "ubob";
    let engagement = || stream("engagement", "p1.ubob");
    push(
        engagement(),
        Smiled {
            post: post("p1"),
            member: user(bob),
        }
        .into(),
    );
    push(
        engagement(),
        Unsmiled {
            post: post("p1"),
            member: user(bob),
        }
        .into(),
    );
    push(
        engagement(),
        Saved {
            post: post("p1"),
            member: user(bob),
        }
        .into(),
    );
    push(
        engagement(),
        Unsaved {
            post: post("p1"),
            member: user(bob),
        }
        .into(),
    );
    for channel in [
        ShareChannel::Link,
        ShareChannel::Message,
        ShareChannel::Email,
        ShareChannel::Social,
    ] {
        push(
            stream("share", "p1.ubob"),
            Shared {
                post: post("p1"),
                member: user(bob),
                channel,
            }
            .into(),
        );
    }
    push(
        stream("comment", "c1"),
        CommentPosted {
            comment: comment("c1"),
            post: post("p1"),
            author: user(bob),
            text: sealed(bob, 14, "where is the mat from?"),
        }
        .into(),
    );
    push(
        stream("comment", "c1"),
        CommentRemoved {
            comment: comment("c1"),
            post: post("p1"),
            by: user("umod"),
        }
        .into(),
    );

    for (order, post_id, quantity, unit, gift, commission) in [
        ("0a1b2c3d4e5f60718293a4b5", "p1", 1, usd(1999), false, None),
        (
            "1b2c3d4e5f60718293a4b5c6",
            "p2",
            3,
            eur(450),
            false,
            Some(Commission {
                to: user(ana),
                rate_bp: 800,
                amount: eur(108),
                contract: Some(contract("k1")),
            }),
        ),
        (
            "2c3d4e5f60718293a4b5c6d7",
            "p1",
            2,
            usd(1999),
            true,
            Some(Commission {
                to: user(ana),
                rate_bp: 400,
                amount: usd(160),
                contract: None,
            }),
        ),
    ] {
        push(
            stream("order", order),
            OrderPlaced {
                order: order.into(),
                buyer: user(bob),
                post: post(post_id),
                author: user(ana),
                asin: asin(if post_id == "p1" {
                    "B000000001"
                } else {
                    "B00000000X"
                }),
                quantity,
                unit_price: unit,
                total: Money::new(unit.cents * u64::from(quantity), unit.currency),
                gift,
                commission,
            }
            .into(),
        );
    }

    push(
        stream("sponsorship", "k2"),
        ContractEnded {
            contract: contract("k2"),
            by: "uacme".into(),
            reason: "campaign over".into(),
        }
        .into(),
    );
    push(
        stream("post", "p1"),
        PostRemoved {
            post: post("p1"),
            by: user("umod"),
            reason: "spam".into(),
        }
        .into(),
    );
    push(
        stream("product", "b000000001"),
        ProductDelisted {
            asin: asin("B000000001"),
        }
        .into(),
    );
    push(stream("user", ana), PrimeEnded { user: user(ana) }.into());
    out
}
