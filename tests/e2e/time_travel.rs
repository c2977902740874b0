//! Issue 14, in part: `sparkfeed replay --until N --into DIR`, then `sparkfeed serve
//! --read-only --data-dir DIR`, answers `feed`, `post` and `sponsorshipHistory` exactly as
//! the live server answered at N, and refuses mutations with `READ_ONLY`; and
//! `sparkfeed export --data-dir` writes the bytes the server's `GET /export` streamed.
//! Neither writes anything in the source directory.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use sparkfeed_testkit::client::Client;
use sparkfeed_testkit::log::files_of;

const CLI: &str = env!("CARGO_BIN_EXE_sparkfeed-cli");

/// A `sparkfeed serve` child and what it printed: its address and the demo tokens.
struct Served {
    child: Child,
    addr: SocketAddr,
    /// (role, user id, token) of the demo accounts (empty unless `--demo`).
    tokens: Vec<(String, String, String)>,
}

impl Served {
    fn start(data_dir: &Path, extra: &[&str]) -> Served {
        let mut child = Command::new(CLI)
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns serve");
        let stdout = child.stdout.take().expect("stdout");
        let (mut addr, mut tokens) = (None, Vec::new());
        let demo = extra.contains(&"--demo");
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["GraphiQL", url] = words[..] {
                let host = url.trim_start_matches("http://").trim_end_matches('/');
                addr = Some(host.parse().expect("an address"));
                if !demo {
                    break;
                }
            }
            if let [role, user, token] = words[..]
                && token.starts_with("eyJ")
            {
                tokens.push((role.to_owned(), user.to_owned(), token.to_owned()));
                if role == "member" {
                    break;
                }
            }
        }
        Served {
            child,
            addr: addr.expect("serve prints its address"),
            tokens,
        }
    }

    fn token(&self, role: &str) -> (String, String) {
        let (_, user, token) = self
            .tokens
            .iter()
            .find(|(r, _, _)| r == role)
            .unwrap_or_else(|| panic!("a demo {role}"));
        (user.clone(), token.clone())
    }

    async fn ask(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut client = Client::new(self.addr);
        client.set_token(token.map(str::to_owned));
        let answer = client.graphql(query, variables).await.expect("answer");
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.body
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const FEED: &str = "query($i: String!) { feed(interest: $i, first: 30) {
  edges { cursor node { id caption publishedAt smileCount saveCount commentCount purchaseCount
    sponsored disclosure { label } author { handle } tags { verifiedPurchaser product { asin price { cents } } } } }
  pageInfo { hasNextPage endCursor } } }";
const POST: &str = "query($p: ID!) { post(id: $p) { id caption smileCount commentCount
  comments(first: 20) { edges { node { id text } } } } }";
const HISTORY: &str = "query($p: ID!) { sponsorshipHistory(postId: $p, first: 100) {
  edges { node { position recordedAt actor type hash contractId postId summary } } } }";
const HEAD: &str = "{ verifyLog { intact records headHash } }";

