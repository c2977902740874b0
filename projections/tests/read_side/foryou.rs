//! The "For you" ranking, given what members did, when one asks, then what they see:
//! given/when/then over a real log, domain and projections.

use sparkfeed_domain::events::{FeedMode, FeedTarget, ShareChannel};
use sparkfeed_domain::{Caller, Command, TagInput, UserId};
use sparkfeed_projections::feeds::policy::SPONSORED_SPACING;
use sparkfeed_projections::feeds::read;
use sparkfeed_projections::feeds::walk::FeedCursor;
use sparkfeed_projections::foryou::rank::{self, Ranked, Reason, Viewer};

use crate::*;

/// The ranking `member` gets (a visitor's for `None`) at `now`.
fn ranking(w: &World, member: Option<&UserId>, now: i64) -> Vec<Ranked> {
    let feeds = w.feeds();
    let foryou = w.projections.view("foryou").expect("the foryou projection");
    let viewer = Viewer::read(&foryou, member).expect("signals");
    rank::for_you(&feeds, &viewer, now, |p| read::post_card(&feeds, p)).expect("ranks")
}

fn posts(ranked: &[Ranked]) -> Vec<String> {
    ranked.iter().map(|r| r.post.to_string()).collect()
}

fn place(ranked: &[Ranked], post: &str) -> Option<usize> {
    ranked.iter().position(|r| r.post.as_str() == post)
}

