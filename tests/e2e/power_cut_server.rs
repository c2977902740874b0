//! Power cuts under `sparkfeed serve` (issue 20): the data directory lives on a FUSE file
//! system (`crates/faultfs`) that, at a cut, forgets every write not fsynced, every create,
//! rename or unlink whose directory was not fsynced, and tears unsynced writes into 4 KiB
//! blocks. The clients of the chaos test (`chaos.rs`) register, publish, smile, comment and
//! buy through the server, retrying with their idempotency keys whatever got no answer.
//!
//! Each round mounts the file system, starts the server on it (no `--secret`: it keeps its
//! token secret in the data directory), cuts the power at a random moment (while it opens,
//! recovers and catches up, or under load), then kills it and unmounts. One round in four
//! runs `sparkfeed rebuild` on the mount instead and cuts during it or right after it
//! swapped its generations in. The server is stopped (SIGSTOP) before the cut, as a power
//! cut stops the CPU: nothing answers after it.
//!
//! After each cut, on a copy of what the disk kept: the projection catalog names, for
//! every projection, a generation directory that holds a store which opens, is not empty
//! if a rebuild swapped it in, and is not ahead of the log; the log opens and verifies;
//! every acknowledged mutation is at its position and none was written twice; the
//! bootstrap's events and the token secret are there; each projection, resumed and caught
//! up, equals a rebuild from zero. At the next start, before the clients come back, the
//! read models served show every mutation acknowledged so far, and every member's handle
//! (sealed with a key from the key store) opens.
//!
//! `cargo test` makes 24 cuts; `SPARKFEED_POWER_CUT_LONG=1` makes 200 under 32 clients;
//! `SPARKFEED_POWER_CUT_SEED=<n>` replays one plan (the moments the cuts land at still
//! vary with the machine); `SPARKFEED_POWER_CUT_KEEP=<dir>` keeps the data directory of
//! the last cut and the servers' stderr there. Needs root and `/dev/fuse` (CI has them);
//! without, it prints SKIPPED.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions, waitid};
use serde_json::json;
use sparkfeed_eventlog::{Config, EventLog, RecoveryReport};
use sparkfeed_faultfs::{FaultFs, Options, Stats};
use sparkfeed_projections::store::checkpoint;
use sparkfeed_testkit::client::Client;
use tokio::sync::watch;

use crate::projector_crash::XorShift;
use crate::server_under_fire::{
    Acked, Findings, LogTally, Plan, REQUEST_TIMEOUT, Server, Slot, World, audit, bootstrap,
    check_served, copy_tree, join_writers, runtime, seed_from_env, spawn_writers, tail,
};
use crate::sled_power_cut::open_sled;

/// What a run saw, printed at its end.
#[derive(Default)]
struct Figures {
    cuts: u64,
    /// Cuts before the server listened (opening, recovering, catching up).
    at_startup: u64,
    /// Cuts once the server listened (under the clients' load, but for a few startup
    /// rounds where it listened before the cut came).
    serving: u64,
    /// Cuts while `sparkfeed rebuild` ran, and right after it finished.
    during_rebuild: u64,
    after_rebuild: u64,
    findings: Findings,
    /// Catalog entries naming a generation that is missing, does not open, was swapped in
    /// empty, or is ahead of the log.
    catalog: Vec<String>,
    /// Servers and rebuilds that ended by themselves before their cut, or did not listen.
    failed_starts: Vec<String>,
    log: LogTally,
    /// What the file system threw away.
    dropped: Stats,
    /// Projections found at a checkpoint after a cut (the others replayed from zero).
    resumed: u64,
}

impl Figures {
    fn cut(&mut self, stats: Stats) {
        self.cuts += 1;
        self.dropped.bytes_dropped += stats.bytes_dropped;
        self.dropped.torn_blocks += stats.torn_blocks;
        self.dropped.namespace_ops_undone += stats.namespace_ops_undone;
    }

