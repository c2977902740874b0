//! Moderation: members report posts, moderators decide the reports.
//!
//! A report is its own stream (`report-<id>`, the id a hash of post and reporter), so "once
//! per member and post" is the stream's expected version and a busy post's reports never
//! contend. An upheld report removes the post in the same command: the removal first (on
//! the post's stream, unless it was removed already), then the decision.

use crate::commands::Command;
use crate::events::{PostRemoved, PostReported, ReportDecision, ReportResolved};
use crate::state::{PostState, ReportState};
use crate::{Refusal, ReportId, Role};

use super::checks::{is_author, live_post, prime_member, signed_in};
use super::{Actor, Decided, Decision, not_decided_here};

/// What the moderation rules read.
#[derive(Clone, Debug)]
pub struct Given {
    /// Who issues the command.
    pub actor: Actor,
    /// The post reported (for `ResolveReport`, the report's post).
    pub post: PostState,
    /// The report: the caller's on the post for `ReportPost`, the one named for
    /// `ResolveReport`.
    pub report: ReportState,
}

/// The moderation rules.
pub fn decide(given: &Given, command: &Command) -> Decision {
    match command {
        Command::ReportPost { post, reason } => {
            let reporter = prime_member(&given.actor)?;
            live_post(post, &given.post)?;
            if is_author(&given.post, reporter) {
                return Err(Refusal::CannotReportOwnPost);
            }
            if given.report.filed.is_some() {
                return Err(Refusal::AlreadyReported);
            }
            Ok(vec![Decided::event(PostReported {
                report: ReportId::of(post, reporter),
                post: post.clone(),
                reporter: reporter.clone(),
                reason: *reason,
            })])
        }
        Command::ResolveReport { report, decision } => {
            let (moderator, account) = signed_in(&given.actor)?;
            if !account.roles.contains(&Role::Moderator) {
                return Err(Refusal::Forbidden("moderator"));
            }
            let Some(filed) = &given.report.filed else {
                return Err(Refusal::UnknownReport(report.to_string()));
            };
            if given.report.decision.is_some() {
                return Err(Refusal::ReportAlreadyResolved(report.to_string()));
            }
            let mut decided = Vec::with_capacity(2);
            if *decision == ReportDecision::Upheld && !given.post.removed {
                decided.push(Decided::event(PostRemoved {
                    post: filed.post.clone(),
                    by: moderator.clone(),
                    reason: removal_reason(filed),
                }));
            }
            decided.push(Decided::event(ReportResolved {
                report: report.clone(),
                post: filed.post.clone(),
                by: moderator.clone(),
                decision: *decision,
            }));
            Ok(decided)
        }
        _ => Err(not_decided_here("moderation")),
    }
}

/// The reason an upheld report's removal records: the report's reason, by its code.
pub fn removal_reason(filed: &PostReported) -> String {
    format!("report upheld: {}", filed.reason.code())
}