/// [`World::small`] with members ucal and udee (Prime), and posts by uana, ucal and udee in
/// fitness, tagging nothing: uana p1..p3, ucal c1..c3, udee d1..d3, published in turns.
async fn authors() -> (World, Live) {
    let (w, live) = World::small_live().await;
    for (id, name) in [("ucal", "cal"), ("udee", "dee")] {
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
    for n in 1..=3 {
        for (author, prefix) in [("uana", "p"), ("ucal", "c"), ("udee", "d")] {
            let id = format!("{prefix}{n}");
            w.run(as_user(author), publish(&id, &["fitness"], &[], None))
                .await;
        }
    }
    choose(&w, "ubob", &["fitness"]).await;
    (w, live)
}

async fn choose(w: &World, member: &str, interests: &[&str]) {
    w.run_and_read(
        as_user(member),
        Command::ChooseInterests {
            interests: interests.iter().map(|i| interest(i)).collect(),
        },
    )
    .await;
}

#[tokio::test]
async fn a_smiled_at_author_rises() {
    let (w, _live) = authors().await;
    let bob = user("ubob");
    let before = ranking(&w, Some(&bob), w.now());
    let dee_before = place(&before, "d1").expect("d1 shown");
    w.run_and_read(as_user("ubob"), Command::Smile { post: post("d3") })
        .await;
    let after = ranking(&w, Some(&bob), w.now());
    let dee_after = place(&after, "d1").expect("d1 shown");
    assert!(
        dee_after < dee_before,
        "d1 rose: {:?} then {:?}",
        posts(&before),
        posts(&after)
    );
    let reasons = &after[dee_after].reasons;
    assert!(
        reasons
            .iter()
            .any(|r| matches!(r, Reason::LikeOneYou { post, .. } if post.as_str() == "d3")),
        "it says why: {reasons:?}"
    );
}

#[tokio::test]
async fn a_followed_creator_rises_and_says_so() {
    let (w, _live) = authors().await;
    let bob = user("ubob");
    w.run_and_read(
        as_user("ubob"),
        Command::Follow {
            creator: user("ucal"),
        },
    )
    .await;
    let ranked = ranking(&w, Some(&bob), w.now());
    assert_eq!(ranked[0].author, user("ucal"), "{:?}", posts(&ranked));
    assert_eq!(ranked[0].reasons[0], Reason::FollowedCreator(user("ucal")));
}

#[tokio::test]
async fn what_a_member_is_not_interested_in_disappears_and_comes_back_when_taken_back() {
    let (w, _live) = authors().await;
    let bob = user("ubob");
    let hide = |target| Command::NotInterested { target };
    w.run_and_read(as_user("ubob"), hide(FeedTarget::Author(user("ucal"))))
        .await;
    let ranked = ranking(&w, Some(&bob), w.now());
    assert!(
        ranked.iter().all(|r| r.author != user("ucal")),
        "{:?}",
        posts(&ranked)
    );
    w.run_and_read(as_user("ubob"), hide(FeedTarget::Post(post("d2"))))
        .await;
    let ranked = ranking(&w, Some(&bob), w.now());
    assert_eq!(place(&ranked, "d2"), None);
    w.run_and_read(
        as_user("ubob"),
        Command::UndoNotInterested {
            target: FeedTarget::Author(user("ucal")),
        },
    )
    .await;
    let ranked = ranking(&w, Some(&bob), w.now());
    assert!(
        ranked.iter().any(|r| r.author == user("ucal")),
        "back: {:?}",
        posts(&ranked)
    );
    // A hidden post dims its kind: its author's other posts rank below everyone else's.
    let dee_first = ranked.iter().position(|r| r.author == user("udee"));
    assert_eq!(dee_first, Some(6), "{:?}", posts(&ranked));
    w.assert_rebuild_equals_live("foryou").await;
}

#[tokio::test]
async fn a_bought_product_leaves_until_its_rebuy_window_ends_and_a_gift_changes_nothing() {
    let (w, _live) = authors().await;
    w.run(
        as_user("udee"),
        publish("durable", &["fitness"], &["B000000001"], None),
    )
    .await;
    w.run(
        as_user("ucal"),
        publish("soap", &["fitness"], &["B000000002"], None),
    )
    .await;
    w.run(as_user("uana"), publish("plain", &["fitness"], &[], None))
        .await;
    let bob = user("ubob");
    // A gift for someone else: nothing changes.
    w.run_and_read(
        as_user("ubob"),
        buy("durable", "B000000001", 1, "gift-1", true),
    )
    .await;
    assert!(place(&ranking(&w, Some(&bob), w.now()), "durable").is_some());
    w.run_and_read(
        as_user("ubob"),
        buy("durable", "B000000001", 1, "own-1", false),
    )
    .await;
    w.run_and_read(
        as_user("ubob"),
        buy("soap", "B000000002", 1, "own-2", false),
    )
    .await;
    let now = ranking(&w, Some(&bob), w.now());
    assert_eq!(
        (place(&now, "durable"), place(&now, "soap")),
        (None, None),
        "{:?}",
        posts(&now)
    );
    assert!(place(&now, "plain").is_some());
    // Fitness's re-buy window is 30 days: the soap comes back after it, the durable never.
    let later = ranking(&w, Some(&bob), w.now() + 31 * DAY);
    assert!(place(&later, "soap").is_some(), "{:?}", posts(&later));
    assert_eq!(place(&later, "durable"), None);
}

#[tokio::test]
async fn never_two_posts_by_one_author_in_a_row_and_at_most_one_sponsored_in_any_five() {
    let (w, _live) = authors().await;
    let start = w.now() - DAY;
    let k1 = contract_k1(Some(usd(10_000)), Some(500), start, w.now() + DAY);
    w.run(as_user("uacme"), k1).await;
    for n in 1..=4 {
        let id = format!("s{n}");
        w.run(as_user("uana"), publish(&id, &["fitness"], &[], Some("k1")))
            .await;
    }
    w.run_and_read(as_user("ubob"), Command::Smile { post: post("s1") })
        .await;
    for viewer in [Some(user("ubob")), None] {
        let ranked = ranking(&w, viewer.as_ref(), w.now());
        for pair in ranked.windows(2) {
            assert_ne!(pair[0].author, pair[1].author, "{:?}", posts(&ranked));
        }
        for window in ranked.windows(SPONSORED_SPACING) {
            let sponsored = window.iter().filter(|r| r.sponsored).count();
            assert!(sponsored <= 1, "{:?}", posts(&ranked));
        }
        let sponsored: Vec<&Ranked> = ranked.iter().filter(|r| r.sponsored).collect();
        assert!(
            sponsored.len() >= 2,
            "extra sponsored posts move down, not out: {:?}",
            posts(&ranked)
        );
        assert!(sponsored.iter().all(|r| {
            r.reasons
                .iter()
                .any(|x| matches!(x, Reason::Sponsored { .. }))
        }));
    }
}

#[tokio::test]
async fn chronological_mode_ignores_history_two_members_see_the_same_page() {
    let (w, _live) = authors().await;
    choose(&w, "uana", &["diy"]).await;
    // Different histories: bob smiles, follows and saves; ana buys.
    w.run(as_user("ubob"), Command::Smile { post: post("d1") })
        .await;
    w.run(
        as_user("ubob"),
        Command::Follow {
            creator: user("ucal"),
        },
    )
    .await;
    w.run(as_user("ubob"), Command::SavePost { post: post("c1") })
        .await;
    w.run(as_user("uana"), Command::Smile { post: post("c2") })
        .await;
    for member in ["ubob", "uana"] {
        w.run_and_read(
            as_user(member),
            Command::SetFeedMode {
                mode: FeedMode::Chronological,
            },
        )
        .await;
    }
    let (bob, ana) = (user("ubob"), user("uana"));
    let for_bob = ranking(&w, Some(&bob), w.now());
    let for_ana = ranking(&w, Some(&ana), w.now());
    assert_eq!(posts(&for_bob), posts(&for_ana));
    assert!(!for_bob.is_empty());
    assert!(for_bob.iter().all(|r| r.reasons.contains(&Reason::Newest)));
    // Newest first (but never one author twice in a row).
    let visitor = ranking(&w, None, w.now());
    assert_ne!(
        posts(&visitor),
        posts(&for_bob),
        "a visitor's ranking is by popularity"
    );
}

/// Walks an interest's feed (or, with `home`, bob's home feed) to its end, `size` posts a
/// page, for `viewer`: the posts and whether each is sponsored.
fn walk_all(w: &World, viewer: Option<&UserId>, home: bool, size: usize) -> Vec<(String, bool)> {
    use sparkfeed_projections::feeds::home::home_feed;
    use sparkfeed_projections::feeds::walk::{Shown, WalkPage, interest_feed};
    /// A page's posts, sponsored or not, and the cursor after its last one.
    fn parts<T>(page: WalkPage<T>) -> (Vec<(String, bool)>, Option<FeedCursor>) {
        let next = page
            .has_next
            .then(|| page.shown.last().map(|s| s.cursor.clone()))
            .flatten();
        let shown = page
            .shown
            .into_iter()
            .map(|s: Shown<T>| (s.post.to_string(), s.sponsored));
        (shown.collect(), next)
    }
    let fitness = interest("fitness");
    let mut out = Vec::new();
    let mut after: Option<FeedCursor> = None;
    for _ in 0..100 {
        let (shown, next) = match (home, viewer) {
            (true, Some(v)) => {
                parts(home_feed(&w.feeds(), v, size, after.as_ref(), w.now()).expect("a page"))
            }
            _ => parts(
                interest_feed(&w.feeds(), &fitness, viewer, size, after.as_ref(), w.now())
                    .expect("a page"),
            ),
        };
        out.extend(shown);
        match next {
            Some(cursor) => after = Some(cursor),
            None => return out,
        }
    }
    panic!("the walk did not end: {out:?}");
}

#[tokio::test]
async fn every_feed_keeps_one_sponsored_post_in_five_across_pages_deferring_the_rest() {
    let (w, _live) = authors().await;
    let now = w.now();
    let k1 = contract_k1(Some(usd(10_000)), Some(500), now - DAY, now + DAY);
    w.run(as_user("uacme"), k1).await;
    // Sponsored posts in a burst, then organic ones by others.
    for n in 1..=3 {
        w.run(
            as_user("uana"),
            publish(&format!("s{n}"), &["fitness"], &[], Some("k1")),
        )
        .await;
    }
    for n in 4..=9 {
        let author = if n % 2 == 0 { "ucal" } else { "udee" };
        w.run(
            as_user(author),
            publish(&format!("o{n}"), &["fitness"], &["B000000001"], None),
        )
        .await;
    }
    w.run_and_read(
        as_user("ubob"),
        buy("o4", "B000000001", 1, "bob-own", false),
    )
    .await;
    let bob = user("ubob");
    for (viewer, home) in [(None, false), (Some(&bob), false), (Some(&bob), true)] {
        for size in [1, 2, 3, 7, 50] {
            let walked = walk_all(&w, viewer, home, size);
            let ids: Vec<&str> = walked.iter().map(|(p, _)| p.as_str()).collect();
            let mut unique = ids.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), ids.len(), "each post once: {ids:?}");
            for window in walked.windows(SPONSORED_SPACING) {
                assert!(
                    window.iter().filter(|(_, s)| *s).count() <= 1,
                    "pages of {size}: {ids:?}"
                );
            }
            let sponsored = walked.iter().filter(|(_, s)| *s).count();
            assert!(sponsored >= 2, "deferred, not dropped: {ids:?}");
            // Bob bought the product o4..o9 tag: for him those posts are gone.
            let tagged = ids.iter().filter(|p| p.starts_with('o')).count();
            assert_eq!(tagged == 0, viewer.is_some(), "{viewer:?}: {ids:?}");
        }
    }
}

