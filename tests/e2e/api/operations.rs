//! What operators and browsers see besides GraphQL answers: GraphiQL, liveness, readiness,
//! Prometheus metrics, the request timeout, and the response cache's promise that a reader
//! never reads an answer older than their own write.

use std::time::Duration;

use serde_json::json;
use sha2::Digest;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_health_and_readiness_answer_over_http() {
    let h = Harness::start().await;
    let mut client = h.client();

    let page = client.get("/").await.expect("graphiql");
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("/graphiql/graphiql.min.js"),
        "GraphiQL page: {}",
        page.text
    );
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "the page loads nothing from elsewhere: {}",
        page.text
    );
    let policy = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(
        policy,
        sparkfeed_api::http::graphiql::CONTENT_SECURITY_POLICY
    );
    assert!(policy.contains("script-src 'self';") && policy.contains("connect-src 'self';"));
    // Every file it loads is served from the binary, byte for byte the pinned build.
    let sums = include_str!("../../../crates/api/assets/graphiql/SHA256SUMS");
    for line in sums.lines() {
        let (sum, name) = line.split_once("  ").expect("a sha256sum line");
        let file = client
            .get(&format!("/graphiql/{name}"))
            .await
            .expect("asset");
        assert_eq!(file.status, 200, "{name}");
        let served = sha2::Sha256::digest(file.text.as_bytes());
        let hex: String = served.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, sum, "{name} is the recorded build");
    }
    let start = client.get("/graphiql/start.js").await.expect("start");
    assert!(start.text.contains("'/graphql'"), "points at the endpoint");
    let missing = client.get("/graphiql/nope.js").await.expect("404");
    assert_eq!(missing.status, 404);

    let health = client.get("/healthz").await.expect("healthz");
    assert_eq!((health.status, health.text.as_str()), (200, "ok\n"));

    let ready = client.get("/readyz").await.expect("readyz");
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.body["ready"], json!(true));
    assert_eq!(ready.body["logHead"], json!(h.head().len));
    assert!(
        ready.body["lag"]
            .as_object()
            .expect("lag per projection")
            .values()
            .all(|lag| lag.as_u64().is_some()),
        "{}",
        ready.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_errors_and_the_log_head() {
    let h = Harness::start().await;
    let mut client = h.client();
    ok(client
        .graphql("{ interests { edges { node { slug } } } }", json!({}))
        .await
        .expect("query"));
    for _ in 0..2 {
        ok(client
            .graphql(
                "query($a: String!) { product(asin: $a) { title } }",
                json!({ "a": COFFEE_GRINDER }),
            )
            .await
            .expect("query"));
    }
    refused(
        &client
            .graphql("{ homeFeed { edges { cursor } } }", json!({}))
            .await
            .expect("answer"),
        200,
        "UNAUTHENTICATED",
    );

    let metrics = client.get("/metrics").await.expect("metrics");
    assert_eq!(metrics.status, 200);
    let line = |name: &str| -> Option<f64> {
        metrics
            .text
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
    };
    assert_eq!(
        line("sparkfeed_http_requests_total{route=\"/graphql\",status=\"200\"}"),
        Some(4.0),
        "{}",
        metrics.text
    );
    assert_eq!(
        line("sparkfeed_errors_total{code=\"UNAUTHENTICATED\"}"),
        Some(1.0)
    );
    assert_eq!(line("sparkfeed_log_head"), Some(h.head().len as f64));
    let commits = line("sparkfeed_log_group_commits_total").expect("group commits");
    let groups = line("sparkfeed_log_groups_total").expect("groups");
    let events = line("sparkfeed_log_events_committed_total").expect("events");
    // Every event of this log was appended through the server's own handle.
    assert_eq!(events, h.head().len as f64, "{}", metrics.text);
    assert!(
        commits >= 1.0 && commits <= groups && groups <= events,
        "{}",
        metrics.text
    );
    assert_eq!(
        line("sparkfeed_http_request_duration_seconds_count"),
        Some(4.0)
    );
    // The product row: read from the store once, then from the row cache.
    let hits = line("sparkfeed_row_cache_reads_total{result=\"hit\"}").expect("hits");
    let misses = line("sparkfeed_row_cache_reads_total{result=\"miss\"}").expect("misses");
    assert!(hits >= 1.0 && misses >= 1.0, "{}", metrics.text);
    assert!(
        metrics
            .text
            .contains("sparkfeed_projection_lag{projection=\"feeds\"}"),
        "{}",
        metrics.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_timeout_is_answered_with_timeout_and_its_write_still_lands() {
    // No projection runs, so the mutation's read-back waits its full minute: the request
    // timeout is certain to fire first, however fast the disk.
    let h = Harness::start_without_projectors(Limits {
        request_timeout: Duration::from_millis(200),
        read_your_writes: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let before = h.head().len;
    let answer = h
        .client_with(&h.admin)
        .graphql(
            "mutation { addInterest(slug: \"garden\", name: \"Garden\") { position } }",
            json!({}),
        )
        .await
        .expect("answer");
    refused(&answer, 503, "TIMEOUT");
    assert!(
        answer.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("may still complete")),
        "the answer says the write may land: {}",
        answer.text
    );
    assert_eq!(
        h.head().len,
        before + 1,
        "the write was durable before its read-back timed out"
    );
}

const SMILES: &str = "query($id: ID!) { post(id: $id) { smileCount viewerHasSmiled } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_response_cache_a_reader_sees_their_own_write_and_others_within_its_ttl() {
    let h = Harness::start_with(Limits {
        response_cache: Duration::from_secs(300),
        ..Limits::default()
    })
    .await;
    let (_, author) = h.prime_member("cache_author").await;
    let (_, smiler) = h.prime_member("cache_smiler").await;
    let (_, watcher) = h.prime_member("cache_watcher").await;
    let (post, _) = publish(&h, &author, post_input("beans", "coffee", &[KETTLE])).await;
    let read = |token: &str| {
        let mut client = h.client_with(token);
        let post = post.clone();
        async move {
            ok(client
                .graphql(SMILES, json!({ "id": post }))
                .await
                .expect("read"))["post"]
                .clone()
        }
    };
    let before = json!({ "smileCount": 0, "viewerHasSmiled": false });
    assert_eq!(read(&smiler).await, before);
    assert_eq!(read(&watcher).await, before);

    ok(h.client_with(&smiler)
        .graphql(
            "mutation($id: ID!) { smile(postId: $id) { position } }",
            json!({ "id": post }),
        )
        .await
        .expect("smile"));

    assert_eq!(
        read(&smiler).await,
        json!({ "smileCount": 1, "viewerHasSmiled": true }),
        "the writer's cached answer predates the write, so it is not served"
    );
    assert_eq!(
        read(&watcher).await,
        before,
        "another reader may be served an answer up to the TTL old: the documented bound"
    );
    assert_eq!(
        read(&author).await,
        json!({ "smileCount": 1, "viewerHasSmiled": false }),
        "a reader with no cached answer reads the projection"
    );
}

/// Everything the server sends on `stream` until it closes it, within a bound.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection well within 20 s")
        .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    use tokio::io::AsyncWriteExt;
    let h = Harness::start_with(Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(h.addr())
        .await
        .expect("connect");
    slow.write_all(b"POST /graphql HTTP/1.1\r\nhost: sparkfeed\r\n")
        .await
        .expect("half a request head");
    let answer = read_until_closed(&mut slow).await;
    assert!(
        !answer.contains("200 OK"),
        "a request that never finished is not served: {answer}"
    );
    // Others are served as before.
    ok(h.client()
        .graphql("{ interests { edges { cursor } } }", json!({}))
        .await
        .expect("query"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_request_body_is_answered_408_timeout() {
    use tokio::io::AsyncWriteExt;
    let h = Harness::start_with(Limits {
        request_timeout: Duration::from_millis(300),
        ..Limits::default()
    })
    .await;
    let before = h.head();
    let mut slow = tokio::net::TcpStream::connect(h.addr())
        .await
        .expect("connect");
    let body = json!({
        "query": "mutation { addInterest(slug: \"garden\", name: \"Garden\") { position } }"
    })
    .to_string();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: sparkfeed\r\ncontent-type: application/json\r\n\
         authorization: Bearer {}\r\ncontent-length: {}\r\n\r\n",
        h.admin,
        body.len()
    );
    slow.write_all(head.as_bytes()).await.expect("head");
    slow.write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .expect("half the body");
    let answer = read_until_closed(&mut slow).await;
    assert!(
        answer.starts_with("HTTP/1.1 408") && answer.contains("\"TIMEOUT\""),
        "a body that never arrives is refused: {answer}"
    );
    assert_eq!(h.head(), before, "nothing was written");
    ok(h.client()
        .graphql("{ interests { edges { cursor } } }", json!({}))
        .await
        .expect("others are served as before"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_the_cap_is_answered_503_overloaded() {
    use tokio::io::AsyncWriteExt;
    let h = Harness::start_with(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let query = "{ interests { edges { cursor } } }";
    // Two keep-alive connections hold the two places.
    let mut first = h.client();
    let mut second = h.client();
    ok(first.graphql(query, json!({})).await.expect("first"));
    ok(second.graphql(query, json!({})).await.expect("second"));

    let before = h.head();
    let mut third = tokio::net::TcpStream::connect(h.addr())
        .await
        .expect("connect");
    let body = json!({ "query": "mutation { addInterest(slug: \"garden\", name: \"Garden\") { position } }" })
        .to_string();
    third
        .write_all(
            format!(
                "POST /graphql HTTP/1.1\r\nhost: sparkfeed\r\ncontent-type: application/json\r\n\
                 authorization: Bearer {}\r\ncontent-length: {}\r\n\r\n{body}",
                h.admin,
                body.len()
            )
            .as_bytes(),
        )
        .await
        .expect("request");
    let answer = read_until_closed(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"code\":\"OVERLOADED\""), "{answer}");
    assert_eq!(h.head(), before, "the refused request wrote nothing");

    // When a place frees up, new connections are served again.
    drop(first);
    let served = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Ok(answer) = h.client().graphql(query, json!({})).await
                && answer.status == 200
            {
                return answer;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("served once the first connection closed");
    ok(served);
}
