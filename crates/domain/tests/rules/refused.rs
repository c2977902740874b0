//! Every refusal, in memory: given the standard world, when a command, then its code.
//! (That a refusal appends nothing is `Domain::execute`'s, checked in `log.rs`.)

use sparkfeed_domain::events::ShareChannel;
use sparkfeed_domain::{Caller, Command, CommentId, ContractId, Handle, Role};

use crate::memory::Given;
use crate::*;

/// Each case is refused with its code, given the same history.
fn check(w: &Given, cases: Vec<(Caller, Command, &str)>) {
    for (caller, command, code) in cases {
        w.then_refused(caller, command, code);
    }
}

fn register(id: &str, handle: &str) -> Command {
    Command::RegisterMember {
        user: user(id),
        handle: Handle::parse(handle).expect("valid"),
        display_name: "Someone".into(),
    }
}

fn with_post(f: impl FnOnce(&mut Command)) -> Command {
    let mut c = publish("pnew", &["B000000001"]);
    f(&mut c);
    c
}

fn publish_field(
    c: &mut Command,
) -> (
    &mut String,
    &mut Vec<MediaInput>,
    &mut Vec<InterestSlug>,
    &mut Vec<TagInput>,
    &mut Option<ContractId>,
) {
    let Command::PublishPost {
        caption,
        media,
        interests,
        tags,
        contract,
        ..
    } = c
    else {
        unreachable!()
    };
    (caption, media, interests, tags, contract)
}

#[test]
fn member_rules_refuse_with_their_codes() {
    let w = Given::standard();
    let six = ["fitness", "diy", "fashion", "fitness", "diy", "fashion"]
        .map(interest)
        .to_vec();
    check(
        &w,
        vec![
            (Caller::Anonymous, register("unew", "ANA"), "HANDLE_TAKEN"),
            (
                Caller::Anonymous,
                register("ubob", "bobby"),
                "ALREADY_REGISTERED",
            ),
            (as_user("ubob"), register("unew", "fresh"), "FORBIDDEN"),
            (
                Caller::Anonymous,
                Command::RegisterMember {
                    user: user("unew"),
                    handle: Handle::parse("fresh").expect("valid"),
                    display_name: String::new(),
                },
                "VALIDATION",
            ),
            (
                as_user("ubob"),
                Command::RegisterBrand {
                    user: user("unew"),
                    handle: Handle::parse("fresh").expect("valid"),
                    brand_name: "X".into(),
                },
                "FORBIDDEN",
            ),
            (
                as_user("ubob"),
                Command::StartPrime {
                    user: user("ucarl"),
                },
                "FORBIDDEN",
            ),
            (
                system(),
                Command::StartPrime { user: user("ubob") },
                "VALIDATION",
            ),
            (
                system(),
                Command::EndPrime {
                    user: user("ucarl"),
                },
                "VALIDATION",
            ),
            (
                system(),
                Command::StartPrime {
                    user: user("unobody"),
                },
                "UNKNOWN_USER",
            ),
            (
                system(),
                Command::StartPrime {
                    user: user("uacme"),
                },
                "VALIDATION",
            ),
            (
                as_user("ubob"),
                Command::ChooseInterests { interests: six },
                "TOO_MANY_INTERESTS",
            ),
            (
                as_user("ubob"),
                Command::ChooseInterests { interests: vec![] },
                "VALIDATION",
            ),
            (
                as_user("ubob"),
                Command::ChooseInterests {
                    interests: vec![interest("knitting")],
                },
                "UNKNOWN_INTEREST",
            ),
            (
                as_user("ubob"),
                Command::ChooseInterests {
                    interests: vec![interest("diy"), interest("diy")],
                },
                "VALIDATION",
            ),
            (
                as_user("uacme"),
                Command::ChooseInterests {
                    interests: vec![interest("diy")],
                },
                "VALIDATION",
            ),
            (
                Caller::Anonymous,
                Command::ChooseInterests {
                    interests: vec![interest("diy")],
                },
                "FORBIDDEN",
            ),
            (
                as_user("unobody"),
                Command::ChooseInterests {
                    interests: vec![interest("diy")],
                },
                "UNKNOWN_USER",
            ),
            (
                system(),
                Command::GrantRole {
                    user: user("uana"),
                    role: Role::Enthusiast,
                },
                "ALREADY_HAS_ROLE",
            ),
            (
                system(),
                Command::RevokeRole {
                    user: user("ubob"),
                    role: Role::Moderator,
                },
                "ROLE_NOT_HELD",
            ),
            (
                as_user("umod"),
                Command::GrantRole {
                    user: user("ubob"),
                    role: Role::Moderator,
                },
                "FORBIDDEN",
            ),
        ],
    );
}