#[tokio::test]
async fn a_live_feed_delivers_under_the_same_policy_a_sponsored_post_over_the_cap_comes_later() {
    use sparkfeed_projections::feeds::walk::LivePolicy;
    let (w, _live) = authors().await;
    let now = w.now();
    let k1 = contract_k1(Some(usd(10_000)), Some(500), now - DAY, now + DAY);
    w.run(as_user("uacme"), k1).await;
    w.run(
        as_user("uana"),
        publish("s1", &["fitness"], &[], Some("k1")),
    )
    .await;
    w.run(
        as_user("uana"),
        publish("s2", &["fitness"], &[], Some("k1")),
    )
    .await;
    w.run_and_read(
        as_user("ucal"),
        publish("bought", &["fitness"], &["B000000001"], None),
    )
    .await;
    w.run_and_read(
        as_user("ubob"),
        buy("bought", "B000000001", 1, "bob-own", false),
    )
    .await;
    let bob = user("ubob");
    let mut policy = LivePolicy::default();
    let mut delivered = Vec::new();
    for id in ["s1", "s2", "bought", "c1", "d1", "c2", "d2", "c3"] {
        let out = policy
            .offer(&w.feeds(), &post(id), Some(&bob), w.now())
            .expect("offers");
        delivered.extend(out.into_iter().map(|p| p.to_string()));
    }
    assert_eq!(
        delivered,
        ["s1", "c1", "d1", "c2", "d2", "s2", "c3"],
        "s2 waits for four other posts; the product bob bought stays out"
    );
}

