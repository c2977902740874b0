//! The plots of issue 17, drawn as SVG by `plotters` from the JSON report of `bench all`
//! (so `bench all --plot DIR` and `bench plot --json FILE --out DIR` draw the same):
//! events/s against writers, feed page p99 against log size, and rebuild events/s
//! against log size, a line per system measured, every x axis logarithmic.
//!
//! Text is laid out by plotters' own estimate and drawn by the SVG viewer: no font file
//! is read.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use anyhow::Context;
use plotters::prelude::*;
use serde_json::Value;

/// The plots' file names, in the order [`write`] answers them.
pub const FILES: [&str; 3] = [
    "append-by-writers.svg",
    "feed-p99-by-size.svg",
    "rebuild-by-size.svg",
];

/// The systems: their key in the JSON report, their name in a legend, their colour.
const SYSTEMS: [(&str, &str, RGBColor); 2] = [
    ("sparkfeed", "sparkfeed", RGBColor(0xd9, 0x5f, 0x02)),
    ("postgres", "PostgreSQL", RGBColor(0x1b, 0x6a, 0xc9)),
];

/// The figures a plot draws: writers, log sizes, events/s and microseconds, all far
/// inside it. Past it the axes' arithmetic overflows or underflows (a range of 1e308 * 1.5
/// is infinite, and plotters' logarithmic axis then never finishes its ticks), so a report
/// with a figure outside is refused, naming it.
const PLOTTABLE: RangeInclusive<f64> = 1e-3..=1e12;

/// One plot: what it shows and a line of (x, y) medians per system measured.
struct Plot {
    file: &'static str,
    title: &'static str,
    x: &'static str,
    y: &'static str,
    lines: Vec<Line>,
}

/// One system's line: its name in the legend, its colour, its (x, y) medians.
struct Line {
    name: &'static str,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

/// Redraws the plots of the `bench all` JSON report in the file `json` into `dir`
/// (`sparkfeed bench plot`); the files written.
pub fn write_from_file(json: &Path, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let text =
        std::fs::read_to_string(json).with_context(|| format!("reading {}", json.display()))?;
    let report: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", json.display()))?;
    write(&report, dir)
}

/// Draws the three plots of `report` (a `bench all` JSON report) into `dir`, creating
/// it; answers the files written.
pub fn write(report: &Value, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    anyhow::ensure!(
        report["writers"].is_array() && report["sizes"].is_array(),
        "not a `bench all` report with its writers and sizes sections"
    );
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let writers = report["writers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let sizes = report["sizes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let plots = [
        Plot {
            file: FILES[0],
            title: "Durable single appends with the expected-version check",
            x: "writers (log scale)",
            y: "events/s",
            lines: lines(writers, "writers", None)?,
        },
        Plot {
            file: FILES[1],
            title: "Feed page p99 by log size",
            x: "events in the log (log scale)",
            y: "p99 latency (µs)",
            lines: lines(sizes, "events", Some("feed_p99"))?,
        },
        Plot {
            file: FILES[2],
            title: "Feed rebuild from the log by log size",
            x: "events in the log (log scale)",
            y: "events/s",
            lines: lines(sizes, "events", Some("rebuild"))?,
        },
    ];
    let mut written = Vec::with_capacity(plots.len());
    for plot in &plots {
        let path = dir.join(plot.file);
        draw(plot, &path).with_context(|| format!("drawing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// A line per system with a median in `rows`: x from each row's `x` key, y from the
/// median of its system's side (inside `within` when given). Rows without positive
/// figures for a system (a peer not measured) are left out of its line; a positive figure
/// outside [`PLOTTABLE`] is an error.
fn lines(rows: &[Value], x: &str, within: Option<&str>) -> anyhow::Result<Vec<Line>> {
    let mut lines = Vec::with_capacity(SYSTEMS.len());
    for &(key, name, colour) in &SYSTEMS {
        let mut points = Vec::with_capacity(rows.len());
        for (n, row) in rows.iter().enumerate() {
            let side = within.map_or(row, |w| &row[w]);
            let (Some(px), Some(py)) = (row[x].as_f64(), side[key]["median"].as_f64()) else {
                continue;
            };
            if px <= 0.0 || py <= 0.0 {
                continue;
            }
            for (what, figure) in [(x, px), ("median", py)] {
                anyhow::ensure!(
                    PLOTTABLE.contains(&figure),
                    "{name}'s {what} {figure:e} in row {n} cannot be plotted: \
                     figures must lie from {:e} to {:e}",
                    PLOTTABLE.start(),
                    PLOTTABLE.end()
                );
            }
            points.push((px, py));
        }
        if !points.is_empty() {
            lines.push(Line {
                name,
                colour,
                points,
            });
        }
    }
    Ok(lines)
}

/// Draws `plot` into an SVG file at `path`.
fn draw(plot: &Plot, path: &Path) -> anyhow::Result<()> {
    let points = plot.lines.iter().flat_map(|l| l.points.iter().copied());
    let (mut x_min, mut x_max, mut y_max) = (f64::INFINITY, 0.0f64, 0.0f64);
    for (x, y) in points {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_max = y_max.max(y);
    }
    if !x_min.is_finite() {
        (x_min, x_max, y_max) = (1.0, 10.0, 1.0);
    }
    // Ticks at the measured x's (writers, log sizes), not at powers of ten alone.
    let mut ticks: Vec<f64> = plot
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|&(x, _)| x))
        .collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(plot.title, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d((x_min / 1.5..x_max * 1.5).log_scale(), 0.0..(y_max * 1.15))?;
    chart
        .configure_mesh()
        .x_desc(plot.x)
        .y_desc(plot.y)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;
    for &Line {
        name,
        colour,
        ref points,
    } in &plot.lines
    {
        chart
            .draw_series(
                LineSeries::new(points.iter().copied(), colour.stroke_width(2)).point_size(4),
            )?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(2))
            });
    }
    if !plot.lines.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
