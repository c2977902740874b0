//! One try of a moderation command: a report, or a moderator's decision on one.

use crate::commands::{Caller, Command, Context};
use crate::events::DomainEvent;
use crate::rules::{Actor, Decided, moderation};
use crate::state::{PostState, ReportState};
use crate::{ReportId, streams};

use super::Domain;
use super::execute::{accepted_without, misrouted};
use super::store::Attempt;

impl Domain {
    /// Reports: the report stream (the caller's on the post, or the one named), and the
    /// post's stream, which an upheld report's removal writes first (part 0).
    pub(super) async fn run_moderation(
        &self,
        ctx: &Context,
        command: &Command,
        actor: Actor,
    ) -> Attempt {
        let report_id = match (command, &ctx.caller) {
            (Command::ReportPost { post, .. }, Caller::User(reporter)) => {
                Some(ReportId::of(post, reporter))
            }
            (Command::ResolveReport { report, .. }, _) => Some(report.clone()),
            (Command::ReportPost { .. }, _) => None,
            _ => return Err(misrouted("moderation")),
        };
        // Held until the decision is appended: two moderators deciding one report at once
        // must not leave a post removed under a report that was dismissed. A resolution
        // writes two streams in two appends, so no single append condition covers it: this
        // lock excludes only resolutions taken by this process (ARCHITECTURE.md, "Rules
        // across nodes").
        let mut _guard = None;
        let report = match &report_id {
            Some(id) => {
                let stream = streams::report(id);
                if matches!(command, Command::ResolveReport { .. }) {
                    _guard = Some(self.write_lock(&stream).await);
                }
                let loaded = self.load::<ReportState>(&stream)?;
                Some((stream, loaded))
            }
            None => None,
        };
        let post_id = match command {
            Command::ReportPost { post, .. } => Some(post.clone()),
            _ => report
                .as_ref()
                .and_then(|(_, loaded)| loaded.state.filed.as_ref())
                .map(|filed| filed.post.clone()),
        };
        let post = match &post_id {
            Some(id) => {
                let stream = streams::post(id);
                let loaded = self.load::<PostState>(&stream)?;
                Some((stream, loaded))
            }
            None => None,
        };
        let given = moderation::Given {
            actor,
            post: post
                .as_ref()
                .map(|(_, loaded)| loaded.state.clone())
                .unwrap_or_default(),
            report: report
                .as_ref()
                .map(|(_, loaded)| loaded.state.clone())
                .unwrap_or_default(),
        };
        let mut decided = moderation::decide(&given, command)?;
        let Some((report_stream, report)) = report else {
            return Err(accepted_without("a reporter")); // the rules refuse first
        };
        if !matches!(command, Command::ResolveReport { .. }) {
            return self.commit(ctx, &report_stream, &report, decided).await;
        }
        let removal = decided
            .iter()
            .position(|d| matches!(d, Decided::Event(DomainEvent::PostRemoved(_))));
        if let (Some(i), Some((post_stream, post))) = (removal, &post) {
            let removed = vec![decided.remove(i)];
            if self
                .append(ctx, 0, post_stream, post.expected(), removed)
                .await?
                .is_none()
            {
                return Ok(None);
            }
        }
        self.append(ctx, 1, &report_stream, report.expected(), decided)
            .await
    }
}