#[test]
fn catalog_rules_refuse_with_their_codes() {
    let w = Given::standard();
    let product =
        |a: &str, cents: u64, interests: Vec<InterestSlug>, image: &str| Command::ListProduct {
            asin: asin(a),
            title: "A thing".into(),
            price: usd(cents),
            image_url: image.into(),
            interests,
            consumable: false,
        };
    check(
        &w,
        vec![
            (
                system(),
                Command::AddInterest {
                    interest: interest("diy"),
                    name: "DIY".into(),
                    rebuy_window_days: None,
                },
                "INTEREST_EXISTS",
            ),
            (
                as_user("ubob"),
                Command::AddInterest {
                    interest: interest("golf"),
                    name: "Golf".into(),
                    rebuy_window_days: None,
                },
                "FORBIDDEN",
            ),
            (
                system(),
                product(
                    "B000000001",
                    100,
                    vec![interest("diy")],
                    "https://x.example/a.jpg",
                ),
                "PRODUCT_EXISTS",
            ),
            (
                system(),
                product(
                    "B000000009",
                    100,
                    vec![interest("golf")],
                    "https://x.example/a.jpg",
                ),
                "UNKNOWN_INTEREST",
            ),
            (
                system(),
                product(
                    "B000000009",
                    0,
                    vec![interest("diy")],
                    "https://x.example/a.jpg",
                ),
                "VALIDATION",
            ),
            (
                system(),
                product(
                    "B000000009",
                    100,
                    vec![interest("diy")],
                    "ftp://x.example/a.jpg",
                ),
                "VALIDATION",
            ),
            (
                system(),
                product("B000000009", 100, vec![], "https://x.example/a.jpg"),
                "VALIDATION",
            ),
            (
                system(),
                Command::RepriceProduct {
                    asin: asin("B000000003"),
                    price: usd(100),
                },
                "UNKNOWN_PRODUCT",
            ),
            (
                system(),
                Command::RepriceProduct {
                    asin: asin("B000000001"),
                    price: usd(0),
                },
                "VALIDATION",
            ),
            (
                system(),
                Command::DelistProduct {
                    asin: asin("B000000009"),
                },
                "UNKNOWN_PRODUCT",
            ),
            (
                as_user("ubob"),
                Command::DelistProduct {
                    asin: asin("B000000001"),
                },
                "FORBIDDEN",
            ),
        ],
    );
}

#[test]
fn post_rules_refuse_with_their_codes() {
    let mut w = Given::standard();
    let twenty_one: Vec<TagInput> = (0..21).map(|_| tag("B000000001")).collect();
    check(
        &w,
        vec![
            (as_user("ucarl"), publish("pnew", &[]), "NOT_PRIME"),
            (as_user("uacme"), publish("pnew", &[]), "BRANDS_CANNOT_POST"),
            (Caller::Anonymous, publish("pnew", &[]), "FORBIDDEN"),
            (as_user("uana"), publish("pana1", &[]), "POST_EXISTS"),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).0 = "x".repeat(2201)),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).1 = vec![]),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).1 = media(11)),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| publish_field(c).1[0].url = "javascript:alert(1)".into()),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).2 = vec![]),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| {
                    *publish_field(c).2 = ["fitness", "diy", "fashion", "fitness"]
                        .map(interest)
                        .to_vec()
                }),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).2 = vec![interest("golf")]),
                "UNKNOWN_INTEREST",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).3 = twenty_one.clone()),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).3 = vec![tag("B000000009")]),
                "UNKNOWN_PRODUCT",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).3 = vec![tag("B000000003")]),
                "UNKNOWN_PRODUCT",
            ),
            (
                as_user("uana"),
                with_post(|c| publish_field(c).3[0].media_index = 1),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| publish_field(c).3[0].x = 1.5),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| publish_field(c).3[0].y = f32::NAN),
                "VALIDATION",
            ),
            (
                as_user("uana"),
                with_post(|c| *publish_field(c).3 = vec![tag("B000000001"), tag("B000000001")]),
                "VALIDATION",
            ),
            (
                as_user("ubob"),
                Command::EditCaption {
                    post: post("pana1"),
                    caption: "mine now".into(),
                },
                "NOT_AUTHOR",
            ),
            (
                as_user("uana"),
                Command::EditCaption {
                    post: post("pnone"),
                    caption: "x".into(),
                },
                "UNKNOWN_POST",
            ),
            (
                as_user("ubob"),
                Command::TagProduct {
                    post: post("pana1"),
                    tag: tag("B000000001"),
                },
                "NOT_AUTHOR",
            ),
            (
                as_user("uana"),
                Command::TagProduct {
                    post: post("pana1"),
                    tag: tag("B000000001"),
                },
                "VALIDATION",
            ),
            (
                as_user("uana"),
                Command::UntagProduct {
                    post: post("pana1"),
                    asin: asin("B000000009"),
                    media_index: 0,
                },
                "NOT_TAGGED",
            ),
            (
                as_user("ubob"),
                Command::RemovePost {
                    post: post("pana1"),
                    reason: "I dislike it".into(),
                },
                "FORBIDDEN",
            ),
        ],
    );

    w.accept(
        as_user("uana"),
        Command::RemovePost {
            post: post("pana1"),
            reason: String::new(),
        },
    );
    check(
        &w,
        vec![
            (
                as_user("uana"),
                Command::EditCaption {
                    post: post("pana1"),
                    caption: "x".into(),
                },
                "POST_REMOVED",
            ),
            (
                as_user("umod"),
                Command::RemovePost {
                    post: post("pana1"),
                    reason: "again".into(),
                },
                "POST_REMOVED",
            ),
            (
                as_user("ubob"),
                Command::Smile {
                    post: post("pana1"),
                },
                "POST_REMOVED",
            ),
            (
                as_user("ubob"),
                Command::Buy {
                    post: post("pana1"),
                    asin: asin("B000000001"),
                    quantity: 1,
                    idempotency_key: "r".into(),
                    gift: false,
                },
                "POST_REMOVED",
            ),
        ],
    );
}

