//! Request counters and latencies, and `/metrics` in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sparkfeed_eventlog::LogStats;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 10.0,
];

/// What the server has done since it started.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
    subscriptions: AtomicU64,
    cards_direct: AtomicU64,
    cards_executor: AtomicU64,
}

impl Metrics {
    /// Counts one request to `route` answered with `status` after `elapsed`.
    pub fn request(&self, route: &'static str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route, status))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Counts one error answered with `code`.
    pub fn error(&self, code: &str) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        match errors.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                errors.insert(code.to_owned(), 1);
            }
        }
    }

    /// A WebSocket subscription connection opened (`+1`) or closed (`-1`).
    pub fn subscription_connection(&self, opened: bool) {
        if opened {
            self.subscriptions.fetch_add(1, Ordering::Relaxed);
        } else {
            self.subscriptions.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Counts one post card resolved directly (`true`) or by async-graphql's executor.
    pub fn card_resolved(&self, directly: bool) {
        let counter = if directly {
            &self.cards_direct
        } else {
            &self.cards_executor
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Post cards resolved so far: (directly, by the executor).
    pub fn cards_resolved(&self) -> (u64, u64) {
        (
            self.cards_direct.load(Ordering::Relaxed),
            self.cards_executor.load(Ordering::Relaxed),
        )
    }

    /// The Prometheus exposition, with the log's head and writer counters and each
    /// projection's lag.
    pub fn render(
        &self,
        log_head: u64,
        log: LogStats,
        lag: &[(&str, u64)],
        cache: (u64, u64),
        rows: (u64, u64),
    ) -> String {
        let mut out = String::new();
        self.write_http(&mut out);
        let (direct, executor) = self.cards_resolved();
        for (name, help, label, values) in [
            (
                "sparkfeed_response_cache_total",
                "Query answers looked up in the response cache.",
                "result",
                [("hit", cache.0), ("miss", cache.1)],
            ),
            (
                "sparkfeed_row_cache_reads_total",
                "Point reads of the feeds projection, answered from its row cache or from the store.",
                "result",
                [("hit", rows.0), ("miss", rows.1)],
            ),
            (
                "sparkfeed_post_cards_resolved_total",
                "Post cards resolved, directly or by the GraphQL executor.",
                "how",
                [("direct", direct), ("executor", executor)],
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (value, n) in values {
                let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
            }
        }
        write_log(&mut out, log_head, log, lag);
        out
    }

    /// Requests by route and status, their latency histogram, errors by code and open
    /// WebSockets.
    fn write_http(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP sparkfeed_http_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE sparkfeed_http_requests_total counter");
        for ((route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "sparkfeed_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP sparkfeed_http_request_duration_seconds Time to answer a request."
        );
        let _ = writeln!(
            out,
            "# TYPE sparkfeed_http_request_duration_seconds histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "sparkfeed_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "sparkfeed_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "sparkfeed_http_request_duration_seconds_sum {}",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "sparkfeed_http_request_duration_seconds_count {count}");
        let _ = writeln!(
            out,
            "# HELP sparkfeed_errors_total GraphQL errors answered, by extensions.code."
        );
        let _ = writeln!(out, "# TYPE sparkfeed_errors_total counter");
        for (code, n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "sparkfeed_errors_total{{code=\"{code}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP sparkfeed_subscription_connections Open WebSocket connections."
        );
        let _ = writeln!(out, "# TYPE sparkfeed_subscription_connections gauge");
        let _ = writeln!(
            out,
            "sparkfeed_subscription_connections {}",
            self.subscriptions.load(Ordering::Relaxed)
        );
    }
}

/// The log's head and group-commit counters, and each projection's lag.
fn write_log(out: &mut String, log_head: u64, log: LogStats, lag: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP sparkfeed_log_head Events in the log.");
    let _ = writeln!(out, "# TYPE sparkfeed_log_head gauge");
    let _ = writeln!(out, "sparkfeed_log_head {log_head}");
    for (name, help, value) in [
        (
            "sparkfeed_log_group_commits_total",
            "Durability barriers (one sled flush and one fdatasync each) since the log opened.",
            log.group_commits,
        ),
        (
            "sparkfeed_log_groups_total",
            "Groups of appends written since the log opened; one group commit covers every group waiting.",
            log.groups,
        ),
        (
            "sparkfeed_log_events_committed_total",
            "Events made durable since the log opened.",
            log.events_committed,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let _ = writeln!(out, "{name} {value}");
    }
    let _ = writeln!(
        out,
        "# HELP sparkfeed_projection_lag Events a projection has yet to apply."
    );
    let _ = writeln!(out, "# TYPE sparkfeed_projection_lag gauge");
    for (name, lag) in lag {
        let _ = writeln!(
            out,
            "sparkfeed_projection_lag{{projection=\"{name}\"}} {lag}"
        );
    }
}
