//! The committed demo world loads through the command handlers into a verifiable log.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sparkfeed_domain::{Domain, KeyStore};
use sparkfeed_eventlog::{Config, EventLog};
use sparkfeed_events::Position;
use sparkfeed_seed::{SeedError, load};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/demo");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_world_seeds_into_a_verifiable_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = EventLog::open(Config::new(dir.path().join("log"))).expect("log");
    let keys = Arc::new(KeyStore::open(&dir.path().join("keys")).expect("keys"));
    let domain = Domain::new(log, keys);
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
    assert!(domain.log().verify(|_| {}).expect("verifies").is_intact());

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
