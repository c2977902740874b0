//! Loading a world too big to load one command at a time (the benchmarks' worlds): many
//! commands in flight at once, each still carried out by `Domain::execute`, so the world
//! obeys every rule. The log's order then varies from run to run: `fixtures/` and
//! `sparkfeed seed` use [`crate::load`], which keeps it fixed.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sparkfeed_domain::{Caller, Command, Domain};

use crate::load::{Planned, Step};
use crate::{SeedError, SeedReport};

/// The file whose lines depend on each other through their member.
const ACTIVITY: &str = "activity.jsonl";

/// A step and its index in the world's loading order (its command id derives from it).
type Numbered = (usize, Step);

/// Loads the world in `dir` into `domain`'s log, which must be empty, with `lanes` commands
/// in flight. `progress` is told (done, total) after each command.
///
/// The files load one after another (products before the posts that tag them). Within a
/// file the lines are independent, except in `activity.jsonl`, where one member's lines
/// stay in order (a smile before its unsmile, a buy before its retry), and post removals
/// and the contract's end run last, once nothing else refers to them.
pub async fn load_concurrently(
    dir: &Path,
    domain: &Domain,
    lanes: usize,
    progress: impl Fn(u64, u64) + Send + Sync + 'static,
) -> Result<SeedReport, SeedError> {
    let planned = Planned::read(dir, domain)?;
    let (now, total) = (planned.now, planned.total);
    let done = Arc::new(AtomicU64::new(0));
    let progress = Arc::new(progress);
    let mut repeats = 0;
    for phase in phases(planned.steps) {
        let mut running = Vec::new();
        for lane in split(phase, lanes.max(1)) {
            let (domain, done, progress) = (domain.clone(), done.clone(), progress.clone());
            running.push(tokio::spawn(async move {
                let mut repeats = 0u64;
                for (n, step) in lane {
                    let executed = domain
                        .execute(&step.context(n, now), &step.command)
                        .await
                        .map_err(|e| step.refused(&e))?;
                    repeats += u64::from(executed.deduplicated);
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                }
                Ok::<u64, SeedError>(repeats)
            }));
        }
        for lane in running {
            repeats += lane
                .await
                .map_err(|e| SeedError::Format(format!("a loading task failed: {e}")))??;
        }
    }
    Ok(SeedReport {
        commands: done.load(Ordering::Relaxed),
        repeats,
        events: domain.log().head().len,
        elapsed: planned.started.elapsed(),
    })
}

/// The steps cut where the file changes, activity's closing steps moved to a phase of
/// their own at the end.
fn phases(steps: Vec<Step>) -> Vec<Vec<Numbered>> {
    let mut phases: Vec<Vec<Numbered>> = Vec::new();
    let mut closing = Vec::new();
    for (n, step) in steps.into_iter().enumerate() {
        if step.file == ACTIVITY
            && matches!(
                step.command,
                Command::RemovePost { .. } | Command::EndContract { .. }
            )
        {
            closing.push((n, step));
            continue;
        }
        match phases.last_mut() {
            Some(phase) if phase.last().is_some_and(|(_, s)| s.file == step.file) => {
                phase.push((n, step));
            }
            _ => phases.push(vec![(n, step)]),
        }
    }
    phases.push(closing);
    phases
}

/// A phase dealt into `lanes` lanes, in order within each: by member in `activity.jsonl`,
/// by line elsewhere (a user line's steps share their line).
fn split(phase: Vec<Numbered>, lanes: usize) -> Vec<Vec<Numbered>> {
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    let lanes_u64 = u64::try_from(lanes).unwrap_or(1);
    let mut out: Vec<Vec<Numbered>> = (0..lanes).map(|_| Vec::new()).collect();
    for (n, step) in phase {
        let key = match &step.caller {
            Caller::User(member) if step.file == ACTIVITY => hasher.hash_one(member.as_str()),
            _ => hasher.hash_one(step.line),
        };
        let lane = usize::try_from(key % lanes_u64).unwrap_or(0);
        out[lane].push((n, step));
    }
    out.retain(|lane| !lane.is_empty());
    out
}
