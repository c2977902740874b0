//! Retries are safe: every mutation that creates something takes an `idempotencyKey`; a
//! retry with the same key and arguments answers the first result and writes nothing, and
//! the same key with other arguments is `IDEMPOTENCY_CONFLICT`.

use serde_json::{Value, json};

use super::*;

/// Sends `query` with `variables` twice as `token` (None: signed out); asserts both
/// answers are equal and that the second wrote nothing. Answers the data.
async fn twice(h: &Harness, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut client = match token {
        Some(t) => h.client_with(t),
        None => h.client(),
    };
    let first = ok(client
        .graphql(query, variables.clone())
        .await
        .expect("first"));
    let head = h.head();
    let again = ok(client.graphql(query, variables).await.expect("retry"));
    assert_eq!(h.head(), head, "a retry with the same key writes nothing");
    assert_eq!(first, again, "a retry answers the first result");
    first
}

/// Asserts `query` is refused with `IDEMPOTENCY_CONFLICT` and writes nothing.
async fn conflicts(h: &Harness, token: Option<&str>, query: &str, variables: Value) {
    let mut client = match token {
        Some(t) => h.client_with(t),
        None => h.client(),
    };
    let head = h.head();
    let answer = client.graphql(query, variables).await.expect("answer");
    refused(&answer, 200, "IDEMPOTENCY_CONFLICT");
    assert_eq!(h.head(), head, "a conflict writes nothing");
}

