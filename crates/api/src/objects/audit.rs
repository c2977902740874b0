//! `AuditEntry`: one event of a sponsorship's history, as auditors trace it.

use async_graphql::{ID, Object};
use sparkfeed_projections::rows::AuditEntry as AuditRow;

use crate::scalars::{DateTime, Int64};

/// One event of a sponsorship's history, as auditors trace it.
pub(crate) struct AuditEntry(pub AuditRow);

/// One event of a sponsorship's history.
#[Object(serial)]
impl AuditEntry {
    /// Its log position.
    async fn position(&self) -> Int64 {
        Int64(self.0.position.0)
    }
    /// When.
    async fn recorded_at(&self) -> DateTime {
        DateTime::from_micros(self.0.recorded_at)
    }
    /// Who acted.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The event type.
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// The record's chain hash (hex): check it against `verifyLog`.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
    /// The contract.
    async fn contract_id(&self) -> ID {
        ID(self.0.contract.to_string())
    }
    /// The post concerned, if any.
    async fn post_id(&self) -> Option<ID> {
        self.0.post.as_ref().map(|p| ID(p.to_string()))
    }
    /// What happened, in words.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
}
