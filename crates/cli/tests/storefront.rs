//! The storefront page in a real browser (Debian's chromium, headless, driven over the
//! DevTools protocol by `tests/js/storefront.mjs`) against a real `sparkfeed serve --demo`
//! on the embedded sled log: the page loads with no console error, a feed shows 20 cards
//! with their tags at their x/y, a smile changes the count, a buy shows the order, a post
//! published through the API appears without a reload, a sponsored post shows its label,
//! and an error code reads as a sentence. Before the browser, the demo's placeholder
//! pictures are checked over plain HTTP.
//!
//! `SPARKFEED_SCREENSHOTS=DIR` also saves the screenshots README shows (`docs/`).

use std::ffi::OsStr;
use std::time::Duration;

use common::served::Served;
use sparkfeed_testkit::js::{chromium, js_packages, run_node};

mod common;

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn placeholder(server: &Served, url: &str) -> String {
    let encoded: String = url
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    server.get(&format!("/demo/media?url={encoded}"))
}

#[test]
fn the_storefront_works_in_a_real_browser_against_serve_demo() {
    let browser = chromium();
    let js = js_packages();
    let data = tempfile::tempdir().expect("a data directory");
    let server = Served::start(&[
        "--demo".as_ref(),
        "--data-dir".as_ref(),
        data.path().as_os_str(),
    ] as &[&OsStr]);

    // The demo's pictures: a product's and a post's, drawn with what they show.
    let product = server.graphql(
        None,
        r#"{ product(asin: "B000100000") { title imageUrl } }"#,
    );
    let title = product["data"]["product"]["title"]
        .as_str()
        .expect("a title");
    let image_url = product["data"]["product"]["imageUrl"]
        .as_str()
        .expect("an image");
    let answer = placeholder(&server, image_url);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: image/svg+xml")
    );
    assert!(body(&answer).contains(title), "the picture names {title}");
    let post = placeholder(
        &server,
        "https://media.sparkfeed.example/posts/p00001/0.jpg",
    );
    assert!(post.starts_with("HTTP/1.1 200") && body(&post).starts_with("<svg"));
    for elsewhere in [
        "https://media.sparkfeed.example/posts/p99999/0.jpg",
        "https://example.com/a.jpg",
    ] {
        let answer = placeholder(&server, elsewhere);
        assert!(answer.starts_with("HTTP/1.1 404"), "{elsewhere}: {answer}");
    }

    // The page, in the browser.
    let url = server.url();
    let shots = std::env::var_os("SPARKFEED_SCREENSHOTS");
    let mut args: Vec<&OsStr> = vec![url.as_ref()];
    args.extend(shots.as_deref());
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let printed = runtime.block_on(run_node(
        &js,
        "storefront.mjs",
        &args,
        &[("CHROMIUM", browser.as_os_str())],
        Duration::from_secs(300),
    ));
    let seen: serde_json::Value =
        serde_json::from_str(printed.lines().last().unwrap_or("")).expect("one JSON line");
    assert_eq!(seen["ok"], true);
    assert_eq!(seen["cards"], 20);
    assert!(
        seen["sponsored"]["shown"]
            .as_str()
            .is_some_and(|l| l.starts_with("Paid partnership with "))
    );
    assert!(
        seen["notPrime"]
            .as_str()
            .is_some_and(|t| t.contains("Prime"))
    );
}