#[tokio::test]
async fn a_feed_whose_scan_budget_finds_nothing_to_show_ends_instead_of_stalling() {
    use sparkfeed_projections::feeds::walk::interest_feed;
    let (w, _live) = authors().await;
    for n in 0..205 {
        w.run(
            as_user("ucal"),
            publish(&format!("bought{n}"), &["fitness"], &["B000000001"], None),
        )
        .await;
    }
    w.run_and_read(
        as_user("ubob"),
        buy("bought0", "B000000001", 1, "bob-own", false),
    )
    .await;
    let bob = user("ubob");
    let page = interest_feed(
        &w.feeds(),
        &interest("fitness"),
        Some(&bob),
        1,
        None,
        w.now(),
    )
    .expect("a page");
    assert!(page.shown.is_empty());
    assert!(
        !page.has_next,
        "an empty page with no cursor must not promise more"
    );
    // A visitor, whose purchases are none, sees them.
    let visitor =
        interest_feed(&w.feeds(), &interest("fitness"), None, 1, None, w.now()).expect("a page");
    assert_eq!(visitor.shown.len(), 1);
    assert!(visitor.has_next);
}

#[tokio::test]
async fn tags_added_and_removed_between_engagements_are_credited_the_same_rebuilt_as_live() {
    // A rebuild remembers each post's facts through the whole replay; a tag added or
    // removed must be what the next engagement credits, as it is live (batch by batch,
    // every engagement reads the post's row).
    let (w, _live) = World::small_live().await;
    w.run(
        as_user("uana"),
        publish("p1", &["fitness"], &["B000000001"], None),
    )
    .await;
    w.run(as_user("ubob"), Command::Smile { post: post("p1") })
        .await;
    w.run(
        as_user("uana"),
        Command::TagProduct {
            post: post("p1"),
            tag: TagInput {
                asin: asin("B000000002"),
                media_index: 0,
                x: 0.5,
                y: 0.5,
            },
        },
    )
    .await;
    w.run(as_user("ubob"), Command::SavePost { post: post("p1") })
        .await;
    w.run(
        as_user("uana"),
        Command::UntagProduct {
            post: post("p1"),
            asin: asin("B000000001"),
            media_index: 0,
        },
    )
    .await;
    w.run_and_read(
        as_user("ubob"),
        Command::SharePost {
            post: post("p1"),
            channel: ShareChannel::Link,
        },
    )
    .await;
    w.assert_rebuild_equals_live("foryou").await;
}

