//! SIGKILL a real projector process at random moments; after each restart it neither skips
//! nor double-applies, so the result equals a rebuild from zero, row for row.
//!
//! The projector catches the projections up one after another, so kills after a random
//! number of batches all landed in the first (issue 12): the kills are aimed at each
//! projection in turn, and the test counts, from the checkpoints on disk, those that left
//! each one part-way.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sparkfeed_domain::{Domain, KeyStore};
use sparkfeed_e2e::PROJECTOR_BATCH;
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_projections::Projections;
use sparkfeed_testkit::log::rows;

/// Kills that must land part-way through each projection's catch-up.
const KILLS_EACH: usize = 10;

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

/// A small deterministic generator, so a failing run can be replayed exactly.
pub(crate) struct XorShift(pub u64);

impl XorShift {
    /// The next number, below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// What a projector child found on disk when it started (its `HEAD` and `AT` lines).
struct Found {
    head: u64,
    at: BTreeMap<String, u64>,
}

/// Reads a projector's lines up to `READY`.
fn found(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> Found {
    let mut found = Found {
        head: 0,
        at: BTreeMap::new(),
    };
    for line in lines {
        let line = line.expect("utf-8");
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["READY"] => return found,
            ["HEAD", head] => found.head = head.parse().expect("a count"),
            ["AT", name, at] => {
                found
                    .at
                    .insert(name.to_owned(), at.parse().expect("a position"));
            }
            _ => panic!("before READY: {line}"),
        }
    }
    panic!("the projector ended before READY");
}

/// `COMMITTED <projection> <checkpoint> END` (a line torn by the kill has no `END`).
fn committed(line: &str) -> Option<(&str, u64)> {
    let mut words = line.split(' ');
    (words.next()? == "COMMITTED").then_some(())?;
    let name = words.next()?;
    let next = words.next()?.parse().ok()?;
    (words.next()? == "END" && words.next().is_none()).then_some((name, next))
}

#[test]
fn projections_killed_at_random_moments_resume_exactly_and_equal_a_rebuild() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (runtime, events) = demo_world(dir.path());
    let batch = u64::try_from(PROJECTOR_BATCH).expect("a small batch");

    let mut rng = XorShift(0x9e37_79b9_u64);
    // Per projection: kills that left it part-way through its catch-up.
    let mut kills: BTreeMap<String, usize> = BTreeMap::new();
    // The last round: what its child found, the furthest checkpoint it reported per
    // projection, and the projection it was applying when it was killed.
    let mut last: Option<(Found, BTreeMap<String, u64>, String)> = None;
    let mut rounds = 0;
    loop {
        let mut child = Command::new(env!("CARGO_BIN_EXE_projector"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("projector starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let now = found(&mut lines);
        assert_eq!(now.head, events, "round {rounds}");
        if kills.is_empty() {
            kills = now.at.keys().map(|name| (name.clone(), 0)).collect();
        }
        if let Some((before, reported, victim)) = last.take() {
            for (name, &at) in &now.at {
                // A restart never loses what the previous one found, and never finds more
                // than the killed child committed: at most one batch past its last report.
                let from = before.at[name];
                let committed = reported.get(name).copied().unwrap_or(from);
                assert!(
                    from <= at && at <= (committed + batch).min(events),
                    "round {rounds}: {name} resumes at {at}, outside {from}..={committed}+{batch}"
                );
            }
            // The kill was sent while the child applied `victim`, and left it part-way.
            let at = now.at[&victim];
            if 0 < at && at < events {
                *kills.get_mut(&victim).expect("a projection") += 1;
            }
        }
        let wanted = kills.values().any(|&n| n < KILLS_EACH);
        assert!(
            !wanted || rounds < kills.len() * KILLS_EACH * 3,
            "too many rounds for {KILLS_EACH} kills part-way through each projection: {kills:?}"
        );
        rounds += 1;

        // Kill once the child has committed up to a target inside the projection it applies,
        // spreading the kills still wanted over what remains of that projection.
        let mut targets: BTreeMap<String, u64> = BTreeMap::new();
        let mut reported: BTreeMap<String, u64> = BTreeMap::new();
        let mut victim = None;
        let mut done = false;
        for line in lines.by_ref() {
            let line = line.expect("utf-8");
            assert!(!line.starts_with("ERR"), "round {rounds}: {line}");
            if line == "DONE" {
                done = true;
                break;
            }
            let (name, next) = committed(&line).unwrap_or_else(|| panic!("{line}"));
            reported.insert(name.to_owned(), next);
            if !wanted || kills[name] >= KILLS_EACH {
                continue;
            }
            let target = *targets.entry(name.to_owned()).or_insert_with(|| {
                let from = now.at[name];
                let spans = u64::try_from(KILLS_EACH - kills[name] + 1).expect("a few");
                let step = (events - from) / spans;
                from + step / 2 + rng.below(step)
            });
            if next >= target {
                victim = Some(name.to_owned());
                break;
            }
        }
        let Some(victim) = victim else {
            assert!(done, "round {rounds}: the projector stopped early");
            assert!(child.wait().expect("exits").success(), "round {rounds}");
            break;
        };
        // Up to about two batches later: a kill then lands anywhere in a batch, its commit
        // included, not only just after a report.
        std::thread::sleep(Duration::from_micros(rng.below(2_000)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        // What the child printed between our decision and its death.
        for line in lines {
            let Ok(line) = line else { break };
            assert!(!line.starts_with("ERR"), "round {rounds}: {line}");
            if let Some((name, next)) = committed(&line) {
                reported.insert(name.to_owned(), next);
            }
        }
        last = Some((now, reported, victim));
    }
    for (name, &n) in &kills {
        assert!(
            n >= KILLS_EACH,
            "{name}: {n} kills part-way through its catch-up, want {KILLS_EACH}: {kills:?}"
        );
    }
    eprintln!("kills part-way per projection: {kills:?} in {rounds} rounds");

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