/// The first sponsored post of the demo world's feeds, and the interest it is in.
async fn a_sponsored_post(live: &Served) -> (String, String) {
    let interests = live
        .ask(
            None,
            "{ interests(first: 50) { edges { node { slug } } } }",
            json!({}),
        )
        .await;
    for edge in interests["data"]["interests"]["edges"]
        .as_array()
        .expect("interests")
    {
        let slug = edge["node"]["slug"].as_str().expect("slug").to_owned();
        let feed = live.ask(None, FEED, json!({ "i": slug })).await;
        let posts = feed["data"]["feed"]["edges"]
            .as_array()
            .expect("edges")
            .clone();
        if let Some(post) = posts.iter().find(|e| e["node"]["sponsored"] == true) {
            return (slug, post["node"]["id"].as_str().expect("id").to_owned());
        }
    }
    panic!("the demo world has a sponsored post in some feed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_served_read_only_answers_as_the_live_server_did_at_that_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (source, copy) = (dir.path().join("live"), dir.path().join("as-of"));
    let live = Served::start(&source, &["--demo"]);
    let (auditor_id, auditor) = live.token("auditor");
    let (member_id, member) = live.token("member");

    // At N: what the live server answers.
    let (interest, sponsored) = a_sponsored_post(&live).await;
    let head = live.ask(Some(&auditor), HEAD, json!({})).await;
    let n = head["data"]["verifyLog"]["records"]
        .as_u64()
        .expect("records");
    let at_n = [
        live.ask(None, FEED, json!({ "i": interest })).await,
        live.ask(None, POST, json!({ "p": sponsored })).await,
        live.ask(Some(&auditor), HISTORY, json!({ "p": sponsored }))
            .await,
        head,
    ];
    // After N: the live world moves on.
    for mutation in [
        format!(
            "mutation {{ comment(postId: \"{sponsored}\", text: \"after N\") {{ position }} }}"
        ),
        format!("mutation {{ savePost(postId: \"{sponsored}\") {{ position }} }}"),
    ] {
        let moved = live.ask(Some(&member), &mutation, json!({})).await;
        assert!(moved["errors"].is_null(), "{moved}");
    }
    // (Read as the writer: others may see a cached answer for a moment.)
    let later = live
        .ask(Some(&member), POST, json!({ "p": sponsored }))
        .await;
    assert_ne!(later, at_n[1], "the post changed after N");
    // The whole log as the server exports it, to compare with exports of the directory.
    let (_, analyst) = live.token("analyst");
    let mut client = Client::new(live.addr);
    client.set_token(Some(analyst));
    let served = client.get("/export").await.expect("export");
    assert_eq!(served.status, 200, "{}", served.text);
    live.stop();
    let source_files = files_of(&source);

    let out = tokio::task::spawn_blocking({
        let (source, copy) = (source.clone(), copy.clone());
        move || {
            Command::new(CLI)
                .args(["replay", "--until", &n.to_string(), "--data-dir"])
                .arg(&source)
                .arg("--into")
                .arg(&copy)
                .output()
                .expect("runs")
        }
    })
    .await
    .expect("joins");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let as_of = Served::start(&copy, &["--read-only"]);
    let token = |user: &str| {
        let out = Command::new(CLI)
            .args(["token", user, "--data-dir"])
            .arg(&copy)
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let auditor = token(&auditor_id);
    let answers = [
        as_of.ask(None, FEED, json!({ "i": interest })).await,
        as_of.ask(None, POST, json!({ "p": sponsored })).await,
        as_of
            .ask(Some(&auditor), HISTORY, json!({ "p": sponsored }))
            .await,
        as_of.ask(Some(&auditor), HEAD, json!({})).await,
    ];
    for (asked, (then, now)) in ["feed", "post", "sponsorshipHistory", "verifyLog"]
        .iter()
        .zip(at_n.iter().zip(&answers))
    {
        assert_eq!(then, now, "{asked} answers as the live server did at {n}");
    }
    let refused = as_of
        .ask(
            Some(&token(&member_id)),
            &format!("mutation {{ smile(postId: \"{sponsored}\") {{ position }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "READ_ONLY",
        "{refused}"
    );
    as_of.stop();

    // The same log exported from the directory, with no server: the same bytes.
    let file = dir.path().join("events.jsonl");
    export_offline(&source, "jsonl", &file);
    assert!(
        std::fs::read(&file).expect("written") == served.text.as_bytes(),
        "the offline export equals the server's byte for byte"
    );
    // And as Parquet, read back with Arrow's reader: the same events, field by field.
    let parquet_file = dir.path().join("events.parquet");
    export_offline(&source, "parquet", &parquet_file);
    let lines: Vec<Value> = served
        .text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(
        lines.len() as u64 > n,
        "the export holds the events after N too"
    );
    assert_eq!(
        read_parquet(&parquet_file),
        lines,
        "the Parquet export equals the log"
    );
    // The server's lines through the Parquet writer (what `export --server --format
    // parquet` does) give the same file as the records of the directory, byte for byte.
    let mut from_lines =
        sparkfeed_api::export::parquet::ParquetWriter::new(Vec::new()).expect("a writer");
    from_lines
        .write(served.text.as_bytes())
        .expect("the server's lines are export lines");
    assert!(
        from_lines.finish().expect("finishes") == std::fs::read(&parquet_file).expect("written"),
        "Parquet from the server's lines equals Parquet from the directory's records"
    );

    // Bad input: a clear message and a non-zero exit, and nothing written.
    for (args, says) in [
        (
            vec!["replay", "--until", "yesterday", "--into", "fresh"],
            "neither a position nor",
        ),
        (
            vec!["replay", "--until", "5", "--into", "as-of"],
            "is not empty",
        ),
        (
            vec!["export", "--type", "Nope", "-o", "fresh.jsonl"],
            "no event has the type",
        ),
        (
            vec!["export", "--from", "9", "--until", "3", "-o", "fresh.jsonl"],
            "is before from",
        ),
        (vec!["export", "--follow"], "--follow needs --server"),
    ] {
        let out = Command::new(CLI)
            .args(&args)
            .arg("--data-dir")
            .arg(&source)
            .current_dir(dir.path())
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
    assert!(!dir.path().join("fresh").exists() && !dir.path().join("fresh.jsonl").exists());
    assert_eq!(
        files_of(&source),
        source_files,
        "replays and exports wrote nothing in the source"
    );
}

/// `sparkfeed export --data-dir source --format format -o file`, which must succeed.
fn export_offline(source: &Path, format: &str, file: &Path) {
    let out = Command::new(CLI)
        .args(["export", "--format", format, "--data-dir"])
        .arg(source)
        .arg("-o")
        .arg(file)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every row of an export's Parquet file, as the JSON line it stands for.
fn read_parquet(path: &Path) -> Vec<Value> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int32Type, TimestampMicrosecondType, UInt16Type, UInt64Type};
    let file = std::fs::File::open(path).expect("opens");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a Parquet file")
        .build()
        .expect("a reader");
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.expect("a batch");
        let text = |name: &str, row: usize| -> Value {
            let column = batch.column_by_name(name).expect("a column");
            if column.is_null(row) {
                return Value::Null;
            }
            let value = match column.as_dictionary_opt::<Int32Type>() {
                Some(dictionary) => {
                    let values = dictionary.values().as_string::<i32>();
                    let key = dictionary.keys().value(row);
                    values
                        .value(usize::try_from(key).expect("a key"))
                        .to_owned()
                }
                None => column.as_string::<i32>().value(row).to_owned(),
            };
            Value::String(value)
        };
        let number = |name: &str, row: usize| -> u64 {
            let column = batch.column_by_name(name).expect("a column");
            match column.as_primitive_opt::<UInt64Type>() {
                Some(values) => values.value(row),
                None => u64::from(column.as_primitive::<UInt16Type>().value(row)),
            }
        };
        let times = batch
            .column_by_name("recorded_at")
            .expect("a column")
            .as_primitive::<TimestampMicrosecondType>();
        for row in 0..batch.num_rows() {
            let data = text("data", row);
            rows.push(json!({
                "position": number("position", row),
                "id": text("id", row),
                "stream": text("stream", row),
                "version": number("version", row),
                "type": text("type", row),
                "schemaVersion": number("schema_version", row),
                "recordedAt": sparkfeed_api::time::format(times.value(row)),
                "actor": text("actor", row),
                "correlationId": text("correlation_id", row),
                "causationId": text("causation_id", row),
                "hash": text("hash", row),
                "data": serde_json::from_str::<Value>(data.as_str().expect("text")).expect("json"),
            }));
        }
    }
    rows
}
