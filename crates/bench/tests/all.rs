//! The small form of `sparkfeed bench all --vs-postgres --plot DIR` (issue 17), so that
//! the benchmark cannot rot: every workload at a tiny size, every row and section in the
//! report, a JSON report whose figures and ratios are all finite and positive, and the
//! three SVG plots with a line per system. It asserts no timing.
//!
//! It needs PostgreSQL 15's binaries (Debian's postgresql-15; `.ci/run` installs it) and
//! fails, saying so, without them.

mod common;

use serde_json::{Value, json};
use sparkfeed_bench::all::plot::{self, FILES};
use sparkfeed_bench::all::{AllBench, WRITERS, all};
use sparkfeed_bench::postgres::DEFAULT_BIN;

#[test]
fn issue_17_bench_all_vs_postgres_reports_every_workload_with_finite_ratios() {
    common::require_postgres();
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("all.json");
    let plots = dir.path().join("plots");
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
        plot: Some(plots.clone()),
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
        "by writers: durable single appends",
        "by size: feed page p99",
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
    let writers = parsed["writers"].as_array().expect("writers");
    let counts: Vec<u64> = writers
        .iter()
        .filter_map(|w| w["writers"].as_u64())
        .collect();
    assert_eq!(counts, [1, 4, 16, 64], "{text}");
    assert_eq!(counts.len(), WRITERS.len());
    let by_size = sizes.iter().flat_map(|s| [&s["feed_p99"], &s["rebuild"]]);
    for row in rows.iter().chain(writers).chain(by_size) {
        let ratio = row["ratio"].as_f64().expect("a ratio");
        assert!(ratio.is_finite() && ratio > 0.0, "ratio {ratio} in {row}");
        for side in ["sparkfeed", "postgres"] {
            let median = row[side]["median"].as_f64().expect("a median");
            assert!(median.is_finite() && median > 0.0, "{side} in {row}");
        }
    }
    assert!(sizes[0]["events"].as_u64().is_some_and(|e| e > 0), "{text}");
    for raw in parsed["raw_sled"].as_array().expect("raw rows") {
        let median = raw["sparkfeed"]["median"].as_f64().expect("a median");
        assert!(median.is_finite() && median > 0.0, "{raw}");
    }
    assert!(parsed["machine"]["nproc"].as_u64().is_some_and(|n| n >= 1));
    assert_eq!(parsed["postgres"]["settings"]["fsync"], "on");
    assert_eq!(parsed["postgres"]["settings"]["synchronous_commit"], "on");

    for file in FILES {
        let svg = std::fs::read_to_string(plots.join(file)).expect("a plot");
        assert!(
            svg.starts_with("<svg"),
            "{file} starts {:?}",
            svg.chars().take(40).collect::<String>()
        );
        assert_eq!(line_colours(&svg), 2, "a line per system in {file}:\n{svg}");
        for system in ["sparkfeed", "PostgreSQL"] {
            assert!(svg.contains(system), "no {system} in the legend of {file}");
        }
    }
}

/// A report of sparkfeed alone (no --vs-postgres): its figures, no PostgreSQL side.
fn sparkfeed_alone() -> Value {
    let side = |m: f64| json!({ "samples": [m], "median": m });
    let writers: Vec<Value> = [1u32, 4, 16, 64]
        .into_iter()
        .map(|w| json!({ "writers": w, "sparkfeed": side(100.0 * f64::from(w)), "postgres": null }))
        .collect();
    let sizes: Vec<Value> = [1_000u64, 10_000]
        .into_iter()
        .map(|e| {
            json!({
                "events": e,
                "feed_p99": { "sparkfeed": side(50.0), "postgres": null },
                "rebuild": { "sparkfeed": side(1e5), "postgres": null },
            })
        })
        .collect();
    json!({ "writers": writers, "sizes": sizes })
}

#[test]
fn without_the_peer_each_plot_has_sparkfeeds_line_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let written = plot::write(&sparkfeed_alone(), dir.path()).expect("plots");
    assert_eq!(written.len(), FILES.len());
    for path in written {
        let svg = std::fs::read_to_string(&path).expect("a plot");
        assert!(svg.starts_with("<svg"), "{}", path.display());
        assert!(svg.contains("sparkfeed"), "{}", path.display());
        assert!(!svg.contains("PostgreSQL"), "{}", path.display());
        assert!(svg.contains("<polyline"), "{}", path.display());
    }
}

#[test]
fn a_report_without_the_axes_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(plot::write(&json!({ "rows": [] }), dir.path()).is_err());
}

#[test]
fn a_figure_too_large_or_too_small_to_plot_is_refused_naming_it_not_drawn_forever() {
    /// A change that puts one figure of a report out of range.
    type Spoil = fn(&mut Value);
    // Each of these once made `bench plot` spin in the log axis's ticks, or is as far out.
    let cases: [(&str, Spoil); 4] = [
        ("1e308", |r| {
            r["writers"][0]["sparkfeed"]["median"] = json!(1e308)
        }),
        ("1e308", |r| r["sizes"][1]["events"] = json!(1e308)),
        ("5e-324", |r| r["sizes"][0]["events"] = json!(5e-324)),
        ("1e-9", |r| {
            r["sizes"][0]["rebuild"]["sparkfeed"]["median"] = json!(1e-9)
        }),
    ];
    for (figure, spoil) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut report = sparkfeed_alone();
        spoil(&mut report);
        let refused = plot::write(&report, dir.path()).expect_err(figure);
        let message = refused.to_string();
        assert!(message.contains("cannot be plotted"), "{figure}: {message}");
        assert!(message.contains("sparkfeed"), "{figure}: {message}");
    }
    // Figures at both ends of what a plot draws are drawn.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut report = sparkfeed_alone();
    report["sizes"][0]["events"] = json!(1e-3);
    report["sizes"][1]["events"] = json!(1e12);
    report["sizes"][1]["feed_p99"]["sparkfeed"]["median"] = json!(1e12);
    report["sizes"][0]["rebuild"]["sparkfeed"]["median"] = json!(1e-3);
    assert_eq!(
        plot::write(&report, dir.path()).expect("plots").len(),
        FILES.len()
    );
}

/// The colours of a plot's lines (its `<polyline>`s other than the black axes and ticks):
/// one per system drawn.
fn line_colours(svg: &str) -> usize {
    let mut colours: Vec<&str> = svg
        .lines()
        .filter(|l| l.starts_with("<polyline"))
        .filter_map(|l| l.split("stroke=\"").nth(1)?.split('"').next())
        .filter(|&c| c != "#000000")
        .collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}
