//! A real `sparkfeed serve` under fire, shared by `chaos.rs` (SIGKILLs) and
//! `power_cut_server.rs` (power cuts): the server as a child process and its bootstrap
//! (`server`), the concurrent GraphQL clients that retry whatever got no answer and note
//! what was acknowledged (`clients`), and the checks of the log, the projections and the
//! read models against what was acknowledged (`checks`).

mod checks;
mod clients;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) use checks::{Audited, Findings, audit, read_models};
pub(crate) use clients::{Acked, Kind, Slot, World, writer};
pub(crate) use server::{SECRET, Server, bootstrap, copy_tree, tail};
use tokio::task::JoinHandle;

/// The products the bootstrap lists and the clients tag and buy.
const PRODUCTS: [&str; 3] = ["B0CHAOS001", "B0CHAOS002", "B0CHAOS003"];
/// No answer within this long is no answer: the request is sent again.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// How hard to shake.
pub(crate) struct Plan {
    /// `long` or `short`.
    pub(crate) name: &'static str,
    /// Kills or cuts.
    pub(crate) rounds: u64,
    pub(crate) clients: usize,
    /// Bounds of the load between a start and its end, in ms.
    pub(crate) round_ms: (u64, u64),
    /// The whole run, past which every loop gives up.
    pub(crate) budget: Duration,
}

/// A plan's size: rounds, clients, the bounds of a round in ms, and the budget in seconds.
pub(crate) type Size = (u64, usize, (u64, u64), u64);

impl Plan {
    /// The `long` plan when the environment variable `knob` is set (and not `0`), else the
    /// `short` one.
    pub(crate) fn from_env(knob: &str, long: Size, short: Size) -> Self {
        let is_long = std::env::var(knob).is_ok_and(|v| !v.is_empty() && v != "0");
        let (name, (rounds, clients, round_ms, budget)) = if is_long {
            ("long", long)
        } else {
            ("short", short)
        };
        Plan {
            name,
            rounds,
            clients,
            round_ms,
            budget: Duration::from_secs(budget),
        }
    }
}

/// The seed in the environment variable `knob` (to replay a run), else one from the clock.
pub(crate) fn seed_from_env(knob: &str) -> u64 {
    std::env::var(knob)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.subsec_nanos());
            u64::from(nanos) | 1
        })
}

/// The runtime the clients and the checks run on.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A client's run: `Err` with the first answer that was neither a success nor worth a retry.
pub(crate) type Writer = JoinHandle<Result<(), String>>;

/// Starts the plan's clients in `world`, each with its own seed drawn from `seed`.
pub(crate) fn spawn_writers(
    runtime: &tokio::runtime::Runtime,
    plan: &Plan,
    seed: u64,
    world: &Arc<World>,
) -> Vec<Writer> {
    (0..plan.clients)
        .map(|c| {
            let salt = u64::try_from(c).expect("a few clients");
            runtime.spawn(writer(
                c,
                seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                Arc::clone(world),
            ))
        })
        .collect()
}

/// Waits for each client to finish, each until `by()`; answers what they refused, panics
/// and lateness.
pub(crate) fn join_writers(
    runtime: &tokio::runtime::Runtime,
    writers: Vec<Writer>,
    by: impl Fn() -> Instant,
) -> Vec<String> {
    let mut refused = Vec::new();
    runtime.block_on(async {
        for writer in writers {
            match tokio::time::timeout_at(by().into(), writer).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => refused.push(e),
                Ok(Err(e)) => refused.push(format!("a client panicked: {e}")),
                Err(_) => refused.push("a client did not finish in time".to_owned()),
            }
        }
    });
    refused
}

/// Checks over GraphQL at `addr` that the read models show what the clients had
/// acknowledged since `checked` (with `exact`, exactly all of it); moves `checked` on.
pub(crate) fn check_served(
    runtime: &tokio::runtime::Runtime,
    world: &World,
    addr: SocketAddr,
    checked: &mut usize,
    exact: bool,
) -> Findings {
    let (acked, _, tokens) = world.snapshot();
    let found = runtime.block_on(read_models(
        addr,
        &tokens,
        &acked,
        &acked[*checked..],
        exact,
    ));
    *checked = acked.len();
    found
}

/// What the audits of the log saw, printed at a run's end.
#[derive(Default)]
pub(crate) struct LogTally {
    /// Events in the log at the last audit.
    pub(crate) events: u64,
    /// Audits whose open of the log removed an unfinished group or wrote index entries
    /// again, and how many records and entries.
    pub(crate) recoveries: (u64, u64, u64),
}

impl LogTally {
    /// Takes in one audit.
    pub(crate) fn note(&mut self, audited: &Audited) {
        self.events = audited.events;
        let r = audited.recovery;
        if r.removed_records > 0 || r.reindexed_entries > 0 {
            self.recoveries.0 += 1;
            self.recoveries.1 += r.removed_records;
            self.recoveries.2 += r.reindexed_entries;
        }
    }
}
