//! Issue 14, in part: `GET /export` streams the log as JSON Lines to analysts, and
//! `sparkfeed export --server` writes it to a file (complete, or not at all) or follows it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sparkfeed_events::Position;

use super::*;

/// A server with some history and an analyst: (harness, analyst token, a member token).
async fn with_history() -> (Harness, String, String) {
    let h = Harness::start().await;
    let (analyst_id, analyst) = h.prime_member("ada_counts").await;
    h.grant(&analyst_id, "ANALYST").await;
    let (_, ana) = h.prime_member("ana_spark").await;
    let (post, _) = publish(&h, &ana, post_input("my kit", "coffee", &[KETTLE])).await;
    publish(&h, &ana, post_input("stretch", "fitness", &[])).await;
    ok(h.client_with(&ana)
        .graphql(
            &format!("mutation {{ savePost(postId: \"{post}\") {{ position }} }}"),
            json!({}),
        )
        .await
        .expect("save"));
    (h, analyst, ana)
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_is_the_log_line_for_line_and_its_filters_pick_what_they_say() {
    let (h, analyst, _) = with_history().await;
    let log = h
        .api
        .domain
        .log()
        .read_all(Position(0), usize::MAX)
        .expect("reads");
    let answer = h
        .client_with(&analyst)
        .get("/export")
        .await
        .expect("answer");
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.headers["content-type"], "application/x-ndjson");
    let exported = lines(&answer.text);
    assert_eq!(exported.len(), log.len(), "one line per event");
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for (line, event) in exported.iter().zip(&log) {
        let r = &event.record;
        assert_eq!(line["position"], r.position.0);
        assert_eq!(line["id"], r.id.to_string());
        assert_eq!(line["stream"], r.stream.as_str());
        assert_eq!(line["version"], r.version.0);
        assert_eq!(line["type"], r.event_type.as_str());
        assert_eq!(line["schemaVersion"], r.schema_version);
        assert_eq!(line["hash"], event.hash.to_hex());
        assert_eq!(
            line["recordedAt"],
            sparkfeed_api::time::format(r.recorded_at.0)
        );
        *by_type.entry(r.event_type.to_string()).or_default() += 1;
    }
    // Personal data stays sealed: the caption is nowhere in the export.
    assert!(!answer.text.contains("my kit"));
    let published = exported
        .iter()
        .find(|l| l["type"] == "PostPublished")
        .expect("a post");
    assert!(
        published["data"]["caption"]["sealed"].is_string(),
        "{published}"
    );

    let filtered = |query: &'static str| {
        let analyst = analyst.clone();
        let h = &h;
        async move {
            let answer = h.client_with(&analyst).get(query).await.expect("answer");
            assert_eq!(answer.status, 200, "{query}: {}", answer.text);
            lines(&answer.text)
        }
    };
    let posts = filtered("/export?types=PostPublished").await;
    assert_eq!(posts.len(), by_type["PostPublished"]);
    let two = filtered("/export?types=PostPublished,Saved").await;
    assert_eq!(two.len(), by_type["PostPublished"] + by_type["Saved"]);
    let in_posts = filtered("/export?stream_prefix=post-").await;
    assert!(
        in_posts
            .iter()
            .all(|l| l["stream"].as_str().is_some_and(|s| s.starts_with("post-")))
    );
    assert_eq!(
        in_posts.len(),
        log.iter()
            .filter(|e| e.record.stream.as_str().starts_with("post-"))
            .count()
    );
    let range = filtered("/export?from=3&until=7").await;
    let positions: Vec<_> = range
        .iter()
        .map(|l| l["position"].as_u64().expect("n"))
        .collect();
    assert_eq!(positions, [3, 4, 5, 6]);
    assert!(
        filtered("/export?before=2000-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    assert_eq!(
        filtered("/export?since=2000-01-01T00:00:00Z").await.len(),
        log.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_is_refused_without_the_role_or_with_bad_filters() {
    let (h, analyst, member) = with_history().await;
    let cases: [(Option<&str>, &str, u16, &str); 7] = [
        (None, "/export", 401, "UNAUTHENTICATED"),
        (Some("not-a-token"), "/export", 401, "UNAUTHENTICATED"),
        (Some(&member), "/export", 403, "FORBIDDEN"),
        (Some(&analyst), "/export?types=Nope", 400, "BAD_USER_INPUT"),
        (
            Some(&analyst),
            "/export?from=9&until=3",
            400,
            "BAD_USER_INPUT",
        ),
        (
            Some(&analyst),
            "/export?since=yesterday",
            400,
            "BAD_USER_INPUT",
        ),
        (Some(&analyst), "/export?from=minus-one", 400, "BAD_REQUEST"),
    ];
    for (token, path, status, code) in cases {
        let mut client = match token {
            Some(t) => h.client_with(t),
            None => h.client(),
        };
        let answer = client.get(path).await.expect("answer");
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
        if status != 400 || code != "BAD_REQUEST" {
            assert_eq!(answer.error_code(), Some(code), "{path}: {}", answer.text);
        }
    }
}

fn cli(h: &Harness, token: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"));
    command
        .args([
            "export",
            "--server",
            &format!("http://{}", h.addr()),
            "--token",
            token,
        ])
        .args(args)
        .env_remove("SPARKFEED_SERVER")
        .env_remove("SPARKFEED_TOKEN");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparkfeed_export_writes_what_the_server_streams_and_leaves_no_file_when_refused() {
    let (h, analyst, member) = with_history().await;
    let served = h
        .client_with(&analyst)
        .get("/export")
        .await
        .expect("answer")
        .text;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("events.jsonl");
    let file_arg = file.to_str().expect("utf-8").to_owned();
    let out = tokio::task::spawn_blocking({
        let mut command = cli(&h, &analyst, &["--output", &file_arg]);
        move || command.output().expect("runs")
    })
    .await
    .expect("joins");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&file).expect("written"),
        served,
        "byte for byte"
    );
    assert!(!dir.path().join("events.jsonl.partial").exists());

    // A member's token: a clear message, a non-zero exit, and no file at all.
    let refused = dir.path().join("refused.jsonl");
    let refused_arg = refused.to_str().expect("utf-8").to_owned();
    let out = tokio::task::spawn_blocking({
        let mut command = cli(&h, &member, &["--output", &refused_arg]);
        move || command.output().expect("runs")
    })
    .await
    .expect("joins");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("403"),
        "{out:?}"
    );
    assert!(!refused.exists() && !dir.path().join("refused.jsonl.partial").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparkfeed_export_follow_delivers_new_events_with_no_gap_and_no_duplicate() {
    let (h, analyst, ana) = with_history().await;
    let head = h.head().len;
    let from = (head - 2).to_string();
    let mut child = cli(&h, &analyst, &["--follow", "--from", &from])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Caught up: the last two events already in the log.
    for position in head - 2..head {
        assert_eq!(next_line(&mut rx).await["position"], position);
    }
    // Then live, each event once, in order.
    for n in 0..3 {
        publish(&h, &ana, post_input(&format!("live {n}"), "coffee", &[])).await;
    }
    for position in head..head + 3 {
        assert_eq!(next_line(&mut rx).await["position"], position);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The next line the follower printed, as JSON, within 20 s.
async fn next_line(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Value {
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
        .await
        .expect("a line in time")
        .expect("the export runs");
    serde_json::from_str(&line).expect("json")
}
