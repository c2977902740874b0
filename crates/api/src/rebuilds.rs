//! Rebuilds on a running server: at most one per projection at a time, each on a blocking
//! thread of its own (a rebuild replays synchronously and must not hold a runtime worker),
//! with what the last one of each projection did.
//!
//! Invariant: the served generation keeps answering while a rebuild runs; the swap is the
//! projections' own (`Projections::rebuild`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sparkfeed_projections::Projections;

use crate::error::ApiError;

/// Where a projection's last rebuild on this server stands.
#[derive(Clone, Debug, PartialEq)]
pub enum RebuildState {
    /// Running since the instant given.
    Running {
        /// When it started.
        since: Instant,
    },
    /// Done: events replayed and seconds taken.
    Done {
        /// Events replayed.
        events: u64,
        /// Seconds taken.
        seconds: f64,
    },
    /// Failed, with the error's code and message.
    Failed {
        /// The error's stable code.
        code: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// The rebuilds of one server.
#[derive(Default)]
pub struct Rebuilds {
    states: Arc<Mutex<HashMap<String, RebuildState>>>,
}

impl Rebuilds {
    /// The state of `name`'s last rebuild, if any ran.
    pub fn state(&self, name: &str) -> Option<RebuildState> {
        self.lock().get(name).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RebuildState>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts rebuilding `name` in the background: `NOT_FOUND` for no such projection,
    /// `REBUILD_RUNNING` while one of it runs.
    pub fn start(&self, projections: &Projections, name: &str) -> Result<(), ApiError> {
        if !projections.names().contains(&name) {
            return Err(ApiError::NotFound(format!("projection {name}")));
        }
        {
            let mut states = self.lock();
            if let Some(RebuildState::Running { .. }) = states.get(name) {
                return Err(ApiError::TooMany {
                    code: "REBUILD_RUNNING",
                    reason: format!("a rebuild of {name} is running; one at a time"),
                });
            }
            states.insert(
                name.to_owned(),
                RebuildState::Running {
                    since: Instant::now(),
                },
            );
        }
        let (projections, name, states) = (
            projections.clone(),
            name.to_owned(),
            Arc::clone(&self.states),
        );
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let outcome = runtime.block_on(projections.rebuild(&name, |_, _| {}));
            let state = match outcome {
                Ok(report) => RebuildState::Done {
                    events: report.events,
                    seconds: report.elapsed.as_secs_f64(),
                },
                Err(e) => {
                    tracing::error!(projection = %name, error = %e, "a rebuild on the server failed");
                    RebuildState::Failed {
                        code: e.code(),
                        message: e.to_string(),
                    }
                }
            };
            states
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(name, state);
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_rebuild_of_a_projection_is_refused_while_the_first_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = sparkfeed_eventlog::EventLog::open(sparkfeed_eventlog::Config::new(
            dir.path().join("log"),
        ))
        .expect("log");
        let projections =
            Projections::open(&dir.path().join("projections"), log).expect("projections");
        let rebuilds = Rebuilds::default();
        rebuilds.lock().insert(
            "feeds".into(),
            RebuildState::Running {
                since: Instant::now(),
            },
        );
        let refused = rebuilds.start(&projections, "feeds").expect_err("refused");
        assert_eq!(refused.code(), "REBUILD_RUNNING");
        let unknown = rebuilds.start(&projections, "nope").expect_err("refused");
        assert_eq!(unknown.code(), "NOT_FOUND");
    }
}
