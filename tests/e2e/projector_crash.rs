//! SIGKILL a real projector process at random moments; after each restart it neither skips
//! nor double-applies, so the result equals a rebuild from zero, row for row.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use sparkfeed_domain::{Domain, KeyStore};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_projections::Projections;

const KILLS: u64 = 10;

fn rows(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
    tree.iter()
        .map(|e| {
            let (k, v) = e.expect("reads");
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

/// Seeds the demo world into a log in `dir` (closed again); answers a runtime and the
/// number of events.
fn demo_world(dir: &Path) -> (tokio::runtime::Runtime, u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let events = runtime.block_on(async {
        let log = EventLog::open(Config::new(dir.join("log"))).expect("log");
        let keys = Arc::new(KeyStore::open(&dir.join("keys")).expect("keys"));
        let domain = Domain::new(log, keys);
        let demo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"));
        sparkfeed_seed::load(demo, &domain, |_, _| {})
            .await
            .expect("seeds")
            .events
    });
    (runtime, events)
}

#[test]
fn projections_killed_at_random_moments_resume_exactly_and_equal_a_rebuild() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (runtime, events) = demo_world(dir.path());

    let mut seed = 0x9e37_79b9_u64;
    let mut finished = false;
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_projector"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("projector starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 1 + seed % 40;
        let mut committed = 0;
        for line in lines.by_ref() {
            let line = line.expect("utf-8");
            assert!(!line.starts_with("ERR"), "round {round}: {line}");
            if line == "DONE" {
                finished = true;
            }
            if line.starts_with("COMMITTED ") {
                committed += 1;
                if committed == kill_after {
                    break;
                }
            }
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        if finished {
            break;
        }
    }

    runtime.block_on(async {
        let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log reopens");
        let projections =
            Projections::open(&dir.path().join("projections"), log).expect("projections reopen");
        projections
            .catch_up()
            .await
            .expect("catches up after the kills");
        for (name, lag) in projections.lag().expect("lag") {
            assert_eq!(lag, 0, "{name}");
        }
        for name in projections.names() {
            let resumed = rows(&projections.tree(name).expect("tree"));
            let rebuilt = projections
                .rebuild(name, |_, _| {})
                .await
                .expect("rebuilds");
            assert_eq!(rebuilt.events, events);
            let fresh = rows(&projections.tree(name).expect("tree"));
            assert!(
                resumed == fresh,
                "{name}: killed and resumed equals rebuilt from zero"
            );
        }
    });
}

#[test]
fn a_rebuild_killed_midway_leaves_the_served_generation_whole_and_its_own_files_go() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (runtime, _) = demo_world(dir.path());
    let served = runtime.block_on(async {
        let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log reopens");
        let projections =
            Projections::open(&dir.path().join("projections"), log).expect("projections");
        projections.catch_up().await.expect("catches up");
        rows(&projections.tree("feeds").expect("tree"))
    });
    let fresh_dir = dir.path().join("projections").join("feeds-1");

    let mut child = Command::new(env!("CARGO_BIN_EXE_projector"))
        .args([dir.path().to_str().expect("utf-8"), "rebuild", "feeds"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("projector starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut go_on = child.stdin.take().expect("stdin");
    let mut progress = 0;
    for line in lines.by_ref() {
        let line = line.expect("utf-8");
        assert!(!line.starts_with("ERR") && line != "DONE", "{line}");
        if line.starts_with("PROGRESS ") {
            progress += 1;
            if progress == 3 {
                // The child waits for us after its third batch: kill it there.
                break;
            }
            std::io::Write::write_all(&mut go_on, b"\n").expect("go on");
        }
    }
    assert!(fresh_dir.exists(), "the rebuild was filling its own store");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    runtime.block_on(async {
        let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log reopens");
        let projections =
            Projections::open(&dir.path().join("projections"), log).expect("projections reopen");
        assert!(
            !fresh_dir.exists(),
            "the half-built store is removed on open"
        );
        assert!(
            rows(&projections.tree("feeds").expect("tree")) == served,
            "the generation served before the rebuild is served, whole"
        );
        projections
            .rebuild("feeds", |_, _| {})
            .await
            .expect("a rebuild starts over and finishes");
        assert!(
            rows(&projections.tree("feeds").expect("tree")) == served,
            "and equals it"
        );
    });
}
