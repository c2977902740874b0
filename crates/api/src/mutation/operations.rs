//! Operations on a running server: rebuilding a projection with no downtime.

use async_graphql::{Context, Object};

use super::sender::Sender;
use crate::ctx::{Gql, api};
use crate::objects::projection::{ProjectionStatus, status};

/// Operations on a running server (admins).
#[derive(Default)]
pub(crate) struct OperationsMutations;

/// Operations on a running server (admins).
#[Object]
impl OperationsMutations {
    /// Starts replaying a projection from zero into a fresh store, which is swapped in when
    /// it has caught up; the current one serves every read meanwhile. Answers at once, with
    /// the rebuild running: watch `projections` for its end. One rebuild of a projection at
    /// a time (`REBUILD_RUNNING`); a rebuild writes nothing to the log, so a repeat only
    /// rebuilds again.
    async fn rebuild_projection(
        &self,
        ctx: &Context<'_>,
        name: String,
        idempotency_key: Option<String>,
    ) -> Gql<ProjectionStatus> {
        Sender::admin(ctx, "rebuildProjection", idempotency_key.as_deref())?;
        let api = api(ctx);
        api.rebuilds.start(&api.projections, &name)?;
        status(api, &name)?
            .ok_or_else(|| crate::error::ApiError::NotFound(format!("projection {name}")).into())
    }
}
