//! Hostile input over real HTTP and WebSocket: every bad request is answered with its code
//! and status, the server stays up, nothing panics, and the log head does not move.
//!
//! A table of hand-written cases, then one generated case per string argument of the
//! schema (found by introspection) for each hostile string.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sparkfeed_testkit::client::{Answer, Subscriber};

use super::*;

/// Panics raised outside the tests' own files since the hook was installed: a panic in the
/// server's code (a resolver, the router, the projections) counts; a failing assertion of a
/// test does not.
fn count_server_panics() -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_tests = info
            .location()
            .is_some_and(|l| l.file().starts_with("tests/") || l.file().contains("/tests/"));
        if !in_tests {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
    count
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            let index = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
            out.push(char::from(ALPHABET[index]));
        }
    }
    out
}

/// A JWT with `header` and `claims`, signed HS256 with `secret` (or unsigned when `None`).
fn jwt(header: Value, claims: Value, secret: Option<&[u8]>) -> String {
    let signing = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let signature = match secret {
        Some(secret) => {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac key");
            mac.update(signing.as_bytes());
            b64url(&mac.finalize().into_bytes())
        }
        None => String::new(),
    };
    format!("{signing}.{signature}")
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One bad request and what it must be answered with.
struct Case {
    name: String,
    token: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

fn gql(name: &str, token: Option<&str>, query: &str, variables: Value) -> Case {
    Case {
        name: name.to_owned(),
        token: token.map(str::to_owned),
        content_type: Some("application/json"),
        body: serde_json::to_vec(&json!({ "query": query, "variables": variables })).expect("json"),
        status: 200,
        code: "",
    }
}

fn raw(name: &str, content_type: Option<&'static str>, body: &[u8]) -> Case {
    Case {
        name: name.to_owned(),
        token: None,
        content_type,
        body: body.to_vec(),
        status: 400,
        code: "BAD_REQUEST",
    }
}

impl Case {
    fn answers(mut self, status: u16, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }
}

/// Every code an error of `answer` carries.
fn codes(answer: &Answer) -> Vec<String> {
    answer.body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn send(h: &Harness, case: &Case) -> Answer {
    let mut client = h.client();
    client.set_token(case.token.clone());
    let headers: Vec<(&str, &str)> = case
        .content_type
        .map(|c| vec![("content-type", c)])
        .unwrap_or_default();
    client
        .request("POST", "/graphql", &headers, case.body.clone())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{}: no answer ({e}): the server dropped the request",
                case.name
            )
        })
}

