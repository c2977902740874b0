//! Runs every projection of the data directory in `argv[1]` up to the log's head in batches
//! of 32 events, printing `COMMITTED <projection> <checkpoint>` after each batch, so the
//! crash test can SIGKILL it between (or during) batches. Exits 3 on any error.

use std::io::Write;
use std::path::PathBuf;

use sparkfeed_e2e::fail;
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_projections::Projections;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| fail("usage: projector DIR")),
    );
    let log = EventLog::open(Config::new(dir.join("log"))).unwrap_or_else(|e| fail(e));
    let projections = Projections::open(&dir.join("projections"), log).unwrap_or_else(|e| fail(e));
    println!("READY");
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
