//! A real browser (the Debian `chromium`, headless) on the server's pages: GraphiQL renders
//! from the binary's own files, offline, under its Content-Security-Policy, with nothing
//! refused. Without chromium the test fails and says so; it is never skipped.

use std::time::Duration;

use sparkfeed_testkit::js::chromium;

use super::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_renders_offline_from_the_binary_with_nothing_refused() {
    let browser = chromium();
    let h = Harness::start().await;
    let profile = tempfile::tempdir().expect("a browser profile");
    let mut run = tokio::process::Command::new(browser);
    run.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        "--dump-dom",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("http://{}/", h.addr()))
    .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), run.output())
        .await
        .expect("the browser answers within 120 s")
        .expect("the browser runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        dom.contains("graphiql-container") && dom.contains("graphiql-execute-button"),
        "GraphiQL rendered:\n{dom}\n{log}"
    );
    for refused in ["Content Security Policy", "Refused to", "Uncaught"] {
        assert!(
            !log.contains(refused),
            "the browser logged {refused:?}:\n{log}"
        );
    }
}
