//! Runs every projection of the data directory in `argv[1]` up to the log's head in batches
//! of [`PROJECTOR_BATCH`] events, printing `COMMITTED <projection> <checkpoint> END` after
//! each batch, so the crash test can SIGKILL it between (or during) batches. Exits 3 on
//! any error.
//!
//! Before anything else it prints what it found on disk: `HEAD <events>`, then
//! `AT <projection> <checkpoint>` for each projection, then `READY`. Read after a SIGKILL,
//! these lines tell the crash test where the kill left each projection.
//!
//! `projector DIR rebuild NAME` rebuilds projection NAME instead, printing
//! `PROGRESS <done>` after each replayed batch and then waiting for a line on stdin, so the
//! crash test can SIGKILL it in the middle of a rebuild, at a moment it chose.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use sparkfeed_e2e::{PROJECTOR_BATCH, fail};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_projections::Projections;
use sparkfeed_projections::store::checkpoint;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| fail("usage: projector DIR [rebuild NAME]")),
    );
    let log = EventLog::open(Config::new(dir.join("log"))).unwrap_or_else(|e| fail(e));
    let projections = Projections::open(&dir.join("projections"), log).unwrap_or_else(|e| fail(e));
    println!("HEAD {}", projections.log().head().len);
    for name in projections.names() {
        let tree = projections.tree(name).unwrap_or_else(|e| fail(e));
        let at = checkpoint(&tree).unwrap_or_else(|e| fail(e));
        println!("AT {name} {}", at.0);
    }
    println!("READY");
    if args.next().as_deref() == Some("rebuild") {
        let name = args
            .next()
            .unwrap_or_else(|| fail("usage: projector DIR rebuild NAME"));
        let mut stdin = std::io::stdin().lock();
        projections
            .rebuild(&name, |done, _| {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "PROGRESS {done}");
                let _ = out.flush();
                let mut go_on = String::new();
                let _ = stdin.read_line(&mut go_on);
            })
            .await
            .unwrap_or_else(|e| fail(e));
        println!("DONE");
        return;
    }
    projections
        .catch_up_in_batches(PROJECTOR_BATCH, |name, next| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "COMMITTED {name} {next} END");
            let _ = out.flush();
        })
        .await
        .unwrap_or_else(|e| fail(e));
    println!("DONE");
}
