//! Runs every projection of the data directory in `argv[1]` up to the log's head in batches
//! of 32 events, printing `COMMITTED <projection> <checkpoint>` after each batch, so the
//! crash test can SIGKILL it between (or during) batches. Exits 3 on any error.
//!
//! `projector DIR rebuild NAME` rebuilds projection NAME instead, printing
//! `PROGRESS <done>` after each replayed batch and then waiting for a line on stdin, so the
//! crash test can SIGKILL it in the middle of a rebuild, at a moment it chose.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use sparkfeed_e2e::fail;
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_projections::Projections;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| fail("usage: projector DIR [rebuild NAME]")),
    );
    let log = EventLog::open(Config::new(dir.join("log"))).unwrap_or_else(|e| fail(e));
    let projections = Projections::open(&dir.join("projections"), log).unwrap_or_else(|e| fail(e));
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
        .catch_up_in_batches(32, |name, next| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "COMMITTED {name} {next} END");
            let _ = out.flush();
        })
        .await
        .unwrap_or_else(|e| fail(e));
    println!("DONE");
}
