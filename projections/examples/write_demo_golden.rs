//! Writes `fixtures/golden/demo-world.bin` (the demo world's log, framed like the other
//! golden logs) and `fixtures/golden/demo-projections.txt` (a digest of every projection's
//! rows after replaying it), which `tests/read_side/golden_demo.rs` checks.
//!
//! `cargo run -p sparkfeed-projections --example write_demo_golden -- fixtures/golden`
//!
//! Run once, when the projections' rows are meant to change (a new row, a layout version):
//! the digest is the proof that a refactoring left every row's bytes as they were. It
//! refuses to overwrite the world; pass `--digest-only` to rewrite only the digest.

use std::path::Path;
use std::sync::Arc;

use sparkfeed_domain::{Domain, KeyStore};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::{Position, RecordedEvent};

#[path = "../tests/read_side/demo_world.rs"]
mod demo_world;
use demo_world::{frame, project, read_world};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = Path::new(
        args.first()
            .expect("usage: write_demo_golden DIR [--digest-only]"),
    );
    let digest_only = args.iter().any(|a| a == "--digest-only");
    let world_file = out.join("demo-world.bin");
    let records = if digest_only {
        read_world(&std::fs::read(&world_file).expect("reads the world"))
    } else {
        assert!(
            !world_file.exists(),
            "{} exists: never rewrite it",
            world_file.display()
        );
        let records = seed_demo_world().await;
        std::fs::write(&world_file, frame(&records)).expect("writes the world");
        records
    };
    let digest = project(&records).await;
    std::fs::write(out.join("demo-projections.txt"), digest).expect("writes the digest");
}

async fn seed_demo_world() -> Vec<RecordedEvent> {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log");
    let keys = Arc::new(KeyStore::open(&dir.path().join("keys")).expect("keys"));
    let domain = Domain::new(log.clone(), keys);
    let demo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"));
    sparkfeed_seed::load(demo, &domain, |_, _| {})
        .await
        .expect("seeds");
    log.read_all(Position(0), usize::MAX)
        .expect("reads the log")
}
