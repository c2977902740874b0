//! `Report`: a member's report of a post in the moderators' queue, with its decision.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use sparkfeed_domain::events::{ReportDecision as DomainDecision, ReportReason as DomainReason};
use sparkfeed_projections::moderation::rows::ReportRow;

use crate::ctx::Gql;
use crate::objects::nodes::{Post, User, load_post, load_user};
use crate::scalars::{DateTime, Int64};

/// Why a member reports a post.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "DomainReason")]
pub(crate) enum ReportReason {
    /// Spam or scams.
    Spam,
    /// Harassment or hate.
    Harassment,
    /// False or misleading claims about a product.
    Misleading,
    /// A paid partnership shown without its disclosure.
    UndisclosedAd,
    /// A counterfeit or unsafe product.
    Counterfeit,
    /// Anything else.
    Other,
}

/// A moderator's decision on a report.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "DomainDecision")]
pub(crate) enum ReportDecision {
    /// The post breaks no rule: it stays.
    Dismissed,
    /// The report holds: the post is removed.
    Upheld,
}

/// Which reports a queue lists.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub(crate) enum ReportStatus {
    /// Undecided, newest report first.
    Open,
    /// Decided, newest decision first.
    Resolved,
}

/// A member's report of a post, in the moderators' queue.
pub(crate) struct Report(pub ReportRow);

/// A moderator's decision on a report.
#[derive(SimpleObject)]
pub(crate) struct ReportResolution {
    /// Dismissed or upheld.
    decision: ReportDecision,
    /// The moderator.
    moderator: Option<User>,
    /// When.
    decided_at: DateTime,
    /// The decision's log position.
    position: Int64,
}

/// A member's report of a post, in the moderators' queue.
#[Object(serial)]
impl Report {
    /// The report's id: the `reportId` of `resolveReport`.
    async fn id(&self) -> ID {
        ID(self.0.report.to_string())
    }
    /// The post reported, removed or not.
    async fn post(&self, ctx: &Context<'_>) -> Gql<Option<Post>> {
        Ok(load_post(ctx, &self.0.post)?)
    }
    /// Who reported it.
    async fn reporter(&self, ctx: &Context<'_>) -> Gql<Option<User>> {
        Ok(load_user(ctx, &self.0.reporter)?)
    }
    /// Why.
    async fn reason(&self) -> ReportReason {
        self.0.reason.into()
    }
    /// When it was filed.
    async fn reported_at(&self) -> DateTime {
        DateTime::from_micros(self.0.reported_at)
    }
    /// The report's log position.
    async fn position(&self) -> Int64 {
        Int64(self.0.position.0)
    }
    /// Open until a moderator decides it.
    async fn status(&self) -> ReportStatus {
        match self.0.resolution {
            None => ReportStatus::Open,
            Some(_) => ReportStatus::Resolved,
        }
    }
    /// The decision, once made.
    async fn resolution(&self, ctx: &Context<'_>) -> Gql<Option<ReportResolution>> {
        let Some(r) = &self.0.resolution else {
            return Ok(None);
        };
        Ok(Some(ReportResolution {
            decision: r.decision.into(),
            moderator: load_user(ctx, &r.by)?,
            decided_at: DateTime::from_micros(r.decided_at),
            position: Int64(r.position.0),
        }))
    }
}
