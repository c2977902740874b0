//! Moderation: members report posts, moderators decide the reports.

use async_graphql::{Context, ID, Object, SimpleObject};
use sparkfeed_domain::{Command, ReportId};

use super::args;
use super::payloads::written;
use super::sender::{Sender, run};
use crate::ctx::{Gql, api};
use crate::error::ApiResult;
use crate::objects::report::{Report, ReportDecision, ReportReason};
use crate::scalars::Int64;

/// Moderation: members report posts, moderators decide the reports.
#[derive(Default)]
pub(crate) struct ModerationMutations;

/// A report filed or decided.
#[derive(SimpleObject)]
pub(super) struct ReportPayload {
    /// The report as the moderators' queue has it now.
    pub report: Option<Report>,
    /// The log position written.
    pub position: Int64,
}

/// Moderation: members report posts, moderators decide the reports.
#[Object]
impl ModerationMutations {
    /// Reports a post to the moderators (Prime members; once per post, never one's own).
    /// The reporter sees their report; the post's author does not.
    async fn report_post(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        reason: ReportReason,
        idempotency_key: Option<String>,
    ) -> Gql<ReportPayload> {
        let sender = Sender::prime(ctx, "reportPost", idempotency_key.as_deref())?;
        let post = args::post_id(&post_id)?;
        let reporter = sender.user().cloned();
        let command = Command::ReportPost {
            post: post.clone(),
            reason: reason.into(),
        };
        let done = run(ctx, sender, command).await?;
        let report = reporter.map(|r| ReportId::of(&post, &r));
        Ok(ReportPayload {
            report: report
                .as_ref()
                .map(|r| fresh_report(ctx, r))
                .transpose()?
                .flatten(),
            position: written(&done),
        })
    }

    /// Decides a report (moderators): `UPHELD` removes the post (it leaves every feed and
    /// stays in the log), `DISMISSED` leaves it.
    async fn resolve_report(
        &self,
        ctx: &Context<'_>,
        report_id: ID,
        decision: ReportDecision,
        idempotency_key: Option<String>,
    ) -> Gql<ReportPayload> {
        let sender = Sender::moderator(ctx, "resolveReport", idempotency_key.as_deref())?;
        let report = args::report_id(&report_id)?;
        let command = Command::ResolveReport {
            report: report.clone(),
            decision: decision.into(),
        };
        let done = run(ctx, sender, command).await?;
        Ok(ReportPayload {
            report: fresh_report(ctx, &report)?,
            position: written(&done),
        })
    }
}

/// The report `id` as the queue has it now.
fn fresh_report(ctx: &Context<'_>, id: &ReportId) -> ApiResult<Option<Report>> {
    let moderation = api(ctx).projections.view("moderation")?;
    Ok(sparkfeed_projections::moderation::read::report(&moderation, id)?.map(Report))
}
