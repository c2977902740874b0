//! `ProjectionStatus`: a projection as operators watch it on a running server: its
//! checkpoint, its lag behind the log, and its last rebuild.

use async_graphql::{Enum, SimpleObject};

use crate::Api;
use crate::error::ApiResult;
use crate::rebuilds::RebuildState;
use crate::scalars::Int64;

/// Where a rebuild stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum RebuildPhase {
    /// Replaying; the old generation serves meanwhile.
    Running,
    /// Swapped in.
    Done,
    /// Stopped; the old generation still serves.
    Failed,
}

/// A projection's last rebuild on this server.
#[derive(SimpleObject)]
pub(crate) struct RebuildStatus {
    /// Running, done or failed.
    phase: RebuildPhase,
    /// Events replayed (done).
    events: Option<Int64>,
    /// Seconds since it started (running) or taken (done).
    seconds: f64,
    /// The error's code (failed).
    code: Option<String>,
    /// What went wrong (failed).
    message: Option<String>,
}

impl From<RebuildState> for RebuildStatus {
    fn from(state: RebuildState) -> Self {
        let mut status = RebuildStatus {
            phase: RebuildPhase::Running,
            events: None,
            seconds: 0.0,
            code: None,
            message: None,
        };
        match state {
            RebuildState::Running { since } => status.seconds = since.elapsed().as_secs_f64(),
            RebuildState::Done { events, seconds } => {
                status.phase = RebuildPhase::Done;
                status.events = Some(Int64(events));
                status.seconds = seconds;
            }
            RebuildState::Failed { code, message } => {
                status.phase = RebuildPhase::Failed;
                status.code = Some(code.to_owned());
                status.message = Some(message);
            }
        }
        status
    }
}

/// A projection on a running server.
#[derive(SimpleObject)]
pub(crate) struct ProjectionStatus {
    /// Its name (`feeds`, `audit`, `analytics`, `moderation`).
    name: String,
    /// The next log position it will apply.
    checkpoint: Int64,
    /// Events behind the log's head.
    lag: Int64,
    /// Its last rebuild on this server, if any.
    rebuild: Option<RebuildStatus>,
}

/// Projection `name` of `api`, if there is one.
pub(crate) fn status(api: &Api, name: &str) -> ApiResult<Option<ProjectionStatus>> {
    Ok(statuses(api)?.into_iter().find(|s| s.name == name))
}

/// Every projection of `api`, by name.
pub(crate) fn statuses(api: &Api) -> ApiResult<Vec<ProjectionStatus>> {
    let head = api.domain.log().head().len;
    api.projections
        .lag()?
        .into_iter()
        .map(|(name, lag)| {
            Ok(ProjectionStatus {
                name: name.to_owned(),
                checkpoint: Int64(head.saturating_sub(lag)),
                lag: Int64(lag),
                rebuild: api.rebuilds.state(name).map(RebuildStatus::from),
            })
        })
        .collect()
}