const REGISTER: &str = "mutation($h: String!, $k: String) { registerUser(handle: $h, displayName: \"Dee\", idempotencyKey: $k) { position user { id handle } } }";
const COMMENT: &str = "mutation($p: ID!, $t: String!, $k: String) { comment(postId: $p, text: $t, idempotencyKey: $k) { position comment { id text } } }";
const SHARE: &str = "mutation($p: ID!, $k: String) { sharePost(postId: $p, channel: EMAIL, idempotencyKey: $k) { position post { id } } }";
const SMILE: &str = "mutation($p: ID!, $k: String) { smile(postId: $p, idempotencyKey: $k) { position post { smileCount viewerHasSmiled } } }";
const SPONSOR: &str = "mutation($input: CreateSponsorshipInput!) { createSponsorship(input: $input) { contractId position } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_creation_with_its_key_answers_the_first_result_and_writes_nothing() {
    let h = Harness::start().await;
    let (ana, token) = h.prime_member("ana_retries").await;

    // Registration: the key is the retry's only secret, so it must be long.
    let key = "3f1e0b9c-5d7a-4c2e-9a41-7b8e2d6f0c13";
    let first = twice(&h, None, REGISTER, json!({ "h": "dee_retries", "k": key })).await;
    assert_eq!(first["registerUser"]["user"]["handle"], "dee_retries");
    conflicts(&h, None, REGISTER, json!({ "h": "dee_other", "k": key })).await;
    let short = h
        .client()
        .graphql(REGISTER, json!({ "h": "dee_short", "k": "short" }))
        .await
        .expect("answer");
    refused(&short, 200, "VALIDATION");

    // A post: the same input and key is the same post; other input with it a conflict.
    let mut input = post_input("first light", "coffee", &[KETTLE]);
    input["idempotencyKey"] = json!("post-1");
    let data = twice(&h, Some(&token), PUBLISH, json!({ "input": input.clone() })).await;
    let post = data["publishPost"]["post"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    input["caption"] = json!("another caption");
    conflicts(&h, Some(&token), PUBLISH, json!({ "input": input })).await;
    // Without a key, every call is a new post (as before).
    let unkeyed = post_input("no key", "coffee", &[KETTLE]);
    let (a, _) = publish(&h, &token, unkeyed.clone()).await;
    let (b, _) = publish(&h, &token, unkeyed).await;
    assert_ne!(a, b);

    // A comment, a share, a smile.
    let data = twice(
        &h,
        Some(&token),
        COMMENT,
        json!({ "p": post, "t": "lovely", "k": "comment-1" }),
    )
    .await;
    assert_eq!(data["comment"]["comment"]["text"], "lovely");
    conflicts(
        &h,
        Some(&token),
        COMMENT,
        json!({ "p": post, "t": "changed my mind", "k": "comment-1" }),
    )
    .await;
    twice(
        &h,
        Some(&token),
        SHARE,
        json!({ "p": post, "k": "share-1" }),
    )
    .await;
    let smiled = twice(
        &h,
        Some(&token),
        SMILE,
        json!({ "p": post, "k": "smile-1" }),
    )
    .await;
    assert_eq!(smiled["smile"]["post"]["smileCount"], 1);
    // An unkeyed repeat of a smile is still refused as a repeat, writing nothing.
    let again = h
        .client_with(&token)
        .graphql(SMILE, json!({ "p": post, "k": null }))
        .await
        .expect("answer");
    refused(&again, 200, "ALREADY_SMILED");

    // Keys are scoped to their caller: Bob's "comment-1" is his own comment.
    let (_, bob) = h.prime_member("bob_retries").await;
    let bobs = ok(h
        .client_with(&bob)
        .graphql(COMMENT, json!({ "p": post, "t": "mine", "k": "comment-1" }))
        .await
        .expect("bob"));
    assert_ne!(
        bobs["comment"]["comment"]["id"],
        data["comment"]["comment"]["id"]
    );

    // A contract.
    h.grant(&ana, "ENTHUSIAST").await;
    let brand = ok(h
        .client_with(&h.admin)
        .graphql("mutation { registerBrand(handle: \"acme_retries\", brandName: \"Acme\", idempotencyKey: \"brand-1\") { user { id } } }", json!({}))
        .await
        .expect("brand"));
    let brand_token = h.token_for(brand["registerBrand"]["user"]["id"].as_str().expect("id"));
    let now = sparkfeed_events::Timestamp::now().0;
    let mut terms = json!({
        "enthusiastId": ana,
        "commissionBp": 1000,
        "startsAt": sparkfeed_api::time::format(now - 3_600_000_000),
        "endsAt": sparkfeed_api::time::format(now + 30 * 86_400_000_000),
        "idempotencyKey": "contract-1",
    });
    twice(
        &h,
        Some(&brand_token),
        SPONSOR,
        json!({ "input": terms.clone() }),
    )
    .await;
    terms["commissionBp"] = json!(2000);
    conflicts(&h, Some(&brand_token), SPONSOR, json!({ "input": terms })).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timestamp_that_cuts_a_character_is_bad_input_and_a_signed_out_caller_never_reaches_it() {
    let h = Harness::start().await;
    let (ana, _) = h.prime_member("ana_times").await;
    h.grant(&ana, "ENTHUSIAST").await;
    let brand = ok(h
        .client_with(&h.admin)
        .graphql("mutation { registerBrand(handle: \"acme_times\", brandName: \"Acme\") { user { id } } }", json!({}))
        .await
        .expect("brand"));
    let brand_token = h.token_for(brand["registerBrand"]["user"]["id"].as_str().expect("id"));
    let input = json!({ "input": {
        "enthusiastId": ana,
        "commissionBp": 1000,
        "startsAt": "2026-11-18T10:00:00é0:00",
        "endsAt": "2026-11-19T10:00:00+1é:0",
    } });
    let head = h.head();
    let anonymous = h
        .client()
        .graphql(SPONSOR, input.clone())
        .await
        .expect("answer");
    refused(&anonymous, 200, "UNAUTHENTICATED");
    let member = h
        .client_with(&h.token_for(&ana))
        .graphql(SPONSOR, input.clone())
        .await
        .expect("answer");
    refused(&member, 200, "FORBIDDEN");
    let bad = h
        .client_with(&brand_token)
        .graphql(SPONSOR, input)
        .await
        .expect("answer");
    refused(&bad, 200, "BAD_USER_INPUT");
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "startsAt");
    assert_eq!(h.head(), head);
    // The server is still up.
    ok(h.client()
        .graphql("{ interests { edges { node { slug } } } }", json!({}))
        .await
        .expect("answer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_retry_racing_its_first_send_answers_the_same_result() {
    let h = Harness::start().await;
    let (_, token) = h.prime_member("gus_races").await;
    let (post, _) = publish(&h, &token, post_input("race me", "coffee", &[KETTLE])).await;
    let mut input = post_input("twice at once", "coffee", &[KETTLE]);
    input["idempotencyKey"] = json!("race-post");
    for (query, variables) in [
        (SMILE, json!({ "p": post, "k": "race-smile" })),
        (SHARE, json!({ "p": post, "k": "race-share" })),
        (PUBLISH, json!({ "input": input })),
    ] {
        let head = h.head();
        let sends: Vec<_> = (0..4)
            .map(|_| {
                let mut client = h.client_with(&token);
                let variables = variables.clone();
                tokio::spawn(async move { client.graphql(query, variables).await.expect("answer") })
            })
            .collect();
        let mut answers = Vec::new();
        for send in sends {
            answers.push(ok(send.await.expect("joined")));
        }
        for answer in &answers[1..] {
            assert_eq!(answer, &answers[0], "{query}");
        }
        assert_eq!(h.head().len, head.len + 1, "{query}: written once");
    }
}
