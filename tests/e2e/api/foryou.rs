//! `forYou` over the real server (issue 16): a member's controls change it at once
//! (read-your-writes), its cursors walk one ranking, and what it refuses is typed.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const FOR_YOU: &str = "query($first: Int, $after: String) {
  forYou(first: $first, after: $after) {
    mode
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id author { id } sponsored tags { asin } } reasons { kind text interest engagement } }
  }
}";
const HIDE: &str = "mutation($t: FeedTargetInput!) { notInterested(target: $t) { position controls { mode notInterested { kind id } } } }";
const UNHIDE: &str = "mutation($t: FeedTargetInput!) { undoNotInterested(target: $t) { position controls { notInterested { kind id } } } }";

/// One page of `forYou` as `token` (a visitor with `None`).
async fn page(h: &Harness, token: Option<&str>, first: usize, after: Option<&str>) -> Value {
    let mut client = match token {
        Some(t) => h.client_with(t),
        None => h.client(),
    };
    let answer = client
        .graphql(FOR_YOU, json!({ "first": first, "after": after }))
        .await
        .expect("answer");
    ok(answer)["forYou"].clone()
}

fn ids(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

fn authors(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["author"]["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Members ana, cal and dee posting in coffee in turns (three each, tagging the kettle on
/// dee's), and bob, who chose coffee.
async fn coffee_world(h: &Harness) -> (String, [(String, String); 3]) {
    let (_, bob) = h.prime_member("bob_reads").await;
    ok(h.client_with(&bob)
        .graphql(
            "mutation { chooseInterests(interests: [\"coffee\"]) { position } }",
            json!({}),
        )
        .await
        .expect("interests"));
    let mut authors = Vec::new();
    for handle in ["ana_posts", "cal_posts", "dee_posts"] {
        authors.push(h.prime_member(handle).await);
    }
    for n in 0..3 {
        for (i, (_, token)) in authors.iter().enumerate() {
            let tags: &[&str] = if i == 2 { &[KETTLE] } else { &[] };
            publish(h, token, post_input(&format!("{i} {n}"), "coffee", tags)).await;
        }
    }
    let authors: [(String, String); 3] = authors.try_into().expect("three");
    (bob, authors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_controls_change_for_you_at_once_and_say_why() {
    let h = Harness::start().await;
    let (bob, [(ana, _), (cal, _), (dee, _)]) = coffee_world(&h).await;
    let first = page(&h, Some(&bob), 20, None).await;
    assert_eq!(first["mode"], "PERSONALIZED");
    assert_eq!(ids(&first).len(), 9, "{first}");
    assert!(authors(&first).windows(2).all(|w| w[0] != w[1]), "{first}");
    assert_eq!(
        first["edges"][0]["reasons"][0]["kind"], "INTEREST",
        "{first}"
    );

    // Bob follows dee: dee's posts lead the very next ranking, and say why.
    ok(h.client_with(&bob)
        .graphql(
            "mutation($c: ID!) { follow(creatorId: $c) { position } }",
            json!({ "c": dee }),
        )
        .await
        .expect("follow"));
    let followed = page(&h, Some(&bob), 20, None).await;
    assert_eq!(authors(&followed)[0], dee, "{followed}");
    assert_eq!(
        followed["edges"][0]["reasons"][0]["kind"], "FOLLOWED_CREATOR",
        "{followed}"
    );

    // Not interested in cal: gone from the very next ranking, listed in the controls.
    let hidden = ok(h
        .client_with(&bob)
        .graphql(HIDE, json!({ "t": { "authorId": cal } }))
        .await
        .expect("hide"));
    assert_eq!(
        hidden["notInterested"]["controls"]["notInterested"],
        json!([{ "kind": "AUTHOR", "id": cal }])
    );
    let after_hide = page(&h, Some(&bob), 20, None).await;
    assert!(!authors(&after_hide).contains(&cal), "{after_hide}");

    // Bob buys the kettle through one of dee's posts: posts tagging it leave at once.
    let dee_post = first["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["author"]["id"] == json!(dee))
        .map(|e| e["node"]["id"].clone())
        .expect("a post by dee");
    ok(h.client_with(&bob)
        .graphql(
            "mutation($p: ID!) { buy(input: { postId: $p, asin: \"B0COFFEE02\", idempotencyKey: \"bob-kettle\" }) { position } }",
            json!({ "p": dee_post }),
        )
        .await
        .expect("buy"));
    let after_buy = page(&h, Some(&bob), 20, None).await;
    assert!(
        !authors(&after_buy).contains(&dee),
        "the kettle's posts left: {after_buy}"
    );
    assert_eq!(authors(&after_buy), vec![ana.clone()], "{after_buy}");

    // Taken back: cal returns.
    ok(h.client_with(&bob)
        .graphql(UNHIDE, json!({ "t": { "authorId": cal } }))
        .await
        .expect("undo"));
    let back = page(&h, Some(&bob), 20, None).await;
    assert!(authors(&back).contains(&cal), "{back}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_you_cursors_are_the_viewers_own_and_bad_ones_are_refused() {
    let h = Harness::start().await;
    let (bob, [(_, ana_t), ..]) = coffee_world(&h).await;
    let first = page(&h, Some(&bob), 2, None).await;
    let cursor = first["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    // Bob's own ranking, read past its end.
    let past_the_end = format!("{}.99999", cursor.split('.').next().expect("an id"));
    let mut ana = h.client_with(&ana_t);
    for (after, client) in [
        (cursor.as_str(), &mut ana),
        ("999999.0", &mut h.client_with(&bob)),
        ("not a cursor", &mut h.client_with(&bob)),
        (past_the_end.as_str(), &mut h.client_with(&bob)),
    ] {
        let answer = client
            .graphql(FOR_YOU, json!({ "first": 2, "after": after }))
            .await
            .expect("answer");
        refused(&answer, 200, "BAD_USER_INPUT");
    }
    // A visitor gets what is popular, with no personal reason.
    let visitor = page(&h, None, 20, None).await;
    assert_eq!(ids(&visitor).len(), 9, "{visitor}");
    let kinds: Vec<&str> = visitor["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .flat_map(|e| e["reasons"].as_array().expect("reasons").iter())
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert!(
        kinds.iter().all(|k| *k == "POPULAR_IN_INTEREST"),
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_controls_refuse_bad_input_with_codes_and_write_nothing() {
    let h = Harness::start().await;
    let (bob, _) = coffee_world(&h).await;
    let head = h.head();
    for (target, code) in [
        (json!({ "postId": "pnothing" }), "UNKNOWN_POST"),
        (json!({ "authorId": "unobody" }), "UNKNOWN_USER"),
        (json!({ "asin": "B0NOTHING0" }), "UNKNOWN_PRODUCT"),
        (json!({ "interest": "knitting" }), "UNKNOWN_INTEREST"),
        (
            json!({ "asin": KETTLE, "interest": "coffee" }),
            "BAD_USER_INPUT",
        ),
        (json!({}), "BAD_USER_INPUT"),
    ] {
        let answer = h
            .client_with(&bob)
            .graphql(HIDE, json!({ "t": target }))
            .await
            .expect("answer");
        refused(&answer, 200, code);
    }
    let answer = h
        .client()
        .graphql(HIDE, json!({ "t": { "interest": "coffee" } }))
        .await
        .expect("answer");
    refused(&answer, 200, "UNAUTHENTICATED");
    let answer = h
        .client_with(&bob)
        .graphql(UNHIDE, json!({ "t": { "interest": "coffee" } }))
        .await
        .expect("answer");
    refused(&answer, 200, "NOT_HIDDEN");
    assert_eq!(h.head(), head, "nothing written");
    // The same mode again writes nothing either; another mode does.
    let set = "mutation($m: FeedMode!) { setFeedMode(mode: $m) { controls { mode } } }";
    ok(h.client_with(&bob)
        .graphql(set, json!({ "m": "PERSONALIZED" }))
        .await
        .expect("set"));
    assert_eq!(h.head(), head);
    let personalized = page(&h, Some(&bob), 2, None).await;
    let cursor = personalized["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let changed = ok(h
        .client_with(&bob)
        .graphql(set, json!({ "m": "CHRONOLOGICAL" }))
        .await
        .expect("set"));
    assert_eq!(changed["setFeedMode"]["controls"]["mode"], "CHRONOLOGICAL");
    assert_eq!(page(&h, Some(&bob), 1, None).await["mode"], "CHRONOLOGICAL");
    // A ranking made before the change is not served in the new mode (EU DSA Art. 38).
    let answer = h
        .client_with(&bob)
        .graphql(FOR_YOU, json!({ "first": 2, "after": cursor }))
        .await
        .expect("answer");
    refused(&answer, 200, "BAD_USER_INPUT");
    assert!(answer.text.contains("feed mode changed"), "{}", answer.text);
}

/// What happens between two pages of a walk.
#[derive(Clone, Debug)]
enum Meanwhile {
    Publish,
    Smile(usize),
    Buy(usize),
    Nothing,
}

fn meanwhile() -> impl Strategy<Value = Meanwhile> {
    prop_oneof![
        Just(Meanwhile::Publish),
        (0usize..9).prop_map(Meanwhile::Smile),
        (0usize..9).prop_map(Meanwhile::Buy),
        Just(Meanwhile::Nothing),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Walking `forYou` to its end while posts, smiles and purchases are appended repeats
    /// nothing and skips nothing: the walk is the ranking of its first page, page for page
    /// the same as a walk that nothing disturbed.
    #[test]
    fn paging_for_you_while_the_log_grows_repeats_and_skips_nothing(
        sizes in proptest::collection::vec(1usize..6, 12),
        writes in proptest::collection::vec(meanwhile(), 12),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let h = Harness::start().await;
            let (bob, authors) = coffee_world(&h).await;
            let (_, eve) = h.prime_member("eve_smiles").await;
            // Two walks start from the same ranking (scores age alike, so their order is
            // the same); the first is read to its end at once, the second with writes between.
            let still = page(&h, Some(&bob), 50, None).await;
            let expected = ids(&still);
            let mut walked: Vec<String> = Vec::new();
            let mut after: Option<String> = None;
            for (n, size) in sizes.iter().cycle().take(40).enumerate() {
                let page = page(&h, Some(&bob), *size, after.as_deref()).await;
                walked.extend(ids(&page));
                match &writes[n % writes.len()] {
                    Meanwhile::Publish => {
                        publish(&h, &authors[n % 3].1, post_input("fresh", "coffee", &[])).await;
                    }
                    Meanwhile::Smile(i) => {
                        if let Some(post) = expected.get(*i) {
                            let _ = h.client_with(&eve)
                                .graphql("mutation($p: ID!) { smile(postId: $p) { position } }", json!({ "p": post }))
                                .await;
                        }
                    }
                    Meanwhile::Buy(i) => {
                        if let Some(post) = expected.get(*i) {
                            let _ = h.client_with(&eve)
                                .graphql(
                                    "mutation($p: ID!, $k: String!) { buy(input: { postId: $p, asin: \"B0COFFEE02\", idempotencyKey: $k }) { position } }",
                                    json!({ "p": post, "k": format!("k{n}") }),
                                )
                                .await;
                        }
                    }
                    Meanwhile::Nothing => {}
                }
                if page["pageInfo"]["hasNextPage"] != json!(true) {
                    break;
                }
                after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            }
            assert_eq!(walked, expected, "the walk is the first ranking, no repeat, no skip");
        });
    }
}

/// The next `next` payload of `subscriber`, within 10 s.
async fn next_payload(subscriber: &mut sparkfeed_testkit::client::Subscriber) -> Value {
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), subscriber.receive())
        .await
        .expect("a message within 10 s")
        .expect("receives")
        .expect("open");
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_posts_reach_a_members_live_home_feed_and_for_you_without_what_they_hid() {
    let h = Harness::start().await;
    let (bob, [(ana, ana_t), (cal, cal_t), _]) = coffee_world(&h).await;
    ok(h.client_with(&bob)
        .graphql(HIDE, json!({ "t": { "authorId": cal } }))
        .await
        .expect("hide"));
    let mut subscriber = sparkfeed_testkit::client::Subscriber::connect(h.addr(), Some(&bob))
        .await
        .expect("connect");
    subscriber
        .subscribe("fy", "subscription { forYouUpdates { node { id author { id } } reasons { kind interest } } }", json!({}))
        .await
        .expect("subscribe");
    subscriber
        .subscribe(
            "home",
            "subscription { homeFeedUpdates { id author { id } } }",
            json!({}),
        )
        .await
        .expect("subscribe");
    // Messages on one socket are handled in order: once a later subscription has answered,
    // both feeds have started, and the very next post must reach them (none may be lost at
    // the start).
    let (barrier, _) = publish(&h, &ana_t, post_input("a barrier", "fitness", &[])).await;
    subscriber
        .subscribe(
            "barrier",
            "subscription($p: ID!) { postUpdates(id: $p) { postId } }",
            json!({ "p": barrier }),
        )
        .await
        .expect("subscribe");
    loop {
        let data = next_payload(&mut subscriber).await;
        if data.get("postUpdates").is_some() {
            break;
        }
    }
    // Cal (hidden) posts first, then ana.
    publish(&h, &cal_t, post_input("from cal", "coffee", &[])).await;
    let (fresh, _) = publish(&h, &ana_t, post_input("from ana", "coffee", &[])).await;
    let mut for_you = Vec::new();
    let mut home = Vec::new();
    while for_you.is_empty() || home.len() < 2 {
        let data = next_payload(&mut subscriber).await;
        if let Some(item) = data.get("forYouUpdates") {
            for_you.push(item.clone());
        }
        if let Some(item) = data.get("homeFeedUpdates") {
            home.push(item["author"]["id"].clone());
        }
    }
    assert_eq!(
        for_you[0]["node"]["id"],
        json!(fresh),
        "cal's post, hidden, did not come: {for_you:?}"
    );
    assert_eq!(for_you[0]["node"]["author"]["id"], json!(ana));
    assert_eq!(
        for_you[0]["reasons"],
        json!([{ "kind": "INTEREST", "interest": "coffee" }])
    );
    assert_eq!(
        home,
        vec![json!(cal), json!(ana)],
        "the home feed hides nothing: both came"
    );
    // Signed out, neither subscription is offered.
    let mut visitor = sparkfeed_testkit::client::Subscriber::connect(h.addr(), None)
        .await
        .expect("connect");
    visitor
        .subscribe(
            "fy",
            "subscription { forYouUpdates { node { id } } }",
            json!({}),
        )
        .await
        .expect("subscribe");
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), visitor.receive())
        .await
        .expect("in time")
        .expect("receives")
        .expect("open");
    assert!(message.to_string().contains("UNAUTHENTICATED"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_post_removed_by_a_moderator_shows_in_the_controls_as_null() {
    let h = Harness::start().await;
    let (bob, [(_, ana_t), ..]) = coffee_world(&h).await;
    let (post, _) = publish(&h, &ana_t, post_input("soon removed", "coffee", &[])).await;
    ok(h.client_with(&bob)
        .graphql(HIDE, json!({ "t": { "postId": post } }))
        .await
        .expect("hide"));
    let (moderator, moderator_t) = h.prime_member("mo_removes").await;
    h.grant(&moderator, "MODERATOR").await;
    ok(h.client_with(&moderator_t)
        .graphql(
            "mutation($p: ID!) { removePost(postId: $p, reason: \"spam\") { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("remove"));
    let controls = ok(h
        .client_with(&bob)
        .graphql(
            "{ feedControls { notInterested { kind id post { caption } } } }",
            json!({}),
        )
        .await
        .expect("controls"));
    assert_eq!(
        controls["feedControls"]["notInterested"],
        json!([{ "kind": "POST", "id": post, "post": null }]),
        "a removed post is not read back through the controls"
    );
}
