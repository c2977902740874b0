//! Each rule's happy path, in memory: given the standard world, when a command, then
//! exactly these events (personal data still plain: sealing is `execute`'s, see `log.rs`).

use sparkfeed_domain::events::*;
use sparkfeed_domain::rules::{Actor, Decided, Decision, account};
use sparkfeed_domain::state::UserState;
use sparkfeed_domain::{
    Caller, Command, CommentId, ContractId, Handle, PostId, Role, UserId, order_id,
};

use crate::memory::{Given, NOW};
use crate::*;

fn event(e: impl Into<DomainEvent>) -> Decided {
    Decided::event(e)
}

#[test]
fn registering_reserves_the_handle_then_opens_the_account() {
    let mut g = Given::events(vec![]);
    let register = || Command::RegisterMember {
        user: user("u1"),
        handle: Handle::parse("Zoe.Fit").expect("valid"),
        display_name: "Zoë Martín".into(),
    };
    assert_eq!(
        g.accept(Caller::Anonymous, register()),
        vec![
            event(HandleReserved { user: user("u1") }),
            Decided::UserRegistered {
                user: user("u1"),
                kind: AccountKind::Member,
                handle: Handle::parse("zoe.fit").expect("valid"),
                display_name: "Zoë Martín".into(),
                brand_name: None,
            },
        ]
    );
    // Taken by someone else: refused. Held by this very account (a registration cut after
    // its reservation): the retry opens the account alone.
    let taken = Given::events(vec![Decided::UserRegistered {
        user: user("u2"),
        kind: AccountKind::Member,
        handle: Handle::parse("zoe.fit").expect("valid"),
        display_name: "someone".into(),
        brand_name: None,
    }]);
    taken.then_refused(Caller::Anonymous, register(), "HANDLE_TAKEN");
    let cut = account::Given {
        actor: Actor::new(Caller::Anonymous),
        account: UserState::default(),
        handle_owner: Some(user("u1")),
        known_interests: Default::default(),
    };
    let decided = account::decide(&cut, &register()).expect("accepted");
    assert!(matches!(&decided[..], [Decided::UserRegistered { user: u, .. }] if *u == user("u1")));
}

#[test]
fn admins_run_memberships_and_roles() {
    Given::standard().then_each([
        (
            as_user("uadmin"),
            Command::StartPrime {
                user: user("ucarl"),
            },
            event(PrimeStarted {
                user: user("ucarl"),
            }),
        ),
        (
            system(),
            Command::EndPrime {
                user: user("ucarl"),
            },
            event(PrimeEnded {
                user: user("ucarl"),
            }),
        ),
        (
            as_user("uadmin"),
            Command::GrantRole {
                user: user("ubob"),
                role: Role::Auditor,
            },
            event(RoleGranted {
                user: user("ubob"),
                role: Role::Auditor,
                by: "user:uadmin".into(),
            }),
        ),
        (
            system(),
            Command::RevokeRole {
                user: user("ubob"),
                role: Role::Auditor,
            },
            event(RoleRevoked {
                user: user("ubob"),
                role: Role::Auditor,
                by: "system:test".into(),
            }),
        ),
    ]);
}

#[test]
fn admins_run_the_catalog() {
    let title = "Kettlebell 12 kg".to_string();
    let image_url = "https://img.example/kb.jpg".to_string();
    let interests = vec![interest("fitness"), interest("coffee")];
    Given::standard().then_each([
        (
            as_user("uadmin"),
            Command::AddInterest {
                interest: interest("coffee"),
                name: "Coffee".into(),
                rebuy_window_days: Some(14),
            },
            event(InterestAdded {
                interest: interest("coffee"),
                name: "Coffee".into(),
                rebuy_window_days: Some(14),
            }),
        ),
        (
            system(),
            Command::ListProduct {
                asin: asin("B000000010"),
                title: title.clone(),
                price: usd(4_500),
                image_url: image_url.clone(),
                interests: interests.clone(),
                consumable: false,
            },
            event(ProductListed {
                asin: asin("B000000010"),
                title,
                price: usd(4_500),
                image_url,
                interests,
                consumable: false,
            }),
        ),
        (
            system(),
            Command::RepriceProduct {
                asin: asin("B000000001"),
                price: usd(2499),
            },
            event(ProductRepriced {
                asin: asin("B000000001"),
                price: usd(2499),
            }),
        ),
        (
            as_user("uadmin"),
            Command::DelistProduct {
                asin: asin("B000000010"),
            },
            event(ProductDelisted {
                asin: asin("B000000010"),
            }),
        ),
    ]);
}

