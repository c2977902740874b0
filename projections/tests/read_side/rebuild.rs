//! A projection rebuilt from zero equals the live one, row for row.

use std::path::Path;
use std::time::Duration;

use sparkfeed_events::Position;
use sparkfeed_projections::store::checkpoint;
use sparkfeed_projections::{DEFAULT_REPLAY_BUFFER_BYTES, Source, UNWRITTEN_AT_MOST};

use crate::{World, rows, rows_at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilt_projections_equal_the_live_ones_row_for_row_on_the_demo_world() {
    let w = World::empty();
    // Live: the projections follow the log while the demo world is seeded.
    let _live = w.follow_live();
    let demo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"));
    let report = sparkfeed_seed::load(demo, &w.domain, |_, _| {})
        .await
        .expect("seeds");
    let last = Position(report.events - 1);
    w.projections
        .wait_for(last, Duration::from_secs(120))
        .await
        .expect("live projections catch up");
    for (name, lag) in w.projections.lag().expect("lag") {
        assert_eq!(lag, 0, "{name} is caught up");
    }
    // A live batch that changes no row writes nothing, not even the checkpoint, but the
    // checkpoint in the tree never stands `UNWRITTEN_AT_MOST` events behind: the demo
    // world files no report, and the moderation queue wrote its checkpoint all the same.
    for name in w.projections.names() {
        let view = w.projections.view(name).expect("view");
        let written = checkpoint(view.tree()).expect("reads");
        assert!(written.0 > 0, "{name} wrote a checkpoint");
        assert!(
            report.events - written.0 < UNWRITTEN_AT_MOST,
            "{name} wrote its checkpoint at {written}, {} events before the head",
            report.events - written.0
        );
    }

    // Rebuilt holding every row in memory until the end, making room in a small buffer
    // (rows written whole go out, rows changed in place stay while they fit), and writing
    // everything out after every event: each equals the live projection.
    for buffer in [DEFAULT_REPLAY_BUFFER_BYTES, 64 << 10, 0] {
        let projections = w.projections.clone().with_replay_buffer(buffer);
        for name in projections.names() {
            let before = rows_at(&projections, name);
            assert_eq!(before.1, Position(report.events), "{name} is at the head");
            // The demo world files no reports: the moderation queue holds no row.
            let least = if name == "moderation" { 0 } else { 10 };
            assert!(before.0.len() >= least, "{name} has rows");
            let mut seen = 0;
            let rebuilt = projections
                .rebuild(name, |done, _| seen = done)
                .await
                .expect("rebuilds");
            assert_eq!(rebuilt.events, report.events);
            assert_eq!(seen, report.events);
            let after = rows_at(&projections, name);
            assert_eq!(before.0.len(), after.0.len(), "{name}: same number of rows");
            assert!(
                before == after,
                "{name}, replay buffer {buffer}: a rebuild equals the live projection row for row"
            );
        }
    }

    // Replayed with every row held in memory (the bench's measure of a projection's own
    // work): every event applied, and nothing served, swapped or written.
    for name in w.projections.names() {
        let before = rows(&w.projections.tree(name).expect("tree"));
        let replayed = w.projections.replay_in_memory(name).expect("replays");
        assert_eq!(
            replayed.events, report.events,
            "{name}: every event applied"
        );
        let after = rows(&w.projections.tree(name).expect("tree"));
        assert!(before == after, "{name}: the served rows are untouched");
    }
    assert!(
        w.projections.replay_in_memory("nonesuch").is_err(),
        "an unknown projection is refused"
    );

    // Each rebuild retired the generation it replaced, and nobody reads it any more: on
    // disk there is the catalog and one store per projection (the replays in memory left
    // none).
    let stores = stores(&w.dir().join("projections"));
    let mut expected: Vec<String> = w
        .projections
        .names()
        .iter()
        .map(|name| format!("{name}-3"))
        .chain(["catalog".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(stores, expected);

    // The live runners carry on with the swapped-in trees.
    let more = w
        .run_and_read(
            crate::Caller::User(crate::user("u0020")),
            sparkfeed_domain::Command::SharePost {
                post: crate::post("p00002"),
                channel: sparkfeed_domain::events::ShareChannel::Link,
            },
        )
        .await;
    assert!(more.position.0 >= report.events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_in_the_old_single_store_layout_is_replaced_and_replayed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log =
        sparkfeed_eventlog::EventLog::open(sparkfeed_eventlog::Config::new(dir.path().join("log")))
            .expect("log");
    let old = dir.path().join("projections");
    {
        let db = sled::open(&old).expect("the old layout: one sled store");
        db.open_tree("feeds#0")
            .expect("tree")
            .insert("stale", "row")
            .expect("insert");
        db.flush().expect("flush");
    }
    let projections = sparkfeed_projections::Projections::open(&old, log).expect("opens");
    assert!(!old.join("conf").exists(), "the old store is gone");
    let feeds = projections.tree("feeds").expect("tree");
    assert!(feeds.is_empty(), "nothing of the old rows is served");
    projections
        .catch_up()
        .await
        .expect("replays the (empty) log");
}

/// A projection that has applied nothing catches up by a rebuild once the log is long
/// enough, and ends with the rows that catching up batch by batch gives; a projection that
/// has applied something catches up batch by batch, whatever the log's length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_from_nothing_rebuilds_and_ends_with_the_batch_by_batch_rows() {
    let w = World::empty();
    let demo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"));
    let report = sparkfeed_seed::load(demo, &w.domain, |_, _| {})
        .await
        .expect("seeds");
    let log = w.projections.log().clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let open = |name: &str, rebuild_from: u64| {
        sparkfeed_projections::Projections::open(&dir.path().join(name), log.clone())
            .expect("opens")
            .with_rebuild_from(rebuild_from)
    };
    let batched = open("batched", u64::MAX);
    batched.catch_up().await.expect("catches up batch by batch");
    let rebuilt = open("rebuilt", report.events);
    let mut told = Vec::new();
    rebuilt
        .catch_up_in_batches(64, |name, next| told.push((name.to_owned(), next)))
        .await
        .expect("catches up by rebuilds");

    let generations = |name: &str| -> Vec<String> {
        let mut listed = stores(&dir.path().join(name));
        listed.retain(|store| store != "catalog");
        listed
    };
    let names = rebuilt.names();
    assert_eq!(
        generations("rebuilt"),
        names.iter().map(|n| format!("{n}-1")).collect::<Vec<_>>(),
        "each projection was rebuilt into generation 1, and generation 0 removed"
    );
    assert_eq!(
        generations("batched"),
        names.iter().map(|n| format!("{n}-0")).collect::<Vec<_>>(),
    );
    let head = Position(report.events);
    assert_eq!(
        told,
        names
            .iter()
            .map(|n| ((*n).to_owned(), head))
            .collect::<Vec<_>>(),
        "one checkpoint told per projection, at the head: no batch was needed after the rebuild"
    );
    for name in &names {
        let (a, b) = (
            rows(&batched.tree(name).expect("tree")),
            rows(&rebuilt.tree(name).expect("tree")),
        );
        assert_eq!(a.len(), b.len(), "{name}: same number of rows");
        assert!(a == b, "{name}: the same rows either way");
    }
    drop(rebuilt);

    // Opened again with something applied, it catches up batch by batch: the new events
    // go to the same generations, and no rebuild happens.
    w.run(
        crate::Caller::User(crate::user("u0020")),
        sparkfeed_domain::Command::SharePost {
            post: crate::post("p00002"),
            channel: sparkfeed_domain::events::ShareChannel::Link,
        },
    )
    .await;
    let again = open("rebuilt", 1);
    again.catch_up().await.expect("catches up");
    assert_eq!(
        generations("rebuilt"),
        names.iter().map(|n| format!("{n}-1")).collect::<Vec<_>>(),
    );
    for (name, lag) in again.lag().expect("lag") {
        assert_eq!(lag, 0, "{name} is caught up");
    }
}

/// Rows changed in place are kept decoded from one live batch to the next. Batches of a
/// few events, which take most of their rows from there, end with the rows a rebuild
/// gives; and so they do after a rebuild swapped a fresh tree in under them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_of_a_few_events_with_their_rows_kept_decoded_end_as_a_rebuild_does() {
    let w = World::empty();
    let demo = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/demo"));
    sparkfeed_seed::load(demo, &w.domain, |_, _| {})
        .await
        .expect("seeds");
    let log = w.projections.log().clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let open = |name: &str| {
        sparkfeed_projections::Projections::open(&dir.path().join(name), log.clone())
            .expect("opens")
            .with_rebuild_from(u64::MAX)
    };
    let same_rows = |a: &sparkfeed_projections::Projections,
                     b: &sparkfeed_projections::Projections,
                     when: &str| {
        for name in a.names() {
            let (x, y) = (
                rows(&a.tree(name).expect("tree")),
                rows(&b.tree(name).expect("tree")),
            );
            assert_eq!(x.len(), y.len(), "{name} {when}: same number of rows");
            assert!(x == y, "{name} {when}: the same rows");
        }
    };
    let small = open("small");
    small
        .catch_up_in_batches(3, |_, _| {})
        .await
        .expect("catches up 3 events at a time");
    let rebuilt = open("rebuilt");
    rebuild_all(&rebuilt).await;
    same_rows(&small, &rebuilt, "in batches of 3");

    // Rebuilt under the small batches' kept rows, then more engagement, one event a batch.
    rebuild_all(&small).await;
    for (member, post) in [
        ("u0020", "p00002"),
        ("u0021", "p00002"),
        ("u0020", "p00003"),
    ] {
        w.run(
            crate::Caller::User(crate::user(member)),
            sparkfeed_domain::Command::SharePost {
                post: crate::post(post),
                channel: sparkfeed_domain::events::ShareChannel::Link,
            },
        )
        .await;
        small
            .catch_up_in_batches(1, |_, _| {})
            .await
            .expect("catches up");
    }
    let again = open("again");
    rebuild_all(&again).await;
    same_rows(&small, &again, "after a swap and batches of 1");
}

/// Rebuilds every projection of `projections`, one after the other.
async fn rebuild_all(projections: &sparkfeed_projections::Projections) {
    for name in projections.names() {
        projections
            .rebuild(name, |_, _| {})
            .await
            .expect("rebuilds");
    }
}

/// The names in a projections directory (the catalog and one store per generation),
/// sorted.
fn stores(dir: &Path) -> Vec<String> {
    let mut stores: Vec<String> = std::fs::read_dir(dir)
        .expect("lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    stores.sort();
    stores
}
