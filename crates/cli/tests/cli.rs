//! The `sparkfeed` binary as an operator runs it.

mod common;

use std::path::Path;
use std::process::Command;

use common::served::Served;
use common::sparkfeed;

use sparkfeed_eventlog::{Config, EventLog, ExpectedVersion, keys, records};
use sparkfeed_events::{Position, StreamName};
use sparkfeed_testkit::log::{event, files_of};

fn write_log(dir: &Path, events: u64) {
    let log = EventLog::open(Config::new(dir)).expect("opens");
    for n in 0..events {
        let event = event(n);
        let stream = StreamName::of("post", &(n % 5).to_string()).expect("valid");
        log.append_blocking(&stream, ExpectedVersion::Any, vec![event])
            .expect("appends");
    }
}

#[test]
fn verify_reports_an_intact_log_with_its_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_log(dir.path(), 50);
    let data_dir = dir.path().to_str().expect("utf-8");
    let (code, out, err) = sparkfeed(&["verify", "--data-dir", data_dir]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("ok: 50 events verified; head position 49, hash "),
        "{out}"
    );

    let (code, out, _) = sparkfeed(&["head", "--data-dir", data_dir]);
    assert_eq!(code, 0);
    assert!(out.contains("events 50\nlast position 49\nhash "), "{out}");
}

#[test]
fn verify_names_the_tampered_position_and_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_log(dir.path(), 30);
    {
        let db = sled::open(dir.path().join("sled")).expect("raw sled");
        let tree = db.open_tree("log").expect("tree");
        let at = Position(12);
        let stored = records::stored(&tree, at).expect("reads").expect("present");
        let mut bytes = stored.bytes().to_vec();
        bytes[20] ^= 1;
        records::rewrite_stored(&tree, at, &bytes).expect("writes");
        db.flush().expect("flushes");
    }
    let (code, out, err) =
        sparkfeed(&["verify", "--data-dir", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.starts_with("TAMPERED at position 12: hash mismatch"),
        "{out}"
    );
}

#[test]
fn verify_refuses_a_directory_another_process_holds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _held = EventLog::open(Config::new(dir.path())).expect("opens");
    let (code, _, err) = sparkfeed(&["verify", "--data-dir", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("is held by another process, and no server address is in"),
        "{err}"
    );
}

