//! The committed demo world loads through the command handlers into a verifiable log.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sparkfeed_domain::{Domain, KeyStore};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::Position;
use sparkfeed_seed::{SeedError, load, load_concurrently};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/demo");

fn domain(dir: &Path) -> Domain {
    let log = EventLog::open(Config::new(dir.join("log"))).expect("log");
    let keys = Arc::new(KeyStore::open(&dir.join("keys")).expect("keys"));
    Domain::new(log, keys)
}

/// How many events of each type the log holds.
fn event_types(domain: &Domain) -> HashMap<&'static str, usize> {
    let mut types: HashMap<&'static str, usize> = HashMap::new();
    for e in domain
        .log()
        .read_all(Position(0), usize::MAX)
        .expect("reads")
    {
        *types
            .entry(domain.decode(&e).expect("decodes").event_type())
            .or_default() += 1;
    }
    types
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_world_seeds_into_a_verifiable_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let domain = domain(dir.path());
    let mut last = (0, 0);
    let report = load(Path::new(DEMO), &domain, |done, total| last = (done, total))
        .await
        .expect("every line of the demo world obeys the rules");
    assert_eq!(last.0, last.1, "progress reached the end");
    assert_eq!(report.commands, last.1);
    assert!(
        report.repeats > 0,
        "retried clicks are in the world and write nothing"
    );
    assert_eq!(report.events, domain.log().head().len);
    assert!(
        domain
            .log()
            .verify(&mut |_| {})
            .expect("verifies")
            .is_intact()
    );

    let types = event_types(&domain);
    assert_eq!(types["PostPublished"], 600);
    assert_eq!(types["ProductListed"], 300);
    assert!(types["ContractOpened"] >= 10);
    assert!(types["OrderPlaced"] > 400);
    assert_eq!(types["PostRemoved"], 10);

    let again = load(Path::new(DEMO), &domain, |_, _| {}).await;
    assert!(
        matches!(again, Err(SeedError::NotEmpty(_))),
        "seeding needs an empty log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_world_loaded_concurrently_holds_the_same_events_as_loaded_in_order() {
    let (a, b) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    let (in_order, concurrently) = (domain(a.path()), domain(b.path()));
    let sequential = load(Path::new(DEMO), &in_order, |_, _| {})
        .await
        .expect("loads in order");
    let last = Arc::new(std::sync::Mutex::new((0, 0)));
    let seen = Arc::clone(&last);
    let report = load_concurrently(Path::new(DEMO), &concurrently, 16, move |done, total| {
        let mut seen = seen.lock().expect("not poisoned");
        *seen = (seen.0.max(done), total);
    })
    .await
    .expect("every line obeys the rules whatever the interleaving");
    let last = *last.lock().expect("not poisoned");
    assert_eq!(
        (report.commands, report.commands),
        last,
        "progress reached the end"
    );
    assert_eq!(
        (report.commands, report.repeats, report.events),
        (sequential.commands, sequential.repeats, sequential.events)
    );
    assert_eq!(event_types(&concurrently), event_types(&in_order));
    assert!(
        concurrently
            .log()
            .verify(&mut |_| {})
            .expect("verifies")
            .is_intact()
    );
}
