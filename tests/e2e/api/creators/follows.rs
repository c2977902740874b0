//! Following creators: counts and lists as they change, and each refusal.

use super::*;

const PROFILE: &str = "query($h: String!) { user(handle: $h) {
  followerCount followingCount viewerFollows
  followers(first: 10) { edges { node { handle } } }
  following(first: 10) { edges { node { handle } } } } }";

/// The handles of a connection's nodes.
fn handles(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["handle"].as_str().expect("handle").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_follow_and_unfollow_a_creator_and_every_count_follows() {
    let h = Harness::start().await;
    let (carol, _) = creator(&h, "carol_makes").await;
    let (_ana, ana) = h.prime_member("ana_spark").await;
    let (_bob, bob) = h.prime_member("bob_buys").await;

    // When ana follows carol, she is answered carol with her new count, as ana sees her.
    let followed = ok(ask(&h, Some(&ana), FOLLOW, json!({ "c": carol })).await);
    assert_eq!(
        followed["follow"]["creator"],
        json!({ "id": carol, "followerCount": 1, "viewerFollows": true })
    );
    ok(ask(&h, Some(&bob), FOLLOW, json!({ "c": carol })).await);

    // Then carol's profile counts and lists both, the latest first, for anyone;
    let profile = ok(ask(&h, None, PROFILE, json!({ "h": "carol_makes" })).await)["user"].clone();
    assert_eq!(
        (&profile["followerCount"], &profile["followingCount"]),
        (&json!(2), &json!(0))
    );
    assert_eq!(profile["viewerFollows"], false, "signed out: false");
    assert_eq!(handles(&profile["followers"]), ["bob_buys", "ana_spark"]);
    // and ana's, the creator she follows.
    let ana_profile = ok(ask(&h, Some(&ana), PROFILE, json!({ "h": "ana_spark" })).await);
    assert_eq!(ana_profile["user"]["followingCount"], 1);
    assert_eq!(handles(&ana_profile["user"]["following"]), ["carol_makes"]);

    // Pages of one walk the followers once each.
    const PAGE: &str = "query($a: String) { user(handle: \"carol_makes\") {
      followers(first: 1, after: $a) { pageInfo { hasNextPage } edges { cursor node { handle } } } } }";
    let first = ok(ask(&h, None, PAGE, json!({ "a": null })).await)["user"]["followers"].clone();
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let cursor = first["edges"][0]["cursor"].clone();
    let second = ok(ask(&h, None, PAGE, json!({ "a": cursor })).await)["user"]["followers"].clone();
    assert_eq!(handles(&second), ["ana_spark"]);
    assert_eq!(second["pageInfo"]["hasNextPage"], false);

    // When ana unfollows, carol is down to one follower, and ana follows nobody.
    let unfollowed = ok(ask(&h, Some(&ana), UNFOLLOW, json!({ "c": carol })).await);
    assert_eq!(
        unfollowed["unfollow"]["creator"],
        json!({ "id": carol, "followerCount": 1, "viewerFollows": false })
    );
    let ana_profile = ok(ask(&h, Some(&ana), PROFILE, json!({ "h": "ana_spark" })).await);
    assert_eq!(ana_profile["user"]["followingCount"], 0);
    assert_eq!(
        handles(&ana_profile["user"]["following"]),
        Vec::<String>::new()
    );
}

/// Asserts `query` as `token` is refused with `code` and leaves the log head as it was.
async fn refused_untouched(
    h: &Harness,
    token: Option<&str>,
    query: &str,
    creator: &str,
    code: &str,
) {
    let before = h.head();
    let answer = ask(h, token, query, json!({ "c": creator })).await;
    refused(&answer, 200, code);
    assert_eq!(answer.body["data"], Value::Null, "{}", answer.text);
    assert_eq!(h.head(), before, "{code}: nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_follow_refusal_is_typed_and_writes_nothing() {
    let h = Harness::start().await;
    let (carol, carol_token) = creator(&h, "carol_makes").await;
    let (ana, ana_token) = h.prime_member("ana_spark").await;
    let (zoe, zoe_token) = h.prime_member("zoe_leaves").await;
    let (acme, _) = brand(&h, "acme_coffee", "Acme Coffee").await;
    let ana_t = Some(ana_token.as_str());
    ok(ask(&h, ana_t, FOLLOW, json!({ "c": carol })).await);
    ok(ask(
        &h,
        Some(&zoe_token),
        "mutation($u: ID!) { forgetMember(userId: $u) { position } }",
        json!({ "u": zoe }),
    )
    .await);

    refused_untouched(&h, ana_t, FOLLOW, &ana, "CANNOT_FOLLOW_SELF").await;
    refused_untouched(&h, ana_t, FOLLOW, &acme, "CANNOT_FOLLOW_BRAND").await;
    refused_untouched(&h, ana_t, FOLLOW, &carol, "ALREADY_FOLLOWING").await;
    refused_untouched(&h, Some(&carol_token), UNFOLLOW, &ana, "NOT_FOLLOWING").await;
    refused_untouched(&h, ana_t, FOLLOW, "unobody", "UNKNOWN_USER").await;
    refused_untouched(&h, ana_t, FOLLOW, &zoe, "UNKNOWN_USER").await;
    refused_untouched(&h, ana_t, FOLLOW, "not an id", "BAD_USER_INPUT").await;
    refused_untouched(&h, None, FOLLOW, &carol, "UNAUTHENTICATED").await;
    refused_untouched(&h, None, UNFOLLOW, &carol, "UNAUTHENTICATED").await;
}