#[test]
fn admins_register_brands_even_when_signed_in_as_members() {
    // Found by the API's end-to-end story: an admin signed in as a member was refused
    // registering a brand, because registration refused every signed-in caller.
    for (caller, id, handle) in [
        (system(), "ubrand2", "brand2"),
        (as_user("uadmin"), "ubrand3", "brand3"),
    ] {
        let g = Given::standard();
        let then = g.when(
            caller,
            &Command::RegisterBrand {
                user: user(id),
                handle: Handle::parse(handle).expect("valid"),
                brand_name: "Brand".into(),
            },
        );
        assert_eq!(
            then,
            Ok(vec![
                event(HandleReserved { user: user(id) }),
                Decided::UserRegistered {
                    user: user(id),
                    kind: AccountKind::Brand,
                    handle: Handle::parse(handle).expect("valid"),
                    display_name: "Brand".into(),
                    brand_name: Some("Brand".into()),
                },
            ])
        );
    }
}

#[test]
fn members_choose_interests_and_authors_shape_their_posts() {
    let mut g = Given::standard();
    let chosen = vec![interest("fitness"), interest("diy")];
    assert_eq!(
        g.accept(
            as_user("ubob"),
            Command::ChooseInterests {
                interests: chosen.clone()
            }
        ),
        vec![event(InterestsChosen {
            user: user("ubob"),
            interests: chosen
        })]
    );
    assert_eq!(
        g.accept(as_user("uana"), publish("pana2", &["B000000001"])),
        vec![Decided::PostPublished {
            post: post("pana2"),
            author: user("uana"),
            caption: "my morning kit".into(),
            media: media(1),
            interests: vec![interest("fitness")],
            tags: vec![Tag {
                asin: asin("B000000001"),
                media_index: 0,
                x: 0.5,
                y: 0.5
            }],
            sponsorship: None,
        }]
    );
    let p = || post("pana2");
    g.then_each([
        (
            as_user("uana"),
            Command::EditCaption {
                post: p(),
                caption: "edited".into(),
            },
            Decided::CaptionEdited {
                post: p(),
                author: user("uana"),
                caption: "edited".into(),
            },
        ),
        (
            as_user("uana"),
            Command::TagProduct {
                post: p(),
                tag: tag("B000000002"),
            },
            event(ProductTagged {
                post: p(),
                tag: Tag {
                    asin: asin("B000000002"),
                    media_index: 0,
                    x: 0.5,
                    y: 0.5,
                },
            }),
        ),
        (
            as_user("uana"),
            Command::UntagProduct {
                post: p(),
                asin: asin("B000000001"),
                media_index: 0,
            },
            event(ProductUntagged {
                post: p(),
                asin: asin("B000000001"),
                media_index: 0,
            }),
        ),
        (
            as_user("umod"),
            Command::RemovePost {
                post: p(),
                reason: "spam".into(),
            },
            event(PostRemoved {
                post: p(),
                by: user("umod"),
                reason: "spam".into(),
            }),
        ),
    ]);
}

#[test]
fn authors_and_operators_remove_posts() {
    for caller in [as_user("uana"), system()] {
        let g = Given::standard();
        let then = g.when(
            caller,
            &Command::RemovePost {
                post: post("pana1"),
                reason: String::new(),
            },
        );
        assert_eq!(
            then,
            Ok(vec![event(PostRemoved {
                post: post("pana1"),
                by: user("uana"),
                reason: String::new(),
            })])
        );
    }
}

