//! `Domain::execute` on a real log (a temp dir, sled): loading, sealing, refusals that
//! append nothing, idempotency (command ids, client keys, order keys) and lost races.

use sparkfeed_domain::events::*;
use sparkfeed_domain::{Caller, ClientKey, Command, CommandError, Context, Handle};
use sparkfeed_events::Position;

use crate::*;

#[tokio::test]
async fn registering_seals_personal_data_and_no_stream_name_carries_it() {
    let w = World::empty();
    let events = w
        .when(
            Caller::Anonymous,
            Command::RegisterMember {
                user: user("u1"),
                handle: Handle::parse("Zoe.Fit").expect("valid"),
                display_name: "Zoë Martín".into(),
            },
        )
        .await;
    let [
        DomainEvent::HandleReserved(_),
        DomainEvent::UserRegistered(registered),
    ] = &events[..]
    else {
        panic!("unexpected events {events:?}");
    };
    assert_eq!(w.open(&registered.handle).as_deref(), Some("zoe.fit"));
    assert_eq!(
        w.open(&registered.display_name).as_deref(),
        Some("Zoë Martín")
    );
    for e in &w.domain.log().read_all(Position(0), 10).expect("reads") {
        assert!(
            !e.record.stream.as_str().contains("zoe"),
            "stream names carry no handle"
        );
        assert!(
            !e.record.payload.windows(3).any(|b| b == b"Zo\xc3"),
            "no plain name in payloads"
        );
    }
}

