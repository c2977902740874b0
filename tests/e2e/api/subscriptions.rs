//! Subscriptions over a real WebSocket with the graphql-transport-ws protocol.

use std::time::Duration;

use serde_json::{Value, json};
use sparkfeed_testkit::client::Subscriber;

use super::*;

/// The next message, or a failure after a generous bound (never a sleep: it returns as
/// soon as the message arrives).
async fn next(subscriber: &mut Subscriber) -> Value {
    tokio::time::timeout(Duration::from_secs(20), subscriber.receive())
        .await
        .expect("a message within 20 s")
        .expect("a readable message")
        .expect("the connection is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_subscriber_receives_a_post_published_after_it_subscribed() {
    let h = Harness::start().await;
    let (_carol, carol) = h.prime_member("carol_brews").await;
    let (before, _) = publish(&h, &carol, post_input("Before", "coffee", &[KETTLE])).await;

    // Where the subscriber's feed stands: its newest cursor.
    let feed = ok(h
        .client()
        .graphql(
            "{ feed(interest: \"coffee\", first: 1) { edges { cursor node { id } } } }",
            json!({}),
        )
        .await
        .expect("feed"));
    assert_eq!(feed["feed"]["edges"][0]["node"]["id"], json!(before));
    let cursor = feed["feed"]["edges"][0]["cursor"].clone();

    let mut subscriber = Subscriber::connect(h.addr(), None).await.expect("connect");
    subscriber
        .subscribe(
            "feed",
            "subscription($after: String) { feedUpdates(interest: \"coffee\", after: $after) { id caption author { handle } tags { product { title } } } }",
            json!({ "after": cursor }),
        )
        .await
        .expect("subscribe");

    // A post in another interest is not delivered; the coffee post is.
    publish(&h, &carol, post_input("Stretch", "fitness", &[YOGA_MAT])).await;
    let (after, _) = publish(
        &h,
        &carol,
        post_input("Fresh from the roaster", "coffee", &[COFFEE_GRINDER]),
    )
    .await;
    let message = next(&mut subscriber).await;
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], "feed");
    assert_eq!(
        message["payload"]["data"]["feedUpdates"],
        json!({ "id": after, "caption": "Fresh from the roaster", "author": { "handle": "carol_brews" }, "tags": [{ "product": { "title": "Burr Grinder" } }] })
    );
    subscriber.complete("feed").await.expect("complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_subscription_catches_up_then_follows_live_for_analysts_only() {
    let h = Harness::start().await;
    let (analyst, analyst_token) = h.prime_member("eve_counts").await;
    h.grant(&analyst, "ANALYST").await;
    let last = h.head().len - 1;

    let mut subscriber = Subscriber::connect(h.addr(), Some(&analyst_token))
        .await
        .expect("connect");
    subscriber
        .subscribe(
            "log",
            "subscription($after: String) { events(after: $after) { position type stream } }",
            json!({ "after": (last - 1).to_string() }),
        )
        .await
        .expect("subscribe");
    // Catch-up: the last event already in the log (the role grant).
    let caught_up = next(&mut subscriber).await;
    assert_eq!(
        caught_up["payload"]["data"]["events"]["position"], last,
        "{caught_up}"
    );
    assert_eq!(
        caught_up["payload"]["data"]["events"]["type"],
        "RoleGranted"
    );
    // Live: what is written next, with no gap.
    let (_carol, carol) = h.prime_member("carol_brews").await;
    let expected = ["HandleReserved", "UserRegistered", "PrimeStarted"];
    for (i, kind) in expected.iter().enumerate() {
        let live = next(&mut subscriber).await;
        assert_eq!(live["payload"]["data"]["events"]["type"], *kind, "{live}");
        assert_eq!(
            live["payload"]["data"]["events"]["position"],
            last + 1 + i as u64
        );
    }
    drop(carol);

    // A member without the role is refused, with the code, on the same protocol.
    let (_ana, ana) = h.prime_member("ana_spark").await;
    let mut member = Subscriber::connect(h.addr(), Some(&ana))
        .await
        .expect("connect");
    member
        .subscribe("log", "subscription { events { position } }", json!({}))
        .await
        .expect("subscribe");
    let refused = next(&mut member).await;
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    assert_eq!(next(&mut member).await["type"], "complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_with_a_forged_token_is_closed_at_connection_init() {
    let h = Harness::start().await;
    let forged = Tokens::new(b"not the server's secret, 32+ bytes long")
        .expect("secret")
        .mint(
            &sparkfeed_testkit::ids::user("uadmin"),
            Duration::from_secs(60),
        );
    assert!(Subscriber::connect(h.addr(), Some(&forged)).await.is_err());
    // A GET with neither a WebSocket upgrade nor a query is a 400 that says why.
    let answer = h.client().get("/graphql").await.expect("get");
    refused(&answer, 400, "BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_ends_open_subscriptions() {
    let mut h = Harness::start().await;
    let mut subscriber = Subscriber::connect(h.addr(), None).await.expect("connect");
    subscriber
        .subscribe(
            "feed",
            "subscription { feedUpdates(interest: \"coffee\") { id } }",
            json!({}),
        )
        .await
        .expect("subscribe");
    let metrics = h.client().get("/metrics").await.expect("metrics");
    assert!(
        metrics
            .text
            .contains("sparkfeed_subscription_connections 1"),
        "{}",
        metrics.text
    );

    h.server
        .take()
        .expect("running")
        .stop()
        .await
        .expect("stop");
    let ended = tokio::time::timeout(Duration::from_secs(20), subscriber.receive())
        .await
        .expect("the socket ends when the server stops, not after a timeout");
    assert!(
        !matches!(ended, Ok(Some(_))),
        "no message after the stop: {ended:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_over_the_cap_is_refused_503_until_one_closes() {
    let h = Harness::start_with(Limits {
        max_subscriptions: 1,
        ..Limits::default()
    })
    .await;
    let first = Subscriber::connect(h.addr(), None).await.expect("connect");
    let Err(refused) = Subscriber::connect(h.addr(), None).await else {
        panic!("a second WebSocket is over the cap");
    };
    assert!(refused.to_string().contains("503"), "{refused}");

    drop(first);
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if Subscriber::connect(h.addr(), None).await.is_ok() {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("a place frees up when the first WebSocket closes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_subscription_filters_by_type_and_stream_like_the_query() {
    let h = Harness::start().await;
    let (analyst, analyst_token) = h.prime_member("eve_counts").await;
    h.grant(&analyst, "ANALYST").await;
    let (_, ana) = h.prime_member("ana_spark").await;
    let (first_post, _) = publish(&h, &ana, post_input("one", "coffee", &[])).await;

    let mut by_type = Subscriber::connect(h.addr(), Some(&analyst_token))
        .await
        .expect("connect");
    by_type
        .subscribe(
            "posts",
            "subscription { events(types: [\"PostPublished\"]) { type stream } }",
            json!({}),
        )
        .await
        .expect("subscribe");
    let mut by_stream = Subscriber::connect(h.addr(), Some(&analyst_token))
        .await
        .expect("connect");
    by_stream
        .subscribe(
            "one-post",
            "subscription($s: String) { events(stream: $s) { type stream } }",
            json!({ "s": format!("post-{first_post}") }),
        )
        .await
        .expect("subscribe");

    // Catch-up: only the one post so far, from either side.
    let caught = next(&mut by_type).await;
    assert_eq!(
        caught["payload"]["data"]["events"]["stream"],
        format!("post-{first_post}")
    );
    let caught = next(&mut by_stream).await;
    assert_eq!(caught["payload"]["data"]["events"]["type"], "PostPublished");
    // Live: smiles and registrations pass by unseen; the next post arrives.
    let (_, bob) = h.prime_member("bob_brews").await;
    ok(h.client_with(&bob)
        .graphql(
            &format!("mutation {{ smile(postId: \"{first_post}\") {{ position }} }}"),
            json!({}),
        )
        .await
        .expect("smile"));
    let (second_post, _) = publish(&h, &ana, post_input("two", "coffee", &[])).await;
    let live = next(&mut by_type).await;
    assert_eq!(
        live["payload"]["data"]["events"]["stream"],
        format!("post-{second_post}"),
        "{live}"
    );
    ok(h.client_with(&ana)
        .graphql(
            &format!("mutation {{ editCaption(postId: \"{first_post}\", caption: \"uno\") {{ position }} }}"),
            json!({}),
        )
        .await
        .expect("edit"));
    let live = next(&mut by_stream).await;
    assert_eq!(
        live["payload"]["data"]["events"]["type"], "CaptionEdited",
        "{live}"
    );

    // A type no event has is refused, as in the query.
    let mut unknown = Subscriber::connect(h.addr(), Some(&analyst_token))
        .await
        .expect("connect");
    unknown
        .subscribe(
            "bad",
            "subscription { events(types: [\"Nope\"]) { type } }",
            json!({}),
        )
        .await
        .expect("subscribe");
    let refused = next(&mut unknown).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
}
