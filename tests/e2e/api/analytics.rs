//! Issue 14: analysts read the analytics projection over GraphQL, as typed fields.

use serde_json::json;

use super::*;

const ANALYTICS: &str = "query($from: DateTime!, $to: DateTime!, $i: String) {
  analytics(from: $from, to: $to) {
    interestDays(interest: $i) { interest posts smiles comments purchases revenueCents }
    topProducts(first: 2) { asin product { title } sales { purchases units revenueCents } }
    topPosts { postId sales { purchases } }
    sponsoredVsOrganic { kind posts sales { purchases } purchasesPerPost }
  }
}";

const BUY: &str = "mutation($p: ID!, $a: String!, $k: String!, $q: Int!) {
  buy(input: { postId: $p, asin: $a, quantity: $q, idempotencyKey: $k }) { position }
}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_read_interest_days_top_products_and_posts_and_the_sponsored_split() {
    let h = Harness::start().await;
    let (_, ana) = h.prime_member("ana").await;
    let (_, bob) = h.prime_member("bob").await;
    let (analyst_id, analyst) = h.prime_member("ada").await;
    h.grant(&analyst_id, "ANALYST").await;
    let (post, _) = publish(
        &h,
        &ana,
        post_input("my kit", "coffee", &[COFFEE_GRINDER, KETTLE]),
    )
    .await;
    publish(&h, &ana, post_input("stretching", "fitness", &[])).await;
    for (asin, key, quantity) in [
        (KETTLE, "k1", 2),
        (KETTLE, "k2", 1),
        (COFFEE_GRINDER, "g1", 1),
    ] {
        ok(h.client_with(&bob)
            .graphql(
                BUY,
                json!({ "p": post, "a": asin, "k": key, "q": quantity }),
            )
            .await
            .expect("buy"));
    }
    ok(h.client_with(&bob)
        .graphql(
            &format!("mutation {{ smile(postId: \"{post}\") {{ position }} }}"),
            json!({}),
        )
        .await
        .expect("smile"));

    let range = json!({ "from": "2000-01-01T00:00:00Z", "to": "2000-01-01T00:00:00Z" });
    // From yesterday to now: the test may run across midnight (UTC).
    let now = sparkfeed_events::Timestamp::now().0;
    let window = json!({
        "from": sparkfeed_api::time::format(now - 86_400_000_000),
        "to": sparkfeed_api::time::format(now),
        "i": "coffee",
    });
    let answer = ok(h
        .client_with(&analyst)
        .graphql(ANALYTICS, window)
        .await
        .expect("answer"));
    let a = &answer["analytics"];
    let days = a["interestDays"].as_array().expect("days");
    let sum = |field: &str| {
        days.iter()
            .map(|d| d[field].as_i64().expect("a number"))
            .sum::<i64>()
    };
    assert!(days.iter().all(|d| d["interest"] == "coffee"), "{a}");
    assert_eq!(
        (
            sum("posts"),
            sum("smiles"),
            sum("purchases"),
            sum("revenueCents")
        ),
        (1, 1, 3, 2 * 4_500 + 4_500 + 12_999)
    );
    // The kettle: two orders, three units; the grinder one order.
    assert_eq!(a["topProducts"][0]["asin"], KETTLE);
    assert_eq!(a["topProducts"][0]["product"]["title"], "Pour-Over Kettle");
    assert_eq!(
        a["topProducts"][0]["sales"],
        json!({ "purchases": 2, "units": 3, "revenueCents": 13_500 })
    );
    assert_eq!(a["topProducts"][1]["asin"], COFFEE_GRINDER);
    assert_eq!(
        a["topPosts"][0],
        json!({ "postId": post, "sales": { "purchases": 3 } })
    );
    assert_eq!(
        a["sponsoredVsOrganic"],
        json!([
            { "kind": "SPONSORED", "posts": 0, "sales": { "purchases": 0 }, "purchasesPerPost": 0.0 },
            { "kind": "ORGANIC", "posts": 2, "sales": { "purchases": 3 }, "purchasesPerPost": 1.5 },
        ])
    );

    // A range long before: no activity, yet the same shape.
    let before = ok(h
        .client_with(&analyst)
        .graphql(ANALYTICS, range)
        .await
        .expect("answer"));
    assert_eq!(before["analytics"]["interestDays"], json!([]));
    assert_eq!(before["analytics"]["topProducts"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_needs_the_analyst_role_and_a_sane_range() {
    let h = Harness::start().await;
    let (_, bob) = h.prime_member("bob").await;
    let (analyst_id, analyst) = h.prime_member("ada").await;
    h.grant(&analyst_id, "ANALYST").await;
    let q = |from: &str, to: &str| json!({ "from": from, "to": to });
    let cases: Vec<(&str, Option<&str>, &str, serde_json::Value, &str)> = vec![
        (
            "signed out",
            None,
            ANALYTICS,
            q("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            "UNAUTHENTICATED",
        ),
        (
            "a member",
            Some(&bob),
            ANALYTICS,
            q("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            "FORBIDDEN",
        ),
        (
            "to before from",
            Some(&analyst),
            ANALYTICS,
            q("2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z"),
            "BAD_USER_INPUT",
        ),
        (
            "over 366 days",
            Some(&analyst),
            ANALYTICS,
            q("2024-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            "BAD_USER_INPUT",
        ),
        (
            "not a time",
            Some(&analyst),
            ANALYTICS,
            q("yesterday", "2026-01-01T00:00:00Z"),
            "BAD_USER_INPUT",
        ),
        (
            "no such interest",
            Some(&analyst),
            "{ analytics(from: \"2026-01-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { interestDays(interest: \"nope\") { day } } }",
            json!({}),
            "NOT_FOUND",
        ),
        (
            "a top list of 0",
            Some(&analyst),
            "{ analytics(from: \"2026-01-01T00:00:00Z\", to: \"2026-01-01T00:00:00Z\") { topPosts(first: 0) { postId } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
    ];
    for (what, token, query, variables, code) in cases {
        let mut client = match token {
            Some(t) => h.client_with(t),
            None => h.client(),
        };
        let answer = client.graphql(query, variables).await.expect("answer");
        assert_eq!(answer.error_code(), Some(code), "{what}: {}", answer.text);
    }
}
