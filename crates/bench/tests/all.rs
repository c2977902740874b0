//! The small form of `sparkfeed bench all --vs-postgres` (issue 17), so that the
//! benchmark cannot rot: every workload at a tiny size, every row in the report, and a
//! JSON report whose ratios are all finite and positive. It asserts no timing.
//!
//! It needs PostgreSQL 15's binaries (Debian's postgresql-15; `.ci/run` installs it) and
//! fails, saying so, without them.

use std::path::Path;

use sparkfeed_bench::all::{AllBench, all};
use sparkfeed_bench::postgres::DEFAULT_BIN;

#[test]
fn issue_17_bench_all_vs_postgres_reports_every_workload_with_finite_ratios() {
    assert!(
        Path::new(DEFAULT_BIN).join("initdb").is_file(),
        "PostgreSQL 15 is not installed ({DEFAULT_BIN}/initdb is missing): \
         apt-get install -y --no-install-recommends postgresql-15"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("all.json");
    let config = AllBench {
        vs_postgres: true,
        pg_bin: DEFAULT_BIN.into(),
        events: 2_000,
        posts: 200,
        runs: 1,
        seconds: 0.2,
        reads: 50,
        sizes: vec![1_000],
        json: json.clone(),
        dir: dir.path().to_path_buf(),
    };
    let report = all(&config).expect("bench all --vs-postgres");
    let table = report.to_string();
    for row in [
        "durable append, 1 writer",
        "durable append, 64 writers",
        "durable append, 1 writer, batches of 100",
        "feed page p50",
        "feed page p99",
        "replay, decoded",
        "disk, ",
        "raw sled insert+flush+fdatasync, 1 thread",
        "raw sled batch of 100+flush+fdatasync, 1 thread",
        "feed page p99 by world size",
        "PostgreSQL settings: server_version=15",
    ] {
        assert!(table.contains(row), "no {row:?} in\n{table}");
    }

    let text = std::fs::read_to_string(&json).expect("the JSON report");
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let rows = parsed["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 7, "{text}");
    let sizes = parsed["sizes"].as_array().expect("sizes");
    assert_eq!(sizes.len(), 1, "{text}");
    for row in rows.iter().chain(sizes) {
        let ratio = row["ratio"].as_f64().expect("a ratio");
        assert!(ratio.is_finite() && ratio > 0.0, "ratio {ratio} in {row}");
    }
    for raw in parsed["raw_sled"].as_array().expect("raw rows") {
        let median = raw["sparkfeed"]["median"].as_f64().expect("a median");
        assert!(median.is_finite() && median > 0.0, "{raw}");
    }
    assert!(parsed["machine"]["nproc"].as_u64().is_some_and(|n| n >= 1));
    assert_eq!(parsed["postgres"]["settings"]["fsync"], "on");
    assert_eq!(parsed["postgres"]["settings"]["synchronous_commit"], "on");
}