#[tokio::test]
async fn posts_captions_and_comments_are_sealed_with_their_authors_keys() {
    let w = World::standard().await;
    let events = w
        .when(as_user("uana"), publish("pana2", &["B000000001"]))
        .await;
    let [DomainEvent::PostPublished(p)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(w.open(&p.caption).as_deref(), Some("my morning kit"));
    assert_eq!(
        w.open(&p.media[0].url).as_deref(),
        Some("https://img.example/0.jpg")
    );
    assert_eq!(w.open(&p.media[0].alt).as_deref(), Some("photo 0"));
    let edit = Command::EditCaption {
        post: post("pana2"),
        caption: "edited".into(),
    };
    let events = w.when(as_user("uana"), edit).await;
    assert!(
        matches!(&events[..], [DomainEvent::CaptionEdited(e)] if w.open(&e.caption).as_deref() == Some("edited") && e.caption.owner == user("uana"))
    );
    let comment = Command::Comment {
        comment: sparkfeed_domain::CommentId::parse("c1").expect("valid"),
        post: post("pana2"),
        text: "where is it from?".into(),
    };
    let events = w.when(as_user("ubob"), comment).await;
    assert!(
        matches!(&events[..], [DomainEvent::CommentPosted(e)] if w.open(&e.text).as_deref() == Some("where is it from?") && e.text.owner == user("ubob"))
    );
}

#[tokio::test]
async fn forgetting_a_member_leaves_the_log_verifiable_and_their_data_unreadable() {
    let w = World::standard().await;
    let caption = w
        .events_since(Position(0))
        .iter()
        .find_map(|e| match e {
            DomainEvent::PostPublished(p) => Some(p.caption.clone()),
            _ => None,
        })
        .expect("ana's post");
    assert_eq!(w.open(&caption).as_deref(), Some("my morning kit"));
    w.domain.keys().forget(&user("uana")).expect("forgets");
    assert_eq!(w.open(&caption), None);
    assert!(
        w.domain
            .log()
            .verify(&mut |_| {})
            .expect("verifies")
            .is_intact()
    );
}

#[tokio::test]
async fn a_refusal_appends_nothing_in_every_family() {
    let w = World::standard().await;
    let cases = [
        (
            Caller::Anonymous,
            register_as("unew", "ana"),
            "HANDLE_TAKEN",
        ),
        (
            system(),
            Command::DelistProduct {
                asin: asin("B000000003"),
            },
            "UNKNOWN_PRODUCT",
        ),
        (as_user("uana"), publish("pana1", &[]), "POST_EXISTS"),
        (
            as_user("ucarl"),
            Command::Smile {
                post: post("pana1"),
            },
            "NOT_PRIME",
        ),
        (
            as_user("ubob"),
            Command::Buy {
                post: post("pana1"),
                asin: asin("B000000003"),
                quantity: 1,
                idempotency_key: "a".into(),
                gift: false,
            },
            "NOT_TAGGED",
        ),
        (
            as_user("uacme"),
            Command::EndContract {
                contract: sparkfeed_domain::ContractId::parse("knone").expect("valid"),
                reason: String::new(),
            },
            "UNKNOWN_CONTRACT",
        ),
    ];
    for (caller, command, code) in cases {
        w.then_refused(caller, command, code).await;
    }
}

fn register_as(id: &str, handle: &str) -> Command {
    Command::RegisterMember {
        user: user(id),
        handle: Handle::parse(handle).expect("valid"),
        display_name: "Someone".into(),
    }
}

#[tokio::test]
async fn a_retried_command_is_written_once() {
    let w = World::standard().await;
    let ctx = w.ctx(as_user("ubob"));
    let smile = Command::Smile {
        post: post("pana1"),
    };
    let first = w.domain.execute(&ctx, &smile).await.expect("smiles");
    // The same command again (same command id), as a client retrying after a timeout.
    let head = w.head();
    let again = w.domain.execute(&ctx, &smile).await;
    // The engagement state now says "smiling", so the rules refuse; nothing is written.
    assert!(
        again.is_err()
            || again
                .as_ref()
                .is_ok_and(|d| d.deduplicated && d.position == first.position)
    );
    assert_eq!(w.head(), head);

    // A creation repeated with its command id is answered with what it wrote.
    for (caller, command) in [
        (Caller::Anonymous, register_as("unew", "newbie")),
        (as_user("uana"), publish("pana2", &[])),
    ] {
        let ctx = w.ctx(caller);
        let first = w.domain.execute(&ctx, &command).await.expect("accepted");
        let head = w.head();
        let again = w
            .domain
            .execute(&ctx, &command)
            .await
            .expect("a repeat succeeds");
        assert_eq!((again.position, again.deduplicated), (first.position, true));
        assert_eq!(w.head(), head);
    }
}

#[tokio::test]
async fn a_client_key_makes_a_retry_the_first_command_and_another_command_a_conflict() {
    let w = World::standard().await;
    let key = ClientKey::new("publishPost", &as_user("uana"), "post-1").expect("valid key");
    let keyed = |caption: &str| {
        let mut command = publish("pignored", &["B000000001"]);
        if let Command::PublishPost {
            post: p,
            caption: c,
            ..
        } = &mut command
        {
            *p = key.derive();
            *c = caption.into();
        }
        command
    };
    let run = |command: Command| {
        let ctx = w
            .domain
            .keyed_context(as_user("uana"), &key, &command)
            .expect("keyed");
        let domain = w.domain.clone();
        async move { domain.execute(&ctx, &command).await }
    };
    let first = run(keyed("first")).await.expect("published");
    let head = w.head();
    let again = run(keyed("first")).await.expect("a retry is the first");
    assert_eq!((again.position, again.deduplicated), (first.position, true));
    match run(keyed("second")).await {
        Err(e @ CommandError::Refused(_)) => assert_eq!(e.code(), "IDEMPOTENCY_CONFLICT"),
        other => panic!("expected IDEMPOTENCY_CONFLICT, got {other:?}"),
    }
    assert_eq!(w.head(), head);
}

#[tokio::test]
async fn a_retried_buy_is_the_same_order() {
    let w = World::standard().await;
    let buy = || Command::Buy {
        post: post("pana1"),
        asin: asin("B000000001"),
        quantity: 2,
        idempotency_key: "k-1".into(),
        gift: false,
    };
    let first = w.given(as_user("ubob"), buy()).await;
    let head = w.head();
    let retry = w.given(as_user("ubob"), buy()).await;
    assert!(retry.deduplicated);
    assert_eq!(
        retry.position, first.position,
        "the retry answers the original order"
    );
    assert_eq!(w.head(), head, "a retried buy writes nothing");
}

/// Concurrent commands on one stream race for its version; the losers decide again on
/// what the winner wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_races_are_decided_again() {
    let w = World::standard().await;
    let run = |caller: Caller, command: Command| {
        let domain = w.domain.clone();
        let ctx = Context::new(caller);
        tokio::spawn(async move { domain.execute(&ctx, &command).await })
    };
    let smiles: Vec<_> = (0..4)
        .map(|_| {
            run(
                as_user("ubob"),
                Command::Smile {
                    post: post("pana1"),
                },
            )
        })
        .collect();
    let buys: Vec<_> = (0..4)
        .map(|_| {
            run(
                as_user("ubob"),
                Command::Buy {
                    post: post("pana1"),
                    asin: asin("B000000001"),
                    quantity: 1,
                    idempotency_key: "once".into(),
                    gift: false,
                },
            )
        })
        .collect();
    let mut smiled = 0;
    for task in smiles {
        match task.await.expect("task") {
            Ok(_) => smiled += 1,
            Err(e) => assert_eq!(e.code(), "ALREADY_SMILED"),
        }
    }
    assert_eq!(smiled, 1, "one live smile per member and post");
    for task in buys {
        task.await
            .expect("task")
            .expect("every buy with one key is the one order");
    }
    let orders = w
        .events_since(Position(0))
        .iter()
        .filter(|e| matches!(e, DomainEvent::OrderPlaced(_)))
        .count();
    assert_eq!(orders, 1);
}