/// The hostile strings sent in every string argument.
fn hostile_strings() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("nul bytes", "a\u{0}b\u{0}".to_owned()),
        (
            "right-to-left override",
            "\u{202e}gnp.exe\u{202c}".to_owned(),
        ),
        ("combining marks", format!("e{}", "\u{301}".repeat(200))),
        ("emoji", "😀👍🏽👩‍👩‍👧‍👦🇺🇳".to_owned()),
        ("40 KB", "x".repeat(40 * 1024)),
        (
            "quotes and markup",
            "\"'<script>alert(1)</script>{{}}\\".to_owned(),
        ),
        ("sql", "'; DROP TABLE posts; --".to_owned()),
        ("path", "../../../../etc/passwd".to_owned()),
        ("number-like", "18446744073709551616".to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_answered_with_their_code_and_change_nothing() {
    let panics = count_server_panics();
    let h = Harness::start().await;
    let (ana, ana_token) = h.prime_member("ana_hostile").await;
    let (bob, bob_token) = h.prime_member("bob_hostile").await;
    h.grant(&ana, "ENTHUSIAST").await;
    let (ana_post, _) = publish(&h, &ana_token, post_input("mine", "coffee", &[KETTLE])).await;
    let comment = ok(h
        .client_with(&ana_token)
        .graphql(
            "mutation($p: ID!) { comment(postId: $p, text: \"first\") { comment { id } } }",
            json!({ "p": ana_post }),
        )
        .await
        .expect("comment"));
    let ana_comment = comment["comment"]["comment"]["id"].clone();
    let brand = ok(h
        .client_with(&h.admin)
        .graphql("mutation { registerBrand(handle: \"acme_hostile\", brandName: \"Acme\") { user { id } } }", json!({}))
        .await
        .expect("brand"));
    let brand_token = h.token_for(brand["registerBrand"]["user"]["id"].as_str().expect("id"));
    let now = sparkfeed_events::Timestamp::now().0;
    let contract = ok(h
        .client_with(&brand_token)
        .graphql(
            "mutation($i: CreateSponsorshipInput!) { createSponsorship(input: $i) { contractId } }",
            json!({ "i": {
                "enthusiastId": ana, "commissionBp": 500,
                "startsAt": sparkfeed_api::time::format(now - 3_600_000_000),
                "endsAt": sparkfeed_api::time::format(now + 86_400_000_000),
            } }),
        )
        .await
        .expect("contract"));
    let ana_contract = contract["createSponsorship"]["contractId"].clone();
    let events_cursor = ok(h
        .client_with(&h.admin)
        .graphql(
            "{ feed(interest: \"coffee\", first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await
        .expect("cursor"))["feed"]["edges"][0]["cursor"]
        .clone();

    let admin = Some(h.admin.as_str());
    let ana_t = Some(ana_token.as_str());
    let bob_t = Some(bob_token.as_str());
    let brand_t = Some(brand_token.as_str());
    let other_secret = b"another server's secret, 32+ bytes long";
    let claims =
        |exp: u64| json!({ "sub": bob, "iss": "sparkfeed", "iat": now_secs(), "exp": exp });
    let hs256 = json!({ "alg": "HS256", "typ": "JWT" });
    let later = now_secs() + 3600;
    let feed = |first: &str, after: &str| {
        format!("{{ feed(interest: \"coffee\", first: {first}{after}) {{ edges {{ cursor }} }} }}")
    };
    let mut deep = "edges { cursor }".to_owned();
    for _ in 0..5 {
        deep = format!("edges {{ node {{ author {{ posts(first: 1) {{ {deep} }} }} }} }}");
    }
    let deep = format!("{{ feed(interest: \"coffee\", first: 1) {{ {deep} }} }}");
    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: interests(first: 50) {{ edges {{ node {{ slug name }} }} }} "))
        .collect();
    let mut nested = "name".to_owned();
    for _ in 0..12 {
        nested = format!("ofType {{ {nested} }}");
    }
    let introspection_deep =
        format!("{{ __schema {{ types {{ fields {{ type {{ {nested} }} }} }} }} }}");
    let introspection_wide: String = (0..300)
        .map(|i| {
            format!("s{i}: __schema {{ types {{ name fields {{ name args {{ name }} }} }} }} ")
        })
        .collect();
    let spread_introspection = format!(
        "{{ {} }} fragment F on Query {{ a: __schema {{ types {{ name }} }} b: __type(name: \"Post\") {{ name }} }}",
        (0..250)
            .map(|i| format!("x{i}: interests(first: 1) {{ __typename }} ...F"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let braces = format!("{}{}", "{a".repeat(20_000), "}".repeat(20_000));
    // A chain of fragments, each 60 inline fragments deep (the parser allows 64 within
    // one), about 10,000 levels in all under the body limit.
    let fragment_chain: String = (0..170)
        .map(|i| {
            format!(
                "fragment c{i} on Query{{{}...c{}{}}}",
                "...{".repeat(60),
                i + 1,
                "}".repeat(60)
            )
        })
        .chain(["fragment c170 on Query{__typename}".to_owned()])
        .collect();
    let fragment_chain = format!("{{...c0}}{fragment_chain}");
    // 30 fragments, each spreading the next twice: 2^30 selections once expanded, within
    // the depth limit, in under a kilobyte.
    let fragment_doubling: String = (0..30)
        .map(|i| format!("fragment d{i} on Query{{...d{} ...d{}}}", i + 1, i + 1))
        .chain(["fragment d30 on Query{__typename}".to_owned()])
        .collect();
    let fragment_doubling = format!("{{...d0}}{fragment_doubling}");
    let batch = serde_json::to_vec(&vec![
        json!({ "query": "{ interests { edges { cursor } } }" });
        2_000
    ])
    .expect("json");

    // Their costs multiply past usize::MAX: refused as too complex, never an overflow.
    let nested_pages = "{ user(handle: \"x\") { followers(first: 2147483647) { edges { node { \
        followers(first: 2147483647) { edges { node { followers(first: 2147483647) { edges { \
        node { id } } } } } } } } } } }";

    let mut cases = vec![
        // The body.
        raw("malformed json", Some("application/json"), b"{\"query\": "),
        raw("truncated json", Some("application/json"), b"{\"query\": \"{ interests { edges"),
        raw("not json", Some("application/json"), b"hello"),
        raw("json null", Some("application/json"), b"null"),
        raw("json number", Some("application/json"), b"42"),
        raw("query of the wrong type", Some("application/json"), b"{\"query\": 5}"),
        raw("variables of the wrong type", Some("application/json"), b"{\"query\": \"{ interests { edges { cursor } } }\", \"variables\": \"x\"}"),
        raw("invalid utf-8", Some("application/json"), b"{\"query\": \"\xff\xfe{ interests }\"}"),
        raw("a lone surrogate", Some("application/json"), b"{\"query\": \"{ interests(after: \\\"\\ud800\\\") { edges { cursor } } }\"}"),
        raw("an empty body", Some("application/json"), b""),
        raw("an empty query", Some("application/json"), b"{\"query\": \"   \"}"),
        raw("a batch flood", Some("application/json"), &batch).answers(413, "PAYLOAD_TOO_LARGE"),
        raw("a small batch", Some("application/json"), b"[{\"query\": \"{ interests { edges { cursor } } }\"}]"),
        raw("text/plain", Some("text/plain"), b"{\"query\": \"{ interests { edges { cursor } } }\"}").answers(415, "BAD_REQUEST"),
        raw("no content type", None, b"{\"query\": \"{ interests { edges { cursor } } }\"}").answers(415, "BAD_REQUEST"),
        raw("form encoded", Some("application/x-www-form-urlencoded"), b"query=%7B%7D").answers(415, "BAD_REQUEST"),
        raw("1 MB body", Some("application/json"), &[b' '; 1 << 20]).answers(413, "PAYLOAD_TOO_LARGE"),
        gql("1 MB string", None, "query($s: String!) { user(handle: $s) { id } }", json!({ "s": "x".repeat(1 << 20) })).answers(413, "PAYLOAD_TOO_LARGE"),
        // The document.
        gql("a syntax error", None, "{ interests { edges ", json!({})).answers(200, "GRAPHQL_PARSE_FAILED"),
        gql("nul bytes in the document", None, "{ interests\u{0} { edges { cursor } } }", json!({})).answers(200, "GRAPHQL_PARSE_FAILED"),
        gql("an unknown field", None, "{ nope }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("an unknown argument", None, "{ interests(bogus: 1) { edges { cursor } } }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("an argument of the wrong type", None, "{ feed(interest: 5) { edges { cursor } } }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a variable of the wrong type", None, "query($n: Int) { interests(first: $n) { edges { cursor } } }", json!({ "n": "many" })).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("an undeclared variable", None, "{ interests(first: $n) { edges { cursor } } }", json!({ "n": 1 })).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        raw("an unknown operation name", Some("application/json"), b"{\"query\": \"query A { interests { edges { cursor } } }\", \"operationName\": \"B\"}").answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a fragment cycle", None, "{ interests { ...A } } fragment A on InterestConnection { ...B } fragment B on InterestConnection { ...A }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a deep query", None, &deep, json!({})).answers(200, "QUERY_TOO_DEEP"),
        gql("a thousand aliases", None, &format!("{{ {aliases} }}"), json!({})).answers(200, "QUERY_TOO_COMPLEX"),
        gql("deep introspection", None, &introspection_deep, json!({})).answers(200, "QUERY_TOO_DEEP"),
        gql("wide introspection", None, &format!("{{ {introspection_wide} }}"), json!({})).answers(200, "QUERY_TOO_COMPLEX"),
        gql("introspection through 250 fragment spreads", None, &spread_introspection, json!({})).answers(200, "QUERY_TOO_COMPLEX"),
        gql("20,000 nested braces", None, &braces, json!({})).answers(200, "GRAPHQL_PARSE_FAILED"),
        gql("10,000 levels through a chain of fragments", None, &fragment_chain, json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("2^30 selections through fragments spread twice", None, &fragment_doubling, json!({})).answers(200, "QUERY_TOO_COMPLEX"),
        gql("a subscription over HTTP", None, "subscription { feedUpdates(interest: \"coffee\") { id } }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        // Paging.
        gql("first: -1", None, &feed("-1", ""), json!({})).answers(200, "BAD_USER_INPUT"),
        gql("first: 51", None, &feed("51", ""), json!({})).answers(200, "BAD_USER_INPUT"),
        gql("first: 2^31-1", None, &feed("2147483647", ""), json!({})).answers(200, "QUERY_TOO_COMPLEX"),
        gql("first: 2^31", None, &feed("2147483648", ""), json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("three nested pages of first: 2^31-1", None, nested_pages, json!({})).answers(200, "QUERY_TOO_COMPLEX"),
        gql("first: 1e3", None, &feed("1.5", ""), json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a forged cursor", None, &feed("5", ", after: \"bm90IGEgY3Vyc29y\""), json!({})).answers(200, "BAD_USER_INPUT"),
        gql("a cursor past u64", None, &feed("5", ", after: \"18446744073709551616\""), json!({})).answers(200, "BAD_USER_INPUT"),
        gql("an emoji cursor", None, &feed("5", ", after: \"😀\""), json!({})).answers(200, "BAD_USER_INPUT"),
        gql("events after u64::MAX", admin, "{ events(after: \"18446744073709551615\", first: 5) { edges { cursor } } }", json!({})).answers(200, ""),
        gql("events first: 501", admin, "{ events(first: 501) { edges { cursor } } }", json!({})).answers(200, "BAD_USER_INPUT"),
        gql("a cursor of another connection", None, &feed("5", &format!(", after: {events_cursor}")), json!({})).answers(200, ""),
        // Tokens.
        Case { token: Some(jwt(hs256.clone(), claims(later), Some(other_secret))), ..gql("signed with another key", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some(jwt(hs256.clone(), claims(now_secs() - 3600), Some(super::SECRET))), ..gql("expired", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some(jwt(json!({ "alg": "none", "typ": "JWT" }), claims(later), None)), ..gql("alg: none", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some(jwt(json!({ "alg": "RS256", "typ": "JWT" }), claims(later), Some(super::SECRET))), ..gql("alg: RS256", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some(jwt(hs256.clone(), json!({ "sub": bob, "iss": "someone-else", "exp": later }), Some(super::SECRET))), ..gql("another issuer", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some(jwt(hs256.clone(), json!({ "sub": "../uadmin", "iss": "sparkfeed", "exp": later }), Some(super::SECRET))), ..gql("a subject that is no user id", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some(jwt(hs256.clone(), json!({ "sub": bob, "iss": "sparkfeed" }), Some(super::SECRET))), ..gql("no expiry", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some("a.b.c".into()), ..gql("garbage", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        Case { token: Some("😀".into()), ..gql("an emoji token", None, "{ viewer { id } }", json!({})) }.answers(401, "UNAUTHENTICATED"),
        // Signed out, or signed in as someone without the right.
        gql("signed out, a timestamp that cuts a character", None, "mutation { createSponsorship(input: { enthusiastId: \"u1\", commissionBp: 5, startsAt: \"2026-11-18T10:00:00é0:00\", endsAt: \"x\" }) { contractId } }", json!({})).answers(200, "UNAUTHENTICATED"),
        gql("a brand, a timestamp that cuts a character", brand_t, "mutation($e: ID!) { createSponsorship(input: { enthusiastId: $e, commissionBp: 5, startsAt: \"2026-11-18T10:00:00é0:00\", endsAt: \"x\" }) { contractId } }", json!({ "e": ana })).answers(200, "BAD_USER_INPUT"),
        gql("a brand, a timestamp as a number", brand_t, "mutation($e: ID!) { createSponsorship(input: { enthusiastId: $e, commissionBp: 5, startsAt: 1795000000, endsAt: \"2027-01-01T00:00:00Z\" }) { contractId } }", json!({ "e": ana })).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("signed out, a malformed id", None, "mutation { smile(postId: \"../../etc\") { position } }", json!({})).answers(200, "UNAUTHENTICATED"),
        gql("signed out, publishes", None, PUBLISH, json!({ "input": post_input("x", "coffee", &[]) })).answers(200, "UNAUTHENTICATED"),
        gql("a member adds an interest", bob_t, "mutation { addInterest(slug: \"garden\", name: \"Garden\") { position } }", json!({})).answers(200, "FORBIDDEN"),
        gql("a member starts Prime", bob_t, "mutation($u: ID!) { startPrime(userId: $u) { position } }", json!({ "u": bob })).answers(200, "FORBIDDEN"),
        gql("a member grants a role", bob_t, "mutation($u: ID!) { grantRole(userId: $u, role: ADMIN) { position } }", json!({ "u": bob })).answers(200, "FORBIDDEN"),
        gql("a member registers a brand", bob_t, "mutation { registerBrand(handle: \"bobco\", brandName: \"Bob\") { position } }", json!({})).answers(200, "FORBIDDEN"),
        gql("a member lists a product", bob_t, "mutation { listProduct(input: { asin: \"B0NEWPROD1\", title: \"t\", price: { cents: 1 }, imageUrl: \"https://x\", interests: [\"coffee\"] }) { position } }", json!({})).answers(200, "FORBIDDEN"),
        gql("a member reads the log", bob_t, "{ events(first: 1) { edges { cursor } } }", json!({})).answers(200, "FORBIDDEN"),
        gql("a member opens a contract", bob_t, "mutation($e: ID!) { createSponsorship(input: { enthusiastId: $e, commissionBp: 5, startsAt: \"2026-01-01T00:00:00Z\", endsAt: \"2027-01-01T00:00:00Z\" }) { contractId } }", json!({ "e": ana })).answers(200, "FORBIDDEN"),
        gql("a brand publishes", brand_t, PUBLISH, json!({ "input": post_input("x", "coffee", &[]) })).answers(200, "BRANDS_CANNOT_POST"),
        gql("a short client key, signed out", None, "mutation { registerUser(handle: \"short_key\", displayName: \"x\", idempotencyKey: \"fifteen-chars-k\") { position } }", json!({})).answers(200, "VALIDATION"),
        // Another member's ids.
        gql("edits another's caption", bob_t, "mutation($p: ID!) { editCaption(postId: $p, caption: \"mine now\") { position } }", json!({ "p": ana_post })).answers(200, "NOT_AUTHOR"),
        gql("tags another's post", bob_t, &format!("mutation($p: ID!) {{ tagProduct(postId: $p, tag: {{ asin: \"{COFFEE_GRINDER}\", x: 0.1, y: 0.1 }}) {{ position }} }}"), json!({ "p": ana_post })).answers(200, "NOT_AUTHOR"),
        gql("untags another's post", bob_t, &format!("mutation($p: ID!) {{ untagProduct(postId: $p, asin: \"{KETTLE}\") {{ position }} }}"), json!({ "p": ana_post })).answers(200, "NOT_AUTHOR"),
        gql("removes another's post", bob_t, "mutation($p: ID!) { removePost(postId: $p, reason: \"spite\") { position } }", json!({ "p": ana_post })).answers(200, "FORBIDDEN"),
        gql("removes another's comment", bob_t, "mutation($c: ID!) { removeComment(commentId: $c) { position } }", json!({ "c": ana_comment })).answers(200, "FORBIDDEN"),
        gql("ends another's contract", bob_t, "mutation($k: ID!) { endSponsorship(contractId: $k, reason: \"x\") { position } }", json!({ "k": ana_contract })).answers(200, "NOT_PARTY_TO_CONTRACT"),
        gql("posts under another's contract", bob_t, PUBLISH, json!({ "input": { "media": [{ "url": "https://img.example/p.jpg", "width": 1, "height": 1 }], "interests": ["coffee"], "contractId": ana_contract } })).answers(200, "NOT_PARTY_TO_CONTRACT"),
        gql("unsmiles what was never smiled", bob_t, "mutation($p: ID!) { unsmile(postId: $p) { position } }", json!({ "p": ana_post })).answers(200, "NOT_SMILED"),
        // Bad values in mutations.
        gql("an unknown post", ana_t, "mutation { smile(postId: \"pnothere\") { position } }", json!({})).answers(200, "UNKNOWN_POST"),
        gql("an id with capitals", ana_t, "mutation { smile(postId: \"PNOTHERE\") { position } }", json!({})).answers(200, "BAD_USER_INPUT"),
        gql("an emoji id", ana_t, "mutation { smile(postId: \"😀\") { position } }", json!({})).answers(200, "BAD_USER_INPUT"),
        gql("a 41-character id", ana_t, &format!("mutation {{ smile(postId: \"{}\") {{ position }} }}", "p".repeat(41)), json!({})).answers(200, "BAD_USER_INPUT"),
        gql("a lowercase ASIN", ana_t, "mutation($p: ID!) { buy(input: { postId: $p, asin: \"b0coffee02\", idempotencyKey: \"k\" }) { position } }", json!({ "p": ana_post })).answers(200, "BAD_USER_INPUT"),
        gql("quantity 0", ana_t, &format!("mutation($p: ID!) {{ buy(input: {{ postId: $p, asin: \"{KETTLE}\", quantity: 0, idempotencyKey: \"q0\" }}) {{ position }} }}"), json!({ "p": ana_post })).answers(200, "VALIDATION"),
        gql("quantity 300", ana_t, &format!("mutation($p: ID!) {{ buy(input: {{ postId: $p, asin: \"{KETTLE}\", quantity: 300, idempotencyKey: \"q300\" }}) {{ position }} }}"), json!({ "p": ana_post })).answers(200, "BAD_USER_INPUT"),
        gql("an empty idempotency key", ana_t, &format!("mutation($p: ID!) {{ buy(input: {{ postId: $p, asin: \"{KETTLE}\", idempotencyKey: \"\" }}) {{ position }} }}"), json!({ "p": ana_post })).answers(200, "VALIDATION"),
        gql("a 101-character client key", ana_t, "mutation($p: ID!, $k: String) { smile(postId: $p, idempotencyKey: $k) { position } }", json!({ "p": ana_post, "k": "k".repeat(101) })).answers(200, "VALIDATION"),
        gql("a tag off the picture", ana_t, &format!("mutation($p: ID!) {{ tagProduct(postId: $p, tag: {{ asin: \"{COFFEE_GRINDER}\", x: 1.5, y: -0.1 }}) {{ position }} }}"), json!({ "p": ana_post })).answers(200, "VALIDATION"),
        gql("a tag at x: 1e39", ana_t, &format!("mutation($p: ID!) {{ tagProduct(postId: $p, tag: {{ asin: \"{COFFEE_GRINDER}\", x: 1e39, y: 0 }}) {{ position }} }}"), json!({ "p": ana_post })).answers(200, "VALIDATION"),
        gql("a tag on medium 255", ana_t, &format!("mutation($p: ID!) {{ tagProduct(postId: $p, tag: {{ asin: \"{COFFEE_GRINDER}\", mediaIndex: 255, x: 0.5, y: 0.5 }}) {{ position }} }}"), json!({ "p": ana_post })).answers(200, "VALIDATION"),
        gql("a javascript: media URL", ana_t, PUBLISH, json!({ "input": { "media": [{ "url": "javascript:alert(1)", "width": 1, "height": 1 }], "interests": ["coffee"] } })).answers(200, "VALIDATION"),
        gql("zero-sized media", ana_t, PUBLISH, json!({ "input": { "media": [{ "url": "https://img.example/p.jpg", "width": 0, "height": 0 }], "interests": ["coffee"] } })).answers(200, "VALIDATION"),
        gql("negative width", ana_t, PUBLISH, json!({ "input": { "media": [{ "url": "https://img.example/p.jpg", "width": -1, "height": 1 }], "interests": ["coffee"] } })).answers(200, "BAD_USER_INPUT"),
        gql("no media", ana_t, PUBLISH, json!({ "input": { "media": [], "interests": ["coffee"] } })).answers(200, "VALIDATION"),
        gql("eleven media", ana_t, PUBLISH, json!({ "input": { "media": vec![json!({ "url": "https://img.example/p.jpg", "width": 1, "height": 1 }); 11], "interests": ["coffee"] } })).answers(200, "VALIDATION"),
        gql("a 2,201-character caption", ana_t, PUBLISH, json!({ "input": { "caption": "c".repeat(2201), "media": [{ "url": "https://img.example/p.jpg", "width": 1, "height": 1 }], "interests": ["coffee"] } })).answers(200, "VALIDATION"),
        gql("an unknown interest", ana_t, "mutation { chooseInterests(interests: [\"knitting\"]) { position } }", json!({})).answers(200, "UNKNOWN_INTEREST"),
        gql("six interests", ana_t, "mutation { chooseInterests(interests: [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]) { position } }", json!({})).answers(200, "TOO_MANY_INTERESTS"),
        gql("an emoji interest", ana_t, "mutation { chooseInterests(interests: [\"☕\"]) { position } }", json!({})).answers(200, "BAD_USER_INPUT"),
        gql("an emoji handle", None, "mutation { registerUser(handle: \"😀😀😀\", displayName: \"x\") { position } }", json!({})).answers(200, "BAD_USER_INPUT"),
        gql("a taken handle", None, "mutation { registerUser(handle: \"ana_hostile\", displayName: \"x\") { position } }", json!({})).answers(200, "HANDLE_TAKEN"),
        gql("a price of 10^15 cents", admin, "mutation { repriceProduct(asin: \"B0COFFEE02\", price: { cents: 1000000000000000 }) { position } }", json!({})).answers(200, "VALIDATION"),
        gql("a price of u64::MAX", admin, "mutation { repriceProduct(asin: \"B0COFFEE02\", price: { cents: 18446744073709551615 }) { position } }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a price past u64", admin, "mutation { repriceProduct(asin: \"B0COFFEE02\", price: { cents: 18446744073709551616 }) { position } }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a price of 10^15 cents as a decimal string", admin, "mutation { repriceProduct(asin: \"B0COFFEE02\", price: { cents: \"1000000000000000\" }) { position } }", json!({})).answers(200, "VALIDATION"),
        gql("a negative price as a decimal string", admin, "mutation { repriceProduct(asin: \"B0COFFEE02\", price: { cents: \"-1\" }) { position } }", json!({})).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a price of 2^63 in a variable", admin, "mutation($c: Int64!) { repriceProduct(asin: \"B0COFFEE02\", price: { cents: $c }) { position } }", json!({ "c": "9223372036854775808" })).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("a price of 2.5 cents", admin, "mutation($c: Int64!) { repriceProduct(asin: \"B0COFFEE02\", price: { cents: $c }) { position } }", json!({ "c": 2.5 })).answers(200, "GRAPHQL_VALIDATION_FAILED"),
        gql("an unknown currency", admin, "mutation { repriceProduct(asin: \"B0COFFEE02\", price: { cents: 100, currency: \"€€€\" }) { position } }", json!({})).answers(200, "BAD_USER_INPUT"),
        gql("a re-buy window of 200,000,000 days", admin, "mutation { addInterest(slug: \"forever\", name: \"Forever\", rebuyWindowDays: 200000000) { position } }", json!({})).answers(200, "VALIDATION"),
    ];
    // Every case above is refused unless its code is empty (answered, maybe with data).
    assert!(cases.len() >= 80, "{} cases", cases.len());

    let head = h.head();
    let mut checked = 0;
    for case in cases.drain(..) {
        let answer = send(&h, &case).await;
        assert_eq!(
            answer.status,
            case.status,
            "{}: {}",
            case.name,
            answer.text.chars().take(400).collect::<String>()
        );
        let found = codes(&answer);
        if case.code.is_empty() {
            assert!(found.is_empty(), "{}: {}", case.name, answer.text);
        } else {
            assert!(
                found.iter().any(|c| c == case.code),
                "{}: expected {}, got {found:?}: {}",
                case.name,
                case.code,
                answer.text.chars().take(400).collect::<String>()
            );
        }
        assert_eq!(h.head(), head, "{} wrote to the log", case.name);
        checked += 1;
    }
    // Still up.
    ok(h.client()
        .graphql("{ interests { edges { node { slug } } } }", json!({}))
        .await
        .expect("the server is up"));
    assert_eq!(panics.load(Ordering::SeqCst), 0, "the server panicked");
    eprintln!("hostile input: {checked} table cases answered with their codes");
}

/// A placeholder value of a GraphQL input type (from introspection), or `None` when the
/// type is not one this test can fill.
fn placeholder(types: &Value, ty: &Value) -> Option<Value> {
    match ty["kind"].as_str()? {
        "NON_NULL" => placeholder(types, &ty["ofType"]),
        "LIST" => Some(json!([placeholder(types, &ty["ofType"])?])),
        "SCALAR" => Some(match ty["name"].as_str()? {
            "Int" => json!(1),
            "Float" => json!(0.5),
            "Boolean" => json!(false),
            "ID" => json!("p00001"),
            _ => json!("coffee"),
        }),
        "ENUM" => {
            let name = ty["name"].as_str()?;
            let found = types.as_array()?.iter().find(|t| t["name"] == name)?;
            Some(found["enumValues"][0]["name"].clone())
        }
        "INPUT_OBJECT" => {
            let name = ty["name"].as_str()?;
            let found = types.as_array()?.iter().find(|t| t["name"] == name)?;
            let mut object = serde_json::Map::new();
            for field in found["inputFields"].as_array()? {
                object.insert(
                    field["name"].as_str()?.to_owned(),
                    placeholder(types, &field["type"])?,
                );
            }
            Some(Value::Object(object))
        }
        _ => None,
    }
}

/// The type's GraphQL spelling (`[String!]!`).
fn spelled(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", spelled(&ty["ofType"])),
        Some("LIST") => format!("[{}]", spelled(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap_or("String").to_owned(),
    }
}

/// Paths (within an argument's value) of every string leaf: `[]` for a string argument,
/// `["caption"]` for a field of an input object, `[0]`-free (lists get their first item).
fn string_paths(
    value: &Value,
    ty: &Value,
    types: &Value,
    path: Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    match ty["kind"].as_str() {
        Some("NON_NULL") => string_paths(value, &ty["ofType"], types, path, out),
        Some("LIST") => {
            let mut inner = path;
            inner.push("0".into());
            string_paths(&value[0], &ty["ofType"], types, inner, out);
        }
        Some("SCALAR") if matches!(ty["name"].as_str(), Some("String" | "ID")) => out.push(path),
        Some("INPUT_OBJECT") => {
            let name = ty["name"].as_str().unwrap_or("");
            if let Some(found) = types
                .as_array()
                .and_then(|t| t.iter().find(|t| t["name"] == name))
            {
                for field in found["inputFields"].as_array().into_iter().flatten() {
                    let key = field["name"].as_str().unwrap_or("").to_owned();
                    let mut inner = path.clone();
                    inner.push(key.clone());
                    string_paths(&value[&key], &field["type"], types, inner, out);
                }
            }
        }
        _ => {}
    }
}

fn set_path(value: &mut Value, path: &[String], leaf: Value) {
    match path.split_first() {
        None => *value = leaf,
        Some((head, rest)) => {
            let slot = match head.parse::<usize>() {
                Ok(i) => &mut value[i],
                Err(_) => &mut value[head.as_str()],
            };
            set_path(slot, rest, leaf);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_string_argument_of_the_schema_takes_hostile_strings_without_a_panic() {
    let panics = count_server_panics();
    let h = Harness::start().await;
    let (_, token) = h.prime_member("cy_hostile").await;
    let schema = ok(h
        .client()
        .graphql(
            "{ __schema { types { name kind enumValues { name } inputFields { name type { ...T } }
               fields { name type { ...T } args { name type { ...T } } } } } }
             fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }",
            json!({}),
        )
        .await
        .expect("introspection"));
    let types = &schema["__schema"]["types"];
    let mut generated = 0usize;
    for (root, keyword) in [("Query", "query"), ("Mutation", "mutation")] {
        let fields = types
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == root))
            .map(|t| t["fields"].clone())
            .expect("root type");
        for field in fields.as_array().into_iter().flatten() {
            let name = field["name"].as_str().expect("name");
            let args = field["args"].as_array().cloned().unwrap_or_default();
            let Some(values) = args
                .iter()
                .map(|a| {
                    Some((
                        a["name"].as_str()?.to_owned(),
                        placeholder(types, &a["type"])?,
                    ))
                })
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let declared = args
                .iter()
                .map(|a| {
                    format!(
                        "${}: {}",
                        a["name"].as_str().unwrap_or(""),
                        spelled(&a["type"])
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let passed = args
                .iter()
                .map(|a| {
                    let n = a["name"].as_str().unwrap_or("");
                    format!("{n}: ${n}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            let mut return_type = &field["type"];
            while return_type["kind"] == "NON_NULL" || return_type["kind"] == "LIST" {
                return_type = &return_type["ofType"];
            }
            let selection = if matches!(
                return_type["kind"].as_str(),
                Some("OBJECT" | "INTERFACE" | "UNION")
            ) {
                " { __typename }"
            } else {
                ""
            };
            let query = if args.is_empty() {
                continue;
            } else {
                format!("{keyword}({declared}) {{ {name}({passed}){selection} }}")
            };
            for (arg, base) in &values {
                let ty = &args
                    .iter()
                    .find(|a| a["name"] == arg.as_str())
                    .expect("arg")["type"];
                let mut paths = Vec::new();
                string_paths(base, ty, types, Vec::new(), &mut paths);
                for path in paths {
                    for (label, text) in hostile_strings() {
                        let mut variables: serde_json::Map<String, Value> =
                            values.iter().cloned().collect();
                        let slot = variables.get_mut(arg).expect("variable");
                        set_path(slot, &path, json!(text));
                        let answer = h
                            .client_with(&token)
                            .graphql(&query, Value::Object(variables))
                            .await
                            .unwrap_or_else(|e| {
                                panic!("{name}.{arg}{path:?} {label}: no answer ({e})")
                            });
                        assert!(
                            matches!(answer.status, 200 | 400 | 413 | 429),
                            "{name}.{arg}{path:?} {label}: {} {}",
                            answer.status,
                            answer.text
                        );
                        for code in codes(&answer) {
                            assert!(
                                !code.is_empty() && code != "INTERNAL" && code != "UNKNOWN",
                                "{name}.{arg}{path:?} {label}: {}",
                                answer.text.chars().take(400).collect::<String>()
                            );
                        }
                        generated += 1;
                    }
                }
            }
        }
    }
    ok(h.client()
        .graphql("{ interests { edges { node { slug } } } }", json!({}))
        .await
        .expect("the server is up"));
    assert_eq!(panics.load(Ordering::SeqCst), 0, "the server panicked");
    assert!(generated >= 300, "{generated} generated cases");
    eprintln!(
        "hostile input: {generated} generated cases (every string argument, every hostile string)"
    );
}

/// How a WebSocket ended up after `messages`: the protocol messages received, then the
/// close (code, reason) or `None`.
async fn exchange(
    h: &Harness,
    messages: Vec<String>,
    expect_messages: usize,
) -> (Vec<Value>, Option<Option<(u16, String)>>) {
    let mut socket = Subscriber::open(h.addr()).await.expect("open");
    for message in messages {
        if socket.send_text(message).await.is_err() {
            break;
        }
    }
    let mut received = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.receive_or_close()).await {
            Ok(Ok(message)) => {
                received.push(message);
                if received.len() >= expect_messages && expect_messages > 0 {
                    return (received, None);
                }
            }
            Ok(Err(close)) => return (received, Some(close)),
            Err(_) => return (received, None),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_websocket_messages_are_refused_and_the_server_stays_up() {
    let panics = count_server_panics();
    let h = Harness::start().await;
    let (_, token) = h.prime_member("dee_hostile").await;
    let head = h.head();
    let init = json!({ "type": "connection_init", "payload": {} }).to_string();
    let subscribe = |id: &str| {
        json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { feedUpdates(interest: \"coffee\") { id } }" } }).to_string()
    };

    // A subscribe before connection_init: the socket is closed.
    let (_, close) = exchange(&h, vec![subscribe("early")], 0).await;
    assert_eq!(close.flatten().map(|c| c.0), Some(4401));

    // A second connection_init: 4429.
    let (received, close) = exchange(&h, vec![init.clone(), init.clone()], 0).await;
    assert_eq!(received[0]["type"], "connection_ack");
    assert_eq!(close.flatten().map(|c| c.0), Some(4429));

    // Unknown message types and text that is not JSON: closed as a protocol error.
    for bad in [
        json!({ "type": "launch_missiles" }).to_string(),
        "not json at all".to_owned(),
        json!({ "id": 5, "type": "subscribe" }).to_string(),
        json!({ "id": "x", "type": "subscribe", "payload": { "query": 5 } }).to_string(),
        json!({ "type": "complete" }).to_string(),
        json!([1, 2, 3]).to_string(),
    ] {
        let (_, close) = exchange(&h, vec![init.clone(), bad.clone()], 0).await;
        let code = close.flatten().map(|c| c.0);
        assert_eq!(code, Some(4400), "{bad}");
    }

    // An oversized frame (over 64 KiB): the socket is closed, "message too big".
    let huge = json!({ "type": "connection_init", "payload": { "pad": "x".repeat(100 * 1024) } })
        .to_string();
    let (_, close) = exchange(&h, vec![huge], 0).await;
    let code = close.flatten().map(|c| c.0);
    assert!(matches!(code, Some(1009) | None), "{code:?}");

    // Thousands of subscriptions on one socket: past 100, each is refused.
    let mut flood = vec![init.clone()];
    flood.extend((0..2_000).map(|i| subscribe(&format!("s{i}"))));
    let mut socket = Subscriber::open(h.addr()).await.expect("open");
    for message in flood {
        socket.send_text(message).await.expect("send");
    }
    let mut refused = 0;
    while refused < 1_900 {
        let message = tokio::time::timeout(Duration::from_secs(20), socket.receive_or_close())
            .await
            .expect("an answer within 20 s")
            .expect("still open");
        // graphql-transport-ws carries a resolver's refusal as a `next` with errors.
        if message["type"] == "next" && !message["payload"]["errors"].is_null() {
            assert_eq!(
                message["payload"]["errors"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
                "{message}"
            );
            refused += 1;
        }
    }
    drop(socket);

    // A duplicate id of a running subscription: 4409.
    let (_, close) = exchange(
        &h,
        vec![init.clone(), subscribe("dup"), subscribe("dup")],
        0,
    )
    .await;
    assert_eq!(close.flatten().map(|c| c.0), Some(4409));

    // Sockets per member: the 17th socket of one member is refused.
    let mut open = Vec::new();
    for _ in 0..16 {
        open.push(
            Subscriber::connect(h.addr(), Some(&token))
                .await
                .expect("connect"),
        );
    }
    assert!(Subscriber::connect(h.addr(), Some(&token)).await.is_err());
    drop(open);

    assert_eq!(h.head(), head, "WebSocket abuse wrote to the log");
    ok(h.client()
        .graphql("{ interests { edges { node { slug } } } }", json!({}))
        .await
        .expect("the server is up"));
    assert_eq!(panics.load(Ordering::SeqCst), 0, "the server panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_over_their_rate_are_refused_with_retry_after_and_write_nothing() {
    let limits = Limits {
        member_mutations: sparkfeed_api::rate::RateLimit {
            per_second: 0.5,
            burst: 3,
        },
        address_mutations: sparkfeed_api::rate::RateLimit {
            per_second: 1.0,
            burst: 40,
        },
        ..Limits::default()
    };
    let h = Harness::start_with(limits).await;
    let (_, token) = h.prime_member("eve_rates").await;
    let (post, _) = publish(&h, &token, post_input("rated", "coffee", &[KETTLE])).await;
    // The burst is spent: publish took one of three; two more go through.
    for mutation in ["smile", "savePost"] {
        ok(h.client_with(&token)
            .graphql(
                &format!("mutation($p: ID!) {{ {mutation}(postId: $p) {{ position }} }}"),
                json!({ "p": post }),
            )
            .await
            .expect("within the burst"));
    }
    let head = h.head();
    let answer = h
        .client_with(&token)
        .graphql(
            "mutation($p: ID!) { sharePost(postId: $p) { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("answer");
    refused(&answer, 429, "RATE_LIMITED");
    let wait = answer
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok());
    // 0.5 tokens a second: the next one is at most 2 s away.
    assert!(matches!(wait, Some("1" | "2")), "Retry-After: {wait:?}");
    assert_eq!(h.head(), head, "a limited mutation writes nothing");
    // Reads are not limited.
    ok(h.client_with(&token)
        .graphql("{ viewer { id } }", json!({}))
        .await
        .expect("read"));
    // Per address: anonymous registrations from one address run out too.
    let mut limited = 0;
    for i in 0..60 {
        let answer = h
            .client()
            .graphql(
                "mutation($h: String!) { registerUser(handle: $h, displayName: \"x\") { position } }",
                json!({ "h": format!("flood_{i}") }),
            )
            .await
            .expect("answer");
        if answer.status == 429 {
            assert_eq!(answer.error_code(), Some("RATE_LIMITED"));
            limited += 1;
        }
    }
    assert!(limited > 0, "the address limit never applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_without_connection_init_is_closed_4408() {
    let h = Harness::start_with(Limits {
        ws_init_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let (_, close) = exchange(&h, Vec::new(), 0).await;
    assert_eq!(close.flatten().map(|c| c.0), Some(4408));
    // One that sent it in time stays open past the deadline.
    let mut socket = Subscriber::connect(h.addr(), None).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(600)).await;
    socket
        .subscribe(
            "live",
            "subscription { feedUpdates(interest: \"coffee\") { id } }",
            json!({}),
        )
        .await
        .expect("still open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_holding_a_written_mutation_is_never_a_429() {
    let h = Harness::start_with(Limits {
        member_mutations: sparkfeed_api::rate::RateLimit {
            per_second: 0.01,
            burst: 3,
        },
        ..Limits::default()
    })
    .await;
    let (_, token) = h.prime_member("fay_rates").await;
    let (post, _) = publish(&h, &token, post_input("rated", "coffee", &[KETTLE])).await;
    // Two tokens left: the smile and the save are written, the share is limited.
    let answer = h
        .client_with(&token)
        .graphql(
            "mutation($p: ID!) { a: smile(postId: $p) { position } b: savePost(postId: $p) { position } c: sharePost(postId: $p) { position } }",
            json!({ "p": post }),
        )
        .await
        .expect("answer");
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer.headers.get("retry-after").is_none());
    assert!(answer.text.contains("RATE_LIMITED"), "{}", answer.text);
    assert!(
        answer.headers.get("x-sparkfeed-wrote").is_none(),
        "internal header leaked"
    );
}