/// Engagements are folded into a member's signals [`FOLD_AT`] at a time: the rows hold the
/// folded ones and the ones still waiting, and a read sees every one, in order, whichever
/// row it is in, live and rebuilt alike.
#[tokio::test]
async fn engagements_past_a_fold_and_those_still_waiting_are_all_in_the_signals() {
    use sparkfeed_projections::foryou::keys;
    use sparkfeed_projections::foryou::rows::{FOLD_AT, MemberSignals, Unfolded};
    use sparkfeed_projections::store::decode;

    let (w, _live) = authors().await;
    let bob = user("ubob");
    // Every post smiled at, saved and shared: 27 engagements, one fold and 11 waiting.
    let mut engaged = Vec::new();
    for n in 1..=3 {
        for prefix in ["p", "c", "d"] {
            let id = post(&format!("{prefix}{n}"));
            w.run(as_user("ubob"), Command::Smile { post: id.clone() })
                .await;
            w.run(as_user("ubob"), Command::SavePost { post: id.clone() })
                .await;
            w.run(
                as_user("ubob"),
                Command::SharePost {
                    post: id.clone(),
                    channel: ShareChannel::Link,
                },
            )
            .await;
            engaged.push(id);
        }
    }
    w.run_and_read(as_user("ubob"), Command::Unsmile { post: post("d3") })
        .await;

    let foryou = w.projections.view("foryou").expect("the foryou projection");
    let stored = |key: Vec<u8>| foryou.tree().get(key).expect("reads").expect("a row");
    let signals: MemberSignals = decode(&stored(keys::signals(&bob))).expect("decodes");
    let unfolded: Unfolded = decode(&stored(keys::unfolded(&bob))).expect("decodes");
    assert_eq!(FOLD_AT, 16);
    assert_eq!(signals.folded, 16, "one fold of 16");
    assert_eq!(unfolded.first, 16);
    assert_eq!(unfolded.engagements.len(), 28 - 16, "the rest wait");

    let read = Viewer::read(&foryou, Some(&bob)).expect("signals").signals;
    assert_eq!(
        read.engaged.iter().collect::<Vec<_>>(),
        engaged.iter().collect::<Vec<_>>(),
        "every post engaged with, in order, folded or waiting"
    );
    for author in ["uana", "ucal", "udee"] {
        let weight = read
            .authors
            .iter()
            .find(|a| a.key.as_str() == author)
            .map(|a| a.weight);
        // Each of three posts smiled at (1), saved (2) and shared (1.5); d3's smile taken
        // back, after the fold.
        let expected = if author == "udee" { 12.5 } else { 13.5 };
        assert_eq!(weight, Some(expected), "{author}'s affinity");
    }
    w.assert_rebuild_equals_live("foryou").await;
}