#[tokio::test]
async fn an_upheld_report_removes_the_post_and_records_the_decision_once_even_when_retried() {
    let w = World::standard().await;
    w.given(
        as_user("ubob"),
        Command::ReportPost {
            post: post("pana1"),
            reason: ReportReason::Spam,
        },
    )
    .await;
    let report = sparkfeed_domain::ReportId::of(&post("pana1"), &user("ubob"));
    let resolve = Command::ResolveReport {
        report: report.clone(),
        decision: ReportDecision::Upheld,
    };
    // With the client's key, as the API runs it: a retry is the first command.
    let key = ClientKey::new("resolveReport", &as_user("umod"), "decide-1").expect("valid key");
    let ctx = w
        .domain
        .keyed_context(as_user("umod"), &key, &resolve)
        .expect("keyed");
    let before = w.head();
    let first = w.domain.execute(&ctx, &resolve).await.expect("resolves");
    let events = w.events_since(before);
    let [
        DomainEvent::PostRemoved(removed),
        DomainEvent::ReportResolved(resolved),
    ] = &events[..]
    else {
        panic!("unexpected events {events:?}");
    };
    assert_eq!(
        (&removed.post, &removed.by),
        (&post("pana1"), &user("umod"))
    );
    assert_eq!(resolved.report, report);
    let streams: Vec<String> = w
        .domain
        .log()
        .read_all(before, 2)
        .expect("reads")
        .iter()
        .map(|e| e.record.stream.to_string())
        .collect();
    assert_eq!(
        streams,
        ["post-pana1".to_owned(), format!("report-{report}")]
    );

    // The same command again (a retry after a timeout): answered, nothing written.
    let head = w.head();
    let again = w.domain.execute(&ctx, &resolve).await.expect("a repeat");
    assert_eq!((again.position, again.deduplicated), (first.position, true));
    assert_eq!(w.head(), head);
    // Without the key it is a second decision, refused.
    w.then_refused(as_user("umod"), resolve, "REPORT_ALREADY_RESOLVED")
        .await;
}