#[test]
fn verify_names_records_past_a_lowered_tail_marker_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_log(dir.path(), 30);
    {
        let db = sled::open(dir.path().join("sled")).expect("raw sled");
        let tree = db.open_tree("log").expect("tree");
        tree.insert(keys::TAIL_KEY, &keys::tail_value(20, 20))
            .expect("writes");
        db.flush().expect("flushes");
    }
    let before = files_of(dir.path());
    let (code, out, err) =
        sparkfeed(&["verify", "--data-dir", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.starts_with("ok: 20 events verified"), "{out}");
    assert!(
        out.contains("PAST THE TAIL MARKER: 10 records at positions 20..=29"),
        "{out}"
    );
    assert!(out.contains("the directory was not written"), "{out}");
    let (code, out, err) = sparkfeed(&["head", "--data-dir", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("events 20\nlast position 19\n"), "{out}");
    assert!(
        err.contains("records past the tail marker at positions 20..=29"),
        "{err}"
    );
    assert_eq!(
        files_of(dir.path()),
        before,
        "the directory's bytes are unchanged by verify and head"
    );
}

#[test]
fn bench_append_prints_every_scenario_beside_raw_sled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = sparkfeed(&[
        "bench",
        "append",
        "--seconds",
        "0.05",
        "--runs",
        "1",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    for row in [
        "raw sled insert+flush, 1 thread",
        "raw sled insert+flush+fdatasync, 1 thread",
        "log append, 1 writer ",
        "log append, 8 writers",
        "log append, 64 writers",
        "log append, 1 writer, batches of 100",
    ] {
        assert!(out.contains(row), "missing {row:?} in\n{out}");
    }
    assert!(out.contains("/raw+sync"), "{out}");
}

#[test]
fn bench_export_prints_both_formats_beside_the_log_read_ceiling() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = sparkfeed(&[
        "bench",
        "export",
        "--events",
        "5000",
        "--posts",
        "100",
        "--runs",
        "1",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "log-read ceiling (whole log read and decoded, the log opened as the server opens it): ",
        "the same read, the log opened as the export opens it",
        "each measurement in a fresh process",
        "export JSON Lines: ",
        "export Parquet: ",
        "x the ceiling), ",
        "peak memory growth ",
        "opening the log added ",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let (code, _, err) = sparkfeed(&[
        "bench",
        "export-one",
        "--scenario",
        "jsonl",
        "--log",
        dir.path().join("nothing-here").to_str().expect("utf-8"),
    ]);
    assert!(
        code != 0 && err.contains("holds no sparkfeed log"),
        "a measurement of a directory with no log is refused: {err}"
    );
    assert!(
        !dir.path().join("nothing-here").exists(),
        "and nothing is created"
    );
}

#[test]
fn bench_verify_prints_the_copy_and_the_check_beside_the_check_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = sparkfeed(&[
        "bench",
        "verify",
        "--events",
        "3000",
        "--posts",
        "100",
        "--runs",
        "1",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "verify on the open log (verifyLog): ",
        "sparkfeed verify (a copy, no recovery): copy ",
        "x the time of the check in place",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn bench_projections_prints_log_reads_rebuilds_replays_in_memory_and_feed_latency() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = sparkfeed(&[
        "bench",
        "projections",
        "--events",
        "10000",
        "--posts",
        "100",
        "--runs",
        "1",
        "--reads",
        "20",
        "--cache-mb",
        "16",
        "--in-memory",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "reading the whole log, 8192 events a page",
        "events/s decoded as domain events",
        "peak memory +",
        "CPU s/M events",
        "x decoded read",
        "feeds ",
        "feeds, in memory ",
        "analytics ",
        "audit, in memory ",
        "audit ",
        "feed page (first: 20",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn bench_scale_prints_a_feed_page_and_the_servers_memory_at_every_log_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = sparkfeed(&[
        "bench",
        "scale",
        "--sizes",
        "3000,1500",
        "--reads",
        "20",
        "--clients",
        "2",
        "--seconds",
        "0.3",
        "--cache-mb",
        "32",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(" MiB") && l.contains("us"))
        .collect();
    assert_eq!(rows.len(), 2, "a row per size, smallest first:\n{out}");
    let events: Vec<u64> = rows
        .iter()
        .map(|r| {
            r.split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .expect("events")
        })
        .collect();
    assert!(events[0] < events[1], "{out}");
    for row in &rows {
        // events posts 4 latencies req/s, rss started MiB, rss peak MiB, then the walk's
        // pages and the server's memory during it.
        let walked: u64 = row
            .split_whitespace()
            .nth(11)
            .and_then(|n| n.parse().ok())
            .expect("pages walked");
        assert!(walked >= 2, "every feed walked, past its first page: {row}");
    }
    for line in [
        "rss peak",
        "rss walked",
        "http p99",
        "proc p99",
        "over HTTP",
        "(target: at most 1.5x)",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    // Every server it started is gone with its scratch world.
    assert_eq!(std::fs::read_dir(dir.path()).expect("lists").count(), 0);
}

#[test]
fn bench_lag_prints_how_far_the_live_projections_run_behind_a_write_rate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = sparkfeed(&[
        "bench",
        "lag",
        "--events",
        "3000",
        "--rate",
        "200",
        "--seconds",
        "0.5",
        "--cache-mb",
        "32",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    for line in [
        "live projection lag over a",
        "written at",
        "p99",
        "(target: p99 at most 50 ms",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    let measured: u64 = out
        .split(" measured)")
        .next()
        .and_then(|head| head.rsplit('(').next())
        .and_then(|n| n.trim().parse().ok())
        .expect("a count of shares measured");
    assert!(measured > 0, "{out}");
}

#[test]
fn bench_projections_rebuilds_only_the_projections_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = |only: &'static str| {
        vec![
            "bench",
            "projections",
            "--events",
            "3000",
            "--posts",
            "30",
            "--runs",
            "1",
            "--reads",
            "5",
            "--cache-mb",
            "16",
            "--only",
            only,
            "--dir",
            dir.path().to_str().expect("utf-8"),
        ]
    };
    let (code, out, err) = sparkfeed(&args("audit"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\naudit "), "{out}");
    assert!(
        !out.contains("\nfeeds ") && !out.contains("\nanalytics "),
        "{out}"
    );
    assert!(out.contains("feed page: not measured"), "{out}");

    let (code, _, err) = sparkfeed(&args("nope"));
    assert_eq!(code, 1);
    assert!(err.contains("no projection named nope"), "{err}");
}

#[test]
fn the_demo_world_seeds_and_then_verifies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let world = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/demo");
    let data = data_dir.to_str().expect("utf-8");
    let (code, out, err) = sparkfeed(&["seed", world, "--data-dir", data]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("seeded "), "{out}");
    let (code, out, err) = sparkfeed(&["verify", "--data-dir", data]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("ok: "), "{out}");

    let (code, out, err) = sparkfeed(&["rebuild", "all", "--data-dir", data]);
    assert_eq!(code, 0, "{out}{err}");
    for name in [
        "analytics",
        "audit",
        "creators",
        "feeds",
        "foryou",
        "moderation",
    ] {
        assert!(out.contains(&format!("rebuilt {name}: ")), "{out}");
    }
    let (code, _, err) = sparkfeed(&["rebuild", "nope", "--data-dir", data]);
    assert_eq!(code, 1);
    assert!(err.contains("no projection named nope"), "{err}");
    let (code, _, err) = sparkfeed(&["seed", world, "--data-dir", data]);
    assert_eq!(code, 1, "seeding twice is refused");
    assert!(err.contains("seed into an empty data directory"), "{err}");
}

#[test]
fn fixtures_writes_the_committed_demo_world() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, _, err) = sparkfeed(&["fixtures", dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{err}");
    let committed = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/demo"));
    for name in sparkfeed_seed::FILES {
        let fresh = std::fs::read_to_string(dir.path().join(name)).expect("written");
        let kept = std::fs::read_to_string(committed.join(name)).expect("committed");
        assert!(
            fresh == kept,
            "fixtures/demo/{name} is not what `sparkfeed fixtures` writes: regenerate it"
        );
    }
}

/// `POST /graphql` over a fresh loopback connection; answers the raw response.
fn post_graphql(addr: &str, token: Option<&str>, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    let request = format!(
        "POST /graphql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n{auth}\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    answer
}

#[test]
fn the_server_logs_no_token_secret_or_personal_data_even_at_trace_level() {
    use std::io::BufRead;
    let world = tempfile::tempdir().expect("temp dir");
    let data = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        std::fs::write(world.path().join(name), text).expect("world file");
    };
    write(
        "interests.jsonl",
        "{\"slug\":\"coffee\",\"name\":\"Coffee\"}\n",
    );
    write(
        "products.jsonl",
        "{\"asin\":\"B000100000\",\"title\":\"Kettle\",\"price_cents\":4500,\"currency\":\"USD\",\
         \"image_url\":\"https://images.example/k.jpg\",\"interests\":[\"coffee\"],\"consumable\":false}\n",
    );
    write(
        "users.jsonl",
        "{\"id\":\"u0001\",\"handle\":\"quiet_member\",\"display_name\":\"Qwilla Private\",\
         \"kind\":\"member\",\"prime\":true,\"roles\":[],\"interests\":[\"coffee\"]}\n",
    );
    for empty in ["contracts.jsonl", "posts.jsonl", "activity.jsonl"] {
        write(empty, "");
    }
    let data_dir = data.path().to_str().expect("utf-8");
    let world_dir = world.path().to_str().expect("utf-8");
    let secret = "a log-privacy test secret, at least 32 bytes";
    let (code, out, err) = sparkfeed(&["seed", world_dir, "--data-dir", data_dir]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, token, err) =
        sparkfeed(&["token", "u0001", "--data-dir", data_dir, "--secret", secret]);
    assert_eq!(code, 0, "{err}");
    let token = token.trim().to_owned();

    let log_path = data.path().join("server.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let mut server = Command::new(env!("CARGO_BIN_EXE_sparkfeed"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir])
        .env("SPARKFEED_SECRET", secret)
        .env("SPARKFEED_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(log_file)
        .spawn()
        .expect("serve");
    let stdout = server.stdout.take().expect("stdout");
    let addr = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.trim().strip_prefix("GraphiQL").map(|url| {
                url.trim()
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_owned()
            })
        })
        .expect("the server prints its address");
    // While it serves, the directory names it, for commands that find the directory held.
    assert_eq!(
        std::fs::read_to_string(data.path().join("serve.addr")).expect("serve.addr"),
        format!("http://{addr}\n")
    );

    // Personal data in every field that carries it, a token, a forged token, and errors.
    let private = [
        "hidden_handle_77",
        "Zyxwv Personal Name",
        "my private caption qwerty",
        "https://private.example/secret-photo.jpg",
        "secret alt text uvw",
        "private comment text xyz",
        "edited caption private abc",
    ];
    let answer = post_graphql(
        &addr,
        None,
        &format!(
            "{{\"query\":\"mutation {{ registerUser(handle: \\\"{}\\\", displayName: \\\"{}\\\") {{ token }} }}\"}}",
            private[0], private[1]
        ),
    );
    assert!(answer.contains("\"token\""), "{answer}");
    let publish = format!(
        "{{\"query\":\"mutation($i: PublishPostInput!) {{ publishPost(input: $i) {{ post {{ id }} }} }}\",\
          \"variables\":{{\"i\":{{\"caption\":\"{}\",\"media\":[{{\"url\":\"{}\",\"width\":1,\"height\":1,\"alt\":\"{}\"}}],\
          \"interests\":[\"coffee\"],\"tags\":[{{\"asin\":\"B000100000\",\"x\":0.5,\"y\":0.5}}]}}}}}}",
        private[2], private[3], private[4]
    );
    let answer = post_graphql(&addr, Some(&token), &publish);
    let post = answer
        .split("\"id\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a post id: {answer}"))
        .to_owned();
    let answer = post_graphql(
        &addr,
        Some(&token),
        &format!(
            "{{\"query\":\"mutation {{ comment(postId: \\\"{post}\\\", text: \\\"{}\\\") {{ position }} }}\"}}",
            private[5]
        ),
    );
    assert!(answer.contains("position"), "{answer}");
    post_graphql(
        &addr,
        Some(&token),
        &format!(
            "{{\"query\":\"mutation {{ editCaption(postId: \\\"{post}\\\", caption: \\\"{}\\\") {{ position }} }}\"}}",
            private[6]
        ),
    );
    // Refusals and failures: a forged token, a bad argument, a malformed body.
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MDAwMSJ9.Zm9yZ2VkLXNpZ25hdHVyZQ";
    post_graphql(&addr, Some(forged), "{\"query\":\"{ viewer { id } }\"}");
    post_graphql(
        &addr,
        Some(&token),
        &format!(
            "{{\"query\":\"mutation {{ comment(postId: \\\"{post}\\\", text: \\\"\\\") {{ position }} }}\"}}"
        ),
    );
    post_graphql(&addr, Some(&token), "{\"query\": ");
    let _ = server.kill();
    let _ = server.wait();

    let log = std::fs::read_to_string(&log_path).expect("the server's log");
    assert!(
        log.contains("event log open"),
        "the server logged to stderr: {log}"
    );
    for needle in private.iter().copied().chain([
        token.as_str(),
        forged,
        secret,
        "Qwilla Private",
        "quiet_member",
    ]) {
        assert!(!log.contains(needle), "the log holds {needle:?}");
    }
}

#[test]
fn a_server_that_rebuilt_its_projections_at_open_opens_again_and_serves_what_it_rebuilt() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().as_os_str();
    let feed = r#"{ feed(interest: "garden", first: 20) { edges { node {
        id smileCount saveCount shareCount commentCount purchaseCount } } } }"#;
    let served = |args: &[&std::ffi::OsStr]| {
        let server = Served::start(args);
        let answer = server.graphql(None, feed);
        assert!(
            server.get("/readyz").starts_with("HTTP/1.1 200"),
            "{:?}",
            server.printed
        );
        let printed = server.printed.clone();
        server.kill();
        (answer, printed)
    };
    let reopened = |printed: &[String]| {
        printed
            .iter()
            .any(|line| line.contains("opening the directory again"))
    };
    let (seeded, printed) = served(&["--demo".as_ref(), "--data-dir".as_ref(), dir]);
    let posts = seeded["data"]["feed"]["edges"].as_array().expect("a feed");
    assert_eq!(posts.len(), 20, "{seeded}");
    assert!(
        !reopened(&printed),
        "the demo log is short: caught up batch by batch"
    );

    std::fs::remove_dir_all(data.path().join("projections")).expect("projections removed");
    let rebuild_from_one = [
        "--data-dir".as_ref(),
        dir,
        "--rebuild-from".as_ref(),
        "1".as_ref(),
    ];
    let (rebuilt, printed) = served(&rebuild_from_one);
    assert!(
        printed.iter().any(|line| line
            .starts_with("rebuilt analytics, audit, creators, feeds, foryou, moderation:")),
        "every projection was new, so rebuilt: {printed:?}"
    );
    assert!(reopened(&printed), "{printed:?}");
    assert_eq!(rebuilt, seeded, "the feed served after opening again");

    let (again, printed) = served(&rebuild_from_one);
    assert!(!reopened(&printed), "nothing to rebuild: {printed:?}");
    assert_eq!(again, seeded);
}

#[test]
fn a_server_whose_stdout_is_closed_goes_on_serving() {
    let stderr = serve_unread(false);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_server_whose_stdout_and_stderr_are_closed_goes_on_serving_and_logging() {
    // Logging at debug, every request writes to the closed stderr: a panic there (as
    // `eprintln!` does) would stop the server before its address, or drop the answer.
    serve_unread(true);
}

/// Starts `serve` logging at debug with nobody reading its stdout (nor its stderr when
/// `stderr_closed`), asks it a query, checks it answered and still serves; what it wrote
/// on stderr, if anyone read it.
fn serve_unread(stderr_closed: bool) -> String {
    let data = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sparkfeed"));
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("SPARKFEED_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(if stderr_closed {
            std::process::Stdio::from(closed_pipe())
        } else {
            std::process::Stdio::piped()
        });
    let mut server = command.spawn().expect("serve");
    // Nobody reads its output: every line it prints meets a closed pipe.
    drop(server.stdout.take());
    let address_file = data.path().join("serve.addr");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let addr = loop {
        if let Ok(text) = std::fs::read_to_string(&address_file)
            && text.ends_with('\n')
        {
            break text.trim().trim_start_matches("http://").to_owned();
        }
        assert!(
            server.try_wait().expect("waits").is_none(),
            "the server stopped"
        );
        assert!(std::time::Instant::now() < deadline, "no address");
        std::thread::yield_now();
    };
    for _ in 0..3 {
        let answer = post_graphql(&addr, None, r#"{"query": "{ __typename }"}"#);
        assert!(answer.contains("\"data\""), "{answer}");
    }
    assert!(server.try_wait().expect("waits").is_none(), "still serving");
    let _ = server.kill();
    let output = server.wait_with_output().expect("stderr");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_command_whose_stdout_is_closed_says_so_and_exits_1_never_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_log(dir.path(), 5);
    let data_dir = dir.path().to_str().expect("utf-8");
    let commands: [&[&str]; 3] = [
        &["schema"],
        &["head", "--data-dir", data_dir],
        &["verify", "--data-dir", data_dir],
    ];
    for args in commands {
        let (code, stderr) = sparkfeed_unread(args, false);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error: writing to stdout: Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}

/// A pipe whose reading end is closed before the command starts: the first write to it
/// fails with EPIPE (Rust ignores SIGPIPE).
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    writer
}

/// Runs `sparkfeed` with its stdout closed (and its stderr too when `stderr_closed`): its
/// exit code and what it wrote on stderr.
fn sparkfeed_unread(args: &[&str], stderr_closed: bool) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sparkfeed"));
    command.args(args).stdout(closed_pipe());
    if stderr_closed {
        command.stderr(closed_pipe());
    }
    let out = command.output().expect("sparkfeed runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_command_that_changed_something_but_cannot_report_it_exits_3_and_the_change_stands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixtures = dir.path().join("fixtures");
    let fixtures = fixtures.to_str().expect("utf-8");
    let data_dir = dir.path().join("data");
    let data = data_dir.to_str().expect("utf-8");
    let world = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/demo");

    let (code, err) = sparkfeed_unread(&["fixtures", fixtures], false);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("done, but its report could not be written"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    for name in sparkfeed_seed::FILES {
        assert!(Path::new(fixtures).join(name).is_file(), "{name} written");
    }

    let (code, err) = sparkfeed_unread(&["seed", world, "--data-dir", data], false);
    assert_eq!(code, Some(3), "{err}");
    let (code, out, err) = sparkfeed(&["head", "--data-dir", data]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.starts_with("events 0\n"), "the seed stands: {out}");

    // The member is forgotten once: a second forget is refused, writing nothing.
    let (code, err) = sparkfeed_unread(&["forget", "u0005", "--data-dir", data], true);
    assert_eq!(code, Some(3), "stderr closed too: {err}");
    let (code, _, err) = sparkfeed(&["forget", "u0005", "--data-dir", data]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ALREADY_FORGOTTEN"), "{err}");
}

#[test]
fn a_command_that_fails_with_its_stderr_closed_exits_1_never_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-log");
    let missing = missing.to_str().expect("utf-8");
    let commands: [&[&str]; 2] = [
        &["head", "--data-dir", missing],
        &["rebuild", "nope", "--data-dir", missing],
    ];
    for args in commands {
        let (code, _) = sparkfeed_unread(args, true);
        // A panic in `eprintln!` would exit 101.
        assert_eq!(code, Some(1), "{args:?}");
    }
}

#[test]
fn out_of_range_arguments_are_refused_with_a_message_never_a_panic() {
    for args in [
        ["bench", "append", "--seconds", "inf"],
        ["bench", "append", "--seconds=-1", "--runs=1"],
        ["bench", "append", "--seconds", "NaN"],
        ["bench", "api", "--seconds", "1e30"],
        ["bench", "scale", "--seconds", "0"],
    ] {
        let (code, out, err) = sparkfeed(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("expected seconds above 0"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // Counts a bench would allocate for or add up are bounded: `--clients 2^64-1` was a
    // capacity-overflow panic before anything ran.
    let huge = "18446744073709551615";
    for args in [
        ["bench", "api", "--addr", "127.0.0.1:1", "--clients", huge],
        ["bench", "api", "--max-requests", huge, "--runs", "1"],
        ["bench", "projections", "--events", "1000", "--reads", huge],
        ["bench", "verify", "--events", "1000", "--posts", huge],
        ["bench", "export", "--events", huge, "--posts", "10"],
        ["bench", "scale", "--sizes", "1000", "--clients", huge],
        ["bench", "scale", "--sizes", huge, "--reads", "1"],
        ["bench", "projections", "--runs", "0", "--reads", "1"],
        [
            "bench",
            "projections",
            "--replay-buffer-mb",
            huge,
            "--reads",
            "1",
        ],
    ] {
        let (code, out, err) = sparkfeed(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("is not in "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A bench world with more posts than its events could hold is refused before
    // anything is written: it used to be loaded larger than asked and reported as asked.
    let scratch = tempfile::tempdir().expect("temp dir");
    for command in ["verify", "export", "disk", "projections", "all"] {
        let (code, out, err) = sparkfeed(&[
            "bench",
            command,
            "--events",
            "1000",
            "--posts",
            "5000",
            "--dir",
            scratch.path().to_str().expect("utf-8"),
        ]);
        assert_ne!(code, 0, "{command}: {out}{err}");
        assert!(
            err.contains("a world of 5000 posts has at least") && err.contains("the 1000 asked"),
            "{command}: {err}"
        );
        assert!(!err.contains("panicked"), "{command}: {err}");
        assert_eq!(
            std::fs::read_dir(scratch.path()).expect("lists").count(),
            0,
            "{command}: nothing written"
        );
    }
    for (command, size) in [("scale", "--sizes"), ("all", "--sizes")] {
        let (code, _, err) = sparkfeed(&[
            "bench",
            command,
            size,
            "10000,100",
            "--dir",
            scratch.path().to_str().expect("utf-8"),
        ]);
        assert_ne!(code, 0, "{command}: {err}");
        assert!(err.contains("the 100 asked"), "{command}: {err}");
        assert_eq!(std::fs::read_dir(scratch.path()).expect("lists").count(), 0);
    }
    // A page-cache budget too small for sled to work in is refused before anything opens.
    let untouched = tempfile::tempdir().expect("temp dir");
    let data_dir = untouched.path().join("data");
    let (code, _, err) = sparkfeed(&[
        "serve",
        "--cache-mb",
        "1",
        "--data-dir",
        data_dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--cache-mb") && err.contains("16"), "{err}");
    assert!(!data_dir.exists(), "nothing was created");
    // A log URL that names no server is refused before anything opens or connects.
    for url in [
        "http://127.0.0.1:4222",
        "nats://",
        "nats://host",
        "nats://127.0.0.1:99999",
    ] {
        let (code, _, err) = sparkfeed(&[
            "serve",
            "--log",
            url,
            "--data-dir",
            data_dir.to_str().expect("utf-8"),
        ]);
        assert_eq!(code, 2, "{url}: {err}");
        assert!(
            err.contains("--log") && err.contains("nats://"),
            "{url}: {err}"
        );
        assert!(!err.contains("panicked"), "{url}: {err}");
        assert!(!data_dir.exists(), "nothing was created");
    }
    // No server answers at a well-formed URL: a clear failure, nothing served.
    let (code, _, err) = sparkfeed(&[
        "serve",
        "--log",
        "nats://127.0.0.1:1",
        "--data-dir",
        data_dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("joining the JetStream log"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A world whose contract starts a trillion days from now: a bad line, not an overflow.
    let world = tempfile::tempdir().expect("temp dir");
    let data = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        (
            "interests.jsonl",
            "{\"slug\":\"coffee\",\"name\":\"Coffee\"}\n",
        ),
        ("products.jsonl", ""),
        ("users.jsonl", ""),
        ("posts.jsonl", ""),
        ("activity.jsonl", ""),
        (
            "contracts.jsonl",
            "{\"id\":\"k0001\",\"brand\":\"b0001\",\"enthusiast\":\"u0005\",\"flat_fee_cents\":1,\
             \"starts_in_days\":1000000000000,\"ends_in_days\":1000000000001}\n",
        ),
    ] {
        std::fs::write(world.path().join(name), text).expect("world file");
    }
    let (code, out, err) = sparkfeed(&[
        "seed",
        world.path().to_str().expect("utf-8"),
        "--data-dir",
        data.path().to_str().expect("utf-8"),
    ]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("contracts.jsonl"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bench_cluster_prints_appends_and_api_on_sled_and_on_one_and_two_jetstream_nodes() {
    // A real 3-server cluster: without nats-server this fails, it does not skip.
    sparkfeed_testkit::nats::nats_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = sparkfeed(&[
        "bench",
        "cluster",
        "--writers",
        "1,4",
        "--seconds",
        "0.3",
        "--runs",
        "1",
        "--clients",
        "2",
        "--dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    for workload in [
        "append, 1 writer ",
        "append, 4 writers",
        "API feed page (first: 20)",
    ] {
        for setup in [
            "embedded sled log",
            "JetStream R3, 1 node ",
            "JetStream R3, 2 nodes",
        ] {
            assert!(
                out.lines()
                    .any(|l| l.starts_with(workload) && l.contains(setup)),
                "missing {workload:?} on {setup:?} in\n{out}"
            );
        }
    }
    assert!(out.contains("API mutation (sharePost)"), "{out}");
    assert!(!out.contains("first failed answer"), "{out}");
}
