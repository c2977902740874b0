//! Paging, read-your-writes, the home feed's rules, post cards, the audit trail.

use std::collections::HashSet;
use std::time::Duration;

use sparkfeed_domain::events::ShareChannel;
use sparkfeed_domain::{Command, Context};
use sparkfeed_events::Position;
use sparkfeed_projections::feeds::{home, read};
use sparkfeed_projections::{analytics, audit};

use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_a_feed_while_posts_are_added_repeats_nothing_and_skips_nothing() {
    let (w, _live) = World::small_live().await;
    let mut existing = HashSet::new();
    let mut last = Position(0);
    for n in 0..40 {
        last = w
            .run(
                as_user("uana"),
                publish(&format!("pold{n}"), &["fitness"], &[], None),
            )
            .await
            .position;
        existing.insert(post(&format!("pold{n}")));
    }
    w.projections
        .wait_for(last, Duration::from_secs(30))
        .await
        .expect("caught up");

    let writer = {
        let domain = w.domain.clone();
        tokio::spawn(async move {
            for n in 0..30 {
                domain
                    .execute(
                        &Context::new(as_user("ubob")),
                        &publish(&format!("pnew{n}"), &["fitness"], &[], None),
                    )
                    .await
                    .expect("publishes");
            }
        })
    };
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = read::feed(&w.feeds(), &interest("fitness"), 7, after).expect("reads");
        seen.extend(page.items.iter().map(|(_, p)| p.clone()));
        after = page.items.last().map(|(c, _)| *c);
        if !page.has_next {
            break;
        }
        tokio::task::yield_now().await;
    }
    writer.await.expect("writer");
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no post twice");
    assert!(
        existing.is_subset(&unique),
        "every post that existed when the walk began"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reads_its_own_writes_without_sleeping() {
    let (w, _live) = World::small_live().await;
    w.run_and_read(
        as_user("uana"),
        publish("p1", &["fitness", "diy"], &["B000000001"], None),
    )
    .await;
    let card = read::post_card(&w.feeds(), &post("p1"))
        .expect("reads")
        .expect("visible at once");
    assert_eq!(card.body.interests.len(), 2);
    w.run_and_read(as_user("ubob"), Command::Smile { post: post("p1") })
        .await;
    w.run_and_read(as_user("ubob"), Command::SavePost { post: post("p1") })
        .await;
    w.run_and_read(
        as_user("ubob"),
        Command::SharePost {
            post: post("p1"),
            channel: ShareChannel::Link,
        },
    )
    .await;
    let card = read::post_card(&w.feeds(), &post("p1"))
        .expect("reads")
        .expect("exists");
    assert_eq!(
        (card.stats.smiles, card.stats.saves, card.stats.shares),
        (1, 1, 1)
    );
    assert_eq!(
        read::viewer_state(&w.feeds(), &post("p1"), &user("ubob")).expect("reads"),
        (true, true)
    );
    assert_eq!(
        read::viewer_state(&w.feeds(), &post("p1"), &user("uana")).expect("reads"),
        (false, false)
    );
    assert_eq!(
        read::verified_purchaser(&w.feeds(), &card).expect("reads"),
        vec![false]
    );

    // The author buys the product she tagged: her tag gets the badge.
    w.run_and_read(as_user("uana"), buy("p1", "B000000001", 1, "a", false))
        .await;
    let card = read::post_card(&w.feeds(), &post("p1"))
        .expect("reads")
        .expect("exists");
    assert_eq!(card.stats.purchases, 1);
    assert_eq!(
        read::verified_purchaser(&w.feeds(), &card).expect("reads"),
        vec![true]
    );
    let orders = read::orders_of(&w.feeds(), &user("uana"), 10, None).expect("reads");
    assert_eq!(orders.items.len(), 1);
    let saved = read::saved_by(&w.feeds(), &user("ubob"), 10, None).expect("reads");
    assert_eq!(
        saved
            .items
            .iter()
            .map(|(_, p)| p.clone())
            .collect::<Vec<_>>(),
        vec![post("p1")]
    );

    // Removal takes it out of every feed at once.
    w.run_and_read(
        as_user("uana"),
        Command::RemovePost {
            post: post("p1"),
            reason: String::new(),
        },
    )
    .await;
    assert!(
        read::feed(&w.feeds(), &interest("fitness"), 10, None)
            .expect("reads")
            .items
            .is_empty()
    );
    assert!(
        read::product_posts(&w.feeds(), &asin("B000000001"), 10, None)
            .expect("reads")
            .items
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_feed_merges_interests_limits_sponsorship_and_respects_purchases() {
    let (w, _live) = World::small_live().await;
    w.run(
        as_user("ubob"),
        Command::ChooseInterests {
            interests: vec![interest("fitness"), interest("diy")],
        },
    )
    .await;
    let now = w.now();
    let k1 = contract_k1(None, Some(500), now - DAY, now + 10 * DAY);
    w.run(as_user("uacme"), k1).await;
    // Twelve posts, newest last: every third sponsored, one in both interests, one tagging
    // a durable product bob then buys, one tagging a consumable he buys, one he buys as a gift.
    for n in 0..12 {
        let sponsored = (n % 3 == 0).then_some("k1");
        let interests: &[&str] = if n == 5 {
            &["fitness", "diy"]
        } else if n % 2 == 0 {
            &["fitness"]
        } else {
            &["diy"]
        };
        let tags: &[&str] = match n {
            7 => &["B000000001"],
            8 => &["B000000002"],
            _ => &[],
        };
        w.run(
            as_user("uana"),
            publish(&format!("p{n}"), interests, tags, sponsored),
        )
        .await;
    }
    w.run(as_user("ubob"), buy("p7", "B000000001", 1, "x", false))
        .await;
    w.run_and_read(as_user("ubob"), buy("p8", "B000000002", 1, "y", false))
        .await;

    let page = home::home_feed(&w.feeds(), &user("ubob"), 20, None, now).expect("reads");
    let ids: Vec<String> = page.shown.iter().map(|i| i.post.to_string()).collect();
    assert!(
        !ids.contains(&"p7".to_owned()),
        "a durable product he bought is not pushed again: {ids:?}"
    );
    assert!(
        !ids.contains(&"p8".to_owned()),
        "nor a consumable inside its re-buy window: {ids:?}"
    );
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates: {ids:?}");
    let both = page
        .shown
        .iter()
        .find(|i| i.post == post("p5"))
        .expect("p5 is there");
    assert_eq!(both.extra.len(), 2, "it says why: both interests");
    for window in page.shown.windows(5) {
        assert!(
            window.iter().filter(|i| i.sponsored).count() <= 1,
            "at most one sponsored in five: {ids:?}"
        );
    }
    assert_eq!(
        ids,
        ["p11", "p10", "p9", "p5", "p4", "p2", "p1", "p6"],
        "newest first; p6, sponsored too soon after p9, waits for its slot instead of going"
    );

    // Changing interests changes the feed at once.
    w.run_and_read(
        as_user("ubob"),
        Command::ChooseInterests {
            interests: vec![interest("diy")],
        },
    )
    .await;
    let diy_only = home::home_feed(&w.feeds(), &user("ubob"), 20, None, now).expect("reads");
    assert!(!diy_only.shown.is_empty());
    assert!(
        diy_only
            .shown
            .iter()
            .all(|i| i.extra == vec![interest("diy")]),
        "only diy posts now"
    );
    w.run_and_read(
        as_user("ubob"),
        Command::ChooseInterests {
            interests: vec![interest("fitness"), interest("diy")],
        },
    )
    .await;

    // Past the consumable's 30-day window it comes back; the durable one does not.
    let later =
        home::home_feed(&w.feeds(), &user("ubob"), 20, None, now + 31 * DAY).expect("reads");
    let later_ids: Vec<String> = later.shown.iter().map(|i| i.post.to_string()).collect();
    assert!(later_ids.contains(&"p8".to_owned()), "{later_ids:?}");
    assert!(!later_ids.contains(&"p7".to_owned()), "{later_ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sponsored_posts_audit_trail_lists_every_event_with_position_actor_and_hash() {
    let (w, _live) = World::small_live().await;
    let now = w.now();
    let k1 = contract_k1(Some(usd(10_000)), Some(1_000), now - DAY, now + DAY);
    w.run(as_user("uacme"), k1).await;
    w.run(
        as_user("uana"),
        publish("ps", &["fitness"], &["B000000001"], Some("k1")),
    )
    .await;
    w.run(
        as_user("uana"),
        Command::EditCaption {
            post: post("ps"),
            caption: "edited".into(),
        },
    )
    .await;
    w.run(as_user("ubob"), buy("ps", "B000000001", 2, "k", false))
        .await;
    w.run_and_read(
        as_user("uacme"),
        Command::EndContract {
            contract: contract("k1"),
            reason: "done".into(),
        },
    )
    .await;

    let trail =
        audit::read::sponsorship_history(&w.projections.tree("audit").expect("audit"), &post("ps"))
            .expect("reads");
    let types: Vec<&str> = trail.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "ContractOpened",
            "PostPublished",
            "CaptionEdited",
            "OrderPlaced",
            "ContractEnded"
        ]
    );
    for entry in &trail {
        let stored = w
            .domain
            .log()
            .read_event(entry.position)
            .expect("reads")
            .expect("exists");
        assert_eq!(
            entry.hash,
            stored.hash.to_hex(),
            "the trail carries the chain hash"
        );
        assert_eq!(entry.actor, stored.record.metadata.actor.to_string());
    }
    assert!(trail[1].summary.contains("Paid partnership with Acme"));
    let audit = w.projections.tree("audit").expect("audit");
    for party in ["uacme", "uana"] {
        let theirs = audit::read::sponsorship_history_of(&audit, &user(party)).expect("reads");
        assert_eq!(theirs.len(), trail.len(), "{party} sees the same history");
    }
    assert!(
        audit::read::sponsorship_history_of(&audit, &user("ubob"))
            .expect("reads")
            .is_empty()
    );
    assert!(
        trail[3].summary.contains("commission 2.00 USD to uana"),
        "{}",
        trail[3].summary
    );

    let day = sparkfeed_projections::analytics::day_of(now);
    let counters = analytics::read::analytics(
        &w.projections.tree("analytics").expect("analytics"),
        &interest("fitness"),
        day - 1,
        day + 1,
    )
    .expect("reads");
    let total: u64 = counters.iter().map(|(_, c)| c.revenue_cents).sum();
    assert_eq!(total, 2_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_answers_every_viewer_before_and_after_its_smiles_and_saves_outgrow_its_row() {
    let w = World::with_fans().await;
    let _live = w.follow_live();
    let fans: Vec<_> = (0..FANS).map(fan).collect();
    let engage =
        |fan: &UserId, command: Command| w.run_and_read(Caller::User(fan.clone()), command);
    let p1 = || post("p1");
    let state = |fan: &UserId| read::viewer_state(&w.feeds(), &p1(), fan).expect("reads");

    // Ten fans smile and save while the post's row lists them; two undo one each.
    for fan in &fans[..10] {
        engage(fan, Command::Smile { post: p1() }).await;
        engage(fan, Command::SavePost { post: p1() }).await;
    }
    engage(&fans[3], Command::Unsmile { post: p1() }).await;
    engage(&fans[4], Command::UnsavePost { post: p1() }).await;
    assert_eq!(state(&fans[3]), (false, true));
    assert_eq!(state(&fans[4]), (true, false));
    assert_eq!(state(&fans[5]), (true, true));

    // The rest push both lists past the limit: every member moves to a row of their own.
    for fan in &fans[10..] {
        engage(fan, Command::Smile { post: p1() }).await;
        engage(fan, Command::SavePost { post: p1() }).await;
    }
    engage(&fans[0], Command::Unsmile { post: p1() }).await;
    engage(&fans[fans.len() - 1], Command::UnsavePost { post: p1() }).await;

    let last = fans.len() - 1;
    for (i, fan) in fans.iter().enumerate() {
        let expected = (i != 3 && i != 0, i != 4 && i != last);
        assert_eq!(state(fan), expected, "{fan:?}");
        assert_eq!(
            read::smiles(&w.feeds(), &p1(), fan).expect("reads"),
            expected.0
        );
        assert_eq!(
            read::saved(&w.feeds(), &p1(), fan).expect("reads"),
            expected.1
        );
        let saved = read::saved_by(&w.feeds(), fan, 5, None).expect("reads");
        let listed: Vec<_> = saved.items.into_iter().map(|(_, p)| p).collect();
        assert_eq!(
            listed,
            if expected.1 { vec![p1()] } else { vec![] },
            "{fan:?}"
        );
    }
    assert_eq!(state(&user("ubob")), (false, false), "never engaged");
    let card = read::post_card(&w.feeds(), &p1())
        .expect("reads")
        .expect("exists");
    assert_eq!(
        (card.stats.smiles, card.stats.saves),
        (fans.len() as u64 - 2, fans.len() as u64 - 2)
    );

    // A spilled member smiles again; a rebuild from zero lays the post out the same way.
    engage(&fans[0], Command::Smile { post: p1() }).await;
    assert_eq!(state(&fans[0]), (true, true));
    w.assert_rebuild_equals_live("feeds").await;
    assert_eq!(state(&fans[0]), (true, true));
}
