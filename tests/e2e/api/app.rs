//! The storefront page at `/app`: served from the binary under its Content-Security-Policy,
//! naming nothing outside this server, sending only operations of `schema.graphql`, with a
//! readable message for every error code the server can return. What only demo mode adds
//! (`/app/demo.json`, `/demo/media`) is not there without it. The page itself, in a real
//! browser against `serve --demo`, is `crates/cli/tests/storefront.rs`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use sparkfeed_api::http::app::{ASSETS, CONTENT_SECURITY_POLICY};
use sparkfeed_testkit::js::{js_packages, run_node};

use super::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_and_its_files_come_from_the_binary_under_a_this_origin_policy() {
    let h = Harness::start().await;
    let mut client = h.client();
    let page = client.get("/app").await.expect("the page");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.headers["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
    assert!(
        CONTENT_SECURITY_POLICY.contains("script-src 'self';")
            && CONTENT_SECURITY_POLICY.contains("connect-src 'self';")
            && !CONTENT_SECURITY_POLICY.contains("unsafe"),
        "scripts, styles and connections from this origin only: {CONTENT_SECURITY_POLICY}"
    );
    for asset in &ASSETS {
        let answer = client
            .get(&format!("/app/{}", asset.name))
            .await
            .expect("a file");
        assert_eq!(answer.status, 200, "{}", asset.name);
        assert_eq!(answer.headers["content-type"], asset.content_type);
        assert_eq!(answer.text.as_bytes(), asset.bytes, "{}", asset.name);
        assert_eq!(
            answer.headers["content-security-policy"],
            CONTENT_SECURITY_POLICY
        );
        let text = String::from_utf8_lossy(asset.bytes);
        for outside in [
            "http://",
            "https://cdn",
            "//unpkg",
            "jsdelivr",
            "googleapis",
        ] {
            let named = text
                .match_indices(outside)
                .any(|(at, _)| !text[at..].starts_with("http://www.w3.org/2000/svg"));
            assert!(!named, "{} names {outside}", asset.name);
        }
    }
    for outside in ["http://", "https://"] {
        assert!(!page.text.contains(outside), "the page names {outside}");
    }
    let missing = client.get("/app/nope.js").await.expect("404");
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_demo_mode_there_are_no_demo_tokens_and_no_placeholders() {
    let h = Harness::start().await;
    let mut client = h.client();
    let members = client.get("/app/demo.json").await.expect("answers");
    assert_eq!(members.status, 404, "{}", members.text);
    assert!(!members.text.contains("token\""), "{}", members.text);
    let url = "https%3A%2F%2Fimages.sparkfeed.example%2Fproducts%2F100000.jpg";
    let picture = client
        .get(&format!("/demo/media?url={url}"))
        .await
        .expect("answers");
    assert_eq!(picture.status, 404);
}

/// Every code the server's own source can return: the string literals in SCREAMING_CASE of
/// the crates whose errors reach a client, less the few literals that are not codes.
fn server_error_codes() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![
        root.join("crates/domain/src/error.rs"),
        root.join("crates/eventlog/src/error.rs"),
        root.join("crates/events/src/error.rs"),
        root.join("crates/merkle/src/lib.rs"),
        root.join("projections/src/lib.rs"),
    ];
    let mut dirs = vec![root.join("crates/api/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let not_codes = ["CARGO_MANIFEST_DIR", "POST"];
    let mut codes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for literal in text.split('"').skip(1).step_by(2) {
            let screaming = literal.len() >= 4
                && literal.starts_with(|c: char| c.is_ascii_uppercase())
                && literal.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if screaming && !not_codes.contains(&literal) {
                codes.insert(literal.to_owned());
            }
        }
    }
    codes
}

#[test]
fn the_page_has_a_readable_message_for_every_error_code() {
    let codes = server_error_codes();
    assert!(
        codes.len() > 60
            && [
                "NOT_PRIME",
                "UNAUTHENTICATED",
                "RATE_LIMITED",
                "QUERY_TOO_DEEP"
            ]
            .iter()
            .all(|c| codes.contains(*c)),
        "the scan finds the codes: {codes:?}"
    );
    let messages = include_str!("../../../crates/api/assets/app/messages.js");
    let missing: Vec<&String> = codes
        .iter()
        .filter(|code| !messages.contains(&format!("  {code}: \"")))
        .collect();
    assert!(
        missing.is_empty(),
        "crates/api/assets/app/messages.js has no message for {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_the_page_is_valid_against_schema_graphql() {
    let dir = tokio::task::spawn_blocking(js_packages)
        .await
        .expect("installs");
    let printed = run_node(&dir, "operations.mjs", &[], &[], Duration::from_secs(60)).await;
    for operation in ["QUERIES.feed", "MUTATIONS.buy", "SUBSCRIPTIONS.feed"] {
        assert!(printed.contains(operation), "{operation} was checked");
    }
}
