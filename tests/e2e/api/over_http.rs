//! The GraphQL-over-HTTP specification: queries over GET (never mutations), the
//! `application/graphql-response+json` media type with its status codes, `Cache-Control`
//! on public reads, and the specification's own audit (`graphql-http`'s `auditServer`,
//! run with Node from `tests/js`) passing with no warning and no failure.

use std::time::Duration;

use serde_json::json;
use sparkfeed_testkit::client::Client;
use sparkfeed_testkit::js::{js_packages, run_node};

use super::Harness;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn header<'a>(answer: &'a sparkfeed_testkit::client::Answer, name: &str) -> &'a str {
    answer
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_get_is_answered_and_a_public_one_may_be_cached() {
    let h = Harness::start().await;
    let mut client = Client::new(h.addr());
    let read = client
        .get("/graphql?query=%7B%20interests(first%3A%202)%20%7B%20edges%20%7B%20node%20%7B%20slug%20%7D%20%7D%20%7D%20%7D")
        .await
        .expect("answers");
    assert_eq!(read.status, 200, "{}", read.text);
    assert!(
        read.body["data"]["interests"]["edges"].is_array(),
        "{}",
        read.text
    );
    assert_eq!(header(&read, "cache-control"), "public, max-age=1");
    assert!(header(&read, "content-type").starts_with("application/json"));

    // With variables and an operation name, accepting the GraphQL response type.
    let path = "/graphql?query=query%20Q(%24n%3A%20Int)%20%7B%20interests(first%3A%20%24n)%20%7B%20edges%20%7B%20node%20%7B%20slug%20%7D%20%7D%20%7D%20%7D&variables=%7B%22n%22%3A1%7D&operationName=Q";
    let typed = client
        .request("GET", path, &[("accept", GRAPHQL_RESPONSE)], Vec::new())
        .await
        .expect("answers");
    assert_eq!(typed.status, 200, "{}", typed.text);
    assert!(header(&typed, "content-type").starts_with(GRAPHQL_RESPONSE));
    assert_eq!(
        typed.body["data"]["interests"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // A signed-in reader's answer is theirs: never stored by a shared cache.
    client.set_token(Some(h.admin.clone()));
    let mine = client
        .get("/graphql?query=%7B%20__typename%20%7D")
        .await
        .expect("answers");
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(header(&mine, "cache-control"), "private, no-store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_over_get_is_refused_and_writes_nothing() {
    let h = Harness::start().await;
    let head = h.api.domain.log().head();
    let mut client = Client::new(h.addr());
    client.set_token(Some(h.admin.clone()));
    let refused = client
        .get("/graphql?query=mutation%20%7B%20addInterest(slug%3A%20%22knitting%22%2C%20name%3A%20%22Knitting%22)%20%7B%20position%20%7D%20%7D")
        .await
        .expect("answers");
    assert_eq!(refused.status, 405, "{}", refused.text);
    assert_eq!(header(&refused, "allow"), "POST");
    assert_eq!(h.api.domain.log().head(), head, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_is_not_executed_is_a_400_with_no_data_to_a_client_that_asks() {
    let h = Harness::start().await;
    let mut client = Client::new(h.addr());
    for (query, what) in [
        ("{ interests(first: 2) { ", "a document that does not parse"),
        ("{ noSuchField }", "a document that does not validate"),
    ] {
        let body = serde_json::to_vec(&json!({ "query": query })).expect("json");
        let typed = client
            .request(
                "POST",
                "/graphql",
                &[
                    ("content-type", "application/json"),
                    ("accept", GRAPHQL_RESPONSE),
                ],
                body.clone(),
            )
            .await
            .expect("answers");
        assert_eq!(typed.status, 400, "{what}: {}", typed.text);
        assert!(typed.body.get("data").is_none(), "{what}: {}", typed.text);
        assert!(typed.body["errors"].is_array(), "{what}: {}", typed.text);
        // The legacy media type keeps its 200.
        let legacy = client
            .request(
                "POST",
                "/graphql",
                &[("content-type", "application/json")],
                body,
            )
            .await
            .expect("answers");
        assert_eq!(legacy.status, 200, "{what}: {}", legacy.text);
    }
    let html = client
        .request(
            "POST",
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("accept", "text/html"),
            ],
            br#"{"query":"{ __typename }"}"#.to_vec(),
        )
        .await
        .expect("answers");
    assert_eq!(html.status, 406, "{}", html.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_over_http_audit_passes_with_no_warning() {
    let dir = tokio::task::spawn_blocking(js_packages)
        .await
        .expect("installs");
    let h = Harness::start().await;
    let url = format!("http://{}/graphql", h.addr());
    let printed = run_node(
        &dir,
        "audit.mjs",
        &[url.as_ref()],
        &[],
        Duration::from_secs(120),
    )
    .await;
    assert!(printed.contains(" 0 warnings, 0 failures"), "{printed}");
}
