//! The small form of `sparkfeed bench disk --vs-postgres` (issue 17), so that it cannot
//! rot: a tiny world, every figure present and consistent (the families add up to the
//! logical bytes; the log, sled's floors and PostgreSQL's table all take some). It asserts
//! no size ratio: those are for the bench to report.
//!
//! It needs PostgreSQL 15's binaries (Debian's postgresql-15; `.ci/run` installs it) and
//! fails, saying so, without them.

mod common;

use sparkfeed_bench::disk::{DiskBench, disk};
use sparkfeed_bench::postgres::DEFAULT_BIN;

#[test]
fn issue_17_bench_disk_splits_the_log_into_its_families_beside_sled_and_postgres() {
    common::require_postgres();
    let dir = tempfile::tempdir().expect("temp dir");
    let report = disk(&DiskBench {
        events: 2_000,
        posts: 200,
        dir: dir.path().to_path_buf(),
        vs_postgres: true,
        pg_bin: DEFAULT_BIN.into(),
    })
    .expect("bench disk --vs-postgres");
    assert!(report.events >= 1_000, "{} events", report.events);
    let names: Vec<&str> = report.families.iter().map(|f| f.name).collect();
    for family in [
        "record chunks",
        "stream index",
        "event-id index",
        "Merkle tree",
    ] {
        assert!(names.contains(&family), "no {family} in {names:?}");
    }
    let index = report
        .families
        .iter()
        .find(|f| f.name == "event-id index")
        .expect("the event-id index");
    assert_eq!(index.rows, report.events, "one event-id key per event");
    assert_eq!(
        report.logical(),
        report
            .families
            .iter()
            .map(|f| f.key_bytes + f.value_bytes)
            .sum::<u64>()
    );
    assert!(report.physical_closed >= report.logical());
    assert_eq!(report.floors.len(), 3);
    assert!(report.floors.iter().all(|&(_, bytes)| bytes > 0));
    let (table, rows) = report.postgres.expect("the PostgreSQL figures");
    assert!(table > rows && rows > 0, "{table} {rows}");
    let printed = report.to_string();
    for line in [
        "physical, closed",
        "logical: keys and values",
        "sled's floor, 512 KiB segments",
        "PostgreSQL events table + indexes",
        "the log closed / the events table: ",
    ] {
        assert!(printed.contains(line), "no {line:?} in\n{printed}");
    }
}