    /// Failed opens: the log or the projections after a cut, and starts of the server or of
    /// a rebuild on the remounted file system.
    fn failed_opens(&self) -> usize {
        self.findings.unopened.len() + self.failed_starts.len()
    }
}

/// The fault file system over `backing` at `mountpoint`, tearing half the unsynced writes
/// at a cut.
pub(crate) fn mount(backing: &Path, mountpoint: &Path) -> FaultFs {
    let options = Options {
        torn_write_probability: 0.5,
        ..Options::default()
    };
    FaultFs::mount(backing, mountpoint, options).expect("mount")
}

/// A power cut under `child`, noted in `figures` (see [`power_off`]).
fn cut_under(child: &mut Child, fs: FaultFs, seed: u64, figures: &mut Figures) {
    figures.cut(power_off(child, fs, seed));
}

/// A power cut under `child`: it is stopped first (a cut stops the CPU too: nothing
/// answers after it), then the file system forgets what was not synced (drawing torn
/// writes from `seed`), then the child is killed and the file system unmounted. Answers
/// what the file system did.
pub(crate) fn power_off(child: &mut Child, fs: FaultFs, seed: u64) -> Stats {
    let pid = Pid::from_child(child);
    // Fails only if it is gone already (reaped by `try_wait`).
    if rustix::process::kill_process(pid, Signal::STOP).is_ok() {
        // kill(2) only queues the stop: a thread whose file system request the cut failed
        // would otherwise run on and answer a client with the error.
        let stopped = WaitIdOptions::STOPPED
            | WaitIdOptions::EXITED
            | WaitIdOptions::NOWAIT
            | WaitIdOptions::NOHANG;
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(waitid(WaitId::Pid(pid), stopped), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    fs.cut(seed).expect("cut");
    let _ = child.kill();
    let _ = child.wait();
    let stats = fs.stats();
    fs.unmount().expect("unmount");
    stats
}

/// A child process, killed if dropped while it runs: a failed check must not leave a
/// server behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Killed {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Killed {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// A child's status if it ended by itself.
fn ended(child: &mut Child) -> Option<std::process::ExitStatus> {
    child.try_wait().expect("its status")
}

/// How long after the generation directories changed a rebuild's cut may come, in ms.
const REBUILD_CUT_MS: u64 = 30;

/// The projection generation directories in `data` (through the mount).
fn generations(data: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(data.join("projections"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.file_name())).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// `sparkfeed rebuild NAME` over `data`, as a child process.
fn rebuild(data: &Path, name: &str, stderr: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(stderr)
        .expect("the stderr file");
    Command::new(env!("CARGO_BIN_EXE_sparkfeed-cli"))
        .args(["rebuild", name, "--data-dir"])
        .arg(data)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("sparkfeed rebuild starts")
}

/// What the projection catalog in `projections` names that is not a whole store: for
/// every projection, its generation's directory must hold a sled store that opens, is not
/// empty if a rebuild swapped it in (generation 1 on: a rebuild names its generation only
/// once it has replayed the log, which is never empty here), and is not ahead of the log's
/// `head`. Answers the problems. Run before anything opens the projections, which would
/// create a missing store afresh.
///
/// Also answers how many of the named stores hold a checkpoint (the projections resume
/// from there rather than replaying the log from zero).
fn catalog_problems(projections: &Path, head: u64) -> (Vec<String>, u64) {
    let mut kept = 0;
    let catalog_dir = projections.join("catalog");
    if !catalog_dir.exists() {
        // Nothing named yet, or the whole projection store is gone: replayed from zero.
        return (Vec::new(), kept);
    }
    let catalog = match open_sled(&catalog_dir) {
        Ok(catalog) => catalog,
        Err(e) => return (vec![format!("the catalog {e}")], kept),
    };
    let mut problems = Vec::new();
    for entry in catalog.iter() {
        let (key, value) = match entry {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(format!("the catalog does not read: {e}"));
                break;
            }
        };
        let name = String::from_utf8_lossy(&key).into_owned();
        if name.contains('@') {
            continue; // a layout version
        }
        let Ok(generation) = <[u8; 8]>::try_from(value.as_ref()).map(u64::from_be_bytes) else {
            problems.push(format!("{name}: a malformed catalog entry {value:?}"));
            continue;
        };
        let dir = projections.join(format!("{name}-{generation}"));
        if !dir.join("db").is_file() {
            problems.push(format!(
                "{name}: the catalog names generation {generation}, and {} has no store",
                dir.display()
            ));
            continue;
        }
        let store = match open_sled(&dir) {
            Ok(store) => store,
            Err(e) => {
                problems.push(format!("{name}-{generation} {e}"));
                continue;
            }
        };
        match checkpoint(&store) {
            Ok(at) if generation > 0 && at.0 == 0 => problems.push(format!(
                "{name}-{generation} was swapped in by a rebuild, and holds {} rows and no \
                 checkpoint",
                store.len()
            )),
            Ok(at) if at.0 > head => problems.push(format!(
                "{name}-{generation} is at {at}, ahead of the log's {head} events"
            )),
            Ok(at) => kept += u64::from(at.0 > 0),
            Err(e) => problems.push(format!("{name}-{generation}: {e}")),
        }
    }
    (problems, kept)
}

/// The events in the log of `data` (a copy) and what opening it recovered, or `None` if
/// it does not open (the audit says why).
fn head_of(data: &Path) -> Option<(u64, RecoveryReport)> {
    EventLog::open(Config::new(data))
        .ok()
        .map(|log| (log.head().len, log.recovery()))
}

/// What the checks after each cut hold on to.
struct Disk<'a> {
    runtime: &'a tokio::runtime::Runtime,
    /// The data directory on the backing directory: what the disk kept.
    backing_data: &'a Path,
    /// Where copies of it are checked.
    scratch: &'a Path,
    /// The events the bootstrap wrote (all acknowledged).
    bootstrap_events: u64,
    /// The token secret the bootstrap created.
    secret: &'a [u8],
}

/// Checks a copy of what the disk kept after a cut (see the module doc), against what was
/// `acked` and what was sent and not answered (`pending`).
fn check_after_cut(disk: &Disk<'_>, acked: &[Acked], pending: &[Slot], figures: &mut Figures) {
    let Disk {
        runtime,
        backing_data,
        scratch,
        bootstrap_events,
        secret,
    } = *disk;
    let copy = tempfile::tempdir_in(scratch).expect("temp dir");
    let data = copy.path().join("data");
    if backing_data.exists() {
        copy_tree(backing_data, &data);
        if let Ok(keep) = std::env::var("SPARKFEED_POWER_CUT_KEEP") {
            let keep = Path::new(&keep).join("data");
            let _ = std::fs::remove_dir_all(&keep);
            copy_tree(backing_data, &keep);
        }
    }
    // The head before the catalog check: opening the log only recovers it.
    let (head, recovery) = head_of(&data).unwrap_or_default();
    let (problems, kept) = catalog_problems(&data.join("projections"), head);
    figures.resumed += kept;
    let catalog_before = figures.catalog.len();
    figures.catalog.extend(
        problems
            .into_iter()
            .map(|p| format!("cut {}: {p}", figures.cuts)),
    );
    let (mut found, mut audited) = runtime.block_on(audit(&data, bootstrap_events, acked, pending));
    // The first open recovered the log; the audit's found nothing left to do.
    audited.recovery = recovery;
    if audited.events < bootstrap_events {
        found.lose(
            "the bootstrap's events".to_owned(),
            format!(
                "{} events in the log for {bootstrap_events} written before the first cut",
                audited.events
            ),
        );
    }
    match std::fs::read(data.join("token-secret")) {
        Ok(kept) if kept == secret => {}
        kept => found.lose(
            "the token secret".to_owned(),
            format!("the data directory holds {kept:?}"),
        ),
    }
    let cut = figures.cuts;
    for line in found.mismatched.iter_mut().chain(&mut found.unopened) {
        *line = format!("cut {cut}: {line}");
    }
    say(cut, &found);
    for line in &figures.catalog[catalog_before..] {
        eprintln!("{line}");
    }
    figures.findings.merge("log", found);
    figures.log.note(&audited);
}

/// Says what a check found, at once: a later check may stop the test on a consequence (a
/// lost token secret fails every request with `UNAUTHENTICATED`).
fn say(cut: u64, found: &Findings) {
    for (what, how) in &found.lost {
        eprintln!("cut {cut}: lost {what}: {how}");
    }
    for (what, (excess, how)) in &found.duplicated {
        eprintln!("cut {cut}: {what} {excess} times too many: {how}");
    }
    for line in found.mismatched.iter().chain(&found.unopened) {
        eprintln!("{line}");
    }
}

/// The admin's handle, sealed with the admin's key at the bootstrap, still opens.
async fn admin_handle(addr: SocketAddr, admin: &str) -> Findings {
    let mut found = Findings::default();
    let mut client = Client::new(addr);
    client.set_token(Some(admin.to_owned()));
    let answer = tokio::time::timeout(
        REQUEST_TIMEOUT,
        client.graphql("{ viewer { handle } }", json!({})),
    )
    .await;
    let handle = match answer {
        Ok(Ok(answer)) => answer.body["data"]["viewer"]["handle"].clone(),
        other => json!(format!("{other:?}")),
    };
    if handle != json!("chaos_admin") {
        found.lose(
            "the admin's handle".to_owned(),
            format!("the viewer's handle is {handle}"),
        );
    }
    found
}

#[test]
fn power_cuts_under_the_server_lose_no_acknowledged_mutation_and_leave_every_projection_whole() {
    if let Some(reason) = sparkfeed_faultfs::skip_reason() {
        eprintln!(
            "SKIPPED power_cut_server: {reason}; the power-cut guarantee of the server was NOT \
             tested"
        );
        return;
    }
    // (cuts, clients, ms between a start and its cut, budget in s): long, short.
    let plan = Plan::from_env(
        "SPARKFEED_POWER_CUT_LONG",
        (200, 32, (200, 3_000), 3_600),
        (24, 16, (150, 1_000), 240),
    );
    let started = Instant::now();
    let seed = seed_from_env("SPARKFEED_POWER_CUT_SEED");
    let backing = tempfile::tempdir().expect("temp dir");
    let mountpoint = tempfile::tempdir().expect("temp dir");
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = mountpoint.path().join("data");
    let backing_data = backing.path().join("data");
    let stderr = scratch.path().join("server.stderr");
    let runtime = runtime();
    let mut rng = XorShift(seed);
    let mut figures = Figures::default();

    // The bootstrap writes through the mount as `serve` would (the token secret first,
    // then the log and the key store); then the power goes, with nothing running.
    let fs = mount(backing.path(), mountpoint.path());
    let secret = sparkfeed::server::secret(&data, None).expect("the token secret");
    let (admin, from) = runtime.block_on(bootstrap(&data, &secret));
    fs.cut(rng.below(u64::MAX)).expect("cut");
    figures.cut(fs.stats());
    fs.unmount().expect("unmount");
    let disk = Disk {
        runtime: &runtime,
        backing_data: &backing_data,
        scratch: scratch.path(),
        bootstrap_events: from,
        secret: &secret,
    };
    check_after_cut(&disk, &[], &[], &mut figures);

    let (addr_tx, addr_rx) = watch::channel(None);
    let world = Arc::new(World::new(addr_rx, started + plan.budget, admin.clone()));
    let writers = spawn_writers(&runtime, &plan, seed, &world);

    // Acknowledged mutations already checked through the API.
    let mut checked = 0;
    // How long the last start took to listen.
    let mut startup = Duration::from_millis(1_500);
    while figures.cuts <= plan.rounds {
        if started.elapsed() > plan.budget {
            break;
        }
        let fs = mount(backing.path(), mountpoint.path());
        let cut_seed = rng.below(u64::MAX);
        // Rounds take turns: startup (the first one creates the projections), load, load,
        // rebuild (every other one cut after it ended), so that each kind of cut lands in
        // every run.
        let round = figures.cuts - 1;
        if round % 4 == 3 {
            // Mostly `all`: three swaps one after another, each retiring a generation.
            let name =
                ["all", "all", "feeds", "audit"][usize::try_from(rng.below(4)).expect("small")];
            let before = generations(&data);
            let mut child = Killed(rebuild(&data, name, &stderr));
            let spawned = Instant::now();
            if round % 8 == 7 {
                // Right after it swapped its generations in and exited.
                while spawned.elapsed() < Duration::from_secs(60) && ended(&mut child).is_none() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            } else {
                // Soon after the generation directories changed: a fresh one begun, an old
                // one retired after its swap, and so on for each projection (never after
                // the last change, which comes right before the rebuild exits).
                let changes = if name == "all" { 6 } else { 2 };
                let mut seen = before;
                for _ in 0..=rng.below(changes - 1) {
                    while generations(&data) == seen
                        && spawned.elapsed() < Duration::from_secs(60)
                        && ended(&mut child).is_none()
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    seen = generations(&data);
                }
                std::thread::sleep(Duration::from_millis(rng.below(REBUILD_CUT_MS)));
            }
            match ended(&mut child) {
                Some(status) if status.success() => figures.after_rebuild += 1,
                Some(status) => figures.failed_starts.push(format!(
                    "rebuild {name} ended {status} before its cut: {}",
                    tail(&stderr)
                )),
                None => figures.during_rebuild += 1,
            }
            cut_under(&mut child, fs, cut_seed, &mut figures);
        } else {
            let (child, listening) = Server::spawn(&data, &stderr, None);
            let mut child = Killed(child);
            let spawned = Instant::now();
            if round % 4 == 0 {
                // While it opens the log (recovering it), the key store and the
                // projections, and catches them up.
                std::thread::sleep(Duration::from_millis(rng.below(millis(startup))));
                if listening.try_recv().is_ok() {
                    figures.serving += 1;
                } else {
                    figures.at_startup += 1;
                }
            } else {
                match listening.recv_timeout(Duration::from_secs(60)) {
                    Ok(Ok(addr)) => {
                        startup = spawned.elapsed();
                        let mut found = check_served(&runtime, &world, addr, &mut checked, false);
                        found.merge("", runtime.block_on(admin_handle(addr, &admin)));
                        say(figures.cuts, &found);
                        figures.findings.merge("served", found);
                        addr_tx.send_replace(Some(addr));
                        let (lo, hi) = plan.round_ms;
                        std::thread::sleep(Duration::from_millis(lo + rng.below(hi - lo)));
                        figures.serving += 1;
                    }
                    outcome => figures.failed_starts.push(format!(
                        "the server did not listen: {outcome:?}: {}",
                        tail(&stderr)
                    )),
                }
            }
            if let Some(status) = ended(&mut child) {
                figures.failed_starts.push(format!(
                    "the server ended {status} before its cut: {}",
                    tail(&stderr)
                ));
            }
            cut_under(&mut child, fs, cut_seed, &mut figures);
            addr_tx.send_replace(None);
        }
        let (acked, pending, _) = world.snapshot();
        check_after_cut(&disk, &acked, &pending, &mut figures);
    }

    // The last start, with no cut: the clients finish what they sent, and stop.
    let fs = mount(backing.path(), mountpoint.path());
    let mut failures = Vec::new();
    let (child, listening) = Server::spawn(&data, &stderr, None);
    let mut child = Killed(child);
    match listening.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(addr)) => {
            addr_tx.send_replace(Some(addr));
            world.stop.store(true, Ordering::Relaxed);
            failures = join_writers(&runtime, writers, || Instant::now() + plan.budget);
            let found = check_served(&runtime, &world, addr, &mut checked, true);
            figures.findings.merge("served", found);
        }
        outcome => figures.failed_starts.push(format!(
            "the last server did not listen: {outcome:?}: {}",
            tail(&stderr)
        )),
    }
    let _ = child.kill();
    let _ = child.wait();
    fs.unmount().expect("unmount");
    let (acked, _, _) = world.snapshot();
    let resumed = figures.resumed;
    check_after_cut(&disk, &acked, &[], &mut figures);
    // That one followed a clean unmount, not a cut.
    figures.resumed = resumed;

    if let Ok(keep) = std::env::var("SPARKFEED_POWER_CUT_KEEP") {
        let _ = std::fs::copy(&stderr, Path::new(&keep).join("server.stderr"));
    }
    let ledger = world.ledger();
    let f = &figures.findings;
    let lost = f.lost.len();
    eprintln!(
        "power cut server ({}, seed {seed}): {} cuts in {:.1} s ({} at startup, {} while \
         serving {} clients, {} during a rebuild, {} right after one, 1 after the bootstrap), \
         {} events",
        plan.name,
        figures.cuts,
        started.elapsed().as_secs_f64(),
        figures.at_startup,
        figures.serving,
        plan.clients,
        figures.during_rebuild,
        figures.after_rebuild,
        figures.log.events,
    );
    eprintln!(
        "  mutations acknowledged {} ({} after a retry, {} sends unanswered and sent again); \
         lost {lost} ({} log, {} served), duplicated {}, projection mismatches {}, verify \
         failures {}, failed opens {}, catalog naming a missing or broken store {}",
        ledger.acked.len(),
        ledger.retried,
        ledger.unanswered,
        f.losses("log"),
        f.losses("served"),
        f.duplicates("log") + f.duplicates("served"),
        f.mismatched.len(),
        f.unverified.len(),
        figures.failed_opens(),
        figures.catalog.len(),
    );
    eprintln!(
        "  the file system dropped {} bytes, tore {} blocks and undid {} namespace operations; \
         {} opens recovered a tail ({} records removed, {} index entries written again); \
         {} projections resumed from a checkpoint over {} cuts (the others replayed from zero)",
        figures.dropped.bytes_dropped,
        figures.dropped.torn_blocks,
        figures.dropped.namespace_ops_undone,
        figures.log.recoveries.0,
        figures.log.recoveries.1,
        figures.log.recoveries.2,
        figures.resumed,
        figures.cuts,
    );
    f.assert_whole();
    assert!(
        figures.failed_opens() == 0,
        "failed opens: {:#?} {:#?}",
        f.unopened,
        figures.failed_starts
    );
    assert!(
        figures.catalog.is_empty(),
        "the catalog named a missing or broken store: {:#?}",
        figures.catalog
    );
    assert!(failures.is_empty(), "refused: {failures:#?}");
    assert!(
        figures.cuts > plan.rounds,
        "over the time budget of {:?} after {} cuts",
        plan.budget,
        figures.cuts
    );
    assert!(
        figures.serving > 0 && figures.at_startup > 0,
        "cuts landed under load and at startup"
    );
    assert!(
        figures.during_rebuild > 0 && figures.after_rebuild > 0,
        "cuts landed during a rebuild and right after one"
    );
    assert!(!ledger.acked.is_empty(), "the clients made progress");
    assert!(
        figures.resumed > 0,
        "no projection survived a cut: every restart replayed them all from zero"
    );
}

/// `d` in whole milliseconds, at least 1.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}
