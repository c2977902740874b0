//! Two `sparkfeed serve --log nats://…` API nodes on one real 3-server NATS JetStream
//! cluster (R3): both take writes, both serve the same feeds (personal data included, as the
//! members' keys are the cluster's), and a node killed with SIGKILL and started again
//! catches up with what was written without it.

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::served::Served;

use sparkfeed_testkit::nats::NatsCluster;

mod common;

const SECRET: &str = "a-cluster-wide-token-secret-of-32-bytes-or-more";

/// A running `sparkfeed serve --log nats://…`.
struct Node {
    served: Served,
}

impl Node {
    /// Starts a node over `data` on the cluster, with `more` arguments, and waits for it
    /// to serve.
    fn start(cluster: &NatsCluster, data: &Path, demo: bool, more: &[&str]) -> Node {
        let log_url = cluster.log_url();
        let mut args: Vec<&OsStr> = vec![
            // No response cache: the comparisons below read what each node holds now.
            "--response-cache-ms".as_ref(),
            "0".as_ref(),
            "--secret".as_ref(),
            SECRET.as_ref(),
            "--log".as_ref(),
            log_url.as_ref(),
            "--data-dir".as_ref(),
            data.as_os_str(),
        ];
        if demo {
            args.push("--demo".as_ref());
        }
        args.extend(more.iter().map(OsStr::new));
        Node {
            served: Served::start(&args),
        }
    }

    /// The demo token of the Prime member it printed.
    fn member_token(&self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .served
                .lines
                .recv_timeout(left)
                .expect("demo tokens are printed");
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["member", user, token] = words.as_slice() {
                return ((*user).to_owned(), (*token).to_owned());
            }
        }
    }

    fn graphql(&self, token: Option<&str>, query: &str) -> serde_json::Value {
        self.served.graphql(token, query)
    }

    fn readyz(&self) -> serde_json::Value {
        let answer = self.served.get("/readyz");
        let json = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {answer}"))
    }

    /// Waits (bounded) until the node's log holds `len` events and it is ready.
    fn wait_for_head(&self, len: u64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let ready = self.readyz();
            if ready["logHead"].as_u64() >= Some(len) && ready["ready"] == true {
                return;
            }
            assert!(Instant::now() < deadline, "not caught up: {ready}");
            // Paced by the round trip of the next /readyz itself.
        }
    }

    fn kill(self) {
        self.served.kill();
    }
}

const FEED: &str = "{ feed(interest: \"SLUG\", first: 20) { edges { node { id caption \
    author { handle displayName } smileCount sponsored tags { product { asin } } } } } }";

fn feed(node: &Node, slug: &str) -> serde_json::Value {
    let answer = node.graphql(None, &FEED.replace("SLUG", slug));
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["feed"].clone()
}

#[test]
fn two_api_nodes_on_one_jetstream_log_serve_the_same_data_and_a_killed_node_catches_up() {
    let cluster = NatsCluster::start(3);
    let dirs = tempfile::tempdir().expect("temp dir");
    let (dir_a, dir_b) = (dirs.path().join("a"), dirs.path().join("b"));
    let a = Node::start(&cluster, &dir_a, true, &[]);
    let (member, token) = a.member_token();
    // Node B's projections are new over a log that is not: rebuilt, then opened again
    // over the copy of the log, which stays open.
    let b = Node::start(&cluster, &dir_b, false, &["--rebuild-from", "1"]);
    assert!(
        b.served
            .printed
            .iter()
            .any(|line| line.contains("opening the directory again")),
        "{:?}",
        b.served.printed
    );
    let head = a.readyz()["logHead"].as_u64().expect("a head");
    assert!(
        head > 1000,
        "the demo world was seeded through node A: {head}"
    );
    b.wait_for_head(head);
    let ready = b.readyz();
    assert_eq!(ready["log"]["backend"], "jetstream", "{ready}");
    assert_eq!(ready["log"]["connected"], true, "{ready}");

    let interests = a.graphql(None, "{ interests(first: 1) { edges { node { slug } } } }");
    let slug = interests["data"]["interests"]["edges"][0]["node"]["slug"]
        .as_str()
        .expect("an interest")
        .to_owned();
    let on_a = feed(&a, &slug);
    let edges = on_a["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 20, "{on_a}");
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["caption"].is_string() && e["node"]["author"]["handle"].is_string()),
        "captions and handles open on the node that wrote them: {on_a}"
    );
    assert_eq!(
        feed(&b, &slug),
        on_a,
        "node B serves the same feed, personal data included"
    );

    // A write through each node: each reads its own at once, the other once it applied it.
    let post_id = edges[0]["node"]["id"].as_str().expect("a post").to_owned();
    let smile =
        format!("mutation {{ smile(postId: \"{post_id}\") {{ position post {{ smileCount }} }} }}");
    let smiled = b.graphql(Some(&token), &smile);
    assert!(
        smiled["errors"].is_null(),
        "{member} smiles through B: {smiled}"
    );
    let position = smiled["data"]["smile"]["position"]
        .as_u64()
        .expect("a position");
    a.wait_for_head(position + 1);
    let on_a = feed(&a, &slug);
    assert_eq!(
        on_a["edges"][0]["node"]["smileCount"].as_u64(),
        edges[0]["node"]["smileCount"].as_u64().map(|n| n + 1),
        "node A shows the smile taken through node B"
    );
    assert_eq!(feed(&b, &slug), on_a, "both nodes show the smile");

    // Node B dies; writes go on through A; B comes back and catches up.
    b.kill();
    let share =
        format!("mutation {{ sharePost(postId: \"{post_id}\", channel: LINK) {{ position }} }}");
    let mut last = 0;
    for _ in 0..5 {
        let shared = a.graphql(Some(&token), &share);
        assert!(shared["errors"].is_null(), "{shared}");
        last = shared["data"]["sharePost"]["position"]
            .as_u64()
            .expect("a position");
    }
    let b = Node::start(&cluster, &dir_b, false, &[]);
    b.wait_for_head(last + 1);
    assert_eq!(
        feed(&b, &slug),
        feed(&a, &slug),
        "the restarted node caught up"
    );
    let (ready_a, ready_b) = (a.readyz(), b.readyz());
    assert_eq!(ready_a["logHead"], ready_b["logHead"]);
    println!(
        "two nodes: head {} on both; B restarted and caught up {} events written without it",
        ready_b["logHead"],
        last + 1 - position
    );
}