#[test]
fn engagement_rules_refuse_with_their_codes() {
    let mut w = Given::standard();
    w.accept(
        as_user("ubob"),
        Command::Smile {
            post: post("pana1"),
        },
    );
    w.accept(
        as_user("ubob"),
        Command::SavePost {
            post: post("pana1"),
        },
    );
    let c = CommentId::parse("c1").expect("valid");
    w.accept(
        as_user("ubob"),
        Command::Comment {
            comment: c.clone(),
            post: post("pana1"),
            text: "nice".into(),
        },
    );
    check(
        &w,
        vec![
            (
                as_user("ubob"),
                Command::Smile {
                    post: post("pana1"),
                },
                "ALREADY_SMILED",
            ),
            (
                as_user("umod"),
                Command::Unsmile {
                    post: post("pana1"),
                },
                "NOT_SMILED",
            ),
            (
                as_user("ubob"),
                Command::SavePost {
                    post: post("pana1"),
                },
                "ALREADY_SAVED",
            ),
            (
                as_user("umod"),
                Command::UnsavePost {
                    post: post("pana1"),
                },
                "NOT_SAVED",
            ),
            (
                as_user("ucarl"),
                Command::Smile {
                    post: post("pana1"),
                },
                "NOT_PRIME",
            ),
            (
                as_user("uacme"),
                Command::Smile {
                    post: post("pana1"),
                },
                "NOT_PRIME",
            ),
            (
                Caller::Anonymous,
                Command::Smile {
                    post: post("pana1"),
                },
                "FORBIDDEN",
            ),
            (
                as_user("ubob"),
                Command::Smile {
                    post: post("pnone"),
                },
                "UNKNOWN_POST",
            ),
            (
                as_user("ucarl"),
                Command::SharePost {
                    post: post("pana1"),
                    channel: ShareChannel::Link,
                },
                "NOT_PRIME",
            ),
            (
                as_user("ubob"),
                Command::Comment {
                    comment: CommentId::parse("c2").expect("valid"),
                    post: post("pana1"),
                    text: "x".repeat(1001),
                },
                "VALIDATION",
            ),
            (
                as_user("ubob"),
                Command::Comment {
                    comment: CommentId::parse("c2").expect("valid"),
                    post: post("pana1"),
                    text: String::new(),
                },
                "VALIDATION",
            ),
            (
                as_user("ubob"),
                Command::Comment {
                    comment: c.clone(),
                    post: post("pana1"),
                    text: "again".into(),
                },
                "COMMENT_EXISTS",
            ),
            (
                as_user("ucarl"),
                Command::Comment {
                    comment: CommentId::parse("c3").expect("valid"),
                    post: post("pana1"),
                    text: "hi".into(),
                },
                "NOT_PRIME",
            ),
            (
                as_user("ucarl"),
                Command::RemoveComment { comment: c.clone() },
                "FORBIDDEN",
            ),
            (
                as_user("ubob"),
                Command::RemoveComment {
                    comment: CommentId::parse("c9").expect("valid"),
                },
                "UNKNOWN_COMMENT",
            ),
        ],
    );
    w.accept(
        as_user("umod"),
        Command::RemoveComment { comment: c.clone() },
    );
    w.then_refused(
        as_user("ubob"),
        Command::RemoveComment { comment: c },
        "UNKNOWN_COMMENT",
    );
}

