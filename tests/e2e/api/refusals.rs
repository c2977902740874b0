//! Every refusal path over HTTP: a clear error with its code, and the log head unchanged.

use serde_json::json;
use sparkfeed_testkit::client::Answer;

use super::*;

type Headers<'a> = &'a [(&'a str, &'a str)];

/// Runs `attempt` and asserts it was refused with `status` and `code` and wrote nothing.
async fn refused_without_writing<F>(h: &Harness, status: u16, code: &str, attempt: F)
where
    F: std::future::Future<Output = Answer>,
{
    let before = h.head();
    let answer = attempt.await;
    refused(&answer, status, code);
    assert_eq!(
        h.head(),
        before,
        "a refusal appends nothing: {}",
        answer.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_without_a_token_is_unauthenticated() {
    let h = Harness::start().await;
    refused_without_writing(&h, 200, "UNAUTHENTICATED", async {
        h.client()
            .graphql(
                r#"mutation { chooseInterests(interests: ["coffee"]) { position } }"#,
                json!({}),
            )
            .await
            .expect("answer")
    })
    .await;
    refused_without_writing(&h, 200, "UNAUTHENTICATED", async {
        h.client()
            .graphql("{ homeFeed { edges { cursor } } }", json!({}))
            .await
            .expect("answer")
    })
    .await;
    // Public reads need no token.
    ok(h.client()
        .graphql("{ interests { edges { node { slug } } } }", json!({}))
        .await
        .expect("answer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_malformed_token_is_refused_with_401() {
    let h = Harness::start().await;
    let forged = Tokens::new(b"not the server's secret, 32+ bytes long")
        .expect("secret")
        .mint(
            &sparkfeed_testkit::ids::user("uadmin"),
            std::time::Duration::from_secs(60),
        );
    for token in [forged.as_str(), "not-a-jwt", ""] {
        refused_without_writing(&h, 401, "UNAUTHENTICATED", async {
            h.client_with(token)
                .graphql(
                    "mutation { addInterest(slug: \"garden\", name: \"Garden\") { position } }",
                    json!({}),
                )
                .await
                .expect("answer")
        })
        .await;
    }
    let basic = h
        .client()
        .request(
            "POST",
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("authorization", "Basic YWRtaW46YWRtaW4="),
            ],
            br#"{"query":"{ viewer { id } }"}"#.to_vec(),
        )
        .await
        .expect("answer");
    refused(&basic, 401, "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_auditor_and_admin_operations_need_their_role() {
    let h = Harness::start().await;
    let (ana, token) = h.prime_member("ana_spark").await;
    let mut member = h.client_with(&token);
    for query in [
        "{ events { edges { cursor } } }",
        "{ verifyLog { intact } }",
        "{ sponsorshipHistory(postId: \"p1\") { edges { cursor } } }",
    ] {
        refused_without_writing(&h, 200, "FORBIDDEN", async {
            member.graphql(query, json!({})).await.expect("answer")
        })
        .await;
    }
    // Nobody grants themselves a role or acts as the admin.
    refused_without_writing(&h, 200, "FORBIDDEN", async {
        member
            .graphql(
                "mutation($u: ID!) { grantRole(userId: $u, role: ADMIN) { position } }",
                json!({ "u": ana }),
            )
            .await
            .expect("answer")
    })
    .await;
    // A role granted in the log is in force on the next request, with the same token.
    h.grant(&ana, "ANALYST").await;
    ok(member
        .graphql("{ events(first: 1) { edges { cursor } } }", json!({}))
        .await
        .expect("answer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_cannot_change_another_members_post() {
    let h = Harness::start().await;
    let (_carol, carol) = h.prime_member("carol_brews").await;
    let (_bob, bob) = h.prime_member("bob_buys").await;
    let (post, _) = publish(&h, &carol, post_input("Mine", "coffee", &[KETTLE])).await;
    let mut bob = h.client_with(&bob);
    for mutation in [
        "mutation($p: ID!) { tagProduct(postId: $p, tag: { asin: \"B0COFFEE01\", x: 0.1, y: 0.1 }) { position } }",
        "mutation($p: ID!) { editCaption(postId: $p, caption: \"Bob's now\") { position } }",
    ] {
        refused_without_writing(&h, 200, "NOT_AUTHOR", async {
            bob.graphql(mutation, json!({ "p": post }))
                .await
                .expect("answer")
        })
        .await;
    }
    refused_without_writing(&h, 200, "FORBIDDEN", async {
        bob.graphql(
            "mutation($p: ID!) { removePost(postId: $p, reason: \"mine now\") { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("answer")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_over_the_cap_is_refused_not_clamped() {
    let h = Harness::start().await;
    for first in [51, -1] {
        let answer = h
            .client()
            .graphql(
                "query($n: Int) { feed(interest: \"coffee\", first: $n) { edges { cursor } } }",
                json!({ "n": first }),
            )
            .await
            .expect("answer");
        refused(&answer, 200, "BAD_USER_INPUT");
        assert_eq!(answer.body["errors"][0]["extensions"]["field"], "first");
    }
    let bad_cursor = h
        .client()
        .graphql(
            "{ feed(interest: \"coffee\", after: \"yesterday\") { edges { cursor } } }",
            json!({}),
        )
        .await
        .expect("answer");
    refused(&bad_cursor, 200, "BAD_USER_INPUT");
    let unknown = h
        .client()
        .graphql(
            "{ feed(interest: \"knitting\") { edges { cursor } } }",
            json!({}),
        )
        .await
        .expect("answer");
    refused(&unknown, 200, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_deep_or_too_complex_a_query_is_refused_before_it_runs() {
    let h = Harness::start().await;
    let mut deep = String::from("id");
    for _ in 0..5 {
        deep = format!("author {{ posts(first: 1) {{ edges {{ node {{ {deep} }} }} }} }}");
    }
    let deep =
        format!("{{ feed(interest: \"coffee\", first: 1) {{ edges {{ node {{ {deep} }} }} }} }}");
    refused_without_writing(&h, 200, "QUERY_TOO_DEEP", async {
        h.client().graphql(&deep, json!({})).await.expect("answer")
    })
    .await;
    let wide = "{ feed(interest: \"coffee\", first: 50) { edges { node { comments(first: 50) { edges { node { id text author { id handle } } } } } } } }";
    refused_without_writing(&h, 200, "QUERY_TOO_COMPLEX", async {
        h.client().graphql(wide, json!({})).await.expect("answer")
    })
    .await;
    // GraphiQL's introspection query (graphql-js 16) is within the limits.
    ok(h.client()
        .graphql(INTROSPECTION, json!({}))
        .await
        .expect("introspection"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused_with_a_json_error() {
    let h = Harness::start().await;
    let json_type = [("content-type", "application/json")];
    let cases: [(Headers, &[u8], u16, &str); 5] = [
        (&json_type, b"{\"query\": \"{ interests", 400, "BAD_REQUEST"),
        (
            &json_type,
            b"[{\"query\": \"{ viewer { id } }\"}]",
            400,
            "BAD_REQUEST",
        ),
        (&json_type, b"{\"variables\": {}}", 400, "BAD_REQUEST"),
        (
            &[("content-type", "text/plain")],
            b"{\"query\": \"{ viewer { id } }\"}",
            415,
            "BAD_REQUEST",
        ),
        (
            &json_type,
            b"{\"query\": \"{ viewer { id } \"}",
            200,
            "GRAPHQL_PARSE_FAILED",
        ),
    ];
    for (headers, body, status, code) in cases {
        refused_without_writing(&h, status, code, async {
            h.client()
                .request("POST", "/graphql", headers, body.to_vec())
                .await
                .expect("answer")
        })
        .await;
    }
    let unknown_field = h
        .client()
        .graphql("{ viewer { password } }", json!({}))
        .await
        .expect("answer");
    refused(&unknown_field, 200, "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_cap_is_refused_with_413() {
    let h = Harness::start().await;
    let (_carol, carol) = h.prime_member("carol_brews").await;
    let huge = "x".repeat(h.api.limits.max_body_bytes + 1);
    refused_without_writing(&h, 413, "PAYLOAD_TOO_LARGE", async {
        h.client_with(&carol)
            .graphql(
                PUBLISH,
                json!({ "input": post_input(&huge, "coffee", &[KETTLE]) }),
            )
            .await
            .expect("answer")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_refusals_carry_the_domains_code() {
    let h = Harness::start().await;
    let (_carol, carol) = h.prime_member("carol_brews").await;
    let (post, _) = publish(&h, &carol, post_input("Mine", "coffee", &[KETTLE])).await;
    let (_ana, ana) = h.prime_member("ana_spark").await;
    let mut ana = h.client_with(&ana);
    ok(ana
        .graphql(
            "mutation($p: ID!) { smile(postId: $p) { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("smile"));
    refused_without_writing(&h, 200, "ALREADY_SMILED", async {
        ana.graphql(
            "mutation($p: ID!) { smile(postId: $p) { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("answer")
    })
    .await;
    refused_without_writing(&h, 200, "TOO_MANY_INTERESTS", async {
        h.client_with(&carol)
            .graphql(r#"mutation { chooseInterests(interests: ["coffee", "fitness", "a", "b", "c", "d"]) { position } }"#, json!({}))
            .await
            .expect("answer")
    })
    .await;
    refused_without_writing(&h, 200, "NOT_TAGGED", async {
        ana.graphql(
            "mutation($p: ID!) { buy(input: { postId: $p, asin: \"B0FITNES01\", idempotencyKey: \"k\" }) { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("answer")
    })
    .await;
    // Registered but not Prime: may read, may not smile.
    let fresh = ok(h
        .client()
        .graphql(
            "mutation { registerUser(handle: \"newbie\", displayName: \"New\") { token } }",
            json!({}),
        )
        .await
        .expect("register"));
    let newbie = fresh["registerUser"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    refused_without_writing(&h, 200, "NOT_PRIME", async {
        h.client_with(&newbie)
            .graphql(
                "mutation($p: ID!) { smile(postId: $p) { position } }",
                json!({ "p": post }),
            )
            .await
            .expect("answer")
    })
    .await;
    refused_without_writing(&h, 200, "HANDLE_TAKEN", async {
        h.client()
            .graphql(
                "mutation { registerUser(handle: \"newbie\", displayName: \"Other\") { token } }",
                json!({}),
            )
            .await
            .expect("answer")
    })
    .await;
}

/// graphql-js 16's `getIntrospectionQuery()`, as GraphiQL sends it.
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}";
