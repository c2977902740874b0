//! Issue 14, in part: a projection is rebuilt on a running server with no downtime, by
//! the `rebuildProjection` mutation or by `sparkfeed rebuild` against the held directory.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;

const STATUS: &str =
    "{ projections { name checkpoint lag rebuild { phase events seconds code } } }";
const FEED: &str =
    "{ feed(interest: \"coffee\", first: 10) { edges { node { id caption smileCount } } } }";

/// Asks for the projections' status until `name`'s rebuild is no longer running.
async fn rebuilt(h: &Harness, name: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let data = ok(h
            .client_with(&h.admin)
            .graphql(STATUS, json!({}))
            .await
            .expect("status"));
        let status = data["projections"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == name))
            .map(|p| p["rebuild"].clone())
            .expect("listed");
        if status["phase"] != "RUNNING" {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the rebuild of {name} ends"
        );
        tokio::task::yield_now().await;
    }
}

async fn with_posts() -> (Harness, String) {
    let h = Harness::start().await;
    let (_, ana) = h.prime_member("ana_spark").await;
    for n in 0..5 {
        publish(
            &h,
            &ana,
            post_input(&format!("post {n}"), "coffee", &[KETTLE]),
        )
        .await;
    }
    (h, ana)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_rebuilds_every_projection_on_the_running_server_and_reads_answer_the_same() {
    let (h, _) = with_posts().await;
    let before = ok(h.client().graphql(FEED, json!({})).await.expect("feed"));
    let events = h.head().len;
    for name in [
        "feeds",
        "audit",
        "analytics",
        "moderation",
        "creators",
        "foryou",
    ] {
        let started = ok(h
            .client_with(&h.admin)
            .graphql(
                "mutation($n: String!) { rebuildProjection(name: $n) { name } }",
                json!({ "n": name }),
            )
            .await
            .expect("starts"));
        assert_eq!(started["rebuildProjection"]["name"], name);
        // The served generation answers while the rebuild runs, and after the swap.
        assert_eq!(
            ok(h.client().graphql(FEED, json!({})).await.expect("feed")),
            before
        );
        let status = rebuilt(&h, name).await;
        assert_eq!(status["phase"], "DONE", "{status}");
        assert_eq!(status["events"], events, "{status}");
    }
    assert_eq!(
        ok(h.client().graphql(FEED, json!({})).await.expect("feed")),
        before
    );
    let status = ok(h
        .client_with(&h.admin)
        .graphql(STATUS, json!({}))
        .await
        .expect("status"));
    assert!(
        status["projections"]
            .as_array()
            .expect("all")
            .iter()
            .all(|p| p["lag"] == 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilds_need_an_admin_and_a_projection_that_exists() {
    let (h, ana) = with_posts().await;
    let start = "mutation($n: String!) { rebuildProjection(name: $n) { name } }";
    let cases = [
        (None, start, json!({ "n": "feeds" }), "UNAUTHENTICATED"),
        (
            Some(ana.as_str()),
            start,
            json!({ "n": "feeds" }),
            "FORBIDDEN",
        ),
        (
            Some(h.admin.as_str()),
            start,
            json!({ "n": "nope" }),
            "NOT_FOUND",
        ),
        (Some(ana.as_str()), STATUS, json!({}), "FORBIDDEN"),
    ];
    for (token, query, variables, code) in cases {
        let mut client = match token {
            Some(t) => h.client_with(t),
            None => h.client(),
        };
        let answer = client.graphql(query, variables).await.expect("answer");
        assert_eq!(answer.error_code(), Some(code), "{}", answer.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparkfeed_rebuild_on_a_directory_a_server_holds_goes_through_that_server() {
    let (h, _) = with_posts().await;
    let before = ok(h.client().graphql(FEED, json!({})).await.expect("feed"));
    // What `sparkfeed serve` writes while it runs.
    std::fs::write(
        h.data_dir().join("serve.addr"),
        format!("http://{}\n", h.addr()),
    )
    .expect("writes");

    // Without a token: a clear message, a non-zero exit, nothing rebuilt.
    let out = cli_on(&h, &["rebuild", "all"], &[]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--token") && err.contains(&h.addr().to_string()),
        "{err}"
    );

    let out = cli_on(&h, &["rebuild", "all"], &["--token", &h.admin]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    for name in [
        "analytics",
        "audit",
        "creators",
        "feeds",
        "foryou",
        "moderation",
    ] {
        assert!(
            printed.contains(&format!(
                "rebuilt {name} through the server at http://{}",
                h.addr()
            )),
            "{printed}"
        );
    }
    assert_eq!(
        ok(h.client().graphql(FEED, json!({})).await.expect("feed")),
        before
    );
}
