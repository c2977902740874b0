//! The whole Spark story over HTTP: register, choose interests, publish with tags, smile,
//! save, share, comment, buy (retried with the same idempotency key), sponsorship with
//! disclosure, removal — each read back through the feeds right after the mutation that
//! made it, without sleeping.

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spark_story_reads_back_through_the_feeds() {
    let h = Harness::start().await;

    // Register, become Prime, choose interests.
    let (ana, ana_token) = h.prime_member("ana_spark").await;
    let (carol, carol_token) = h.prime_member("carol_brews").await;
    h.grant(&carol, "ENTHUSIAST").await;
    let mut ana_client = h.client_with(&ana_token);
    let chosen = ok(ana_client
        .graphql(
            r#"mutation { chooseInterests(interests: ["coffee", "fitness"]) { position user { interests } } }"#,
            json!({}),
        )
        .await
        .expect("choose"));
    assert_eq!(
        chosen["chooseInterests"]["user"]["interests"],
        json!(["coffee", "fitness"])
    );
    let me = ok(ana_client
        .graphql(
            "{ viewer { id handle displayName prime interests } }",
            json!({}),
        )
        .await
        .expect("viewer"));
    assert_eq!(
        me["viewer"],
        json!({ "id": ana, "handle": "ana_spark", "displayName": "ana_spark", "prime": true, "interests": ["coffee", "fitness"] })
    );

    // Carol publishes a post tagging two products; it is at the top of the coffee feed at once.
    let (first_post, published_at) = publish(
        &h,
        &carol_token,
        post_input("My morning ritual", "coffee", &[COFFEE_GRINDER, KETTLE]),
    )
    .await;
    assert!(published_at > 0);
    const FEED: &str = "query($after: String) {
      feed(interest: \"coffee\", first: 10, after: $after) {
        edges { cursor node { id caption author { handle } smileCount saveCount shareCount commentCount purchaseCount viewerHasSmiled viewerHasSaved sponsored disclosure { label } tags { asin verifiedPurchaser product { title price { formatted } } } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }";
    let feed = ok(ana_client.graphql(FEED, json!({})).await.expect("feed"));
    let top = &feed["feed"]["edges"][0]["node"];
    assert_eq!(top["id"], json!(first_post));
    assert_eq!(top["caption"], "My morning ritual");
    assert_eq!(top["author"]["handle"], "carol_brews");
    assert_eq!(top["tags"][0]["product"]["title"], "Burr Grinder");
    assert_eq!(
        top["tags"][0]["product"]["price"]["formatted"],
        "129.99 USD"
    );
    assert_eq!(top["tags"][1]["product"]["title"], "Pour-Over Kettle");
    assert_eq!(top["sponsored"], false);
    assert_eq!(
        feed["feed"]["pageInfo"],
        json!({ "hasNextPage": false, "hasPreviousPage": false, "startCursor": published_at.to_string(), "endCursor": published_at.to_string() })
    );

    // Smile, save, share, comment: each visible in the answer and in the next read.
    let post_var = json!({ "p": first_post });
    let smiled = ok(ana_client
        .graphql("mutation($p: ID!) { smile(postId: $p) { position post { smileCount viewerHasSmiled } } }", post_var.clone())
        .await
        .expect("smile"));
    assert_eq!(
        smiled["smile"]["post"],
        json!({ "smileCount": 1, "viewerHasSmiled": true })
    );
    ok(ana_client
        .graphql(
            "mutation($p: ID!) { savePost(postId: $p) { position } }",
            post_var.clone(),
        )
        .await
        .expect("save"));
    ok(ana_client
        .graphql(
            "mutation($p: ID!) { sharePost(postId: $p, channel: MESSAGE) { position } }",
            post_var.clone(),
        )
        .await
        .expect("share"));
    let commented = ok(ana_client
        .graphql("mutation($p: ID!) { comment(postId: $p, text: \"Which beans?\") { comment { text author { handle } } } }", post_var.clone())
        .await
        .expect("comment"));
    assert_eq!(
        commented["comment"]["comment"],
        json!({ "text": "Which beans?", "author": { "handle": "ana_spark" } })
    );
    let card = ok(ana_client
        .graphql(
            "query($p: ID!) { post(id: $p) { smileCount saveCount shareCount commentCount viewerHasSmiled viewerHasSaved comments(first: 5) { edges { node { text } } } } viewer { saved { edges { node { id } } } } }",
            post_var.clone(),
        )
        .await
        .expect("post"));
    assert_eq!(card["post"]["smileCount"], 1);
    assert_eq!(card["post"]["saveCount"], 1);
    assert_eq!(card["post"]["shareCount"], 1);
    assert_eq!(card["post"]["commentCount"], 1);
    assert_eq!(card["post"]["viewerHasSaved"], true);
    assert_eq!(
        card["post"]["comments"]["edges"][0]["node"]["text"],
        "Which beans?"
    );
    assert_eq!(
        card["viewer"]["saved"]["edges"][0]["node"]["id"],
        json!(first_post)
    );
    // Signed out, the same card does not know who smiled.
    let public = ok(h
        .client()
        .graphql(
            "query($p: ID!) { post(id: $p) { smileCount viewerHasSmiled } }",
            post_var.clone(),
        )
        .await
        .expect("post"));
    assert_eq!(
        public["post"],
        json!({ "smileCount": 1, "viewerHasSmiled": false })
    );

    // Buy in one click; a retry with the same idempotency key is the same order.
    const BUY: &str = "mutation($input: BuyInput!) { buy(input: $input) { position deduplicated order { id quantity gift total { cents currency formatted } product { asin } post { id purchaseCount } } } }";
    let buy_input = json!({ "input": { "postId": first_post, "asin": COFFEE_GRINDER, "quantity": 2, "idempotencyKey": "checkout-7f3a" } });
    let bought = ok(ana_client
        .graphql(BUY, buy_input.clone())
        .await
        .expect("buy"));
    let order = &bought["buy"];
    assert_eq!(order["deduplicated"], false);
    assert_eq!(order["order"]["quantity"], 2);
    assert_eq!(
        order["order"]["total"],
        json!({ "cents": 25_998, "currency": "USD", "formatted": "259.98 USD" })
    );
    assert_eq!(order["order"]["post"]["purchaseCount"], 1);
    let head = h.head();
    let retried = ok(ana_client.graphql(BUY, buy_input).await.expect("retry"));
    assert_eq!(retried["buy"]["deduplicated"], true);
    assert_eq!(retried["buy"]["order"]["id"], order["order"]["id"]);
    assert_eq!(retried["buy"]["position"], order["position"]);
    assert_eq!(h.head(), head, "a retried buy writes nothing");
    let orders = ok(ana_client
        .graphql(
            "{ viewer { orders { edges { node { id total { cents } } } } } }",
            json!({}),
        )
        .await
        .expect("orders"));
    assert_eq!(
        orders["viewer"]["orders"]["edges"].as_array().map(Vec::len),
        Some(1)
    );

    // A brand sponsors Carol; her sponsored post carries the disclosure in every view.
    let brand = ok(h
        .client_with(&h.admin)
        .graphql("mutation { registerBrand(handle: \"acme_coffee\", brandName: \"Acme Coffee\") { user { id kind brandName } } }", json!({}))
        .await
        .expect("brand"));
    assert_eq!(brand["registerBrand"]["user"]["kind"], "BRAND");
    let brand_id = brand["registerBrand"]["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let brand_token = h.token_for(&brand_id);
    let now = sparkfeed_events::Timestamp::now().0;
    let contract = ok(h
        .client_with(&brand_token)
        .graphql(
            "mutation($input: CreateSponsorshipInput!) { createSponsorship(input: $input) { contractId position } }",
            json!({ "input": {
                "enthusiastId": carol,
                "commissionBp": 1000,
                "startsAt": sparkfeed_api::time::format(now - 3_600_000_000),
                "endsAt": sparkfeed_api::time::format(now + 30 * 86_400_000_000),
            } }),
        )
        .await
        .expect("sponsorship"));
    let contract_id = contract["createSponsorship"]["contractId"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut sponsored_input = post_input("Thanks Acme for the kettle", "coffee", &[KETTLE]);
    sponsored_input["contractId"] = json!(contract_id);
    let (sponsored, _) = publish(&h, &carol_token, sponsored_input).await;
    let feed = ok(ana_client.graphql(FEED, json!({})).await.expect("feed"));
    let top = &feed["feed"]["edges"][0]["node"];
    assert_eq!(top["id"], json!(sponsored));
    assert_eq!(top["sponsored"], true);
    assert_eq!(
        top["disclosure"]["label"],
        "Paid partnership with Acme Coffee"
    );

    // Ana's home feed: her interests merged, and a post pushing only what she already
    // bought for herself (the grinder) is left out of it, as out of her coffee feed (one
    // policy for every feed); a visitor sees it.
    let (grinder_only, _) = publish(
        &h,
        &carol_token,
        post_input("Grinder, one year on", "coffee", &[COFFEE_GRINDER]),
    )
    .await;
    let home = ok(ana_client
        .graphql(
            "{ homeFeed(first: 10) { edges { because node { id disclosure { label } } } } }",
            json!({}),
        )
        .await
        .expect("home"));
    let edges = home["homeFeed"]["edges"].as_array().expect("edges").clone();
    let home_ids: Vec<_> = edges.iter().map(|e| e["node"]["id"].clone()).collect();
    assert_eq!(
        home_ids,
        vec![json!(sponsored), json!(first_post)],
        "{home}"
    );
    assert_eq!(edges[0]["because"], json!(["coffee"]));
    assert_eq!(
        edges[0]["node"]["disclosure"]["label"],
        "Paid partnership with Acme Coffee"
    );
    let feed = ok(ana_client.graphql(FEED, json!({})).await.expect("feed"));
    assert_eq!(feed["feed"]["edges"][0]["node"]["id"], json!(sponsored));
    let feed = ok(h.client().graphql(FEED, json!({})).await.expect("feed"));
    assert_eq!(feed["feed"]["edges"][0]["node"]["id"], json!(grinder_only));

    // Bob buys through the sponsored post: commission accrues under the contract.
    let (_bob, bob_token) = h.prime_member("bob_buys").await;
    ok(h.client_with(&bob_token)
        .graphql(BUY, json!({ "input": { "postId": sponsored, "asin": KETTLE, "idempotencyKey": "bob-1", "gift": true } }))
        .await
        .expect("bob buys"));

    // A moderator removes the sponsored post: it leaves the feeds, stays in the audit trail.
    let (dana, dana_token) = h.prime_member("dana_checks").await;
    h.grant(&dana, "MODERATOR").await;
    h.grant(&dana, "AUDITOR").await;
    let removed = ok(h
        .client_with(&dana_token)
        .graphql("mutation($p: ID!) { removePost(postId: $p, reason: \"undisclosed claims\") { post { id removed } } }", json!({ "p": sponsored }))
        .await
        .expect("remove"));
    assert_eq!(
        removed["removePost"]["post"],
        json!({ "id": sponsored, "removed": true })
    );
    let feed = ok(ana_client.graphql(FEED, json!({})).await.expect("feed"));
    let ids: Vec<_> = feed["feed"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![json!(first_post)],
        "the removed post left the feed (and the grinder post stays out of hers)"
    );
    let gone = ok(ana_client
        .graphql(
            "query($p: ID!) { post(id: $p) { id } }",
            json!({ "p": sponsored }),
        )
        .await
        .expect("post"));
    assert_eq!(gone["post"], json!(null));
    let still = ok(h
        .client_with(&carol_token)
        .graphql(
            "query($p: ID!) { post(id: $p) { removed disclosure { label } } }",
            json!({ "p": sponsored }),
        )
        .await
        .expect("post"));
    assert_eq!(
        still["post"],
        json!({ "removed": true, "disclosure": { "label": "Paid partnership with Acme Coffee" } })
    );

    // The auditor traces the sponsored post end to end and verifies the chain.
    let history = ok(h
        .client_with(&dana_token)
        .graphql("query($p: ID!) { sponsorshipHistory(postId: $p, first: 50) { edges { node { type actor hash summary } } } verifyLog { intact records headHash } }", json!({ "p": sponsored }))
        .await
        .expect("history"));
    let types: Vec<_> = history["sponsorshipHistory"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["type"].as_str().unwrap_or("").to_owned())
        .collect();
    for wanted in [
        "ContractOpened",
        "PostPublished",
        "OrderPlaced",
        "PostRemoved",
    ] {
        assert!(
            types.iter().any(|t| t == wanted),
            "{wanted} missing from {types:?}"
        );
    }
    assert_eq!(history["verifyLog"]["intact"], true);
    assert_eq!(history["verifyLog"]["records"], h.head().len);
    assert_eq!(history["verifyLog"]["headHash"], h.head().hash.to_hex());

    // The analyst replays the log: the two orders, in log order, personal data sealed.
    let analyst_id = h.prime_member("eve_counts").await;
    h.grant(&analyst_id.0, "ANALYST").await;
    let events = ok(h
        .client_with(&analyst_id.1)
        .graphql("{ events(first: 10, types: [\"OrderPlaced\"]) { edges { cursor node { type stream position actor data } } continueAfter pageInfo { hasNextPage } } }", json!({}))
        .await
        .expect("events"));
    let edges = events["events"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0]["node"]["data"]["quantity"], 2);
    assert_eq!(edges[0]["node"]["actor"], json!(format!("user:{ana}")));
    assert_eq!(events["events"]["pageInfo"]["hasNextPage"], false);
    let registered = ok(h
        .client_with(&analyst_id.1)
        .graphql(
            "query($s: String!) { events(stream: $s) { edges { node { type data } } } }",
            json!({ "s": format!("user-{ana}") }),
        )
        .await
        .expect("stream"));
    let registration = &registered["events"]["edges"][0]["node"];
    assert_eq!(registration["type"], "UserRegistered");
    assert_eq!(
        registration["data"]["handle"],
        json!({ "sealed": ana }),
        "personal data stays sealed"
    );
}
