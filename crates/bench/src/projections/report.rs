//! The projections benchmark's report, as printed.

use std::fmt;

use super::ProjectionsReport;
use super::reads::LOG_READ_PAGE;
use crate::stats::{median, median_bytes, mib, percentile};

impl fmt::Display for ProjectionsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = &self.world;
        writeln!(
            f,
            "scratch log: {} events, {} posts (the seed world: {} accounts, {} products, {} activity lines), loaded through the domain in {:.1}s, 64 commands in flight",
            w.events, w.posts, w.accounts, w.products, w.activity, self.load_secs
        )?;
        writeln!(
            f,
            "reading the whole log, {LOG_READ_PAGE} events a page (median of {}): {:.0} events/s as records, {:.0} events/s decoded as domain events",
            self.log_reads.len(),
            median(self.log_reads.iter().map(|r| r.0).collect()),
            median(self.log_reads.iter().map(|r| r.1).collect())
        )?;
        self.rebuilds(f)?;
        self.feed_pages(f)?;
        self.for_you_pages(f)
    }
}

impl ProjectionsReport {
    fn rebuilds(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ceiling every rebuild is held to (issue 17: at least 0.7x of it).
        let decoded_read = median(self.log_reads.iter().map(|r| r.1).collect());
        writeln!(
            f,
            "{:<22} {:>16} {:>12} {:>12} {:>15} {:>16} {:>16}",
            "rebuild",
            "median events/s",
            "min",
            "max",
            "x decoded read",
            "CPU s/M events",
            "peak memory +"
        )?;
        for (name, runs) in &self.rebuilds {
            let rates: Vec<f64> = runs.iter().map(|r| r.events_per_sec).collect();
            let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rates.iter().copied().fold(0.0, f64::max);
            let growth = runs
                .iter()
                .map(|r| r.peak_growth)
                .collect::<Option<Vec<u64>>>()
                .and_then(median_bytes);
            let cpu = runs
                .iter()
                .map(|r| r.cpu_secs_per_million)
                .collect::<Option<Vec<f64>>>()
                .map_or_else(|| "n/a".into(), |c| format!("{:.2}", median(c)));
            let rate = median(rates);
            let ratio = if decoded_read > 0.0 {
                format!("{:.2}x", rate / decoded_read)
            } else {
                "n/a".into()
            };
            writeln!(
                f,
                "{name:<22} {rate:>16.0} {min:>12.0} {max:>12.0} {ratio:>15} {cpu:>16} {:>16}",
                mib(growth)
            )?;
        }
        writeln!(
            f,
            "(x decoded read: the median rebuild over the median whole-log read decoded as domain events, above; target 0.7x;"
        )?;
        writeln!(
            f,
            " CPU s/M events: median CPU seconds of the whole process, every thread, per million events replayed;"
        )?;
        writeln!(
            f,
            " peak memory +: median rise of resident memory above where it stood when the rebuild began{})",
            if self
                .rebuilds
                .iter()
                .any(|(name, _)| name.ends_with(super::rebuild::IN_MEMORY))
            {
                ";\n , in memory: replayed with every row held in memory, none written or read back from a store:\n   the projection's own work, as if its store cost nothing (CPU includes freeing the rows)"
            } else {
                ""
            }
        )
    }

    fn for_you_pages(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sorted = self.for_you_micros.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return writeln!(
                f,
                "forYou page: not measured (feeds and foryou were not both rebuilt)"
            );
        }
        writeln!(
            f,
            "forYou first page (first: 20, ranking of up to 200 included, with post cards, badges and viewer state), {} reads: p50 {:.0} us, p99 {:.0} us, max {:.0} us",
            sorted.len(),
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.99),
            sorted.last().copied().unwrap_or(0.0)
        )
    }

    fn feed_pages(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sorted = self.page_micros.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            return writeln!(f, "feed page: not measured (feeds was not rebuilt)");
        }
        writeln!(
            f,
            "feed page (first: 20, with post cards, badges and viewer state), {} reads: p50 {:.0} us, p99 {:.0} us, max {:.0} us",
            sorted.len(),
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.99),
            sorted.last().copied().unwrap_or(0.0)
        )
    }
}
