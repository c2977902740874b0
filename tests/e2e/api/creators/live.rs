//! `postUpdates`: an open post card's counts, live over a real WebSocket.

use std::time::Duration;

use sparkfeed_testkit::client::Subscriber;

use super::*;

const COUNTS: &str = "subscription($id: ID!) { postUpdates(id: $id) {
  postId smileCount saveCount shareCount commentCount purchaseCount } }";

/// The next message, or a failure after a generous bound (never a sleep: it returns as
/// soon as the message arrives).
async fn next(subscriber: &mut Subscriber) -> Value {
    tokio::time::timeout(Duration::from_secs(20), subscriber.receive())
        .await
        .expect("a message within 20 s")
        .expect("a readable message")
        .expect("the connection is open")
}

fn counts(post: &str, smiles: u64, saves: u64, purchases: u64) -> Value {
    json!({ "postId": post, "smileCount": smiles, "saveCount": saves, "shareCount": 0,
        "commentCount": 0, "purchaseCount": purchases })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_post_card_receives_each_new_count_until_the_post_is_removed() {
    let h = Harness::start().await;
    let (_carol, carol) = creator(&h, "carol_makes").await;
    let (_bob, bob) = h.prime_member("bob_buys").await;
    let (post, _) = publish(&h, &carol, post_input("Pour-over", "coffee", &[KETTLE])).await;
    ok(ask(
        &h,
        Some(&bob),
        "mutation($p: ID!) { savePost(postId: $p) { position } }",
        json!({ "p": post }),
    )
    .await);

    // A visitor opens the card: the first message is its counts now.
    let mut card = Subscriber::connect(h.addr(), None).await.expect("connect");
    card.subscribe("card", COUNTS, json!({ "id": post }))
        .await
        .expect("subscribe");
    let first = next(&mut card).await;
    assert_eq!(
        first["payload"]["data"]["postUpdates"],
        counts(&post, 0, 1, 0),
        "{first}"
    );

    // Each smile and purchase then arrives as new counts.
    ok(ask(
        &h,
        Some(&bob),
        "mutation($p: ID!) { smile(postId: $p) { position } }",
        json!({ "p": post }),
    )
    .await);
    let smiled = next(&mut card).await;
    assert_eq!(
        smiled["payload"]["data"]["postUpdates"],
        counts(&post, 1, 1, 0),
        "{smiled}"
    );
    buy(&h, &bob, &post, KETTLE, 1, "k1").await;
    let bought = next(&mut card).await;
    assert_eq!(
        bought["payload"]["data"]["postUpdates"],
        counts(&post, 1, 1, 1),
        "{bought}"
    );

    // When carol removes the post, the card's stream completes.
    const REMOVE: &str =
        "mutation($p: ID!) { removePost(postId: $p, reason: \"old\") { position } }";
    ok(ask(&h, Some(&carol), REMOVE, json!({ "p": post })).await);
    let ended = next(&mut card).await;
    assert_eq!(ended, json!({ "id": "card", "type": "complete" }));

    // An unknown post is refused with a code, on the same protocol.
    let mut unknown = Subscriber::connect(h.addr(), None).await.expect("connect");
    unknown
        .subscribe("card", COUNTS, json!({ "id": "pnothere" }))
        .await
        .expect("subscribe");
    let refused = next(&mut unknown).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    assert_eq!(next(&mut unknown).await["type"], "complete");
}