#[test]
fn buying_rules_refuse_with_their_codes() {
    let mut w = Given::standard();
    let buy = |a: &str, quantity: u8, key: &str| Command::Buy {
        post: post("pana1"),
        asin: asin(a),
        quantity,
        idempotency_key: key.into(),
        gift: false,
    };
    w.accept(as_user("ubob"), buy("B000000001", 1, "k"));
    check(
        &w,
        vec![
            (as_user("ubob"), buy("B000000001", 0, "a"), "VALIDATION"),
            (as_user("ubob"), buy("B000000001", 11, "a"), "VALIDATION"),
            (as_user("ubob"), buy("B000000001", 1, ""), "VALIDATION"),
            (as_user("ubob"), buy("B000000003", 1, "a"), "NOT_TAGGED"),
            (as_user("ucarl"), buy("B000000001", 1, "a"), "NOT_PRIME"),
            (as_user("uacme"), buy("B000000001", 1, "a"), "NOT_PRIME"),
            (
                as_user("ubob"),
                buy("B000000001", 2, "k"),
                "IDEMPOTENCY_CONFLICT",
            ),
            (
                as_user("ubob"),
                Command::Buy {
                    post: post("pnone"),
                    asin: asin("B000000001"),
                    quantity: 1,
                    idempotency_key: "a".into(),
                    gift: false,
                },
                "UNKNOWN_POST",
            ),
        ],
    );
    w.accept(
        system(),
        Command::DelistProduct {
            asin: asin("B000000002"),
        },
    );
    w.then_refused(
        as_user("ubob"),
        buy("B000000002", 1, "b"),
        "UNKNOWN_PRODUCT",
    );
}

#[test]
fn sponsorship_rules_refuse_with_their_codes() {
    let mut w = Given::standard();
    let k = |id: &str| ContractId::parse(id).expect("valid");
    let open =
        |id: &str, enthusiast: &str, fee: Option<u64>, bp: Option<u32>, starts: i64, ends: i64| {
            Command::OpenContract {
                contract: k(id),
                enthusiast: user(enthusiast),
                flat_fee: fee.map(usd),
                commission_bp: bp,
                starts_at: starts,
                ends_at: ends,
            }
        };
    let now = w.now.0;
    w.accept(
        as_user("uacme"),
        open("k1", "uana", Some(1000), None, now - DAY, now + DAY),
    );
    w.accept(
        as_user("uacme"),
        open("kfuture", "uana", None, Some(500), now + DAY, now + 2 * DAY),
    );
    w.accept(
        as_user("uacme"),
        open("kended", "uana", None, Some(500), now - DAY, now + DAY),
    );
    w.accept(
        as_user("uacme"),
        Command::EndContract {
            contract: k("kended"),
            reason: String::new(),
        },
    );
    let sponsored = |id: &str, contract: &str| {
        with_post(|c| {
            let Command::PublishPost {
                post: p,
                contract: k2,
                ..
            } = c
            else {
                unreachable!()
            };
            *p = post(id);
            *k2 = Some(ContractId::parse(contract).expect("valid"));
        })
    };
    check(
        &w,
        vec![
            (
                as_user("ubob"),
                open("k2", "uana", Some(1000), None, now, now + DAY),
                "FORBIDDEN",
            ),
            (
                as_user("uacme"),
                open("k2", "ubob", Some(1000), None, now, now + DAY),
                "VALIDATION",
            ),
            (
                as_user("uacme"),
                open("k2", "uana", None, None, now, now + DAY),
                "VALIDATION",
            ),
            (
                as_user("uacme"),
                open("k2", "uana", None, Some(6000), now, now + DAY),
                "VALIDATION",
            ),
            (
                as_user("uacme"),
                open("k2", "uana", Some(1000), None, now, now - DAY),
                "VALIDATION",
            ),
            (
                as_user("uacme"),
                open("k1", "uana", Some(1000), None, now, now + DAY),
                "CONTRACT_EXISTS",
            ),
            (
                as_user("uana"),
                sponsored("pnew", "knone"),
                "UNKNOWN_CONTRACT",
            ),
            (
                as_user("umod"),
                sponsored("pnew", "k1"),
                "NOT_PARTY_TO_CONTRACT",
            ),
            (
                as_user("uana"),
                sponsored("pnew", "kfuture"),
                "CONTRACT_NOT_ACTIVE",
            ),
            (
                as_user("uana"),
                sponsored("pnew", "kended"),
                "CONTRACT_NOT_ACTIVE",
            ),
            (
                as_user("ubob"),
                Command::EndContract {
                    contract: k("k1"),
                    reason: String::new(),
                },
                "NOT_PARTY_TO_CONTRACT",
            ),
            (
                as_user("uacme"),
                Command::EndContract {
                    contract: k("kended"),
                    reason: String::new(),
                },
                "CONTRACT_NOT_ACTIVE",
            ),
            (
                as_user("uacme"),
                Command::EndContract {
                    contract: k("knone"),
                    reason: String::new(),
                },
                "UNKNOWN_CONTRACT",
            ),
        ],
    );
}