/// The engagement switches as a table: each row is a member's smile and save of `pana1`
/// before (given), the command (when), and the event or the refusal (then).
#[test]
fn engagement_is_one_live_smile_and_save_per_member_and_post() {
    let p = post("pana1");
    let bobs = |e: fn(PostId, UserId) -> DomainEvent| event(e(p.clone(), user("ubob")));
    let smiled = || bobs(|post, member| Smiled { post, member }.into());
    let unsmiled = || bobs(|post, member| Unsmiled { post, member }.into());
    let saved = || bobs(|post, member| Saved { post, member }.into());
    let unsaved = || bobs(|post, member| Unsaved { post, member }.into());
    let smile = || Command::Smile { post: p.clone() };
    let unsmile = || Command::Unsmile { post: p.clone() };
    let save = || Command::SavePost { post: p.clone() };
    let unsave = || Command::UnsavePost { post: p.clone() };
    type Row = (Vec<Decided>, Command, Result<Decided, &'static str>);
    let rows: Vec<Row> = vec![
        (vec![], smile(), Ok(smiled())),
        (vec![smiled()], smile(), Err("ALREADY_SMILED")),
        (vec![smiled(), unsmiled()], smile(), Ok(smiled())),
        (vec![saved()], smile(), Ok(smiled())),
        (vec![], unsmile(), Err("NOT_SMILED")),
        (vec![smiled()], unsmile(), Ok(unsmiled())),
        (vec![saved()], unsmile(), Err("NOT_SMILED")),
        (vec![], save(), Ok(saved())),
        (vec![saved()], save(), Err("ALREADY_SAVED")),
        (vec![smiled()], save(), Ok(saved())),
        (vec![], unsave(), Err("NOT_SAVED")),
        (vec![smiled()], unsave(), Err("NOT_SAVED")),
        (vec![saved()], unsave(), Ok(unsaved())),
        (vec![saved(), unsaved()], unsave(), Err("NOT_SAVED")),
    ];
    for (before, when, then) in rows {
        let mut g = Given::standard();
        for e in before {
            g.push(e);
        }
        let decided = g.when(as_user("ubob"), &when);
        match then {
            Ok(e) => assert_eq!(decided, Ok(vec![e]), "{when:?}"),
            Err(code) => assert_eq!(decided.map_err(|r| r.code()), Err(code), "{when:?}"),
        }
    }
}

#[test]
fn members_share_and_comment_and_authors_remove_comments() {
    let mut g = Given::standard();
    for channel in [ShareChannel::Link, ShareChannel::Email] {
        // Shares are not unique: a second share is another event.
        assert_eq!(
            g.accept(
                as_user("ubob"),
                Command::SharePost {
                    post: post("pana1"),
                    channel
                }
            ),
            vec![event(Shared {
                post: post("pana1"),
                member: user("ubob"),
                channel
            })]
        );
    }
    let c = CommentId::parse("c1").expect("valid");
    assert_eq!(
        g.accept(
            as_user("ubob"),
            Command::Comment {
                comment: c.clone(),
                post: post("pana1"),
                text: "where is it from?".into(),
            }
        ),
        vec![Decided::CommentPosted {
            comment: c.clone(),
            post: post("pana1"),
            author: user("ubob"),
            text: "where is it from?".into(),
        }]
    );
    // The commenter, the post's author, a moderator and an operator may remove it.
    for (caller, by) in [
        (as_user("ubob"), "ubob"),
        (as_user("uana"), "uana"),
        (as_user("umod"), "umod"),
        (system(), "ubob"),
    ] {
        assert_eq!(
            g.when(caller, &Command::RemoveComment { comment: c.clone() }),
            Ok(vec![event(CommentRemoved {
                comment: c.clone(),
                post: post("pana1"),
                by: user(by),
            })])
        );
    }
}

#[test]
fn a_buy_charges_the_catalog_price_and_a_repeat_decides_nothing() {
    let mut g = Given::standard();
    g.accept(
        system(),
        Command::RepriceProduct {
            asin: asin("B000000001"),
            price: usd(1500),
        },
    );
    let buy = |a: &str, quantity: u8, key: &str, gift: bool| Command::Buy {
        post: post("pana1"),
        asin: asin(a),
        quantity,
        idempotency_key: key.into(),
        gift,
    };
    assert_eq!(
        g.accept(as_user("ubob"), buy("B000000001", 2, "k-1", false)),
        vec![event(OrderPlaced {
            order: order_id(&user("ubob"), "k-1"),
            buyer: user("ubob"),
            post: post("pana1"),
            author: user("uana"),
            asin: asin("B000000001"),
            quantity: 2,
            unit_price: usd(1500),
            total: usd(3000),
            gift: false,
            // ana is an enthusiast: associate commission on her unsponsored post.
            commission: Some(Commission {
                to: user("uana"),
                rate_bp: 300,
                amount: usd(90),
                contract: None,
            }),
        })]
    );
    assert_eq!(
        g.when(as_user("ubob"), &buy("B000000001", 2, "k-1", false)),
        Ok(vec![]),
        "a repeat with the same key is the same order: nothing new"
    );
    let gift = g.accept(as_user("ubob"), buy("B000000002", 1, "k-2", true));
    assert!(
        matches!(&gift[..], [Decided::Event(DomainEvent::OrderPlaced(o))] if o.gift && o.unit_price == usd(500))
    );
    // A member who is not an enthusiast earns no associate commission.
    g.accept(as_user("ubob"), publish("pbob1", &["B000000001"]));
    let decided = g.when(as_user("uana"), &buy_one("pbob1", "k-3"));
    assert!(earns_nothing(&decided), "{decided:?}");
}

#[test]
fn a_sponsored_post_is_disclosed_and_its_purchases_accrue_contract_commission() {
    let mut g = Given::standard();
    let k = ContractId::parse("k1").expect("valid");
    let (starts_at, ends_at) = (NOW.0 - DAY, NOW.0 + 30 * DAY);
    assert_eq!(
        g.accept(
            as_user("uacme"),
            Command::OpenContract {
                contract: k.clone(),
                enthusiast: user("uana"),
                flat_fee: Some(usd(50_000)),
                commission_bp: Some(1_000),
                starts_at,
                ends_at,
            }
        ),
        vec![event(ContractOpened {
            contract: k.clone(),
            brand: user("uacme"),
            brand_name: "Acme".into(),
            enthusiast: user("uana"),
            flat_fee: Some(usd(50_000)),
            commission_bp: Some(1_000),
            starts_at,
            ends_at,
        })]
    );
    let mut sponsored = publish("pspon", &["B000000001"]);
    if let Command::PublishPost { contract, .. } = &mut sponsored {
        *contract = Some(k.clone());
    }
    let published = g.accept(as_user("uana"), sponsored);
    let [Decided::PostPublished { sponsorship, .. }] = &published[..] else {
        panic!("{published:?}")
    };
    assert_eq!(
        sponsorship,
        &Some(Disclosure {
            contract: k.clone(),
            brand: user("uacme"),
            brand_name: "Acme".into(),
        })
    );
    let order = g.accept(as_user("ubob"), buy_one("pspon", "s-1"));
    let [Decided::Event(DomainEvent::OrderPlaced(order))] = &order[..] else {
        panic!("{order:?}")
    };
    assert_eq!(
        order.commission,
        Some(Commission {
            to: user("uana"),
            rate_bp: 1_000,
            amount: usd(199),
            contract: Some(k.clone()),
        })
    );
    assert_eq!(
        g.accept(
            as_user("uacme"),
            Command::EndContract {
                contract: k.clone(),
                reason: "campaign over".into(),
            }
        ),
        vec![event(ContractEnded {
            contract: k.clone(),
            by: "user:uacme".into(),
            reason: "campaign over".into(),
        })]
    );
    // After the contract ended, purchases through the post accrue no commission.
    let after = g.when(as_user("ubob"), &buy_one("pspon", "s-2"));
    assert!(earns_nothing(&after), "{after:?}");
}

/// One B000000001 bought through `through` under `key`, not as a gift.
fn buy_one(through: &str, key: &str) -> Command {
    Command::Buy {
        post: post(through),
        asin: asin("B000000001"),
        quantity: 1,
        idempotency_key: key.into(),
        gift: false,
    }
}

/// Whether `decided` is one order that earns no commission.
fn earns_nothing(decided: &Decision) -> bool {
    matches!(decided.as_deref(), Ok([Decided::Event(DomainEvent::OrderPlaced(o))]) if o.commission.is_none())
}
